"""The regulator view in a real headless Chromium: a phone's width, left to right and right
to left, no other host asked, no CSP violation; the statement downloaded there verifies
against the key set the same server publishes."""

from __future__ import annotations

import urllib.request

import pytest

from signing import KeyRing
from signing.statements import StatementStatus, verify_statement
from tests.helpers.admin import PASSWORD
from tests.helpers.browser import ARTIFACTS, HOST, OUTSIDE_VIEWPORT, PHONE, watched_page
from tests.helpers.content import furnished, statement_settings
from tracemark.config import Settings

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db", ["sqlite"], indirect=True)]


@pytest.fixture
def settings(db) -> Settings:
    """The web app holds the statement passphrase and not the code-key passphrase."""
    return statement_settings(db)


@pytest.mark.parametrize(("locale", "direction"), [("en-US", "ltr"), ("ar", "rtl")])
def test_a_regulator_finds_a_batch_and_downloads_a_statement_on_a_phone(
    browser,
    server,
    shop,
    db,
    locale,
    direction,
    tmp_path,
):
    furnished(db, shop)
    context = browser.new_context(locale=locale, viewport=PHONE, is_mobile=True)
    context.set_default_timeout(5_000)
    page, requests, errors = watched_page(context)
    try:
        page.goto(f"{server}/admin/login")
        page.fill("input[name=email]", shop.emails["regulator"])
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("form:not(.admin-signout) button[type=submit]")
        page.goto(f"{server}/admin/provenance")
        page.fill("input[name=q]", "L2401A")
        with page.expect_navigation():
            page.click("form[role=search] button")
        assert page.locator("html").get_attribute("dir") == direction
        rows = page.locator("[data-results] tr[data-batch]")
        assert rows.count() == 1 and rows.get_attribute("data-batch") == str(shop.batch_id)
        for name in ("search", "product"):
            if name == "product":
                with page.expect_navigation():
                    rows.locator("a").click()
            scroll_width, inner_width = page.evaluate(
                "[document.documentElement.scrollWidth, window.innerWidth]"
            )
            assert scroll_width <= inner_width and page.evaluate(OUTSIDE_VIEWPORT) == []
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=ARTIFACTS / f"regulator-{name}-{locale}.png", full_page=True)
        with page.expect_download() as download:
            page.click("a.admin-download")
        statement = tmp_path / "statement.json"
        download.value.save_as(statement)
    finally:
        context.close()
    with urllib.request.urlopen(f"{server}/.well-known/tracemark/keys.json") as answer:
        ring = KeyRing.loads(answer.read())
    check = verify_statement(statement.read_bytes(), ring)
    assert check.status is StatementStatus.VALID
    assert check.statement["batch"]["status"] == "recalled"
    assert not [url for url in requests if not url.startswith(f"http://{HOST}:")]
    assert errors == [], errors
