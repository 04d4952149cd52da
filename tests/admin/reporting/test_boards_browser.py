"""The quality and supply-chain boards in a real headless Chromium, on a laptop and on a
phone.

The hand-built chain of ``tests.core.reporting.board_chain`` gets forty generated batches more (on
four lines, inspected through October with failures and re-tests, shipped, received
and stored with temperature readings), a staff user signs in through the form, and each
board must draw every chart (an SVG with bars or lines, tick labels and axis titles),
fit the phone's screen, break no Content-Security-Policy rule and ask no other host for
anything. Full-page screenshots go to ``test-artifacts/browser/``. Skipped without
Chromium unless ``TRACEMARK_REQUIRE_BROWSER=1`` (see the portal's test).
"""

from __future__ import annotations

import random
import secrets
from urllib.parse import urlsplit

import pytest

from tests.core.reporting.board_chain import (
    ROLLUP_NOW,
    WAREHOUSE,
    World,
    at,
    build,
    event,
    late_fail,
    qc,
)
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
from tracemark import catalog
from tracemark.accounts import users as accounts
from tracemark.models import Brand, Role
from tracemark.reporting import board_rollup

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db", ["sqlite"], indirect=True)]

RANGE = "start=2026-09-01&end=2026-10-31&period=week"
BOARDS = {
    "quality": ("yield_time", "yield_line", "suppliers", "defects"),
    "supply-chain": ("transit", "stock", "excursions_site", "excursions_time"),
}
DEFECTS = ("leak", "seal", "label", "dent")
TO_HUB = [{"type": "location", "destination": WAREHOUSE}]


def _generate(db, world: World, seed: int = 41) -> None:
    """Forty batches on lines L1 to L4 with their inspections, moves and readings."""
    rng = random.Random(seed)
    with db.sessions.begin() as session:
        brand = session.get(Brand, world.brand_id)
        product = catalog.get_product(session, brand, world.product_id)
        for n in range(10, 50):
            name = f"G{n}"
            world.batches[name] = catalog.create_batch(
                session, product, name, line=f"L{n % 4 + 1}"
            ).id
        session.flush()
        for n in range(10, 50):
            name, q = f"G{n}", "epc_quantity"
            day = 1 + n % 28
            failed = rng.random() < 0.3
            result = "fail" if failed else "pass"
            event(session, world, "inspecting", at(10, day), objects=((q, name),),
                  data=qc(("seal", result, rng.choice(DEFECTS) if failed else None)))  # fmt: skip
            if failed:
                event(session, world, "inspecting", at(10, day, 15), objects=((q, name),),
                      data=qc(("seal", "pass", None)))  # fmt: skip
            event(session, world, "commissioning", at(10, day), objects=((q, name),),
                  site="Plant")  # fmt: skip
            event(session, world, "shipping", at(10, day, 12), objects=((q, name),),
                  site="Plant", destinations=TO_HUB)  # fmt: skip
            if n % 5:
                event(session, world, "receiving", at(10, min(28, day + 2)),
                      objects=((q, name),), site="Warehouse")  # fmt: skip
            value = round(rng.uniform(8.5, 11) if n % 6 == 0 else rng.uniform(3, 7), 1)
            event(session, world, "storing", at(10, min(28, day + 2), 18), batch=name,
                  site="Warehouse" if n % 3 else "Plant",
                  readings=({"type": "gs1:Temperature", "value": value, "min_value": 2,
                             "max_value": 8, "uom": "CEL"},))  # fmt: skip


@pytest.fixture
def staff(db) -> tuple[str, str]:
    """A brand with the chain and generated batches, rolled up; a staff user's email."""
    world = build(db.sessions)
    _generate(db, world)
    late_fail(db.sessions, world)
    board_rollup.roll_up(db.sessions, now=ROLLUP_NOW)
    email = f"staff-{secrets.token_hex(4)}@example.com"
    with db.sessions.begin() as session:
        user = accounts.create_user(session, email, PASSWORD, "Sam Taff")
        accounts.grant(session, user, session.get(Brand, world.brand_id), Role.STAFF)
    return email, world.slug


@pytest.mark.parametrize(
    ("device", "locale"), [("laptop", "en-US"), ("phone", "en-US"), ("phone", "de")]
)
def test_the_boards_draw_every_chart(browser, server, staff, device, locale):
    email, slug = staff
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
        for board, board_charts in BOARDS.items():
            response = page.goto(f"{server}/admin/brands/{slug}/{board}?{RANGE}")
            assert response is not None and response.status == 200
            for chart in board_charts:
                svg = page.locator(f'svg[data-chart="{chart}"]')
                assert svg.count() == 1, chart
                drawn = svg.evaluate(DRAWN)
                assert drawn["shapes"] > 0, chart
                assert len(drawn["ticks"]) >= 2, chart
                assert drawn["titles"] and all(drawn["titles"]), chart
                width, height = drawn["box"]
                assert width > 200 and height > 40, (chart, drawn["box"])  # one bar: ~58 px
                if chart in ("yield_line", "stock", "defects"):
                    assert drawn["nonEmptyBars"] > 0, chart
            if board == "quality" and locale == "en-US":
                yield_line = page.locator('svg[data-chart="yield_line"]').evaluate(DRAWN)
                assert set(yield_line["values"]) == {"L1", "L2", "L3", "L4"}
                assert page.locator('[data-kpi="inspected"] dd').inner_text().strip() == "44"
            if locale == "de":
                assert page.locator("html").get_attribute("lang") == "de"
                assert (
                    page.locator("h1")
                    .inner_text()
                    .startswith("Qualität" if board == "quality" else "Lieferkette")
                )
            # a chart's data table opens without script
            first = "yield_line" if board == "quality" else "stock"
            page.locator(f'[data-section="{first}"] summary').click()
            assert page.locator(f'table[data-table="{first}"] tbody tr').count() > 0
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            name = f"{board}-{device}-{locale.split('-')[0]}.png"
            page.screenshot(path=ARTIFACTS / name, full_page=True)
            if phone:
                scroll_width, inner_width = page.evaluate(
                    "[document.documentElement.scrollWidth, window.innerWidth]"
                )
                assert scroll_width <= inner_width
                outside = page.evaluate(OUTSIDE_VIEWPORT)
                assert outside == [], (board, outside)
    finally:
        context.close()

    elsewhere = [u for u in requests if urlsplit(u).hostname != HOST]
    assert elsewhere == [], f"requests to other hosts: {elsewhere}"
    assert errors == [], f"console errors: {errors}"
