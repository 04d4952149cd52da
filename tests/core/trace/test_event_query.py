"""Querying a brand's EPCIS events: each filter, their combination, and keyset pages."""

from __future__ import annotations

import base64
import datetime as dt

import pytest

from tests.conftest import make_brand
from tests.core.trace.trace_chain import OIL_LINK, OIL_URN, build_chain
from tracemark.trace.event_query import MAX_LIMIT, Cursor, EventQuery, query_events

#: The chain's events in event-time order.
ALL = [
    "urn:uuid:recv-oil",
    "urn:uuid:t1",
    "urn:uuid:t2",
    "urn:uuid:qc-a",
    "urn:uuid:pack-a",
    "urn:uuid:ship-case",
    "urn:uuid:ship-b",
]
CEST = dt.timezone(dt.timedelta(hours=2))


@pytest.fixture
def chain(db, demo):
    return build_chain(db.sessions, demo)


def _ids(db, demo, query: EventQuery, **kwargs) -> list[str]:
    with db.sessions() as session:
        events, cursor = query_events(session, session.merge(demo.brand), query, **kwargs)
    assert cursor is None  # one page holds them all
    return [event.event_id for event in events]


def test_without_filters_every_event_comes_in_event_time_order(db, demo, chain):
    assert _ids(db, demo, EventQuery()) == ALL


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (EventQuery(event_type="TransformationEvent"), ["urn:uuid:t1", "urn:uuid:t2"]),
        (EventQuery(event_type="AggregationEvent"), ["urn:uuid:pack-a"]),
        (EventQuery(biz_step="shipping"), ["urn:uuid:ship-case", "urn:uuid:ship-b"]),
        (
            EventQuery(biz_step="urn:epcglobal:cbv:bizstep:shipping"),
            ["urn:uuid:ship-case", "urn:uuid:ship-b"],
        ),
        (EventQuery(biz_step="https://ref.gs1.org/cbv/BizStep-receiving"), ["urn:uuid:recv-oil"]),
        (EventQuery(disposition="non_conformant"), ["urn:uuid:qc-a"]),
        (EventQuery(event_type="ObjectEvent", biz_step="inspecting"), ["urn:uuid:qc-a"]),
        (EventQuery(event_type="ObjectEvent", biz_step="commissioning"), []),
        (EventQuery(biz_step="destroying"), []),
    ],
    ids=lambda value: getattr(value, "event_type", None) or str(value)[:40],
)
def test_each_filter_keeps_only_the_events_it_names(db, demo, chain, query, expected):
    assert _ids(db, demo, query) == expected


def _any_class(identifier: str) -> EventQuery:
    return EventQuery(matches=(("any_class", (identifier,)),))


def test_an_identifier_matches_in_any_role_and_any_spelling(db, demo, chain):
    oil = ["urn:uuid:recv-oil", "urn:uuid:t1", "urn:uuid:t2"]
    assert _ids(db, demo, _any_class(OIL_URN)) == oil
    assert _ids(db, demo, _any_class(OIL_LINK)) == oil  # a Digital Link on another host
    unit = f"urn:epc:id:sgtin:9506000.013435.{chain.units_a[0]}"
    assert _ids(db, demo, EventQuery(matches=(("any", (unit,)),))) == ["urn:uuid:pack-a"]
    only_objects = EventQuery(matches=(("any_class", (OIL_URN,)),), event_type="ObjectEvent")
    assert _ids(db, demo, only_objects) == oil[:1]


def test_the_time_range_includes_its_start_and_excludes_its_end(db, demo, chain):
    since = dt.datetime(2026, 10, 1, 10, 0, tzinfo=CEST)  # t1's time
    until = dt.datetime(2026, 10, 4, 9, 0, tzinfo=CEST)  # ship-case's time
    assert _ids(db, demo, EventQuery(since=since, until=until)) == ALL[1:5]
    # the same instants in UTC
    utc = EventQuery(since=since.astimezone(dt.UTC), until=until.astimezone(dt.UTC))
    assert _ids(db, demo, utc) == ALL[1:5]
    assert _ids(db, demo, EventQuery(since=until, until=since)) == []


def test_pages_follow_one_another_without_gaps_or_repeats(db, demo, chain):
    seen, after, pages = [], None, 0
    with db.sessions() as session:
        brand = session.merge(demo.brand)
        while True:
            events, after = query_events(session, brand, EventQuery(), limit=3, after=after)
            seen += [event.event_id for event in events]
            pages += 1
            if after is None:
                break
            after = Cursor.decode(after.encode())  # as a client sends it back
    assert seen == ALL and pages == 3


def _receive(db, demo, event_id: str, when: str) -> None:
    """Capture, on its own, a receiving of a pallet at ``when``."""
    from tests.core.trace.trace_chain import document, event
    from tracemark.trace import capture

    with db.sessions.begin() as session:
        received = event(
            "ObjectEvent", event_id, when, action="OBSERVE",
            bizStep="receiving", epcList=["urn:epc:id:sscc:0614141.1234567890"],
        )  # fmt: skip
        capture.capture_document(session, session.merge(demo.brand), document([received]))


def test_an_event_captured_later_with_a_later_time_is_on_a_later_page(db, demo, chain):
    with db.sessions() as session:
        brand = session.merge(demo.brand)
        first, after = query_events(session, brand, EventQuery(), limit=6)
    _receive(db, demo, "urn:uuid:late", "2026-10-05T09:00:00+02:00")
    with db.sessions() as session:
        rest, end = query_events(session, session.merge(demo.brand), EventQuery(), after=after)
    assert [e.event_id for e in first + rest] == [*ALL, "urn:uuid:late"] and end is None


def test_another_brands_events_are_never_given(db, demo, chain):
    other = make_brand(db.sessions)
    with db.sessions() as session:
        events, cursor = query_events(session, session.merge(other.brand), EventQuery())
        assert events == [] and cursor is None
        named = query_events(session, session.merge(other.brand), _any_class(OIL_URN))
        assert named == ([], None)


@pytest.mark.parametrize("limit", [0, -1, MAX_LIMIT + 1])
def test_a_limit_outside_the_bounds_is_refused(db, demo, limit):
    with db.sessions() as session, pytest.raises(ValueError, match="limit"):
        query_events(session, session.merge(demo.brand), EventQuery(), limit=limit)


def test_a_cursor_survives_its_round_trip():
    cursor = Cursor(dt.datetime(2026, 10, 1, 8, 0, 0, 123456, tzinfo=dt.UTC), 42)
    assert Cursor.decode(cursor.encode()) == cursor
    assert "=" not in cursor.encode()


@pytest.mark.parametrize(
    "value",
    [
        "",
        "not base64!",
        "bm90IGEgY3Vyc29y",  # "not a cursor"
        base64.urlsafe_b64encode(b"2026-10-01T00:00:00|1").decode(),  # no time zone
        Cursor(dt.datetime(2026, 10, 1, tzinfo=dt.UTC), 0).encode(),
        Cursor(dt.datetime(2026, 10, 1, tzinfo=dt.UTC), 2**63).encode(),
    ],
)
def test_what_this_module_did_not_make_is_not_a_cursor(value):
    with pytest.raises(ValueError, match="not a cursor"):
        Cursor.decode(value)


@pytest.mark.parametrize(
    ("quantities", "expected"),
    [
        ((("EQ", 3.0),), ["urn:uuid:t2", "urn:uuid:ship-b"]),
        ((("GT", 500.0),), ["urn:uuid:recv-oil"]),
        ((("GE", 500.0),), ["urn:uuid:recv-oil", "urn:uuid:t1"]),
        ((("LT", 4.0),), ["urn:uuid:t2", "urn:uuid:ship-b"]),
        ((("LE", 4.0),), ["urn:uuid:t1", "urn:uuid:t2", "urn:uuid:ship-b"]),
        ((("GE", 300.0), ("LE", 500.0)), ["urn:uuid:t1", "urn:uuid:t2"]),
        ((("EQ", 7.0),), []),
    ],
)
def test_quantity_filters_hold_on_a_quantity_element(db, demo, chain, quantities, expected):
    assert _ids(db, demo, EventQuery(quantities=quantities)) == expected


def test_pages_newest_first_follow_one_another(db, demo, chain):
    seen, after = [], None
    with db.sessions() as session:
        brand = session.merge(demo.brand)
        while True:
            events, after = query_events(
                session, brand, EventQuery(), limit=3, after=after, descending=True
            )
            seen += [event.event_id for event in events]
            if after is None:
                break
            after = Cursor.decode(after.encode())
    assert seen == ALL[::-1]


def test_by_record_time_a_late_capture_of_an_early_event_comes_last(db, demo, chain):
    _receive(db, demo, "urn:uuid:early", "2026-08-01T09:00:00+02:00")
    assert _ids(db, demo, EventQuery())[0] == "urn:uuid:early"
    assert _ids(db, demo, EventQuery(), order_by="recordTime")[-1] == "urn:uuid:early"
    newest = _ids(db, demo, EventQuery(), order_by="recordTime", descending=True)
    assert newest[0] == "urn:uuid:early"
    with db.sessions() as session:  # pages by record time
        brand = session.merge(demo.brand)
        first, after = query_events(session, brand, EventQuery(), limit=7, order_by="recordTime")
        rest, end = query_events(session, brand, EventQuery(), after=after, order_by="recordTime")
    assert [e.event_id for e in first + rest][-1] == "urn:uuid:early" and end is None
