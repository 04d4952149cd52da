"""The audit log as CSV or JSON Lines, one line at a time (for streamed downloads).

CSV goes through the shared writer (``tracemark.csv_export``), so an action or a detail
typed by someone cannot run as a formula in the owner's spreadsheet, whichever list
separator it splits on. JSON Lines is data for programs and is written as it is.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator

from sqlalchemy.orm import Session

from tracemark import audit, csv_export
from tracemark.models import AuditLog
from tracemark.models.base import as_utc

FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}
COLUMNS = (
    "id",
    "at",
    "user_id",
    "user_email",
    "actor",
    "action",
    "object_type",
    "object_id",
    "details",
)


def begin(
    session: Session,
    brand_id: int,
    fmt: str,
    first: dt.date | None,
    last: dt.date | None,
    *,
    actor: audit.Actor,
) -> int:
    """Audit an export of the brand's log (``audit.export``, format and dates) before it
    is read; returns the entry's id, below which the export reads (a fixed snapshot)."""
    details = {
        "format": fmt,
        "from": first.isoformat() if first else None,
        "to": last.isoformat() if last else None,
    }
    entry = audit.log(session, actor, "audit.export", "brand", brand_id, details,
                      brand_id=brand_id)  # fmt: skip
    return entry.id


def record(entry: AuditLog, email: str | None) -> dict:
    return {
        "id": entry.id,
        "at": as_utc(entry.at).isoformat(),
        "user_id": entry.user_id,
        "user_email": email,
        "actor": entry.actor,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "details": entry.details or {},
    }


def csv_lines(rows: Iterable[tuple[AuditLog, str | None]]) -> Iterator[str]:
    """A header line, then one line per entry (details as a JSON cell)."""

    def cells() -> Iterator[list]:
        for entry, email in rows:
            values = record(entry, email)
            values["details"] = json.dumps(values["details"], ensure_ascii=False, sort_keys=True)
            yield [values[name] for name in COLUMNS]

    return csv_export.lines(COLUMNS, cells())


def jsonl_lines(rows: Iterable[tuple[AuditLog, str | None]]) -> Iterator[str]:
    for entry, email in rows:
        yield json.dumps(record(entry, email), ensure_ascii=False, sort_keys=True) + "\n"


def lines(fmt: str, rows: Iterable[tuple[AuditLog, str | None]]) -> Iterator[str]:
    """:raises KeyError: for a format not in :data:`FORMATS`."""
    return {"csv": csv_lines, "jsonl": jsonl_lines}[fmt](rows)
