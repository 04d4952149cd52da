"""What the quality and supply-chain boards share: who may see them, their filters (the
scans board's range, product and periods, plus a line or a site), and tables that are
lists rather than charts.

Owners and staff see both boards: they run the lines, the batches and the stock.
Marketing sees scans, not production; regulators see provenance. Both get 403 with the
reason, and users of other brands 404.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import request
from flask_babel import format_datetime, gettext, ngettext
from werkzeug.datastructures import MultiDict

from admin.access import Member, member_in_roles
from admin.analytics import FilterForm, board_csv, board_page, parse_filters
from tracemark.models import Role
from tracemark.models.base import utcnow
from tracemark.reporting import analytics

OPERATORS = frozenset({Role.OWNER, Role.STAFF})


@dataclass(frozen=True)
class Listing:
    """A table without a chart (held batches, shipments, excursions), with its CSV."""

    id: str
    title: str
    empty: str
    headers: list[str]
    rows: list[list[str]]
    csv_header: list[str]
    csv_rows: list[list]


def operator(slug: str) -> Member:
    """The member, when their role may see the boards (a 403 stops the request else)."""
    message = gettext("The quality and supply-chain boards are for the brand's owners and staff.")
    return member_in_roles(slug, OPERATORS, message)


def parse_board_filters(
    args: MultiDict,
    products: dict[str, str],
    today: dt.date,
    extra: str,
    choices: dict[str, str],
) -> tuple[FilterForm, str | None]:
    """The scans board's filters plus ``extra`` (``line`` or ``site``), one of ``choices``
    or empty; returns the form and the chosen value (None for all)."""
    form = parse_filters(args, products, today)
    value = args.get(extra, "").strip()[:100]
    form.values[extra] = value
    if value and value not in choices:
        if extra == "line":
            form.errors[extra] = gettext("Choose one of the brand's production lines.")
        else:
            form.errors[extra] = gettext("Choose one of the brand's sites.")
        form.filters = None
    return form, value or None


def when(value: dt.datetime | None) -> str:
    return format_datetime(value, "medium") if value else gettext("Unknown")


def days(count: int) -> str:
    return ngettext("%(num)s day", "%(num)s days", count)


def iso(value: dt.datetime | None) -> str:
    return value.isoformat() if value else ""


def operator_board(slug: str, kind):
    """What a board page needs from the request: the operator, the filter form, the board
    of valid filters (None else), the products and the choices of the extra filter.

    ``kind`` is the board's class (``QualityBoard``, ``SupplyBoard``): its ``extra`` names
    the filter it adds (``line`` or ``site``), ``kind.choices(member)`` gives that filter's
    choices (value: name, in the order shown) and ``kind.of(member, filters, value,
    products)`` makes the board."""
    member = operator(slug)
    products = analytics.product_names(member.session, member.brand.id)
    choices = kind.choices(member)
    form, value = parse_board_filters(request.args, products, utcnow().date(), kind.extra, choices)
    board = None
    if form.filters is not None:
        board = kind.of(member, form.filters, value, products)
    return member, form, board, products, choices


def operator_page(slug: str, kind, **context):
    """The page of the board ``kind`` (see :func:`operator_board`) from its ``template``,
    given ``context`` besides the board, its filters and the extra filter's choices."""
    member, form, board, products, choices = operator_board(slug, kind)
    return board_page(
        kind.template, member, form, board, products=products, choices=choices, **context
    )


def operator_csv(slug: str, kind, chart: str):
    """The table ``chart`` of the board ``kind`` as CSV: one of ``kind.tables``, which the
    board's ``item(chart)`` gives."""
    member, form, board, _, _ = operator_board(slug, kind)
    return board_csv(member, form, board, chart, kind.tables, kind.item)
