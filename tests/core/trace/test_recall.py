"""Recall impact read directly: a lot that fed nothing, a batch's own recall, a lot that
reached one batch through a case, unknown countries, and the CSV and PDF of each."""

from __future__ import annotations

import csv
import io

import pypdfium2 as pdfium
import pytest

from tests.conftest import PASSPHRASE
from tests.core.trace.trace_chain import CASE, GLASS_CLASS, build_chain, scan
from tracemark.codes import issuance
from tracemark.epcis import identifiers as epc
from tracemark.trace import recall

GTIN = "09506000134352"


@pytest.fixture
def chain(db, demo):
    return build_chain(db.sessions, demo)


def _impact(db, demo, epc_class: str) -> recall.RecallImpact:
    with db.sessions() as session:
        return recall.recall_impact(session, session.merge(demo.brand), epc_class)


def _pdf_text(impact: recall.RecallImpact) -> str:
    out = io.BytesIO()
    assert recall.impact_pdf(impact, out) == 1
    return pdfium.PdfDocument(out.getvalue())[0].get_textpage().get_text_range()


def test_a_lot_that_fed_no_batch_gives_an_empty_report_not_an_error(db, demo, chain):
    impact = _impact(db, demo, epc.lot_class("04012345123452", "NEVER-USED"))
    assert (impact.batches, impact.shipments, impact.scanned_by_country) == ([], [], {})
    assert impact.total_units == 0 and impact.trace.lot is None
    assert list(csv.reader(io.StringIO(recall.impact_csv(impact)))) == [list(recall.CSV_HEADER)]
    assert "0 batches, 0 units, 0 scanned" in _pdf_text(impact)


def test_a_batchs_own_recall_reaches_the_batch_and_where_it_went(db, demo, chain):
    impact = _impact(db, demo, epc.lot_class(GTIN, "L2402B"))
    assert [(b.batch.id, b.batch.lot, b.units, b.scanned_units) for b in impact.batches] == [
        (chain.batch_b, "L2402B", 3, 0)
    ]
    (shipment,) = impact.shipments
    assert (shipment.event_id, shipment.lot, shipment.site, shipment.country) == (
        "urn:uuid:ship-b",
        "L2402B",
        "Lyon warehouse",
        "FR",
    )
    assert (shipment.quantity, shipment.uom, shipment.destination_type) == (3, "EA", "location")


def test_a_lot_in_one_batch_follows_its_units_through_the_case_they_were_packed_in(db, demo, chain):
    impact = _impact(db, demo, GLASS_CLASS)
    assert impact.trace.lot.supplier == "Vidros SA" and impact.trace.lot.lot_number == "G-77"
    assert [(b.batch.lot, b.units) for b in impact.batches] == [("L2401A", 4)]
    (shipment,) = impact.shipments
    assert (shipment.event_id, shipment.site, shipment.quantity) == (
        "urn:uuid:ship-case",
        "Madrid warehouse",
        4,  # the case's units, not the case
    )
    assert CASE not in {s.destination for s in impact.shipments}


def test_scanned_units_count_once_each_by_country_most_first_unknown_included(db, demo, chain):
    with db.sessions.begin() as session:
        for serial, country in (
            (chain.units_a[0], None),
            (chain.units_a[1], None),
            (chain.units_a[1], None),  # the same unit again
            (chain.units_a[2], "PT"),
            (chain.units_b[0], "FR"),  # not made with glass
        ):
            scan(session, chain.brand_id, serial, country)
    impact = _impact(db, demo, GLASS_CLASS)
    assert list(impact.scanned_by_country.items()) == [(None, 2), ("PT", 1)]
    assert [(b.units, b.scanned_units) for b in impact.batches] == [(4, 3)]
    rows = list(csv.DictReader(io.StringIO(recall.impact_csv(impact))))
    countries = [(r["country"], r["scanned_units"]) for r in rows if r["section"] == "scans"]
    assert countries == [("unknown", "2"), ("PT", "1")]
    shown = _pdf_text(impact)
    assert "1 batches, 4 units, 3 scanned" in shown and "unknown 2" in shown
    (batch_row,) = [r for r in rows if r["section"] == "batch"]
    facts = ("batch_lot", "gtin", "product", "batch_status", "units", "scanned_units")
    assert " ".join(batch_row[name] for name in facts) in " ".join(shown.split())


def test_units_issued_later_count_in_the_report(db, demo, chain):
    issuance.issue(db.sessions, chain.batch_b, 2, PASSPHRASE, workers=1)
    impact = _impact(db, demo, epc.lot_class(GTIN, "L2402B"))
    assert impact.total_units == 5
