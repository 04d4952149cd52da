"""Audit log export for owners: CSV and JSON Lines, date range, scope, formula neutralising."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from sqlalchemy import update

from tests.helpers.admin import audit_actions, login
from tracemark import audit
from tracemark.models import AuditLog
from tracemark.reporting import audit_export


def path(people, **query) -> str:
    params = "&".join(f"{key}={value}" for key, value in query.items())
    return f"/admin/brands/{people.brand.slug}/audit/export" + (f"?{params}" if params else "")


@pytest.fixture
def entries(people, db) -> dict[str, int]:
    """Entries of the brand on three days (and one of the other brand), by marker."""
    ids = {}
    with db.sessions.begin() as session:
        for marker, day, brand in (
            ("OLD", dt.datetime(2026, 1, 10, 23, 59, tzinfo=dt.UTC), people.brand),
            ("MID", dt.datetime(2026, 2, 1, 0, 0, tzinfo=dt.UTC), people.brand),
            ("NEW", dt.datetime(2026, 3, 5, 12, 0, tzinfo=dt.UTC), people.brand),
            ("THEIRS", dt.datetime(2026, 2, 1, 12, 0, tzinfo=dt.UTC), people.other),
        ):
            entry = audit.record(
                session,
                "product.create",
                brand_id=brand.id,
                object_type="product",
                object_id=1,
                details={"marker": marker},
            )
            session.execute(update(AuditLog).where(AuditLog.id == entry.id).values(at=day))
            ids[marker] = entry.id
    return ids


def markers(rows) -> list[str]:
    return [json.loads(row["details"])["marker"] for row in rows if "marker" in row["details"]]


def test_owners_download_the_brands_log_as_csv(client, people, entries, db):
    login(client, people.owner)
    response = client.get(path(people))
    assert response.status_code == 200 and response.is_streamed
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and f"audit-{people.brand.slug}-" in disposition
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert list(rows[0]) == list(audit_export.COLUMNS)
    assert markers(rows) == ["OLD", "MID", "NEW"]  # oldest first, only this brand's
    assert {row["at"] for row in rows if "OLD" in row["details"]} == {"2026-01-10T23:59:00+00:00"}
    (exported,) = [e for e in audit_actions(db, "audit.export") if e.brand_id == people.brand.id]
    assert exported.details == {"format": "csv", "from": None, "to": None}
    assert exported.user_id is not None
    assert str(exported.id) not in {row["id"] for row in rows}  # a snapshot before it


def test_the_date_range_is_inclusive_and_json_lines_are_one_entry_a_line(client, people, entries):
    login(client, people.owner)
    response = client.get(
        path(people, format="jsonl", **{"from": "2026-01-11", "to": "2026-03-05"})
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/x-ndjson"
    lines = response.get_data(as_text=True).splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["details"]["marker"] for r in records] == ["MID", "NEW"]
    assert records[0]["id"] == entries["MID"] and records[0]["action"] == "product.create"
    only_january = client.get(path(people, format="jsonl", to="2026-01-10"))
    assert [
        json.loads(x)["details"]["marker"] for x in only_january.get_data(as_text=True).splitlines()
    ] == ["OLD"]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"from": "2026-13-01"}, "invalid_date"),
        ({"to": "yesterday"}, "invalid_date"),
        ({"from": "1999-12-31"}, "invalid_date"),
        ({"from": "2026-02-01T00:00"}, "invalid_date"),
        ({"from": "2026-03-01", "to": "2026-02-01"}, "invalid_range"),
        ({"format": "xlsx"}, "invalid_format"),
    ],
)
def test_bad_ranges_and_formats_are_refused_with_a_message(client, people, query, code):
    login(client, people.owner)
    response = client.get(path(people, **query), headers={"Accept": "application/json"})
    assert response.status_code == 400 and response.get_json()["error"] == code
    page = client.get(path(people, **query), headers={"Accept-Language": "fr"})
    assert page.status_code == 400 and 'lang="fr"' in page.get_data(as_text=True)


def test_only_owners_export_and_other_brands_do_not_exist(app, people, entries):
    staff = app.test_client()
    login(staff, people.staff)
    assert staff.get(path(people)).status_code == 403
    stranger = app.test_client()
    login(stranger, people.stranger)
    assert stranger.get(path(people)).status_code == 404


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(client, people, db):
    hostile = ['=HYPERLINK("http://evil")', "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx", "X;=1+1"]
    with db.sessions.begin() as session:
        for value in hostile:
            audit.record(
                session,
                "batch.hold",
                brand_id=people.brand.id,
                object_type="batch",
                object_id=value,
                details={"marker": "X"},
            )
    login(client, people.owner)
    rows = list(csv.DictReader(io.StringIO(client.get(path(people)).get_data(as_text=True))))
    cells = [row["object_id"] for row in rows if row["action"] == "batch.hold"]
    assert cells == ["'" + value for value in hostile[:-1]] + ["X;'=1+1"]


def test_the_audit_page_offers_the_download(client, people):
    login(client, people.owner)
    html = client.get(f"/admin/brands/{people.brand.slug}/audit").get_data(as_text=True)
    assert f'action="/admin/brands/{people.brand.slug}/audit/export"' in html
