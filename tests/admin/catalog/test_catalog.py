"""Catalog pages of the admin app: sites, products, batches, roles and tenant boundaries."""

from __future__ import annotations

import re
import secrets

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSPHRASE
from tests.helpers.admin import (
    ROLES,
    Catalog,
    assert_no_inline_code,
    audit_actions,
    audit_actions_for,
    base,
    csrf_token,
    errors_of,
    post,
    signed_in,
)
from tracemark import catalog, errors
from tracemark.codes import issuance
from tracemark.codes.printing import batch_urls
from tracemark.models import Batch, BatchStatus, Brand, Product, Site


def test_an_owner_creates_a_site_a_product_and_a_batch(app, shop, db):
    client = signed_in(app, shop)
    response = post(
        client,
        f"{base(shop)}/sites",
        {"name": "Jaén mill", "region": "Andalusia", "country": "es", "latitude": "37.77",
         "longitude": "-3.79"},
    )  # fmt: skip
    assert response.status_code == 302
    assert "Jaén mill" in client.get(f"{base(shop)}/sites").get_data(as_text=True)

    response = post(client, f"{base(shop)}/products", {"gtin": shop.new_gtin()[1:], "name": "Pens"})
    assert response.status_code == 302
    with db.sessions() as session:
        product = session.scalar(
            select(Product).where(
                Product.brand_id == shop.brand.id, Product.gtin == shop.new_gtin()
            )
        )
        site = session.scalar(select(Site).where(Site.brand_id == shop.brand.id))
        assert product.name == "Pens" and site.country == "ES" and site.latitude == 37.77
    assert response.headers["Location"] == f"{base(shop)}/products/{product.id}"

    response = post(
        client,
        f"{base(shop)}/batches",
        {"product": product.id, "lot": "P-26/1", "production_date": "2026-10-01",
         "expiry_date": "2028-10-01", "site": site.id, "line": "Line 2"},
    )  # fmt: skip
    assert response.status_code == 302
    with db.sessions() as session:
        batch = session.scalar(select(Batch).where(Batch.product_id == product.id))
        assert (batch.lot, batch.site_id, batch.line) == ("P-26/1", site.id, "Line 2")
        assert batch.status is BatchStatus.RELEASED
    listing = client.get(f"{base(shop)}/batches").get_data(as_text=True)
    # newest first
    assert listing.index(f'data-batch="{batch.id}"') < listing.index(
        f'data-batch="{shop.batch_id}"'
    )
    actions = {entry.action for entry in audit_actions(db, "site.create")}
    assert actions == {"site.create"}
    assert audit_actions(db, "product.create") and audit_actions(db, "batch.create")


def _count(db, model, **where) -> int:
    with db.sessions() as session:
        query = select(func.count()).select_from(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return session.scalar(query)


@pytest.mark.parametrize(
    ("gtin", "message"),
    [
        ("4006381333932", "The check digit is wrong: check the GTIN for a typing error."),
        ("40063813", "The check digit is wrong: check the GTIN for a typing error."),
        ("400638133393", "The check digit is wrong: check the GTIN for a typing error."),
        ("12345", "A GTIN has 8, 12, 13 or 14 digits."),
        ("400638133393x", "A GTIN has 8, 12, 13 or 14 digits."),
    ],
)
def test_a_bad_gtin_is_a_field_error_and_nothing_is_stored(app, shop, db, gtin, message):
    before = _count(db, Product, brand_id=shop.brand.id)
    response = post(signed_in(app, shop), f"{base(shop)}/products", {"gtin": gtin, "name": "X"})
    assert response.status_code == 200
    assert errors_of(response) == {"gtin": message}
    assert _count(db, Product, brand_id=shop.brand.id) == before


def test_field_errors_are_translated(app, shop, db):
    client = signed_in(app, shop)
    response = post(
        client,
        f"{base(shop)}/products",
        {"gtin": "4006381333932", "name": "X"},
        headers={"Accept-Language": "de"},
    )
    message = errors_of(response)["gtin"]
    assert response.status_code == 200 and 'lang="de"' in response.get_data(as_text=True)
    assert message == "Die Prüfziffer ist falsch: Prüfen Sie die GTIN auf Tippfehler."
    response = post(
        client,
        f"{base(shop)}/batches",
        {"product": shop.product_id, "lot": "L 1"},
        headers={"Accept-Language": "fr"},
    )
    assert errors_of(response)["lot"].startswith("Un lot compte de 1 à 20 caractères")


def test_a_duplicate_gtin_or_a_double_submit_is_a_field_error(app, shop, db):
    client = signed_in(app, shop)
    path = f"{base(shop)}/products"
    first = post(client, path, {"gtin": shop.new_gtin()[1:], "name": "Pens"})
    assert first.status_code == 302
    # the same GTIN again, written as a GTIN-14 this time
    again = post(client, path, {"gtin": shop.new_gtin(), "name": "Pens"})
    assert again.status_code == 200
    assert errors_of(again) == {"gtin": "A product with this GTIN exists already."}
    assert _count(db, Product, brand_id=shop.brand.id, gtin=shop.new_gtin()) == 1
    # the GTIN is under this brand's company prefix: no other brand can name it
    other = post(signed_in(app, shop, "outsider"), f"/admin/brands/{shop.other.slug}/products",
                 {"gtin": shop.new_gtin()[1:], "name": "Pens"})  # fmt: skip
    assert other.status_code == 200
    assert errors_of(other) == {
        "gtin": "This GTIN is not under one of your brand&#39;s GS1 company prefixes."
    }


def test_a_duplicate_site_or_lot_is_a_field_error(app, shop, db):
    client = signed_in(app, shop)
    assert post(client, f"{base(shop)}/sites", {"name": "Mill"}).status_code == 302
    again = post(client, f"{base(shop)}/sites", {"name": "Mill"})
    assert again.status_code == 200 and "name" in errors_of(again)
    response = post(client, f"{base(shop)}/batches", {"product": shop.product_id, "lot": "L2401A"})
    assert response.status_code == 200
    assert errors_of(response) == {"lot": "This product has a batch with this lot already."}
    assert _count(db, Site, brand_id=shop.brand.id) == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"lot": "L 24"}, "lot"),
        ({"lot": "LOT-ÄÖ"}, "lot"),
        ({"lot": "L" * 21}, "lot"),
        ({"lot": "OK1", "production_date": "2026-10-02", "expiry_date": "2026-10-01"},
         "expiry_date"),
        ({"lot": "OK2", "production_date": "2026-13-01"}, "production_date"),
    ],
)  # fmt: skip
def test_a_bad_lot_or_dates_are_field_errors_and_nothing_is_stored(app, shop, db, data, field):
    before = _count(db, Batch, brand_id=shop.brand.id)
    response = post(
        signed_in(app, shop), f"{base(shop)}/batches", {"product": shop.product_id, **data}
    )
    assert response.status_code == 200
    assert list(errors_of(response)) == [field]
    assert _count(db, Batch, brand_id=shop.brand.id) == before


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "A", "country": "XX"}, "country"),
        ({"name": "A", "country": "ESP"}, "country"),
        ({"name": "A", "latitude": "91", "longitude": "0"}, "latitude"),
        ({"name": "A", "latitude": "0", "longitude": "-181"}, "longitude"),
        ({"name": "A", "latitude": "10"}, "longitude"),
        ({"name": ""}, "name"),
    ],
)
def test_a_bad_country_or_coordinates_are_field_errors(app, shop, db, data, field):
    response = post(signed_in(app, shop), f"{base(shop)}/sites", data)
    assert response.status_code == 200 and list(errors_of(response)) == [field]
    assert _count(db, Site, brand_id=shop.brand.id) == 0


def test_product_names_and_descriptions_per_locale(app, shop, db):
    client = signed_in(app, shop, "staff")
    path = f"{base(shop)}/products/{shop.product_id}"
    response = post(
        client,
        path,
        {"name": "Olive oil", "texts_fr-name": "Huile d'olive", "texts_fr-description": "Vierge",
         "texts_ja-name": "オリーブオイル"},
    )  # fmt: skip
    assert response.status_code == 302
    with db.sessions() as session:
        product = session.get(Product, shop.product_id)
        assert product.name == "Olive oil"
        assert product.texts == {
            "fr": {"name": "Huile d'olive", "description": "Vierge"},
            "ja": {"name": "オリーブオイル"},
        }
    html = client.get(path).get_data(as_text=True)
    assert "Huile d&#39;olive" in html and 'data-locale="zh_Hans"' in html
    [entry] = audit_actions_for(db, shop.brand.id, "product.update")
    assert entry.details["name"] == "Olive oil"


def test_batch_facts_are_edited(app, shop, db):
    client = signed_in(app, shop)
    path = f"{base(shop)}/batches/{shop.batch_id}"
    bad = post(client, path, {"facts-production_date": "2026-10-02",
                              "facts-expiry_date": "2026-01-01", "facts-site": "0"},
               prefix="facts-")  # fmt: skip
    assert bad.status_code == 200 and list(errors_of(bad)) == ["facts-expiry_date"]
    good = post(client, path, {"facts-production_date": "2026-10-02",
                               "facts-expiry_date": "2027-01-01", "facts-site": "0",
                               "facts-line": "L3"}, prefix="facts-")  # fmt: skip
    assert good.status_code == 302
    with db.sessions() as session:
        batch = session.get(Batch, shop.batch_id)
        assert (str(batch.expiry_date), batch.line) == ("2027-01-01", "L3")
    [entry] = audit_actions_for(db, shop.brand.id, "batch.update")
    assert entry.details["expiry_date"] == "2027-01-01"


def test_a_recall_with_a_notice_shows_on_the_portal(app, shop, db, client):
    issuance.issue(db.sessions, shop.batch_id, 2, PASSPHRASE)
    with db.sessions() as session:
        batch = session.get(Batch, shop.batch_id)
        url = next(batch_urls(session, batch, "http://localhost"))[1]
    admin = signed_in(app, shop, "staff")
    path = f"{base(shop)}/batches/{shop.batch_id}/status"
    page = f"{base(shop)}/batches/{shop.batch_id}"
    # a recall needs a notice
    no_notice = admin.post(
        path, data={"status-csrf_token": _token(admin, page), "status-status": "recalled"}
    )
    assert no_notice.status_code == 200 and list(errors_of(no_notice)) == ["status-status"]
    notice = "Do not use: return it to the shop for a refund."
    response = admin.post(
        path,
        data={"status-csrf_token": _token(admin, page), "status-status": "recalled",
              "status-notice_en": notice},
    )  # fmt: skip
    assert response.status_code == 302
    verdict = client.get(url[url.index("/01/") :]).get_data(as_text=True)
    assert 'data-verdict="batch_recalled"' in verdict and notice in verdict
    [entry] = audit_actions_for(db, shop.brand.id, "batch.status")
    assert entry.details == {"status": "recalled", "notice": {"en": notice}}
    audit_page = signed_in(app, shop).get(f"{base(shop)}/audit").get_data(as_text=True)
    assert 'data-action="batch.status"' in audit_page


def _token(client, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="status-csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def test_audit_entries_appear_on_the_owners_audit_page(app, shop):
    client = signed_in(app, shop)
    post(client, f"{base(shop)}/sites", {"name": "Audit mill"})
    post(client, f"{base(shop)}/products", {"gtin": shop.new_gtin()[1:], "name": "Pens"})
    html = client.get(f"{base(shop)}/audit").get_data(as_text=True)
    assert 'data-action="site.create"' in html and 'data-action="product.create"' in html
    assert "Audit mill" in html and shop.new_gtin() in html


def _routes(shop: Catalog) -> list[tuple[str, dict]]:
    return [
        (f"{base(shop)}/sites", {"name": f"S-{secrets.token_hex(3)}"}),
        (f"{base(shop)}/products", {"gtin": shop.new_gtin(3), "name": "P"}),
        (f"{base(shop)}/products/{shop.product_id}", {"name": "Olive oil 1 l"}),
        (f"{base(shop)}/batches", {"product": shop.product_id, "lot": secrets.token_hex(4)}),
        (f"{base(shop)}/batches/{shop.batch_id}", {"facts-site": "0"}),
        (f"{base(shop)}/batches/{shop.batch_id}/status", {"status-status": "released"}),
    ]


#: role -> (GET status, POST status) on every catalog route.
EXPECTED = {
    "owner": (200, {200, 302}),
    "staff": (200, {200, 302}),
    "marketing": (200, {403}),
    "regulator": (200, {403}),
    "outsider": (404, {404}),
}


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(app, shop, role):
    client = signed_in(app, shop, role)
    token = csrf_token(client, "/admin/")
    get_status, post_statuses = EXPECTED[role]
    for path, data in _routes(shop):
        if not path.endswith("/status"):
            page = client.get(path)
            assert page.status_code == get_status, (role, path)
            html = page.get_data(as_text=True)
            if role in ("marketing", "regulator"):
                assert '<form class="admin-form' not in html and "data-read-only" in html
        form = {"csrf_token": token, "facts-csrf_token": token, "status-csrf_token": token}
        answer = client.post(path, data={**form, **data})
        assert answer.status_code in post_statuses, (role, path, answer.status_code)


def test_another_brands_objects_are_not_found_under_my_brand(app, shop, db):
    client = signed_in(app, shop)
    token = csrf_token(client, "/admin/")
    for path in (
        f"{base(shop)}/products/{shop.other_product_id}",
        f"{base(shop)}/batches/{shop.other_batch_id}",
        f"{base(shop)}/batches/{shop.other_batch_id}/status",
        f"{base(shop)}/products/999999999",
    ):
        if not path.endswith("/status"):
            assert client.get(path).status_code == 404, path
        assert client.post(path, data={"csrf_token": token}).status_code == 404, path
    # nor may a batch be made from another brand's product
    response = client.post(
        f"{base(shop)}/batches",
        data={"csrf_token": token, "product": shop.other_product_id, "lot": "X1"},
    )
    assert response.status_code == 200 and "product" in errors_of(response)
    assert _count(db, Batch, product_id=shop.other_product_id) == 1


def test_an_unknown_brand_and_a_foreign_brand_look_the_same(app, shop):
    client = signed_in(app, shop, "outsider")
    hidden = client.get(f"{base(shop)}/products")
    missing = client.get("/admin/brands/no-such-brand/products")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_data(as_text=True).replace(shop.brand.slug, "?") == missing.get_data(
        as_text=True
    ).replace("no-such-brand", "?")


def test_the_dashboard_links_the_catalog(app, shop):
    html = signed_in(app, shop, "marketing").get("/admin/").get_data(as_text=True)
    for page in ("sites", "products", "batches"):
        assert f"{base(shop)}/{page}" in html
    assert "/audit" not in html


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [("owner", {"scans", "on_hold", "first_pass", "outbox_failures"}, set()),
     ("staff", {"on_hold", "first_pass", "suspected"}, {"outbox_failures"}),
     ("marketing", {"scans", "suspected"}, {"on_hold", "outbox_failures", "first_pass"}),
     ("regulator", {"recalled", "on_hold"}, {"outbox_failures", "scans"})],
)  # fmt: skip
def test_the_dashboard_shows_the_figures_each_role_comes_for(app, shop, db, role, shown, hidden):
    with db.sessions.begin() as session:
        catalog.set_batch_status(
            session, session.get(Batch, shop.batch_id), "on_hold", {"en": "Held."}
        )
    html = signed_in(app, shop, role).get("/admin/").get_data(as_text=True)
    figures = set(re.findall(r'data-figure="([a-z_]+)"', html))
    assert shown <= figures and not hidden & figures
    on_hold = re.search(r'data-figure="on_hold">\s*<dt>[^<]+</dt>\s*<dd>([^<]+)</dd>', html)
    assert on_hold is None or on_hold.group(1) == "1"
    assert 'data-figure="on_hold"' not in html or "admin-tile-alert" in html


def test_catalog_operations_refuse_bad_values(db, shop):
    with db.sessions() as session:
        brand = session.get(Brand, shop.brand.id)
        catalog.create_product(session, brand, shop.new_gtin(5), "Once")
        with pytest.raises(errors.Duplicate) as raised:
            catalog.create_product(session, brand, shop.new_gtin(5), "Again")
        assert raised.value.field == "gtin"
        with pytest.raises(catalog.ForeignGtin):  # the legacy product's GTIN: no prefix of ours
            catalog.create_product(session, brand, shop.gtin, "Legacy")
        with pytest.raises(ValueError):
            catalog.create_site(session, brand, "Far", latitude=95.0)
        with pytest.raises(errors.NotFound):
            catalog.get_batch(session, brand, shop.other_batch_id)


def test_a_unique_violation_past_the_check_is_a_duplicate_and_the_session_survives(db, shop):
    with db.sessions() as session:
        brand = session.get(Brand, shop.brand.id)
        row = Product(brand_id=brand.id, gtin=shop.gtin, name="Race", texts={})
        with pytest.raises(errors.Duplicate):
            errors.insert_unique(session, row, "gtin", "taken")  # as a concurrent submit would
        assert catalog.get_product(session, brand, shop.product_id).gtin == shop.gtin
        assert catalog.create_product(session, brand, shop.new_gtin(4), "Next").id


def test_catalog_pages_have_no_inline_script_or_style(app, shop):
    client = signed_in(app, shop)
    for path, _data in _routes(shop):
        if not path.endswith("/status"):
            assert_no_inline_code(client.get(path).get_data(as_text=True))


def test_ids_beyond_their_columns_are_not_found_on_every_route(app, shop):
    from werkzeug.routing import IntegerConverter

    from tracemark.web import IdConverter

    id_routes = [
        rule
        for rule in app.url_map.iter_rules()
        if any(isinstance(c, IntegerConverter) for c in rule._converters.values())
    ]
    assert id_routes
    for rule in id_routes:  # every id in a URL goes through the range-checked converters
        for converter in rule._converters.values():
            if isinstance(converter, IntegerConverter):
                assert isinstance(converter, IdConverter), rule.rule
    owner = signed_in(app, shop)
    for huge in (2**31, 2**63, 10**30):
        assert owner.get(f"{base(shop)}/batches/{huge}").status_code == 404
        assert owner.get(f"{base(shop)}/products/{huge}").status_code == 404


def test_a_status_change_drops_the_notices_written_for_the_old_status(app, shop, db, client):
    issuance.issue(db.sessions, shop.batch_id, 1, PASSPHRASE)
    held = {locale: f"Held for a check ({locale})." for locale in ("en", "de", "ja", "fr")}
    with db.sessions.begin() as session:
        batch = session.get(Batch, shop.batch_id)
        catalog.set_batch_status(session, batch, "on_hold", held)
        url = next(batch_urls(session, batch, "http://localhost"))[1]
    admin = signed_in(app, shop, "staff")
    path = f"{base(shop)}/batches/{shop.batch_id}/status"
    page = f"{base(shop)}/batches/{shop.batch_id}"
    form = admin.get(page).get_data(as_text=True)
    assert "data-notice-warning" in form and form.count('<details class="admin-notice"') == 8
    assert not re.search(r'<details class="admin-notice"[^>]*\bopen\b', form)  # collapsed
    old = {f"status-notice_{locale}": text for locale, text in held.items()}
    # every notice left as it was: refused, the form says why
    same = admin.post(
        path,
        data={"status-csrf_token": _token(admin, page), "status-status": "recalled", **old},
    )
    assert same.status_code == 400 and list(errors_of(same)) == ["status-status"]
    # English and French rewritten; German and Japanese left as they were
    new = {**old, "status-notice_en": "Recalled: return it.", "status-notice_fr": "Rappelé."}
    response = admin.post(
        path,
        data={"status-csrf_token": _token(admin, page), "status-status": "recalled", **new},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Deutsch, 日本語" in response.get_data(as_text=True)  # the flash names them
    with db.sessions() as session:
        batch = session.get(Batch, shop.batch_id)
        assert batch.notice == {"en": "Recalled: return it.", "fr": "Rappelé."}
    german = client.get(url[url.index("/01/") :], headers={"Accept-Language": "de"})
    html = german.get_data(as_text=True)
    assert 'data-verdict="batch_recalled"' in html and "Held for a check" not in html
    assert "Recalled: return it." in html  # German falls back to English, the new notice


def test_stale_notices_are_only_those_left_unchanged_across_a_status_change(db, shop):
    with db.sessions.begin() as session:
        batch = session.get(Batch, shop.batch_id)
        catalog.set_batch_status(session, batch, "on_hold", {"en": "Held.", "de": "Gesperrt."})
        assert catalog.stale_notices(batch, "on_hold", {"en": "Held."}) == []
        assert catalog.stale_notices(batch, "recalled", {"en": "Held. ", "de": "Neu."}) == ["en"]
        catalog.set_batch_status(session, batch, "recalled", {"en": "Held.", "de": "Neu."})
        assert batch.notice == {"de": "Neu."}
