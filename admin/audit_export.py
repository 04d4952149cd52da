"""Downloading a brand's audit log (CSV or JSON Lines) for its owners.

The file is streamed from the database in chunks, never built in memory; the export is
itself audited first, and covers only entries older than that record (a fixed snapshot).
"""

from __future__ import annotations

import datetime as dt

from flask import Response, current_app, request
from flask_babel import gettext
from flask_login import login_required

from admin.access import member_of
from admin.views import bp
from tracemark import audit
from tracemark.models import Role
from tracemark.reporting import audit_export
from tracemark.web import error_response

#: Dates are accepted from this year on (nothing older can be in the log).
FIRST_YEAR = 2000


def _date(name: str) -> dt.date | None:
    """The query parameter ``name`` as a date, None when absent.

    :raises ValueError: with a message for people.
    """
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        day = None
    if day is None or day.year < FIRST_YEAR:
        raise ValueError(gettext("Give dates as YYYY-MM-DD, such as 2026-01-31."))
    return day


@bp.get("/brands/<slug>/audit/export")
@login_required
def audit_export_file(slug: str):
    member = member_of(slug)
    if member.role is not Role.OWNER:
        return error_response(
            403, "forbidden", gettext("Only the brand's owners can see its audit log.")
        )
    fmt = request.args.get("format", "csv")
    if fmt not in audit_export.FORMATS:
        return error_response(400, "invalid_format", gettext("Choose CSV or JSON Lines."))
    try:
        first, last = _date("from"), _date("to")
    except ValueError as exc:
        return error_response(400, "invalid_date", str(exc))
    if first and last and last < first:
        return error_response(
            400, "invalid_range", gettext("The end date cannot be before the start date.")
        )
    since = dt.datetime.combine(first, dt.time(), dt.UTC) if first else None
    until = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), dt.UTC) if last else None
    below_id = audit_export.begin(
        member.session, member.brand.id, fmt, first, last, actor=member.actor
    )
    member.session.commit()
    sessions = current_app.extensions["tracemark.sessions"]
    brand_id = member.brand.id

    def stream():
        # a session of its own, closed when the download ends or is cut off: the
        # request's session is closed before the body is sent
        with sessions() as session:
            rows = audit.export_rows(session, brand_id, since, until, below_id=below_id)
            yield from audit_export.lines(fmt, rows)

    response = Response(stream(), content_type=audit_export.FORMATS[fmt])
    name = f"audit-{member.brand.slug}-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}.{fmt}"
    response.headers.set("Content-Disposition", "attachment", filename=name)
    response.headers["Cache-Control"] = "no-store"
    return response
