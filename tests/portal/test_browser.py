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

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from tests.conftest import JOURNEY, PASSPHRASE, furnish
from tracemark.codes import issuance
from tracemark.codes.printing import batch_urls

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db", ["sqlite"], indirect=True)]

CHROMIUM = Path(os.environ.get("TRACEMARK_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts" / "browser"
HOST = "127.0.0.1"
PHONE = {"width": 390, "height": 844}
LAUNCH_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PDF = b"%PDF-1.4\n% test report\n%%EOF\n"

#: locale → (browser locale, hence Accept-Language; expected <html lang>; expected dir)
LOCALES = {
    "zh_Hans": ("zh-CN", "zh-Hans", "ltr"),
    "ar": ("ar", "ar", "rtl"),
    "en": ("en-US", "en", "ltr"),
}

#: Elements whose box sticks out of the viewport on either side (RTL overflow to the
#: start side is not scrollable, so scrollWidth alone would not see it).
_OUTSIDE_VIEWPORT = """() => {
  const width = window.innerWidth;
  return [...document.body.querySelectorAll('*')].flatMap((el) => {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) return [];
    if (box.left >= -1 && box.right <= width + 1) return [];
    const name = el.tagName.toLowerCase() + (el.className ? '.' + el.className : '');
    return [`${name} [${Math.round(box.left)}, ${Math.round(box.right)}]`];
  });
}"""


def _unavailable(message: str) -> None:
    if os.environ.get("TRACEMARK_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{message} (TRACEMARK_REQUIRE_BROWSER=1)", pytrace=False)
    pytest.skip(message)


def watched_page(context) -> tuple[Any, list[str], list[str]]:
    """A new page of ``context``, with the lists that record every request it makes and
    every console error and uncaught exception: what each browser test asserts on."""
    requests: list[str] = []
    errors: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    page.on("console", lambda message: _console_error(message, errors))
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    return page, requests, errors


def _console_error(message, errors: list[str]) -> None:
    """Keep console errors, CSP violations among them."""
    if message.type != "error":
        return
    source = message.location.get("url", "")
    errors.append(f"{message.text} ({source or 'page'})")


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[test]')")
    if not CHROMIUM.is_file() or not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def server(app) -> Iterator[str]:
    """The app behind werkzeug's threaded WSGI server on a free local port."""
    httpd = make_server(HOST, 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, name="portal-server", daemon=True)
    thread.start()
    yield f"http://{HOST}:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


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
        assert page.evaluate(_OUTSIDE_VIEWPORT) == []
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"verdict-{locale}.png", full_page=True)

        # the switcher: /lang/fr?next=… sets the cookie and comes back to this code's page
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
