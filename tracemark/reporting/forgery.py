"""Forgery reports: a shopper whose label failed the check says where it was bought,
and the brand the code claims sees it on its reports board.

Reports are filed for the brand the code names
(:func:`tracemark.scanning.attribution.claimed_brand`), the same attribution as forged
scans get, so both count on the boards of the brand whose name is abused.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from signing.codes import MalformedCode, UnitCode, parse
from tracemark import audit
from tracemark.content.images import reencode
from tracemark.content.stories import ContentError
from tracemark.models import ForgeryReport
from tracemark.scanning.attribution import claimed_brand

#: Verdicts after which the portal offers the report form.
REPORTABLE = ("not_genuine", "suspicious_copy", "revoked_key")
LIMITS = {"shop": 200, "city": 100, "online_url": 500, "contact": 200}


class ReportError(ValueError):
    """A report refused; ``code`` names the field and the problem (stable)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def claimed_code(uri: str) -> UnitCode | None:
    """The identity a scanned address claims, or None when it is not a code at all."""
    try:
        return parse(uri)
    except MalformedCode:
        return None


def _clean(value: str | None, name: str) -> str:
    text = " ".join((value or "").split())
    if len(text) > LIMITS[name] or not text.isprintable():
        raise ReportError(f"bad_{name}")
    return text


def file_report(
    session: Session,
    uri: str,
    verdict: str,
    *,
    shop: str = "",
    city: str = "",
    online_url: str = "",
    contact: str = "",
    photo: bytes | None = None,
    country: str | None = None,
    locale: str | None = None,
) -> ForgeryReport:
    """Store a shopper's report about the code at ``uri`` for the brand it claims, and
    audit it (without the shopper's contact or photo).

    :raises ReportError: ``no_place`` (neither shop, city nor online link), ``bad_<field>``
        (too long, control characters, a link that is not http(s)), ``bad_photo``
        (not a PNG, JPEG or WebP picture, or too large), ``bad_verdict``.
    """
    if verdict not in REPORTABLE:
        raise ReportError("bad_verdict")
    values = {
        "shop": _clean(shop, "shop"),
        "city": _clean(city, "city"),
        "online_url": _clean(online_url, "online_url"),
        "contact": _clean(contact, "contact"),
    }
    link = values["online_url"]
    if link and (urlsplit(link).scheme not in ("http", "https") or not urlsplit(link).netloc):
        raise ReportError("bad_online_url")
    if not (values["shop"] or values["city"] or link):
        raise ReportError("no_place")
    encoded = None
    if photo:
        try:
            encoded = reencode(photo)
        except ContentError as error:
            raise ReportError("bad_photo") from error
    code = claimed_code(uri)
    report = ForgeryReport(
        brand_id=claimed_brand(session, code.gtin, code.kid) if code else None,
        verdict=verdict,
        gtin=code.gtin if code else None,
        lot=code.lot if code else None,
        serial=code.serial[:40] if code else None,
        kid=code.kid if code else None,
        code=uri[:2000],
        country=country,
        locale=locale,
        photo=encoded.data if encoded else None,
        photo_type=encoded.content_type if encoded else None,
        photo_width=encoded.width if encoded else None,
        photo_height=encoded.height if encoded else None,
        **values,
    )
    session.add(report)
    session.flush()
    audit.record(
        session,
        "forgery.report",
        brand_id=report.brand_id,
        object_type="forgery_report",
        object_id=report.id,
        details={"verdict": verdict, "gtin": report.gtin, "kid": report.kid,
                 "country": country, "photo": encoded is not None},
    )  # fmt: skip
    return report


@dataclass(frozen=True)
class Place:
    country: str
    city: str
    week: dt.date
    reports: int
    shops: tuple[str, ...]
    #: The hosts of the online shops named, for reports that gave a link.
    online: tuple[str, ...] = ()


def reports_of(
    session: Session, brand_id: int, start: dt.date, end: dt.date
) -> list[ForgeryReport]:
    """The brand's reports filed from ``start`` to ``end`` (UTC days), newest first."""
    since = dt.datetime.combine(start, dt.time(), dt.UTC)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), dt.UTC)
    query = (
        select(ForgeryReport)
        .where(
            ForgeryReport.brand_id == brand_id,
            ForgeryReport.created_at >= since,
            ForgeryReport.created_at < until,
        )
        .order_by(ForgeryReport.created_at.desc(), ForgeryReport.id.desc())
    )
    return list(session.scalars(query))


def by_place(reports: list[ForgeryReport]) -> list[Place]:
    """Reports per country, city (case folded) and ISO week, most reported first: where
    copies are sold, and when."""
    groups: dict[tuple[str, str, dt.date], list[ForgeryReport]] = {}
    for report in reports:
        day = report.created_at.date()
        week = day - dt.timedelta(days=day.weekday())
        key = (report.country or "", report.city.casefold(), week)
        groups.setdefault(key, []).append(report)
    places = []
    for (country, _city, week), found in groups.items():
        shops = tuple(shop for shop, _ in Counter(r.shop for r in found if r.shop).most_common())
        hosts = Counter(urlsplit(r.online_url).hostname for r in found if r.online_url)
        online = tuple(host for host, _ in hosts.most_common() if host)
        places.append(Place(country, found[0].city, week, len(found), shops, online))
    return sorted(places, key=lambda p: (-p.reports, -p.week.toordinal(), p.country, p.city))
