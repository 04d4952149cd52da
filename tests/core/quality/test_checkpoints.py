"""Checkpoint templates and recordings in the core: fields checked, versions kept, objects
identified, events built and captured (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import io
import secrets

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.conftest import PASSPHRASE, PDF, forge, make_brand
from tracemark import catalog, errors
from tracemark.codes import issuance
from tracemark.codes.printing import batch_urls
from tracemark.epcis import identifiers as epc
from tracemark.models import Batch, Brand, CheckpointFile, TraceEvent, TraceEventObject
from tracemark.quality import checkpoints, recording
from tracemark.quality.checkpoint_seeds import STANDARD
from tracemark.quality.checkpoints import TemplateError
from tracemark.trace import capture, supply
from tracemark.trace import events as trace

NUMBER = {"name": "moisture", "type": "number", "label": {"en": "Moisture"}, "unit": "%",
          "min": 0, "max": 20, "decimals": 1, "required": True}  # fmt: skip
ZONE = dt.timezone(dt.timedelta(hours=2))


def _nonce() -> str:
    return secrets.token_hex(16)


def test_standard_templates_are_valid_and_complete_in_every_locale():
    from tracemark.i18n import LOCALES

    assert set(STANDARD) == {
        "raw-material-receipt", "production-feeding", "qc-inspection", "packing", "shipping"
    }  # fmt: skip
    for spec in STANDARD.values():
        assert set(spec["name"]) == set(LOCALES)
        for field in checkpoints.check_fields(spec["fields"]):
            assert set(field["label"]) == set(LOCALES), field["name"]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"name": "Moisture"}, "bad_field_name"),
        ({"name": "1st"}, "bad_field_name"),
        ({"type": "colour"}, "bad_type"),
        ({"label": {}}, "no_label"),
        ({"label": {"xx": "Moisture"}}, "bad_label"),
        ({"label": {"en": "x" * 121}}, "bad_label"),
        ({"min": 5, "max": 1}, "bad_range"),
        ({"min": float("nan")}, "bad_number"),
        ({"max": True}, "bad_number"),
        ({"decimals": 7}, "bad_decimals"),
        ({"unit": "u" * 17}, "bad_unit"),
    ],
)
def test_a_bad_field_is_refused_with_its_code(change, code):
    with pytest.raises(TemplateError) as refused:
        checkpoints.check_field({**NUMBER, **change})
    assert refused.value.code == code


def test_choice_and_text_fields_are_checked():
    choice = {"name": "grade", "type": "choice", "label": {"en": "Grade"}}
    for choices, code in (
        ([], "no_choices"),
        ([{"value": "a b"}], "bad_choice"),
        ([{"value": "a"}, {"value": "a"}], "duplicate_choice"),
    ):
        with pytest.raises(TemplateError) as refused:
            checkpoints.check_field({**choice, "choices": choices})
        assert refused.value.code == code
    checked = checkpoints.check_field({**choice, "choices": [{"value": "a"}]})
    assert checked["choices"] == [{"value": "a", "label": {"en": "a"}}]
    text = {"name": "note", "type": "text", "label": {"en": "Note"}}
    with pytest.raises(TemplateError, match="bad_max_length"):
        checkpoints.check_field({**text, "max_length": 0})
    assert checkpoints.check_field(text)["max_length"] == 200
    with pytest.raises(TemplateError, match="duplicate_field"):
        checkpoints.check_fields([NUMBER, NUMBER])


def test_editing_makes_a_new_version_and_keeps_the_old(db, demo):
    with db.sessions.begin() as session:
        brand = session.merge(demo.brand)
        first = checkpoints.create_template(
            session, brand, "dryness", {"en": "Dryness"}, biz_step="inspecting", subject="batch"
        )
        second = checkpoints.add_field(session, first, NUMBER)
        third = checkpoints.add_field(
            session, second, {"name": "ok", "type": "passfail", "label": {"en": "OK"}}
        )
        fourth = checkpoints.move_field(session, third, "ok", -1)
        assert [f["name"] for f in fourth.fields] == ["ok", "moisture"]
        assert checkpoints.move_field(session, fourth, "ok", -1) is fourth  # at the top
        fifth = checkpoints.remove_field(session, fourth, "moisture")
        assert [t.version for t in (first, second, third, fourth, fifth)] == [1, 2, 3, 4, 5]
        assert checkpoints.get(session, brand, "dryness").version == 5
        assert checkpoints.version(session, brand, "dryness", 2).fields[0]["name"] == "moisture"
        with pytest.raises(TemplateError, match="no_field"):
            checkpoints.remove_field(session, fifth, "moisture")
        with pytest.raises(errors.Duplicate):
            checkpoints.create_template(
                session, brand, "dryness", {"en": "Again"}, biz_step="inspecting", subject="batch"
            )
        assert checkpoints.set_active(session, fifth, False)
        assert checkpoints.current(session, brand, "dryness", active_only=True) is None
        assert [t.key for t in checkpoints.templates(session, brand)] == ["dryness"]
        assert checkpoints.templates(session, brand, active_only=True) == []


def test_seeding_adds_only_what_the_brand_lacks(db, demo):
    with db.sessions.begin() as session:
        brand = session.merge(demo.brand)
        assert len(checkpoints.seed_standard(session, brand)) == 5
        assert checkpoints.seed_standard(session, brand) == []
        keys = [t.key for t in checkpoints.templates(session, brand)]
        assert keys == sorted(STANDARD)


def test_element_strings_are_parsed_strictly():
    parse = recording.parse_element_string
    assert parse("(01)09506000134352(10)L2401A(21)AB12") == {
        "01": "09506000134352", "10": "L2401A", "21": "AB12"
    }  # fmt: skip
    assert parse("]d20109506000134352" + "10L1\x1d21S9") == {
        "01": "09506000134352", "10": "L1", "21": "S9"
    }  # fmt: skip
    for bad in (
        "(01)09506000134353(10)L1",
        "(01)09506000134352",
        "(01)0950600013435(10)L1",
        "(10)L1(01)09506000134352x",
        "0109506000134352 99X",
        "(01)09506000134352(10)",
    ):
        with pytest.raises(recording.RecordingError, match="bad_element_string"):
            parse(bad)  # fmt: skip


@pytest.fixture
def issued(db):
    """Two brands with issued codes, the first with a site, a material lot and the
    standard templates; returns (brand, a label URL of each)."""
    mine = make_brand(db.sessions)
    urls = []
    for demo in (mine, make_brand(db.sessions)):
        issuance.issue(db.sessions, demo.batch.id, 2, PASSPHRASE)
        with db.sessions() as session:
            batch = session.get_one(Batch, demo.batch.id)
            urls.append(next(batch_urls(session, batch, "https://tm.example.com"))[1])
    with db.sessions.begin() as session:
        brand = session.merge(mine.brand)
        checkpoints.seed_standard(session, brand)
        catalog.create_site(session, brand, "Mill", country="ES")
        supplier = supply.create_supplier(session, brand, "Grove")
        supply.receive_lot(session, supplier, "Olives", "OL-7", gtin="09506000134352")
    return mine, urls


def test_a_label_is_identified_only_when_genuine_and_the_brands(db, issued):
    mine, (url, their_url) = issued
    with db.sessions() as session:
        brand = session.get_one(Brand, mine.brand.id)
        unit = recording.identify(session, brand, "label", url)
        assert unit.kind == "unit" and unit.batch_id == mine.batch.id
        assert unit.uri == epc.canonical(url).uri
        for text, code in (
            (forge(url), "bad_label"),
            (their_url, "other_brand"),
            ("https://tm.example.com/01/x", "bad_label"),
            ("  ", "empty"),
        ):
            with pytest.raises(recording.RecordingError) as refused:
                recording.identify(session, brand, "label", text)
            assert refused.value.code == code  # fmt: skip
        serial = epc.canonical(url).serial
        by_element = recording.identify(
            session, brand, "element", f"(01)09506000134352(21){serial}"
        )
        assert by_element == unit
        with pytest.raises(recording.RecordingError, match="unknown_unit"):
            recording.identify(session, brand, "element", "(01)09506000134352(21)NOPE")
        batch = recording.identify(session, brand, "batch", "L2401A")
        assert batch.kind == "batch" and batch.uri == epc.lot_class("09506000134352", "L2401A")
        lot = recording.identify(session, brand, "material_lot", "OL-7")
        assert lot.kind == "material_lot" and lot.lot_id is not None
        with pytest.raises(recording.RecordingError, match="unknown_batch"):
            recording.identify(session, brand, "batch", "NOPE")
        template = checkpoints.get(session, brand, "qc-inspection")
        assert recording.for_template(session, template, unit).kind == "batch"
        receipt = checkpoints.get(session, brand, "raw-material-receipt")
        with pytest.raises(recording.RecordingError, match="needs_material_lot"):
            recording.for_template(session, receipt, unit)


def test_values_are_checked_against_their_fields(db, issued):
    mine, _urls = issued
    with db.sessions() as session:
        template = checkpoints.get(session, session.get_one(Brand, mine.brand.id), "qc-inspection")
        good = {"sample_size": "12", "acidity": "0,35", "appearance": "good",
                "seal_intact": "pass", "notes": "  fine  "}  # fmt: skip
        values = recording.clean_values(template, good)
        assert values == {"sample_size": 12, "acidity": 0.35, "appearance": "good",
                          "seal_intact": "pass", "notes": "fine"}  # fmt: skip
        for change, code in (
            ({"sample_size": ""}, "required"),
            ({"sample_size": "0"}, "too_small"),
            ({"sample_size": "10001"}, "too_large"),
            ({"sample_size": "1.5"}, "too_precise"),
            ({"sample_size": "twelve"}, "not_number"),
            ({"sample_size": "Infinity"}, "not_number"),
            ({"acidity": "0.351"}, "too_precise"),
            ({"appearance": "shiny"}, "not_choice"),
            ({"seal_intact": "maybe"}, "not_passfail"),
            ({"notes": "x" * 501}, "too_long"),
            ({"notes": "a\x00b"}, "too_long"),
        ):
            with pytest.raises(recording.RecordingError) as refused:
                recording.clean_values(template, {**good, **change})
            assert (refused.value.code, refused.value.field) == (code, next(iter(change)))


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, "PNG")
    return out.getvalue()


def test_files_are_judged_by_content_and_stored_once(db, issued):
    mine, _urls = issued
    with db.sessions.begin() as session:
        brand = session.get_one(Brand, mine.brand.id)
        pdf = recording.store_file(session, brand, PDF, "report")
        assert pdf["type"] == "application/pdf" and len(pdf["sha256"]) == 64
        assert recording.store_file(session, brand, PDF, "report") == pdf
        picture = recording.store_file(session, brand, _png(), "report")
        assert picture["type"] == "image/png"
        for data, code in (
            (b"MZ\x90\x00 not a pdf", "file_type"),
            (b"%PDF-1.4 no end marker", "file_type"),
            (b"%PDF-" + b"0" * recording.MAX_FILE_BYTES, "file_too_large"),
        ):
            with pytest.raises(recording.RecordingError) as refused:
                recording.store_file(session, brand, data, "report")
            assert refused.value.code == code  # fmt: skip
        count = select(func.count()).select_from(CheckpointFile)
        assert session.scalar(count.where(CheckpointFile.brand_id == brand.id)) == 2


def test_a_recorded_inspection_is_a_captured_event_of_the_batch(db, issued):
    mine, (url, _) = issued
    nonce = _nonce()
    with db.sessions.begin() as session:
        brand = session.get_one(Brand, mine.brand.id)
        template = checkpoints.get(session, brand, "qc-inspection")
        subject = recording.for_template(
            session, template, recording.identify(session, brand, "label", url)
        )
        values = recording.clean_values(
            template, {"sample_size": "5", "appearance": "poor", "seal_intact": "fail"}
        )
        site = catalog.sites(session, brand)[0]
        when = dt.datetime(2026, 11, 26, 10, 30, tzinfo=ZONE)
        recorded = recording.record(
            session, brand, template, subject, values, nonce=nonce, when=when, site=site,
            operator="ana@example.com",
        )  # fmt: skip
        assert not recorded.duplicate
        again = recording.record(
            session, brand, template, subject, values, nonce=nonce, when=when, site=site,
            operator="ana@example.com",
        )  # fmt: skip
        assert again.duplicate and again.event_id == recorded.event_id
    with db.sessions() as session:
        batch = session.get_one(Batch, mine.batch.id)
        events = [e for e in trace.events_of_batch(session, batch) if e.biz_step == "inspecting"]
        assert len(events) == 1
        event = events[0]
        assert event.event_id == recorded.event_id and event.event_timezone == "+02:00"
        assert event.disposition == "non_conformant" and event.site_id is not None
        assert event.data["tm:checkpoint"] == {"key": "qc-inspection", "version": 1}
        assert event.data["tm:fields"]["appearance"] == "poor"
        assert event.data["tm:qc"] == [{"test": "seal_intact", "result": "fail"}]
        assert event.data["tm:operator"] == "ana@example.com"
        objects = session.scalars(
            select(TraceEventObject).where(TraceEventObject.event_id == event.id)
        ).all()
        assert [(o.role, o.batch_id) for o in objects] == [("epc_quantity", mine.batch.id)]


def test_an_inspection_without_failure_is_conformant_and_a_unit_event_names_the_unit(db, issued):
    mine, (url, _) = issued
    with db.sessions.begin() as session:
        brand = session.get_one(Brand, mine.brand.id)
        template = checkpoints.create_template(
            session, brand, "unit-check", {"en": "Unit check"}, biz_step="inspecting",
            subject="unit", disposition="in_progress",
            fields=[{"name": "ok", "type": "passfail", "label": {"en": "OK"}, "required": True}],
        )  # fmt: skip
        subject = recording.identify(session, brand, "label", url)
        event = recording.build_event(
            template, subject, {"ok": "pass"}, event_id="urn:uuid:x",
            when=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), location=None, operator="o",
        )  # fmt: skip
        assert event["disposition"] == "conformant" and event["epcList"] == [subject.uri]
        with pytest.raises(recording.RecordingError, match="bad_nonce"):
            recording.event_id(brand, "not-a-nonce")
        result = capture.capture_event(session, brand, {**event, "eventID": f"urn:uuid:{_nonce()}"})
        stored = session.scalar(select(TraceEvent).where(TraceEvent.event_id == result.captured[0]))
        unit_rows = select(TraceEventObject.unit_id).where(TraceEventObject.event_id == stored.id)
        assert session.scalar(unit_rows) == subject.unit_id
