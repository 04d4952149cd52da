"""The quality board's reading of inspections: what counts as one, whether it passed, its
defects and line, and the lines a brand names."""

from __future__ import annotations

import pytest

from tests.conftest import make_brand
from tracemark import catalog
from tracemark.reporting import quality
from tracemark.reporting.quality import MAX_DEFECT, MAX_LINE, Outcome, Yield


@pytest.mark.parametrize(
    ("biz_step", "data", "inspection"),
    [
        ("inspecting", None, True),
        ("inspecting", {}, True),
        ("shipping", {"tm:qc": []}, True),
        ("shipping", {"tm:line": "L1"}, False),
        (None, None, False),
        ("commissioning", ["tm:qc"], False),  # not an object: no fields at all
    ],
)
def test_an_inspection_is_its_business_step_or_a_quality_result(biz_step, data, inspection):
    assert quality.is_inspection(biz_step, data) is inspection


@pytest.mark.parametrize(
    ("data", "disposition", "outcome"),
    [
        ({"tm:qc": [{"test": "peroxide", "result": "pass"}]}, None, Outcome(True, ())),
        ({"tm:qc": [{"test": "peroxide", "result": "fail"}]}, None, Outcome(False, ("peroxide",))),
        (
            {"tm:qc": [{"test": "seal", "result": "fail", "defect": "leak"},
                       {"test": "label", "result": "fail"}, {"result": "fail"}]},
            "conformant",
            Outcome(False, ("leak", "label", "")),
        ),
        ({"tm:qc": ["fail", 3, None, {"test": "x"}]}, None, Outcome(True, ())),
        ({"tm:qc": "fail"}, None, Outcome(True, ())),
        (None, "non_conformant", Outcome(False, ())),
        ({}, "NonConformant", Outcome(False, ())),
        ("not an object", None, Outcome(True, ())),
    ],
)  # fmt: skip
def test_an_inspection_fails_on_a_failed_test_or_a_non_conformant_disposition(
    data, disposition, outcome
):
    assert quality.inspection_outcome(data, disposition) == outcome


def test_defect_names_are_cleaned_and_cut():
    data = {"tm:qc": [{"result": "fail", "defect": "cr\x00ack" + "x" * 100}]}
    (defect,) = quality.inspection_outcome(data, None).defects
    assert defect.startswith("crack") and len(defect) == MAX_DEFECT


@pytest.mark.parametrize(
    ("data", "line"),
    [
        ({"tm:line": " Line 2 "}, "Line 2"),
        ({"tm:line": "Li\x00ne 3"}, "Line 3"),
        ({"tm:line": 4}, "4"),
        ({"tm:line": "L" * 150}, "L" * MAX_LINE),
        ({"tm:line": ""}, ""),
        ({}, ""),
        (None, ""),
        (["tm:line"], ""),
    ],
)
def test_the_line_is_what_the_event_names_cleaned(data, line):
    assert quality.line_of(data) == line


def test_yields_add_up_and_have_a_rate_only_when_something_was_inspected():
    assert Yield(4, 3) + Yield(6, 3) == Yield(10, 6)
    assert (Yield(4, 3) + Yield(6, 3)).rate == 0.6
    assert Yield().rate is None
    assert Yield(2, 0).rate == 0.0


def test_the_lines_of_a_brand_are_its_batches_lines_sorted_once_each(db, demo):
    other = make_brand(db.sessions)
    with db.sessions.begin() as session:
        product = session.merge(demo.product)
        session.merge(demo.batch).line = "Line 2"
        catalog.create_batch(session, product, "L2", line="Line 1")
        catalog.create_batch(session, product, "L3", line="Line 2")
        catalog.create_batch(session, product, "L4")
        session.merge(other.batch).line = "Line 9"
    with db.sessions() as session:
        assert quality.lines(session, demo.brand.id) == ["Line 1", "Line 2"]
        assert quality.lines(session, other.brand.id) == ["Line 9"]
