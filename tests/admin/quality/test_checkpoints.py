"""The checkpoint editor and the recording page of the admin app, bad input included."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSPHRASE, PDF, forge
from tests.helpers.admin import (
    assert_no_inline_code,
    audit_actions,
    base,
    errors_of,
    post,
    signed_in,
)
from tracemark import catalog
from tracemark.codes import issuance
from tracemark.codes.printing import batch_urls
from tracemark.models import Batch, Brand, CheckpointFile, TraceEvent
from tracemark.quality import checkpoints
from tracemark.trace import events as trace

FIELD = {"type": "number", "name": "moisture", "label_en": "Moisture",
         "label_fr": "Humidité", "unit": "%", "minimum": "0", "maximum": "20", "decimals": "1",
         "required": "y"}  # fmt: skip
NEW = {"key": "t", "name_en": "T", "biz_step": "packing", "subject": "batch"}


def _audited(db, shop, action: str) -> list:
    """The brand's audit entries of ``action`` (other tests share the database)."""
    return [entry for entry in audit_actions(db, action) if entry.brand_id == shop.brand.id]


def _template(db, shop, key: str):
    with db.sessions() as session:
        return checkpoints.get(session, session.get_one(Brand, shop.brand.id), key)


def test_an_owner_builds_a_template_field_by_field(app, shop, db):
    client = signed_in(app, shop)
    response = post(
        client,
        f"{base(shop)}/checkpoints",
        {"key": "Dryness", "name_en": "Dryness check", "name_de": "Trockenprüfung",
         "biz_step": "inspecting", "disposition": "", "subject": "batch"},
    )  # fmt: skip
    assert response.status_code == 303
    page = f"{base(shop)}/checkpoints/dryness"
    assert response.headers["Location"] == page
    assert post(client, page, FIELD).status_code == 400  # the head form: no name given
    assert post(client, f"{page}/fields", FIELD).status_code == 303
    choice = {"type": "choice", "name": "grade", "label_en": "Grade",
              "choices": "a\nb\n", "choice_labels_en": "Class A\nClass B",
              "choice_labels_es": "Clase A"}  # fmt: skip
    assert post(client, f"{page}/fields", choice).status_code == 303
    template = _template(db, shop, "dryness")
    assert template.version == 3 and template.name["de"] == "Trockenprüfung"
    assert template.fields[0] == {"name": "moisture", "type": "number", "required": True,
                                  "label": {"en": "Moisture", "fr": "Humidité"}, "unit": "%",
                                  "min": 0.0, "max": 20.0, "decimals": 1}  # fmt: skip
    assert template.fields[1]["choices"] == [
        {"value": "a", "label": {"en": "Class A", "es": "Clase A"}},
        {"value": "b", "label": {"en": "Class B"}},
    ]
    assert post(client, f"{page}/fields/grade", {"action": "up"}).status_code == 303
    assert [f["name"] for f in _template(db, shop, "dryness").fields] == ["grade", "moisture"]
    assert post(client, f"{page}/fields/moisture", {"action": "remove"}).status_code == 303
    assert post(client, f"{page}/fields/moisture", {"action": "remove"}).status_code == 404
    assert post(client, f"{page}/active", {"active": "0"}).status_code == 303
    template = _template(db, shop, "dryness")
    assert (template.version, template.active) == (5, False)
    html = client.get(page).get_data(as_text=True)
    assert_no_inline_code(html)
    assert 'data-state="retired"' in html
    assert len(_audited(db, shop, "checkpoint.field_add")) == 2
    assert len(_audited(db, shop, "checkpoint.retire")) == 1


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"minimum": "30"}, "minimum", "The minimum cannot be larger than the maximum."),
        ({"minimum": "abc"}, "minimum", "Enter a number."),
        ({"name": "Bad Name"}, "name", "A field name starts with a lowercase letter"),
        ({"label_en": "", "label_fr": ""}, "label_en", "Give a label in at least one language."),
        ({"decimals": "9"}, "decimals", "Decimals are between 0 and 6."),
        ({"type": "choice", "choices": ""}, "choices", "List at least one choice."),
        ({"type": "choice", "choices": "a\na"}, "choices", "Each choice value may appear"),
        ({"type": "colour"}, "type", "Not a valid choice"),
    ],
)
def test_bad_fields_are_refused_with_translatable_messages(app, shop, db, change, field, message):
    client = signed_in(app, shop)
    post(client, f"{base(shop)}/checkpoints", NEW)
    response = post(client, f"{base(shop)}/checkpoints/t/fields", {**FIELD, **change})
    assert response.status_code == 400
    assert errors_of(response)[field].startswith(message)
    assert _template(db, shop, "t").version == 1
    if field == "minimum" and change["minimum"] == "30":
        client.set_cookie("tm_lang", "fr")
        response = post(client, f"{base(shop)}/checkpoints/t/fields", {**FIELD, **change})
        assert errors_of(response)["minimum"] == "Le minimum ne peut pas dépasser le maximum."


def test_a_duplicate_field_name_and_key_are_refused(app, shop, db):
    client = signed_in(app, shop)
    new = NEW
    assert post(client, f"{base(shop)}/checkpoints", new).status_code == 303
    response = post(client, f"{base(shop)}/checkpoints", new)
    assert response.status_code == 400 and "key" in errors_of(response)
    assert post(client, f"{base(shop)}/checkpoints/t/fields", FIELD).status_code == 303
    response = post(client, f"{base(shop)}/checkpoints/t/fields", FIELD)
    assert errors_of(response)["name"] == "This template has a field with this name already."


def test_staff_seed_the_standard_templates_and_others_only_read(app, shop, db):
    staff = signed_in(app, shop, "staff")
    assert post(staff, f"{base(shop)}/checkpoints/standard", {}).status_code == 303
    with db.sessions() as session:
        brand = session.get_one(Brand, shop.brand.id)
        assert len(checkpoints.templates(session, brand)) == 5
    regulator = signed_in(app, shop, "regulator")
    html = regulator.get(f"{base(shop)}/checkpoints").get_data(as_text=True)
    assert "qc-inspection" in html and "data-seed" not in html and "data-new-template" not in html
    assert regulator.get(f"{base(shop)}/record").status_code == 403
    response = post(regulator, f"{base(shop)}/checkpoints/qc-inspection/active", {"active": "0"})
    assert response.status_code == 403 and _template(db, shop, "qc-inspection").active


@pytest.fixture
def labels(db, shop):
    """The standard templates and a site in my brand; a label URL of mine and of theirs."""
    urls = []
    for batch_id in (shop.batch_id, shop.other_batch_id):
        issuance.issue(db.sessions, batch_id, 2, PASSPHRASE)
        with db.sessions() as session:
            batch = session.get_one(Batch, batch_id)
            urls.append(next(batch_urls(session, batch, "https://tm.example.com"))[1])
    with db.sessions.begin() as session:
        brand = session.get_one(Brand, shop.brand.id)
        checkpoints.seed_standard(session, brand)
        site = catalog.create_site(session, brand, "Mill")
    return urls[0], urls[1], site.id


QC = {"kind": "label", "f_sample_size": "10", "f_appearance": "good", "f_seal_intact": "pass"}


def _record_form(client, path: str) -> dict:
    html = client.get(path).get_data(as_text=True)
    fields = dict(re.findall(r'name="(csrf_token|nonce)" type="hidden" value="([^"]+)"', html))
    assert len(fields) == 2, html
    return fields


def _events(db, shop) -> list[TraceEvent]:
    with db.sessions() as session:
        batch = session.get_one(Batch, shop.batch_id)
        return [e for e in trace.events_of_batch(session, batch) if e.biz_step == "inspecting"]


def test_a_label_scanned_on_the_portal_prefills_the_record_page(app, shop, db, labels):
    url, _their_url, site_id = labels
    client = signed_in(app, shop, "staff")
    page = client.get(f"{base(shop)}/record", query_string={"code": url})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-template="qc-inspection"' in html
    path = f"{base(shop)}/record?template=qc-inspection&code={url}"
    html = client.get(path).get_data(as_text=True)
    assert_no_inline_code(html)
    assert 'inputmode="numeric"' in html and 'inputmode="decimal"' in html
    assert 'type="file"' in html and 'type="radio"' in html
    assert f'value="{url.replace("&", "&amp;")}"' in html
    hidden = _record_form(client, path)
    data = {**QC, **hidden, "identifier": url, "site": str(site_id), "offset": "-05:30",
            "f_sample_size": "1500"}  # fmt: skip
    response = client.post(path, data=data)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "data-recorded" in body, body
    assert 'data-disposition="conformant"' in body
    assert "<dt>Sample size</dt><dd>1,500</dd>" in body  # in the reader's number format
    again = client.post(path, data=data)  # a double submit
    assert "data-duplicate" in again.get_data(as_text=True)
    events = _events(db, shop)
    assert len(events) == 1 and events[0].event_timezone == "-05:30"
    assert events[0].data["tm:fields"] == {"sample_size": 1500, "appearance": "good",
                                           "seal_intact": "pass"}  # fmt: skip
    assert len(_audited(db, shop, "checkpoint.record")) == 1


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"f_sample_size": "0"}, "f_sample_size", "This number is below the minimum."),
        ({"f_sample_size": "ten"}, "f_sample_size", "Enter a number."),
        ({"f_sample_size": ""}, "f_sample_size", "This field is required."),
        ({"f_acidity": "1.234"}, "f_acidity", "This number has too many decimals."),
        ({"f_appearance": "shiny"}, "f_appearance", "Not a valid choice"),
        ({"f_seal_intact": "maybe"}, "f_seal_intact", "Not a valid choice"),
        ({"identifier": "FORGED"}, "identifier", "This label is not genuine"),
        ({"identifier": "THEIRS"}, "identifier", "This label is not one of this brand's."),
        ({"kind": "batch", "identifier": "NOPE"}, "identifier", "This brand has no batch"),
        ({"nonce": "x"}, "nonce", "This form is incomplete"),
    ],
)
def test_bad_recordings_are_refused_and_record_nothing(app, shop, db, labels, change, field,
                                                       message):  # fmt: skip
    url, their_url, _site_id = labels
    client = signed_in(app, shop, "owner")
    path = f"{base(shop)}/record?template=qc-inspection"
    data = {**QC, **_record_form(client, path), "identifier": url}
    data.update(change)
    data["identifier"] = {"FORGED": forge(url), "THEIRS": their_url}.get(
        data["identifier"], data["identifier"]
    )
    response = client.post(path, data=data)
    assert response.status_code == 400
    if field != "nonce":
        assert errors_of(response)[field].startswith(message), errors_of(response)
    assert _events(db, shop) == []


def test_files_are_checked_by_content(app, shop, db, labels):
    url, _their_url, _site_id = labels
    client = signed_in(app, shop)
    path = f"{base(shop)}/record?template=qc-inspection"

    def send(content: bytes, name: str):
        data = {**QC, **_record_form(client, path), "identifier": url,
                "f_report": (io.BytesIO(content), name)}  # fmt: skip
        return client.post(path, data=data, content_type="multipart/form-data")

    disguised = send(b"MZ\x90\x00 an executable", "report.pdf")
    assert errors_of(disguised)["f_report"].startswith("A file must be a PDF")
    oversize = send(b"%PDF-" + b"0" * (10 * 1024 * 1024), "big.pdf")
    assert oversize.status_code in (400, 413)
    assert _events(db, shop) == []
    good = send(PDF, "report.pdf")
    assert good.status_code == 200
    with db.sessions() as session:
        stored = session.scalar(
            select(func.count())
            .select_from(CheckpointFile)
            .where(CheckpointFile.brand_id == shop.brand.id)
        )
        assert stored == 1
    file_id = _events(db, shop)[0].data["tm:fields"]["report"]["file"]
    download = client.get(f"{base(shop)}/checkpoint-files/{file_id}")
    assert download.data == PDF and "attachment" in download.headers["Content-Disposition"]
    outsider = signed_in(app, shop, "outsider")
    theirs = f"/admin/brands/{shop.other.slug}/checkpoint-files/{file_id}"
    assert outsider.get(theirs).status_code == 404


def test_keys_no_template_can_have_are_not_found(app, shop):
    client = signed_in(app, shop)
    for path in ("checkpoints/a%00b", "checkpoints/" + "k" * 300, "record?template=a%00b"):
        assert client.get(f"{base(shop)}/{path}").status_code == 404, path


def test_a_retired_template_cannot_be_recorded(app, shop, db, labels):
    client = signed_in(app, shop)
    post(client, f"{base(shop)}/checkpoints/packing/active", {"active": "0"})
    assert client.get(f"{base(shop)}/record?template=packing").status_code == 404
    html = client.get(f"{base(shop)}/record").get_data(as_text=True)
    assert 'data-template="packing"' not in html and 'data-template="shipping"' in html


def test_a_feeding_recorded_on_the_phone_form_reaches_the_recall_of_the_lot(app, shop, db, labels):
    """Production feeding: the material lot in, the batch named out, a TransformationEvent
    whose genealogy link the lot's recall follows to the batch."""
    from tracemark.trace import supply

    with db.sessions.begin() as session:
        brand = session.get_one(Brand, shop.brand.id)
        supplier = supply.create_supplier(session, brand, "Olivar Coop")
        lot = supply.receive_lot(session, supplier, "Olive oil", "OIL-7", epc_class="urn:x:oil-7")
        lot_id = lot.id
        batch_lot = session.get_one(Batch, shop.batch_id).lot
    client = signed_in(app, shop, "staff")
    recall = f"{base(shop)}/lots/{lot_id}/recall"
    assert "data-batch-count>0<" in client.get(recall).get_data(as_text=True)
    path = f"{base(shop)}/record?template=production-feeding"
    form = {"kind": "material_lot", "identifier": "OIL-7", "f_line": "Line 2",
            "f_quantity": "120.5"}  # fmt: skip
    # a lot produced that is no batch of the brand's is refused on its field
    refused = client.post(path, data=form | _record_form(client, path) | {"f_lot_produced": "NOPE"})
    assert refused.status_code == 400 and "f_lot_produced" in errors_of(refused)
    data = form | _record_form(client, path) | {"f_lot_produced": batch_lot}
    response = client.post(path, data=data)
    assert response.status_code == 200 and "data-recorded" in response.get_data(as_text=True)
    with db.sessions() as session:
        (fed,) = session.scalars(
            select(TraceEvent).where(
                TraceEvent.brand_id == shop.brand.id, TraceEvent.biz_step == "assembling"
            )
        ).all()
        assert fed.event_type == "TransformationEvent" and fed.batch_id == shop.batch_id
        (back,) = trace.serialize(session, [fed])
    assert back["inputQuantityList"] == [
        {"epcClass": "urn:x:oil-7", "quantity": 120.5, "uom": "KGM"}
    ]
    page = client.get(recall).get_data(as_text=True)
    assert "data-batch-count>1<" in page and batch_lot in page
