import csv
import io
import itertools

import pypdfium2 as pdfium
import pytest

from tests.conftest import make_brand
from tests.core.trace.trace_chain import (
    CASE,
    FR_WAREHOUSE,
    OIL_GTIN,
    OIL_URN,
    build_chain,
    document,
    event,
    scan,
)
from tracemark import catalog
from tracemark.epcis import identifiers as epc
from tracemark.trace import capture, genealogy, recall, supply

A_CLASS = epc.lot_class("09506000134352", "L2401A")


@pytest.fixture
def chain(db, demo):
    return build_chain(db.sessions, demo)


def test_backward_trace_from_a_unit_finds_lots_suppliers_people_qc_and_excursions(db, demo, chain):
    with db.sessions.begin() as session:
        brand = session.merge(demo.brand)
        found = genealogy.backward_from_unit(
            session, brand, chain.units_a[0], limits={"gs1:RelativeHumidity": (20, 70)}
        )
    assert found.batch.lot == "L2401A" and found.unit_serial == chain.units_a[0]
    assert {lot.lot_number for lot in found.lots} == {"OIL-9", "G-77"}
    assert found.suppliers == ["Olivar Coop", "Vidros SA"]
    assert (found.operators, found.equipment, found.lines) == (["Ana"], ["Filler 3"], ["Line 2"])
    oil_edge = next(e for e in found.edges if e.input_epc == chain.oil_class)
    assert (oil_edge.input_quantity, oil_edge.input_uom) == (500, "LTR")
    [qc] = found.qc_results
    assert qc.disposition == "non_conformant" and qc.tests[0]["result"] == "fail"
    reasons = sorted((x.type, x.reason) for x in found.excursions)
    assert reasons == [
        ("gs1:RelativeHumidity", "out_of_range"),
        ("gs1:Temperature", "ALARM_CONDITION"),
    ]
    assert found.unknown_inputs == [] and not found.truncated


def test_backward_trace_of_the_other_batch_holds_only_its_own_inputs(db, demo, chain):
    with db.sessions.begin() as session:
        found = genealogy.backward_from_batch(session, session.merge(demo.brand), chain.batch_b)
    assert [lot.lot_number for lot in found.lots] == ["OIL-9"]
    assert found.operators == ["Luis"] and found.qc_results == []
    # the oil lot's alarm is part of every batch made from it
    assert [x.reason for x in found.excursions] == ["ALARM_CONDITION"]


def test_forward_trace_and_recall_report_of_a_supplier_lot(db, demo, chain):
    with db.sessions.begin() as session:
        brand = session.merge(demo.brand)
        for serial, country in (
            (chain.units_a[0], "ES"),
            (chain.units_a[0], "ES"),  # the same unit twice counts once
            (chain.units_a[1], "DE"),
            (chain.units_b[0], "FR"),
        ):
            scan(session, chain.brand_id, serial, country)
        # the oil lot, named by its URN: every batch made from it
        impact = recall.recall_impact(session, brand, OIL_URN)
        glass = genealogy.forward_from_lot(session, brand, chain.glass_lot)
    assert impact.trace.lot.supplier == "Olivar Coop"
    assert [(b.batch.lot, b.units, b.scanned_units) for b in impact.batches] == [
        ("L2401A", 4, 2),
        ("L2402B", 3, 1),
    ]
    assert impact.total_units == 7
    assert impact.scanned_by_country == {"DE": 1, "ES": 1, "FR": 1}
    shipped = [(s.lot, s.site, s.country, s.quantity) for s in impact.shipments]
    assert shipped == [
        ("L2401A", "Madrid warehouse", "ES", 4),
        ("L2402B", "Lyon warehouse", "FR", 3),
    ]
    assert [b.lot for b in glass.batches] == ["L2401A"]  # glass went into one batch only

    rows = list(csv.DictReader(io.StringIO(recall.impact_csv(impact))))
    sections = ["batch", "batch", "shipment", "shipment", "scans", "scans", "scans"]
    assert [r["section"] for r in rows] == sections
    assert rows[0]["units"] == "4" and rows[3]["country"] == "FR"

    pdf = io.BytesIO()
    assert recall.impact_pdf(impact, pdf) == 1
    page = pdfium.PdfDocument(pdf.getvalue())[0]
    shown = page.get_textpage().get_text_range()
    for expected in ("Olivar Coop", "L2402B", "Lyon warehouse", "7 units, 3 scanned"):
        assert expected in shown


def test_recall_follows_cases_onto_pallets_and_survives_a_cycle_of_containers(db, demo, chain):
    pallet = "urn:epc:id:sscc:0614141.2222222222"
    later = [
        event("AggregationEvent", "urn:uuid:palletise", "2026-10-03T12:00:00+02:00",
              action="ADD", bizStep="packing", parentID=pallet, childEPCs=[CASE]),
        event("ObjectEvent", "urn:uuid:ship-pallet", "2026-10-05T09:00:00+02:00",
              action="OBSERVE", bizStep="shipping", epcList=[pallet],
              destinationList=[{"type": "location", "destination": FR_WAREHOUSE}]),
        # nonsense that must not hang the report: the pallet packed into its own case
        event("AggregationEvent", "urn:uuid:loop", "2026-10-06T09:00:00+02:00",
              action="ADD", bizStep="packing", parentID=CASE, childEPCs=[pallet]),
    ]  # fmt: skip
    with db.sessions.begin() as session:
        brand = session.merge(demo.brand)
        capture.capture_document(session, brand, document(later))
        impact = recall.recall_impact(session, brand, OIL_URN)
    shipped = [(s.event_id, s.lot, s.site, s.quantity) for s in impact.shipments]
    assert shipped == [
        ("urn:uuid:ship-case", "L2401A", "Madrid warehouse", 4),
        ("urn:uuid:ship-b", "L2402B", "Lyon warehouse", 3),
        ("urn:uuid:ship-pallet", "L2401A", "Lyon warehouse", 4),  # the case, on the pallet
    ]


def test_recall_csv_cells_cannot_run_as_spreadsheet_formulas(db, demo, chain):
    with db.sessions.begin() as session:
        product = session.merge(demo.product)
        product.name = '=HYPERLINK("http://evil.example","x")'
        session.flush()
        impact = recall.recall_impact(session, session.merge(demo.brand), OIL_URN)
    rows = list(csv.DictReader(io.StringIO(recall.impact_csv(impact))))
    assert rows[0]["product"] == "'" + product.name


def test_recall_csv_is_safe_for_semicolon_spreadsheets(db, demo, chain):
    """A lot ``X;=1+1`` is valid GS1; split on ``;`` (de, fr, es, pt) it must not run."""
    with db.sessions.begin() as session:
        product = session.merge(demo.product)
        product.name = "Oil;=1+1"
        session.flush()
        impact = recall.recall_impact(session, session.merge(demo.brand), OIL_URN)
    document = recall.impact_csv(impact)
    assert "Oil;'=1+1" in document
    assert not any(
        piece.lstrip('" ').startswith("=")
        for line in document.splitlines()
        for piece in line.split(";")
    )


def _transform(event_id, when, inputs, outputs):
    return event(
        "TransformationEvent",
        event_id,
        when,
        inputQuantityList=[{"epcClass": c} for c in inputs],
        outputQuantityList=[{"epcClass": c} for c in outputs],
    )


def test_a_cycle_in_the_genealogy_does_not_hang_a_trace(db, demo):
    """Lot X → batch → lot Y → lot X (a rework loop or a bad document)."""
    x, y = "https://lots.example/X", "https://lots.example/Y"
    with db.sessions.begin() as session:
        brand = session.merge(demo.brand)
        supplier = supply.create_supplier(session, brand, "Loop Inc")
        for lot in ("X", "Y"):
            supply.receive_lot(
                session, supplier, "Syrup", lot, epc_class=f"https://lots.example/{lot}"
            )
        capture.capture_document(
            session,
            brand,
            document(
                [
                    _transform("urn:uuid:c1", "2026-10-01T00:00:00Z", [x], [A_CLASS]),
                    _transform("urn:uuid:c2", "2026-10-02T00:00:00Z", [A_CLASS], [y]),
                    _transform("urn:uuid:c3", "2026-10-03T00:00:00Z", [y], [x]),
                ]
            ),
        )
        backward = genealogy.backward_from_batch(session, brand, demo.batch.id)
        forward = genealogy.forward_from_class(session, brand, x)
    assert {lot.lot_number for lot in backward.lots} == {"X", "Y"}
    assert len(backward.edges) == 3 and len(forward.edges) == 3
    assert [b.lot for b in forward.batches] == ["L2401A"]


def test_a_genealogy_larger_than_the_bound_is_cut_and_says_so(db, demo, monkeypatch):
    monkeypatch.setattr(genealogy, "MAX_NODES", 3)
    chain = [f"https://lots.example/step{i}" for i in range(6)]
    events = [
        _transform(f"urn:uuid:s{i}", "2026-10-01T00:00:00Z", [a], [b])
        for i, (a, b) in enumerate(itertools.pairwise(chain))
    ]
    with db.sessions.begin() as session:
        brand = session.merge(demo.brand)
        capture.capture_document(session, brand, document(events))
        forward = genealogy.forward_from_class(session, brand, chain[0])
    assert forward.truncated and len(forward.edges) <= 3


def test_another_brands_lot_and_batches_never_appear_in_a_trace(db, demo, chain):
    """Brand B buys the same supplier lot (same class) and makes its own batch from it."""
    other = make_brand(db.sessions, lot="L2401A")  # even the same GTIN and lot
    with db.sessions.begin() as session:
        brand_b = session.merge(other.brand)
        supplier = supply.create_supplier(session, brand_b, "Olivar Coop")
        supply.receive_lot(session, supplier, "Olive oil, bulk", "OIL-9", gtin=OIL_GTIN)
        other_batch = catalog.create_batch(session, session.merge(other.product), "B-ONLY")
        b_class = epc.lot_class("09506000134352", "B-ONLY")
        capture.capture_document(
            session,
            brand_b,
            document([_transform("urn:uuid:t1", "2026-10-01T00:00:00Z", [OIL_URN], [b_class])]),
        )
        brand_a = session.merge(demo.brand)
        impact = recall.recall_impact(session, brand_a, OIL_URN)
        backward = genealogy.backward_from_batch(session, brand_a, chain.batch_a)
        theirs = recall.recall_impact(session, brand_b, OIL_URN)
        with pytest.raises(genealogy.TraceNotFound):
            genealogy.backward_from_batch(session, brand_a, other_batch.id)
        with pytest.raises(genealogy.TraceNotFound):
            genealogy.backward_from_unit(session, brand_b, chain.units_a[0])
    assert sorted(b.batch.lot for b in impact.batches) == ["L2401A", "L2402B"]
    assert all(b.batch.id != other_batch.id for b in impact.batches)
    assert [b.batch.lot for b in theirs.batches] == ["B-ONLY"] and theirs.shipments == []
    assert {lot.id for lot in backward.lots} == {chain.oil_lot, chain.glass_lot}
    assert [e.event_id for e in backward.qc_results] == ["urn:uuid:qc-a"]
