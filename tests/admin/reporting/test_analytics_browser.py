"""The marketing board in a real headless Chromium, on a laptop and on a phone.

Generated scans are rolled up, a marketing user signs in through the form, and the board
must draw every chart (an SVG with bars or lines, tick and axis labels), show the figures
of the data, fit the phone's screen, break no Content-Security-Policy rule and ask no
other host for anything. Full-page screenshots go to ``test-artifacts/browser/``.
Skipped without Chromium unless ``TRACEMARK_REQUIRE_BROWSER=1`` (see the portal's test).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import Counter
from urllib.parse import urlsplit

import pytest

from tests.helpers.admin import PASSWORD
from tests.helpers.browser import (
    ARTIFACTS,
    DRAWN,
    HOST,
    LAPTOP,
    OUTSIDE_VIEWPORT,
    PHONE,
    watched_page,
)
from tests.helpers.rollups import NOW, T0, add_scans, brand_units, claim_at
from tracemark.accounts import users as accounts
from tracemark.models import Brand, Role
from tracemark.reporting import rollups

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db", ["sqlite"], indirect=True)]

RANGE = "start=2026-10-01&end=2026-10-31"
CHARTS = ("time", "claims", "suspicious_rate", "country", "locale", "product", "batch",
          "device", "hotspots")  # fmt: skip


@pytest.fixture
def marketing(db):
    """A brand's rolled-up scans and a marketing user: (email, brand slug, the scans)."""
    units = brand_units(db)
    scans = [s for s in add_scans(db, units, 600, seed=31) if s.unit is not None]
    for i, unit in enumerate(units):
        claim_at(db, unit, T0 + dt.timedelta(days=2 * i, hours=5))
    rollups.roll_up(db.sessions, now=NOW, all_claims=True)  # claims made "in the past"
    email = f"marketing-{secrets.token_hex(4)}@example.com"
    with db.sessions.begin() as session:
        brand = session.get(Brand, units[0].brand_id)
        user = accounts.create_user(session, email, PASSWORD, "Mara Keting")
        accounts.grant(session, user, brand, Role.MARKETING)
        return email, brand.slug, scans


@pytest.mark.parametrize(
    ("device", "locale"), [("laptop", "en-US"), ("phone", "en-US"), ("phone", "ar")]
)
def test_the_board_draws_every_chart(browser, server, marketing, device, locale):
    email, slug, scans = marketing
    phone = device == "phone"
    context = browser.new_context(
        locale=locale, viewport=PHONE if phone else LAPTOP, device_scale_factor=1, is_mobile=phone
    )
    context.set_default_timeout(10_000)
    page, requests, errors = watched_page(context)
    try:
        page.goto(f"{server}/admin/login")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.locator(
                "form.admin-form button[type=submit], form button[type=submit]"
            ).last.click()
        response = page.goto(f"{server}/admin/brands/{slug}/analytics?{RANGE}")
        assert response is not None and response.status == 200

        for chart in CHARTS:
            svg = page.locator(f'svg[data-chart="{chart}"]')
            assert svg.count() == 1, chart
            drawn = svg.evaluate(DRAWN)
            assert drawn["shapes"] > 0, chart
            assert len(drawn["ticks"]) >= 2, chart
            assert all(drawn["titles"]) and drawn["titles"], chart
            width, height = drawn["box"]
            assert width > 200 and height > 60, (chart, drawn["box"])
            if chart in ("country", "device", "hotspots"):
                assert drawn["nonEmptyBars"] > 0, chart
            if chart == "country" and not locale.startswith("ar"):
                by_country = Counter(scan.country for scan in scans)
                assert drawn["values"]["Spain"] == f"{by_country['ES']:,}"
                assert drawn["values"]["Unknown"] == f"{by_country[None]:,}"

        if not locale.startswith("ar"):
            kpi = page.locator('[data-kpi="scans"] dd').inner_text().strip()
            assert kpi == f"{len(scans):,}"
            assert page.locator('[data-kpi="claims"] dd').inner_text().strip() == "6"
        else:
            assert page.locator("html").get_attribute("dir") == "rtl"

        # a chart's data table opens without script
        page.locator('[data-section="country"] summary').click()
        assert page.locator('table[data-table="country"] tbody tr').count() == len(
            {scan.country for scan in scans}
        )
        if phone:
            scroll_width, inner_width = page.evaluate(
                "[document.documentElement.scrollWidth, window.innerWidth]"
            )
            assert scroll_width <= inner_width
            assert page.evaluate(OUTSIDE_VIEWPORT) == []
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = f"analytics-{device}-{locale.split('-')[0]}.png"
        page.screenshot(path=ARTIFACTS / name, full_page=True)
    finally:
        context.close()

    elsewhere = [u for u in requests if urlsplit(u).hostname != HOST]
    assert elsewhere == [], f"requests to other hosts: {elsewhere}"
    assert errors == [], f"console errors: {errors}"
