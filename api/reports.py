"""Reading for reports: scan statistics (from the rollups, never raw scan events) and
traces (backward from a unit, forward from a lot with its recall impact)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from flask import jsonify, request

from api.access import bad_parameter, bp, budget_key, not_found, requires, token
from tracemark import catalog, errors
from tracemark.models.base import as_utc
from tracemark.reporting import analytics
from tracemark.trace import genealogy, recall
from tracemark.web import db_session, rate_limited

#: Days a statistics request covers when it names no range.
DEFAULT_DAYS = 30
MAX_PARAMETER_LENGTH = 300


@bp.get("/brands/<slug>/stats/scans")
@rate_limited("api", key=budget_key)
@requires("read")
def scan_stats(slug: str):
    """Verifications per verdict, first and repeat scans: in total, by UTC day and by
    country, for a range of days (inclusive) and optionally one product (GTIN)."""
    session, brand = db_session(), token().brand
    today = dt.datetime.now(dt.UTC).date()
    end = _day("to", today)
    # the default range stops at the calendar's first day rather than overflow
    start = _day("from", end - dt.timedelta(days=min(DEFAULT_DAYS - 1, (end - dt.date.min).days)))
    product_id = None
    if (gtin := request.args.get("product")) is not None:
        try:
            product_id = catalog.find_product(session, brand, gtin).id
        except (ValueError, errors.NotFound):
            raise bad_parameter("product", "product is a GTIN of the brand") from None
    try:
        filters = analytics.Filters(start, end, product_id)
    except ValueError as exc:
        raise bad_parameter("from", str(exc)) from None
    return jsonify(
        {
            "from": start.isoformat(),
            "to": end.isoformat(),
            "product": gtin,
            "totals": _counts(analytics.totals(session, brand.id, filters)),
            "by_day": [
                {"day": day.isoformat(), **_counts(counts)}
                for day, counts in analytics.over_time(session, brand.id, filters)
            ],
            "by_country": [
                {"country": country or None, **_counts(counts)}
                for country, counts in analytics.breakdown(session, brand.id, filters, "country")
            ],
        }
    )


@bp.get("/brands/<slug>/trace/units/<serial>")
@rate_limited("api", key=budget_key)
@requires("read")
def trace_unit(slug: str, serial: str):
    """Backward trace of one unit: its batch, input lots at every depth, suppliers,
    operators, equipment, QC results and sensor excursions."""
    if len(serial) > MAX_PARAMETER_LENGTH:
        raise not_found()
    try:
        found = genealogy.backward_from_unit(db_session(), token().brand, serial)
    except genealogy.TraceNotFound:
        raise not_found() from None
    return jsonify(plain(found))


@bp.get("/brands/<slug>/trace/lots")
@rate_limited("api", key=budget_key)
@requires("read")
def trace_lot(slug: str):
    """Forward trace of a lot (a material lot's or a batch's class, any spelling) and the
    impact of recalling it: batches, their units and scans, shipments."""
    epc_class = request.args.get("class")
    if not epc_class or len(epc_class) > MAX_PARAMETER_LENGTH:
        raise bad_parameter(
            "class", f"class is a lot's EPC class or URI of 1 to {MAX_PARAMETER_LENGTH} characters"
        )
    impact = recall.recall_impact(db_session(), token().brand, epc_class)
    return jsonify(
        {
            "trace": plain(impact.trace),
            "batches": [plain(batch) for batch in impact.batches],
            "shipments": [plain(shipment) for shipment in impact.shipments],
            "total_units": impact.total_units,
            "scanned_by_country": [
                {"country": country, "units": units}
                for country, units in sorted(
                    impact.scanned_by_country.items(), key=lambda item: item[0] or ""
                )
            ],
        }
    )


def _day(name: str, default: dt.date) -> dt.date:
    value = request.args.get(name)
    if value is None:
        return default
    try:
        if len(value) != 10:
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        raise bad_parameter(name, f"{name} is a day (YYYY-MM-DD)") from None


def _counts(counts: analytics.Counts) -> dict[str, int]:
    return {name: getattr(counts, name) for name in analytics.COUNT_NAMES}


def plain(value: Any) -> Any:
    """Dataclasses, dates and times as JSON values (times in UTC with their offset)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dt.datetime):
        return as_utc(value).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    return value
