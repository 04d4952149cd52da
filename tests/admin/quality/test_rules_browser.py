"""The rules pages in a real headless Chromium: an owner makes "QC failed → hold the
batch and notify purchasing" through the form on a phone, a failed inspection is
captured, and the firing, the held batch and the waiting e-mail show on the activity
page; no page asks another host for anything, breaks the Content-Security-Policy or
scrolls sideways. Guarded like the other browser tests."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.conftest import make_brand
from tests.helpers.admin import PASSWORD
from tests.helpers.browser import ARTIFACTS, HOST, PHONE, watched_page
from tests.helpers.quality import QC_FAILED, inspection
from tracemark.accounts import users as accounts
from tracemark.models import Batch, BatchStatus, Brand, Role
from tracemark.trace import capture

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db", ["sqlite"], indirect=True)]


def test_an_owner_makes_a_rule_on_a_phone_and_sees_it_fire(browser, server, db):
    demo = make_brand(db.sessions)
    email = f"owner-{demo.brand.slug}@example.com"
    with db.sessions.begin() as session:
        user = accounts.create_user(session, email, PASSWORD, "Owner")
        accounts.grant(session, user, session.merge(demo.brand), Role.OWNER)
    context = browser.new_context(locale="en-US", viewport=PHONE, is_mobile=True)
    context.set_default_timeout(10_000)
    page, requests, errors = watched_page(context)
    rules_url = f"{server}/admin/brands/{demo.brand.slug}/rules"
    try:
        page.goto(f"{server}/admin/login")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("button[type=submit]")
        page.goto(rules_url)
        form = page.locator(f'form[action="{urlsplit(rules_url).path}"]')
        form.locator("input[name=name]").fill("QC failed → hold the batch and notify purchasing")
        form.locator("select[name=operator]").select_option("failed")
        form.locator("input[name=hold_batch]").check()
        form.locator("input[name=notify]").check()
        form.locator("textarea[name=notify_emails]").fill("purchasing@example.com")
        with page.expect_navigation():
            form.locator("button[type=submit]").click()
        row = page.locator("[data-rule]")
        assert row.get_attribute("data-enabled") == "1"
        assert "Hold the batch, Send an e-mail" in row.inner_text()

        with db.sessions.begin() as session:
            brand = session.get_one(Brand, demo.brand.id)
            capture.capture_event(session, brand, inspection("urn:uuid:qc-b", QC_FAILED))
            assert session.get_one(Batch, demo.batch.id).status is BatchStatus.ON_HOLD

        page.goto(f"{rules_url}/activity")
        assert "urn:uuid:qc-b" in page.locator("[data-firing]").inner_text()
        message = page.locator("[data-message]")
        assert message.get_attribute("data-status") == "pending"
        assert "purchasing@example.com" in message.inner_text()
        scroll_width, inner_width = page.evaluate(
            "[document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert scroll_width <= inner_width  # on a phone: tables scroll, the page does not
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=ARTIFACTS / "admin-rule-activity.png", full_page=True)
        page.goto(rules_url)
        scroll_width, inner_width = page.evaluate(
            "[document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert scroll_width <= inner_width
        page.screenshot(path=ARTIFACTS / "admin-rules.png", full_page=True)
    finally:
        context.close()
    elsewhere = [u for u in requests if urlsplit(u).hostname != HOST]
    assert elsewhere == [], f"requests to other hosts: {elsewhere}"
    assert errors == [], f"console errors: {errors}"
