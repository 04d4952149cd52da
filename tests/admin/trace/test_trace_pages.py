"""Suppliers, material lots, the trace search, backward and forward traces and the recall
impact pages, on the hand-built supply chain of ``tests/core/trace_chain``."""

from __future__ import annotations

import csv
import io
import re
import secrets
from dataclasses import dataclass
from urllib.parse import quote

import pypdfium2 as pdfium
import pytest
from sqlalchemy import func, select

from tests.conftest import make_brand
from tests.core.trace.trace_chain import OIL_URN, Chain, build_chain, scan
from tests.helpers.admin import PASSWORD, csrf_token, errors_of, login, post
from tracemark.accounts import users as accounts
from tracemark.models import AuditLog, Batch, BatchStatus, LotStatus, MaterialLot, Role
from tracemark.trace import supply

ROLES = ("owner", "staff", "marketing", "regulator", "outsider")


@dataclass
class Supply:
    slug: str
    brand_id: int
    chain: Chain
    other_slug: str
    other_lot: int
    emails: dict[str, str]

    def url(self, path: str = "") -> str:
        return f"/admin/brands/{self.slug}{path}"


@pytest.fixture
def shop(db, demo) -> Supply:
    chain = build_chain(db.sessions, demo)
    theirs = make_brand(db.sessions)
    emails = {}
    with db.sessions.begin() as session:
        other = session.merge(theirs.brand)
        supplier = supply.create_supplier(session, other, "Elsewhere Ltd")
        other_lot = supply.receive_lot(session, supplier, "Salt", "SALT-1", epc_class="urn:x:1")
        for name in ROLES:
            email = f"{name}-{secrets.token_hex(4)}@example.com"
            user = accounts.create_user(session, email, PASSWORD, name.title())
            brand = other if name == "outsider" else session.merge(demo.brand)
            accounts.grant(session, user, brand, Role.OWNER if name == "outsider" else Role(name))
            emails[name] = email
        other_lot_id = other_lot.id
    return Supply(demo.brand.slug, demo.brand.id, chain, theirs.brand.slug, other_lot_id, emails)


def signed_in(app, shop: Supply, role: str = "owner", language: str | None = None):
    client = app.test_client()
    if language:
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    assert login(client, shop.emails[role]).status_code == 302
    return client


def _count(db, model, **where) -> int:
    with db.sessions() as session:
        query = select(func.count()).select_from(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return session.scalar(query)


def _supplier_id(db, shop: Supply, name: str) -> int:
    with db.sessions() as session:
        brand = session.get_one(Batch, shop.chain.batch_a).product.brand
        return next(s.id for s in supply.suppliers(session, brand) if s.name == name)


# -- suppliers and lots -------------------------------------------------------------------


def test_an_owner_adds_a_supplier_and_receives_a_lot_once(app, shop, db):
    client = signed_in(app, shop)
    answer = post(client, shop.url("/suppliers"), {"name": "Sal de Ibiza", "country": "es"})
    assert answer.status_code == 302
    assert "Sal de Ibiza" in client.get(shop.url("/suppliers")).get_data(as_text=True)
    supplier_id = _supplier_id(db, shop, "Sal de Ibiza")
    lot = {
        "material": "Sea salt",
        "supplier": supplier_id,
        "lot_number": "SAL-26",
        "gtin": "4006381333931",
        "received_on": "2026-09-03",
    }
    answer = post(client, shop.url("/lots"), lot)
    assert answer.status_code == 302 and "/lots/" in answer.headers["Location"]
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "SAL-26" in page and "Sal de Ibiza" in page and 'data-status="released"' in page
    # the same form sent again: one lot, a field error instead of a second row or a 500
    again = post(client, shop.url("/lots"), lot)
    assert again.status_code == 200 and "lot_number" in errors_of(again)
    assert _count(db, MaterialLot, brand_id=shop.brand_id, lot_number="SAL-26") == 1
    assert _count(db, AuditLog, action="lot.receive", brand_id=shop.brand_id, actor="user") == 1
    assert _count(db, AuditLog, action="supplier.create", brand_id=shop.brand_id, actor="user") == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("material", "Salt\x00"),
        ("material", "x" * 201),
        ("material", ""),
        ("lot_number", "LOT 1"),
        ("lot_number", "L\x001"),
        ("lot_number", "x" * 21),
        ("gtin", "4006381333932"),  # wrong check digit
        ("gtin", "12\x0034"),
        ("epc_class", "urn:x:\x00"),
        ("epc_class", "urn:" + "x" * 400),
        ("received_on", "31/02/2026"),
    ],
)
def test_a_bad_lot_gets_a_translated_field_error_and_changes_nothing(app, shop, db, field, value):
    client = signed_in(app, shop, language="de")
    supplier_id = _supplier_id(db, shop, "Olivar Coop")
    lot = {
        "material": "Salt",
        "supplier": supplier_id,
        "lot_number": "S-1",
        "gtin": "",
        field: value,
    }
    if field != "epc_class":
        lot["epc_class"] = "urn:x:salt"
    before = _count(db, MaterialLot, brand_id=shop.brand_id)
    answer = post(client, shop.url("/lots"), lot)
    assert answer.status_code == 200, answer.status_code
    errors = errors_of(answer)
    assert field in errors and errors[field].strip()
    assert _count(db, MaterialLot, brand_id=shop.brand_id) == before


def test_lot_field_errors_are_in_the_pages_language(app, shop, db):
    client = signed_in(app, shop, language="de")
    supplier_id = _supplier_id(db, shop, "Olivar Coop")
    data = {"material": "Salt", "supplier": supplier_id, "lot_number": "S-1", "gtin": ""}
    answer = post(client, shop.url("/lots"), data)
    english = "Give the material's GTIN, or the class identifier its events use."
    assert errors_of(answer)["gtin"] and errors_of(answer)["gtin"] != english


def test_the_lot_form_says_what_it_needs_of_gtin_and_class_identifier(app, shop, db):
    """Neither field is called optional: one of the two is needed, and the form says so."""
    client = signed_in(app, shop)
    form = client.get(shop.url("/lots")).get_data(as_text=True)
    for name in ("gtin", "epc_class"):
        label = re.search(rf'<label for="{name}">(.*?)</label>', form).group(1)
        assert "optional" not in label.lower(), label
    assert "(or the class identifier below)" in form
    supplier_id = _supplier_id(db, shop, "Olivar Coop")
    data = {"material": "Salt", "supplier": supplier_id, "lot_number": "S-9"}
    neither = post(client, shop.url("/lots"), data)
    assert neither.status_code == 200 and "class identifier" in errors_of(neither)["gtin"]
    class_only = post(client, shop.url("/lots"), {**data, "epc_class": "urn:x:salt"})
    assert class_only.status_code == 302
    assert _count(db, MaterialLot, brand_id=shop.brand_id, lot_number="S-9") == 1


def test_a_supplier_of_another_brand_cannot_receive_a_lot(app, shop, db):
    with db.sessions() as session:
        foreign = session.scalar(
            select(MaterialLot.supplier_id).where(MaterialLot.id == shop.other_lot)
        )
    client = signed_in(app, shop)
    data = {"material": "Salt", "supplier": foreign, "lot_number": "S-1", "epc_class": "urn:x:s"}
    answer = post(client, shop.url("/lots"), data)
    assert answer.status_code == 200 and "supplier" in errors_of(answer)
    assert _count(db, MaterialLot, lot_number="S-1") == 0


def test_the_lot_list_filters_by_supplier_status_and_text(app, shop, db):
    with db.sessions.begin() as session:
        session.get_one(MaterialLot, shop.chain.glass_lot).status = LotStatus.ON_HOLD
    client = signed_in(app, shop, "regulator")

    def lots(**query) -> set[str]:
        page = client.get(shop.url("/lots"), query_string=query).get_data(as_text=True)
        return set(re.findall(r'<tr data-lot="(\d+)"', page))

    oil, glass = str(shop.chain.oil_lot), str(shop.chain.glass_lot)
    assert lots() == {oil, glass}
    assert lots(status="on_hold") == {glass}
    assert lots(supplier=_supplier_id(db, shop, "Olivar Coop")) == {oil}
    assert lots(q="bottle") == {glass} and lots(q="oil-9") == {oil}
    assert lots(q="%") == set() and lots(q="\x00") == {oil, glass}
    assert lots(status="nonsense", supplier="x") == {oil, glass}


def test_locking_and_releasing_a_lot_are_audited_once_each(app, shop, db):
    client = signed_in(app, shop, "staff")
    path = shop.url(f"/lots/{shop.chain.oil_lot}")
    for _ in range(2):  # a double submit
        answer = post(client, f"{path}/status", {"status": "on_hold"})
        assert answer.status_code == 303
    assert 'data-status="on_hold"' in client.get(path).get_data(as_text=True)
    assert post(client, f"{path}/status", {"status": "released"}).status_code == 303
    entries = _count(db, AuditLog, action="lot.status", brand_id=shop.brand_id)
    assert entries == 2
    assert post(client, f"{path}/status", {"status": "gone"}).status_code == 400


def test_lot_pages_of_another_brand_or_none_are_not_found(app, shop):
    client = signed_in(app, shop)
    for lot_id in (shop.other_lot, 999_999_999):
        for suffix in ("", "/recall", "/recall.csv", "/recall.pdf"):
            assert client.get(shop.url(f"/lots/{lot_id}{suffix}")).status_code == 404
        assert client.get(shop.url(f"/trace/lots/{lot_id}")).status_code == 404
    for serial in ("NO-SUCH-SERIAL", "%00", "A%0AB", "x" * 400, "99999999999999999999999"):
        assert client.get(shop.url(f"/trace/units/{serial}")).status_code == 404, serial
    huge = "9" * 30  # beyond any integer column
    for path in (f"/lots/{huge}", f"/trace/lots/{huge}", f"/trace/batches/{huge}"):
        assert client.get(shop.url(path)).status_code == 404, path
    assert client.get(shop.url("/trace/batches/999999999")).status_code == 404


def test_marketing_sees_no_supply_chain(app, shop):
    client = signed_in(app, shop, "marketing")
    for path in ("/suppliers", "/lots", "/trace", f"/trace/batches/{shop.chain.batch_a}"):
        assert client.get(shop.url(path)).status_code == 403
    assert "/trace" not in client.get(shop.url("/batches")).get_data(as_text=True)


# -- search -------------------------------------------------------------------------------


def _search(client, shop, query: str):
    return client.get(shop.url("/trace"), query_string={"q": query})


def test_the_search_leads_to_the_one_thing_a_query_names(app, shop, db):
    client = signed_in(app, shop, "regulator")
    unit = shop.chain.units_a[0]
    batch_a = shop.url(f"/trace/batches/{shop.chain.batch_a}")
    oil = shop.url(f"/trace/lots/{shop.chain.oil_lot}")
    cases = {
        "L2401A": batch_a,
        " L2401A ": batch_a,
        "(01)09506000134352(10)L2401A": batch_a,
        "urn:epc:class:lgtin:9506000.013435.L2401A": batch_a,
        unit: shop.url(f"/trace/units/{quote(unit)}"),
        f"HTTPS://TM.EXAMPLE.COM/01/09506000134352/10/L2401A/21/{unit}?S=1.K.SIG": shop.url(
            f"/trace/units/{quote(unit)}"
        ),
        f"0109506000134352 10L2401A\x1d21{unit}".replace(" ", ""): shop.url(
            f"/trace/units/{quote(unit)}"
        ),
        "OIL-9": oil,
        OIL_URN: oil,
        "https://glass.example/lots/G-77": shop.url(f"/trace/lots/{shop.chain.glass_lot}"),
    }
    for query, target in cases.items():
        answer = _search(client, shop, query)
        assert answer.status_code == 302, query
        assert answer.headers["Location"] == target, query


def test_an_ambiguous_query_offers_the_choices(app, shop, db):
    with db.sessions.begin() as session:
        coop = session.get_one(MaterialLot, shop.chain.oil_lot).supplier
        supply.receive_lot(session, coop, "Oil again", "L2401A", epc_class="urn:x:l2401a")
    page = _search(signed_in(app, shop), shop, "L2401A").get_data(as_text=True)
    assert re.findall(r'data-match="(\w+)"', page) == ["batch", "lot"]


@pytest.mark.parametrize("query", ["NOPE", "L2401A" + "x" * 30, "(01)123(10)X", "<script>"])
def test_a_query_naming_nothing_says_so(app, shop, query):
    answer = _search(signed_in(app, shop), shop, query)
    assert answer.status_code == 200 and "data-no-results" in answer.get_data(as_text=True)


@pytest.mark.parametrize("query", ["L24\x0001A", "\x00", "x" * 301, "a\x7fb"])
def test_a_hostile_query_gets_a_translated_error(app, shop, query):
    client = signed_in(app, shop, language="fr")
    answer = _search(client, shop, query)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "data-error" in page
    assert "Enter a lot number" not in page  # in French


def test_another_brands_lot_number_is_not_found(app, shop):
    answer = _search(signed_in(app, shop), shop, "SALT-1")
    assert "data-no-results" in answer.get_data(as_text=True)


# -- traces -------------------------------------------------------------------------------


def test_the_backward_trace_of_a_unit_shows_its_whole_history(app, shop):
    client = signed_in(app, shop, "regulator", language="de")
    unit = shop.chain.units_a[0]
    answer = client.get(shop.url(f"/trace/units/{unit}"))
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    lots = set(re.findall(r'<tr data-lot="(\d+)"', page))
    assert lots == {str(shop.chain.oil_lot), str(shop.chain.glass_lot)}
    for text in ("Olivar Coop", "Vidros SA", "Ana", "Filler 3", "Line 2", "peroxide"):
        assert text in page, text
    assert 'data-qc-result="non_conformant"' in page
    assert 'data-test="peroxide">peroxide: nicht bestanden' in page  # the result in words
    assert 'data-excursion="gs1:Temperature"' in page and "31,5" in page  # German decimals
    assert page.count("<tr data-edge>") == 2
    assert "<td>500 l</td>" in page and "LTR" not in page  # Babel's unit, not UN/CEFACT's code
    # links both ways: to the lots, the batch page, the forward trace
    assert shop.url(f"/lots/{shop.chain.oil_lot}") in page
    assert shop.url(f"/batches/{shop.chain.batch_a}") in page
    assert shop.url(f"/trace/batches/{shop.chain.batch_a}/forward") in page


def test_a_qc_test_named_after_a_checkpoint_field_shows_its_label_in_the_trace(app, shop, db):
    from tracemark.quality import checkpoints

    with db.sessions.begin() as session:
        brand = session.get_one(Batch, shop.chain.batch_a).product.brand
        checkpoints.create_template(
            session, brand, "oil-lab", {"en": "Oil lab"}, biz_step="inspecting",
            subject="batch",
            fields=[{"name": "peroxide", "type": "passfail", "required": True,
                     "label": {"en": "Peroxide value", "de": "Peroxidzahl"}}],
        )  # fmt: skip
    unit = shop.chain.units_a[0]
    page = signed_in(app, shop, "regulator", language="de").get(shop.url(f"/trace/units/{unit}"))
    html = page.get_data(as_text=True)
    assert 'data-test="peroxide">Peroxidzahl: nicht bestanden' in html
    assert "peroxide:" not in html


def test_the_batch_page_links_to_its_traces(app, shop):
    page = signed_in(app, shop).get(shop.url(f"/batches/{shop.chain.batch_a}"))
    html = page.get_data(as_text=True)
    assert shop.url(f"/trace/batches/{shop.chain.batch_a}") in html
    assert shop.url(f"/trace/batches/{shop.chain.batch_a}/forward") in html
    dashboard = signed_in(app, shop, "staff").get("/admin/").get_data(as_text=True)
    assert shop.url("/trace") in dashboard


def test_the_forward_trace_of_a_lot_shows_batches_shipments_and_scans(app, shop, db):
    with db.sessions.begin() as session:
        scan(session, shop.brand_id, shop.chain.units_a[0], "ES")
        scan(session, shop.brand_id, shop.chain.units_b[0], "FR")
        scan(session, shop.brand_id, shop.chain.units_b[1], "FR")
    client = signed_in(app, shop, "staff")
    page = client.get(shop.url(f"/trace/lots/{shop.chain.oil_lot}")).get_data(as_text=True)
    batches = re.findall(r'<tr data-batch="(\d+)"', page)
    assert sorted(batches) == sorted([str(shop.chain.batch_a), str(shop.chain.batch_b)])
    assert re.search(r"data-total-units>7<", page)
    assert page.count("<tr data-shipment>") == 2
    assert "Madrid warehouse" in page and "Lyon warehouse" in page
    assert re.findall(r'<tr data-country="(\w*)">', page) == ["FR", "ES"]
    assert shop.url(f"/lots/{shop.chain.oil_lot}/recall") in page
    forward = client.get(shop.url(f"/trace/batches/{shop.chain.batch_b}/forward"))
    assert forward.status_code == 200 and "Lyon warehouse" in forward.get_data(as_text=True)


# -- recall -------------------------------------------------------------------------------


def test_the_recall_csv_and_pdf_list_the_affected_batches(app, shop, db):
    with db.sessions.begin() as session:
        scan(session, shop.brand_id, shop.chain.units_b[0], "FR")
    client = signed_in(app, shop, "regulator")
    base = shop.url(f"/lots/{shop.chain.oil_lot}/recall")
    page = client.get(base).get_data(as_text=True)
    assert "data-csv" in page and "data-pdf" in page and "data-hold" not in page
    answer = client.get(f"{base}.csv")
    assert answer.mimetype == "text/csv"
    assert answer.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert {(r["batch_lot"], r["units"]) for r in rows if r["section"] == "batch"} == {
        ("L2401A", "4"),
        ("L2402B", "3"),
    }
    assert [r["country"] for r in rows if r["section"] == "scans"] == ["FR"]
    answer = client.get(f"{base}.pdf")
    assert answer.mimetype == "application/pdf"
    document = pdfium.PdfDocument(answer.get_data())
    text = "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    assert "L2401A" in text and "L2402B" in text and "Lyon warehouse" in text


def test_an_owner_puts_every_affected_batch_on_hold_after_confirming(app, shop, db):
    with db.sessions.begin() as session:
        session.get_one(Batch, shop.chain.batch_b).status = BatchStatus.RECALLED
    client = signed_in(app, shop)
    hold = shop.url(f"/lots/{shop.chain.oil_lot}/recall/hold")
    recall = shop.url(f"/lots/{shop.chain.oil_lot}/recall")
    notice = {"notice_en": "Do not use: a supplier recalled its oil.", "notice_es": "No lo use."}
    # without a notice: refused, nothing changes
    answer = client.post(hold, data={"csrf_token": _token(client, recall)})
    assert answer.status_code == 400 and "notice_en" in errors_of(answer)
    # first send: what will change, and nothing changed yet
    answer = client.post(hold, data={"csrf_token": _token(client, recall), **notice})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "data-confirm-hold" in page
    assert _status(db, shop.chain.batch_a) is BatchStatus.RELEASED
    # confirmed: the released batch is held with the notice, the recalled one stays recalled
    data = {"csrf_token": _token(client, recall), "confirmed": "1", **notice}
    answer = client.post(hold, data=data)
    assert answer.status_code == 303
    assert _status(db, shop.chain.batch_a) is BatchStatus.ON_HOLD
    assert _status(db, shop.chain.batch_b) is BatchStatus.RECALLED
    with db.sessions() as session:
        assert session.get_one(Batch, shop.chain.batch_a).notice["es"] == "No lo use."
    assert _count(db, AuditLog, action="batch.status", object_id=str(shop.chain.batch_a)) == 1
    # sent again: nothing more changes, nothing more is recorded
    assert client.post(hold, data=data).status_code == 303
    assert _count(db, AuditLog, action="batch.status", brand_id=shop.brand_id) == 1
    assert _count(db, AuditLog, action="lot.recall_hold", brand_id=shop.brand_id) == 1


def test_only_owners_put_a_recalls_batches_on_hold(app, shop, db):
    client = signed_in(app, shop, "staff")
    recall = shop.url(f"/lots/{shop.chain.oil_lot}/recall")
    assert "data-hold" not in client.get(recall).get_data(as_text=True)
    data = {"csrf_token": _token(client, recall), "confirmed": "1", "notice_en": "Stop."}
    assert client.post(f"{recall}/hold", data=data).status_code == 403
    assert _status(db, shop.chain.batch_a) is BatchStatus.RELEASED


def _token(client, path: str) -> str:
    return csrf_token(client, path)


def _status(db, batch_id: int) -> BatchStatus:
    with db.sessions() as session:
        return session.get_one(Batch, batch_id).status
