"""The reports board: where shoppers say they bought products whose label failed the
check, for the brand the codes claim (owners, staff and marketing)."""

from __future__ import annotations

from flask import Response, abort, request
from flask_babel import gettext
from flask_login import login_required

from admin.access import member_in_roles
from admin.analytics import ANALYSTS, board_page, csv_response, parse_filters
from admin.views import bp
from tracemark.models import ForgeryReport
from tracemark.models.base import as_utc, utcnow
from tracemark.reporting import forgery

CSV_HEADER = ["filed_at", "verdict", "gtin", "lot", "serial", "kid", "country", "city",
              "shop", "online_url", "contact", "locale", "photo"]  # fmt: skip


def _reader(slug: str):
    message = gettext("Forgery reports are for the brand's owners, staff and marketing.")
    return member_in_roles(slug, ANALYSTS, message)


def _reports(member, form):
    if form.filters is None:
        return None
    found = forgery.reports_of(
        member.session, member.brand.id, form.filters.start, form.filters.end
    )
    return {"reports": found, "places": forgery.by_place(found)}


@bp.get("/brands/<slug>/reports")
@login_required
def forgery_board(slug: str):
    member = _reader(slug)
    form = parse_filters(request.args, {}, utcnow().date())
    return board_page("admin/reports/board.html", member, form, _reports(member, form))


@bp.get("/brands/<slug>/reports.csv")
@login_required
def forgery_csv(slug: str):
    member = _reader(slug)
    form = parse_filters(request.args, {}, utcnow().date())
    board = _reports(member, form)
    if board is None:
        abort(400)
    rows = [
        [as_utc(r.created_at).isoformat(), r.verdict, r.gtin, r.lot, r.serial, r.kid,
         r.country, r.city, r.shop, r.online_url, r.contact, r.locale, bool(r.photo_type)]
        for r in board["reports"]
    ]  # fmt: skip
    return csv_response(member.brand.slug, "reports", form, CSV_HEADER, rows)


@bp.get("/brands/<slug>/reports/<bigid:report_id>/photo")
@login_required
def forgery_photo(slug: str, report_id: int):
    """A report's photo (stored re-encoded, without metadata), never cached."""
    member = _reader(slug)
    found = member.session.get(ForgeryReport, report_id)
    if found is None or found.brand_id != member.brand.id or found.photo is None:
        abort(404)
    response = Response(found.photo, mimetype=found.photo_type)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
