import datetime as dt
import hashlib

import pytest

from tests.conftest import PDF
from tracemark.content import stories as content
from tracemark.models import PublishState
from tracemark.trace import events as trace


def test_document_is_stored_with_its_hash_and_checked_by_content(db, demo):
    with db.sessions.begin() as session:
        batch = session.merge(demo.batch)
        document = content.attach_document(session, batch, "Report", PDF, filename="r.pdf")
        assert (document.sha256, document.size) == (hashlib.sha256(PDF).hexdigest(), len(PDF))
        assert document.state is PublishState.DRAFT
        for bad in (b"", b"<html>not a pdf</html>", b"%PDF-" + b"x" * content.MAX_DOCUMENT_BYTES):
            with pytest.raises(content.ContentError):
                content.attach_document(session, batch, "Bad", bad, filename="bad.pdf")


def test_events_keep_their_offset_and_refuse_naive_times(db, demo):
    with db.sessions.begin() as session:
        batch = session.merge(demo.batch)
        madrid = dt.timezone(dt.timedelta(hours=2))
        event = trace.record_event(
            session, batch, "shipping", dt.datetime(2026, 10, 2, 9, tzinfo=madrid)
        )
        assert event.event_timezone == "+02:00"
        assert event.event_time == dt.datetime(2026, 10, 2, 7, tzinfo=dt.UTC)
        west = dt.timezone(-dt.timedelta(hours=3, minutes=30))
        event = trace.record_event(
            session, batch, "receiving", dt.datetime(2026, 10, 3, tzinfo=west)
        )
        assert event.event_timezone == "-03:30"
        with pytest.raises(ValueError):
            trace.record_event(session, batch, "shipping", dt.datetime(2026, 10, 2))
