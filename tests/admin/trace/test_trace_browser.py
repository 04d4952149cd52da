"""The trace pages in a real headless Chromium: a quality manager signs in, searches a
batch lot number, reads its backward trace, follows a material lot to its recall impact
and downloads the CSV; on a laptop and on a phone, without asking another host for
anything or breaking the Content-Security-Policy. Guarded like the portal's browser test
(see ``tests/portal/test_browser.py``)."""

from __future__ import annotations

import csv
import io
import secrets
from urllib.parse import urlsplit

import pytest

from tests.core.trace.trace_chain import build_chain
from tests.helpers.admin import PASSWORD
from tests.helpers.browser import ARTIFACTS, HOST, PHONE, watched_page
from tracemark.accounts import users as accounts
from tracemark.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db", ["sqlite"], indirect=True)]

LAPTOP = {"width": 1280, "height": 800}


@pytest.fixture
def quality(db, demo):
    chain = build_chain(db.sessions, demo)
    email = f"quality-{secrets.token_hex(4)}@example.com"
    with db.sessions.begin() as session:
        user = accounts.create_user(session, email, PASSWORD, "Quality")
        accounts.grant(session, user, session.merge(demo.brand), Role.STAFF)
    return demo.brand.slug, email, chain


@pytest.mark.parametrize("viewport", ["laptop", "phone"])
def test_search_a_batch_read_its_trace_and_download_the_recall_csv(
    browser, server, quality, viewport
):
    slug, email, chain = quality
    size = LAPTOP if viewport == "laptop" else PHONE
    context = browser.new_context(
        locale="en-US", viewport=size, is_mobile=viewport == "phone", accept_downloads=True
    )
    context.set_default_timeout(10_000)
    page, requests, errors = watched_page(context)
    try:
        page.goto(f"{server}/admin/login")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("button[type=submit]")
        with page.expect_navigation():
            page.locator(f'[data-brand="{slug}"] a[data-trace]').click()

        page.fill("#trace-q", "L2401A")
        with page.expect_navigation():
            page.click("form.tm-search button[type=submit]")
        path = urlsplit(page.url).path
        assert path == f"/admin/brands/{slug}/trace/batches/{chain.batch_a}"
        assert page.locator("[data-lots] tbody tr").count() == 2
        assert page.locator("[data-operators]").inner_text() == "Ana"
        assert page.locator("[data-qc] tbody tr").count() == 1
        assert page.locator("[data-excursions] tbody tr").count() == 1
        scroll_width, inner_width = page.evaluate(
            "[document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert scroll_width <= inner_width  # tables scroll, the page does not
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"trace-backward-{viewport}.png", full_page=True)

        with page.expect_navigation():
            page.locator(f'[data-lots] tr[data-lot="{chain.oil_lot}"] a').click()
        with page.expect_navigation():
            page.click("a[data-recall]")
        assert page.locator("[data-batch-count]").inner_text() == "2"
        page.screenshot(path=ARTIFACTS / f"trace-recall-{viewport}.png", full_page=True)
        with page.expect_download() as download_info:
            page.click("a[data-csv]")
        download = download_info.value
        assert download.suggested_filename == f"recall-lot-{chain.oil_lot}.csv"
        text = download.path().read_text(encoding="utf-8")
        rows = list(csv.DictReader(io.StringIO(text)))
        assert {r["batch_lot"] for r in rows if r["section"] == "batch"} == {"L2401A", "L2402B"}
    finally:
        context.close()

    elsewhere = [u for u in requests if urlsplit(u).hostname != HOST]
    assert elsewhere == [], f"requests to other hosts: {elsewhere}"
    assert errors == [], f"console errors: {errors}"
