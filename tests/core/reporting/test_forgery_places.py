"""The reports board's table: forgery reports by place and week, within the range read."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from tests.conftest import PASSPHRASE, forge
from tracemark.codes import issuance
from tracemark.codes.printing import batch_urls
from tracemark.models import ForgeryReport
from tracemark.reporting import forgery


def test_reports_are_grouped_by_place_and_week_within_the_range(db, demo):
    issuance.issue(db.sessions, demo.batch.id, 1, PASSPHRASE)
    with db.sessions() as session:
        url = next(batch_urls(session, session.merge(demo.batch), "http://x"))[1]
    code = "http://x" + forge(url[url.index("/01/") :])
    filed = [  # (day, city, shop, online link)
        (dt.date(2026, 10, 5), "Lyon", "Kiosk 5", ""),  # a Monday
        (dt.date(2026, 10, 8), "LYON", "Bazar", ""),  # the same week, the city as typed
        (dt.date(2026, 10, 8), "Lyon", "Kiosk 5", ""),
        (dt.date(2026, 10, 12), "Lyon", "", "https://cheap.example/oil"),  # the next week
        (dt.date(2026, 10, 9), "Porto", "Loja", ""),
        (dt.date(2026, 9, 30), "Lyon", "Old", ""),  # before the range
    ]
    with db.sessions.begin() as session:
        for day, city, shop, link in filed:
            report = forgery.file_report(
                session, code, "not_genuine", shop=shop, city=city, online_url=link,
                country="FR" if city.casefold() == "lyon" else "PT",
            )  # fmt: skip
            when = dt.datetime.combine(day, dt.time(12), dt.UTC)
            session.execute(
                update(ForgeryReport).where(ForgeryReport.id == report.id).values(created_at=when)
            )
    with db.sessions() as session:
        found = forgery.reports_of(
            session, demo.brand.id, dt.date(2026, 10, 1), dt.date(2026, 10, 31)
        )
        assert len(found) == 5 and "Old" not in {r.shop for r in found}
        places = forgery.by_place(found)
    rows = [(p.country, p.city.casefold(), p.week, p.reports, p.shops, p.online) for p in places]
    assert rows == [
        ("FR", "lyon", dt.date(2026, 10, 5), 3, ("Kiosk 5", "Bazar"), ()),
        ("FR", "lyon", dt.date(2026, 10, 12), 1, (), ("cheap.example",)),
        ("PT", "porto", dt.date(2026, 10, 5), 1, ("Loja",), ()),
    ]
