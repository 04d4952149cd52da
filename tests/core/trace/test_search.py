"""The trace search box: what each way of naming a unit, batch or material lot finds."""

from __future__ import annotations

import pytest

from tests.conftest import make_brand
from tests.core.trace.trace_chain import GLASS_CLASS, OIL_GTIN, OIL_URN, build_chain
from tracemark.epcis.identifiers import CANONICAL_HOST
from tracemark.trace import search
from tracemark.trace.search import BadQuery, Match

GTIN = "09506000134352"  # the demo product


@pytest.fixture
def chain(db, demo):
    return build_chain(db.sessions, demo)


def _find(db, demo, query: str) -> list[Match]:
    with db.sessions() as session:
        return search.find(session, session.merge(demo.brand), query)


@pytest.mark.parametrize(
    ("query", "why"),
    [("", "empty"), ("   ", "empty"), ("x" * 301, "too long"), ("L24\n01A", "control character"),
     ("L2401A\x7f", "control character")],
)  # fmt: skip
def test_a_query_that_cannot_be_looked_up_is_refused(query, why):
    with pytest.raises(BadQuery, match=why):
        search.clean(query)


def test_a_query_is_trimmed_and_may_hold_the_group_separator():
    assert search.clean("  L2401A \t") == "L2401A"
    assert search.clean("0109506000134352\x1d21AB") == "0109506000134352\x1d21AB"
    assert search.clean("x" * 300) == "x" * 300


@pytest.mark.parametrize(
    ("query", "path"),
    [
        (f"(01){GTIN}(10)L2401A(21)ABC", f"/01/{GTIN}/10/L2401A/21/ABC"),
        (f"(01){GTIN}(10)L2401A", f"/01/{GTIN}/10/L2401A"),
        (f"(01){GTIN}(17)281001(21)ABC", f"/01/{GTIN}/21/ABC"),
        (f"01{GTIN}10L2401A\x1d21ABC", f"/01/{GTIN}/10/L2401A/21/ABC"),
        (f"01{GTIN}1728100110L2401A", f"/01/{GTIN}/10/L2401A"),
    ],
)
def test_an_element_string_becomes_a_digital_link(query, path):
    assert search.element_string(query) == CANONICAL_HOST + path


@pytest.mark.parametrize(
    "query",
    ["L2401A", f"(01){GTIN}", f"(01){GTIN}(17)281001",
     f"01{GTIN}99XYZ", f"01{GTIN}", "(10)L2401A"],
)  # fmt: skip
def test_what_is_not_a_labels_element_string_is_none(query):
    assert search.element_string(query) is None


def test_a_lot_number_finds_the_batch_of_each_product_that_uses_it(db, demo, chain):
    (match,) = _find(db, demo, "L2401A")
    assert match == Match("batch", chain.batch_a, "L2401A", f"Olive oil 1 l · {GTIN}")
    (other,) = _find(db, demo, "  L2402B ")
    assert (other.kind, other.id) == ("batch", chain.batch_b)


def test_a_serial_finds_its_unit_in_either_case(db, demo, chain):
    serial = chain.units_a[0]
    expected = Match(
        "unit", chain.batch_a, serial, f"Olive oil 1 l · {GTIN} · L2401A", serial=serial
    )
    assert _find(db, demo, serial) == [expected]
    assert _find(db, demo, serial.lower()) == [expected]


def test_a_label_url_and_an_element_string_find_the_unit(db, demo, chain):
    serial = chain.units_b[1]
    url = f"HTTPS://TM.EXAMPLE.COM/01/{GTIN}/10/L2402B/21/{serial}"
    for query in (url, f"(01){GTIN}(10)L2402B(21){serial}", f"01{GTIN}21{serial}"):
        (match,) = _find(db, demo, query)
        assert (match.kind, match.id, match.serial) == ("unit", chain.batch_b, serial), query


def test_a_batch_class_finds_the_batch(db, demo, chain):
    for query in (
        "urn:epc:class:lgtin:9506000.013435.L2401A",
        f"https://id.gs1.org/01/{GTIN}/10/L2401A",
        f"(01){GTIN}(10)L2401A",
    ):
        assert [(m.kind, m.id) for m in _find(db, demo, query)] == [("batch", chain.batch_a)]


def test_material_lots_are_found_by_number_and_by_class_in_any_spelling(db, demo, chain):
    (by_number,) = _find(db, demo, "OIL-9")
    assert by_number == Match("lot", chain.oil_lot, "OIL-9", "Olive oil, bulk · Olivar Coop")
    for query in (OIL_URN, f"https://oil.example/01/{OIL_GTIN}/10/OIL-9"):
        assert _find(db, demo, query) == [by_number], query
    (glass,) = _find(db, demo, GLASS_CLASS)
    assert (glass.kind, glass.id, glass.detail) == (
        "lot",
        chain.glass_lot,
        "Bottle 1 l · Vidros SA",
    )
    assert [m.id for m in _find(db, demo, "G-77")] == [chain.glass_lot]


def test_a_text_that_is_both_a_lot_number_and_a_suppliers_lot_finds_both(db, demo, chain):
    from tracemark.models import Supplier
    from tracemark.trace import supply

    with db.sessions.begin() as session:
        coop = session.query(Supplier).filter_by(brand_id=chain.brand_id, name="Olivar Coop").one()
        lot = supply.receive_lot(session, coop, "Olive oil, bulk", "L2401A", gtin=OIL_GTIN)
        lot_id = lot.id
    assert [(m.kind, m.id) for m in _find(db, demo, "L2401A")] == [
        ("batch", chain.batch_a),
        ("lot", lot_id),
    ]


def test_nothing_of_another_brand_and_nothing_unknown_is_found(db, demo, chain):
    other = make_brand(db.sessions)
    with db.sessions() as session:
        brand = session.merge(other.brand)
        for query in ("L2402B", "OIL-9", OIL_URN, chain.units_a[0], GLASS_CLASS):
            assert search.find(session, brand, query) == [], query
    for query in ("NO-SUCH-LOT", "urn:epc:class:lgtin:9506000.013435.NOPE", "https://x.example/y"):
        assert _find(db, demo, query) == [], query
