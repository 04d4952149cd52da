"""The verdict page in a real headless Chromium, served by a real WSGI server.

What only a browser can tell: the page lays out on a phone without sideways scrolling,
right-to-left works, the language switcher's redirect and cookie round trip, the page asks
no other host for anything and breaks no Content-Security-Policy rule.

Needs ``/usr/bin/chromium`` (Debian's ``chromium`` package) and the ``playwright`` package;
browsers are never downloaded by Playwright. Without them the test is skipped, unless
``TRACEMARK_REQUIRE_BROWSER=1`` (as ``.ci/run`` sets), which makes that a failure.
Full-page screenshots go to ``test-artifacts/browser/``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.conftest import JOURNEY, PASSPHRASE, furnish
from tests.helpers.browser import ARTIFACTS, HOST, LOCALES, OUTSIDE_VIEWPORT, PHONE, watched_page
from tracemark.codes import issuance
from tracemark.codes.printing import batch_urls

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db", ["sqlite"], indirect=True)]

PDF = b"%PDF-1.4\n% test report\n%%EOF\n"


@pytest.fixture
def code_path(db, demo) -> str:
    """A fresh code of a batch with everything the page can show: PIN claim, origin,
    story, a test report (with its long hash) and a journey."""
    issuance.issue(db.sessions, demo.batch.id, 2, PASSPHRASE, with_pin=True)
    with db.sessions.begin() as session:
        batch = session.merge(demo.batch)
        story = "Picked in October from trees on the hills above the mill.\n\nPressed cold."
        furnish(
            session,
            batch,
            stories={"en": ("Harvest 2026", story)},
            report=("Pesticide residue screen", "Laboratorio Agroalimentario SA"),
            journey=JOURNEY[:2],
        )
        url = next(url for _serial, url, _pin in batch_urls(session, batch, "http://x"))
    return url[url.index("/01/") :]


@pytest.mark.parametrize("locale", list(LOCALES))
def test_verdict_page_in_a_phone_browser(browser, server, code_path, locale):
    browser_locale, lang, direction = LOCALES[locale]
    context = browser.new_context(
        locale=browser_locale, viewport=PHONE, device_scale_factor=1, is_mobile=True
    )
    context.set_default_timeout(5_000)
    page, requests, errors = watched_page(context)
    try:
        url = server + code_path

        response = page.goto(url)
        assert response is not None and response.status == 200
        html = page.locator("html")
        assert html.get_attribute("lang") == lang
        assert html.get_attribute("dir") == direction
        verdict = page.locator("[data-verdict]")
        assert verdict.get_attribute("data-verdict") == "genuine_first_scan"
        headline = verdict.locator("h1")
        assert headline.is_visible() and headline.inner_text().strip()

        page.goto(url)  # a reload by the same phone is a view, never another scan
        assert verdict.get_attribute("data-verdict") == "genuine_first_scan"
        device = next(c for c in context.cookies() if c["name"] == "tm_device")
        assert device["httpOnly"] and device["sameSite"] == "Lax"
        other = browser.new_context(locale=browser_locale, user_agent="another phone")
        other.new_page().goto(url)  # someone else's scan
        other.close()
        page.goto(url)
        assert verdict.get_attribute("data-verdict") == "genuine_scanned_before"
        assert headline.is_visible() and headline.inner_text().strip()
        assert html.get_attribute("lang") == lang and html.get_attribute("dir") == direction

        # laid out for the phone: nothing to scroll sideways, nothing outside the screen
        scroll_width, inner_width = page.evaluate(
            "[document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert scroll_width <= inner_width
        assert page.evaluate(OUTSIDE_VIEWPORT) == []
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"verdict-{locale}.png", full_page=True)

        # the switcher: /lang/fr?next=… sets the cookie and comes back to this code's page
        switcher = page.locator("details.lang-switch")
        assert not page.locator('nav.langs a[lang="fr"]').is_visible()  # folded away
        switcher.locator("summary").click()
        with page.expect_navigation():
            page.locator('nav.langs a[lang="fr"]').click()
        assert urlsplit(page.url).path == urlsplit(url).path
        assert html.get_attribute("lang") == "fr" and html.get_attribute("dir") == "ltr"
        assert verdict.get_attribute("data-verdict") == "genuine_scanned_before"
        assert any(c["name"] == "tm_lang" and c["value"] == "fr" for c in context.cookies())
    finally:
        context.close()

    elsewhere = [u for u in requests if urlsplit(u).hostname != HOST]
    assert elsewhere == [], f"requests to other hosts: {elsewhere}"
    assert errors == [], f"console errors: {errors}"
