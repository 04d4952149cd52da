"""The admin app in a real headless Chromium: from an empty brand to a printed label that
the portal calls genuine.

An owner signs in, adds a product and a batch through the forms, issues 100 codes through
the batch page and watches the job finish (the page follows a worker running in this
process, against the same database), prepares and downloads the PDF sheet, and a real QR
decoder reads a label from its first page; the decoded URL, opened in the browser, is a
genuine first scan. Along the way no page asks another host for anything or breaks the
Content-Security-Policy. Guarded like the portal's browser test (see
``tests/portal/test_browser.py``): skipped without Chromium unless
``TRACEMARK_REQUIRE_BROWSER=1``.
"""

from __future__ import annotations

import secrets
import threading
from urllib.parse import urlsplit

import pytest

from tests.conftest import PASSPHRASE, fresh_prefix, gtin_under
from tests.helpers.admin import PASSWORD
from tests.helpers.browser import ARTIFACTS, HOST, PHONE, watched_page
from tracemark import catalog
from tracemark import worker as jobs
from tracemark.accounts import users as accounts
from tracemark.codes import keystore
from tracemark.labels.renders import RenderOptions
from tracemark.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db", ["sqlite"], indirect=True)]

zxingcpp = pytest.importorskip("zxingcpp")
pdfium = pytest.importorskip("pypdfium2")

#: Long enough for the worker to issue 100 codes and render a sheet on a busy machine.
WORK_TIMEOUT_MS = 60_000


@pytest.fixture
def settings(db, tmp_path):
    from tracemark.config import Settings

    return Settings(
        database_url=db.url,
        secret_key="test",
        key_passphrase=PASSPHRASE,
        pin_secret="test-pin-secret",
        label_dir=tmp_path / "labels",
    )


@pytest.fixture
def owner(db):
    """A brand with a signing key and nothing else, its owner's email, and a GS1 company
    prefix for the owner to claim."""
    slug = f"browser-{secrets.token_hex(4)}"
    email = f"owner-{secrets.token_hex(4)}@example.com"
    with db.sessions.begin() as session:
        brand = catalog.create_brand(session, slug, "Browser Oil Co.")
        keystore.create_key(session, brand, PASSPHRASE)
        user = accounts.create_user(session, email, PASSWORD, "Browser owner")
        accounts.grant(session, user, brand, Role.OWNER)
    return slug, email, fresh_prefix()


@pytest.fixture
def worker(db, settings, server, idle_queue):
    """Starts ``tracemark worker`` in a thread of this process; labels point at ``server``."""
    stop = threading.Event()
    options = RenderOptions(settings.label_dir, server, settings.pin_secret)
    thread = threading.Thread(
        target=jobs.run_worker,
        args=(db.sessions, PASSPHRASE),
        kwargs={"stop": stop, "poll_seconds": 0.2, "workers": 1, "renders": options},
        name="worker",
        daemon=True,
    )
    yield thread.start
    stop.set()
    if thread.is_alive():
        thread.join(timeout=30)


def test_from_an_empty_brand_to_a_genuine_printed_label(browser, server, owner, worker, tmp_path):
    slug, email, prefix = owner
    gtin = gtin_under(prefix)
    context = browser.new_context(
        locale="en-US", viewport=PHONE, is_mobile=True, accept_downloads=True
    )
    context.set_default_timeout(10_000)
    page, requests, errors = watched_page(context)
    try:
        page.goto(f"{server}/admin/login")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("button[type=submit]")
        assert urlsplit(page.url).path == "/admin/"

        # the brand's GS1 company prefix first: products fall under it
        page.goto(f"{server}/admin/brands/{slug}/prefixes")
        page.fill("input[name=prefix]", prefix)
        with page.expect_navigation():
            page.click("form.admin-form button[type=submit]")
        assert page.locator(f"[data-prefix='{prefix}']").count() == 1

        page.goto(f"{server}/admin/brands/{slug}/products")
        page.fill("input[name=gtin]", gtin)
        page.fill("input[name=name]", "Extra virgin olive oil")
        with page.expect_navigation():
            page.click("form.admin-form button[type=submit]")

        page.goto(f"{server}/admin/brands/{slug}/batches")
        page.fill("input[name=lot]", "B-26/7")
        with page.expect_navigation():
            page.click("form.admin-form button[type=submit]")
        assert "/batches/" in page.url and page.locator("h1").inner_text().endswith("B-26/7")
        batch_url = page.url

        # issue 100 codes: the page follows the worker until the job is done
        page.fill("input[name=count]", "100")
        with page.expect_navigation():
            page.click("[data-issue-form] button[type=submit]")
        job = page.locator("[data-job]").first
        assert job.get_attribute("data-state") == "pending"  # queued: no worker yet
        worker()  # from now on only the page's script can show the job's progress
        job.and_(page.locator('[data-state="done"]')).wait_for(timeout=WORK_TIMEOUT_MS)
        assert job.locator("[data-count]").inner_text() == "100 of 100"

        # the PDF sheet is prepared by the worker too, then downloaded
        with page.expect_navigation():
            job.locator('[data-prepare="pdf"]').click()
        download_link = page.locator('a[data-download="pdf"]')
        download_link.wait_for(timeout=WORK_TIMEOUT_MS)
        scroll_width, inner_width = page.evaluate(
            "[document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert scroll_width <= inner_width  # on a phone: tables scroll, the page does not
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=ARTIFACTS / "admin-batch.png", full_page=True)
        with page.expect_download() as download_info:
            download_link.click()
        download = download_info.value
        assert download.suggested_filename.endswith(".pdf")
        sheet = tmp_path / "sheet.pdf"
        download.save_as(sheet)

        document = pdfium.PdfDocument(str(sheet))
        assert len(document) == 5  # 100 labels, 24 a page
        first_page = document[0].render(scale=3).to_pil()
        # zxing-cpp 3 may report one symbol twice at this scale: count distinct codes
        decoded = sorted({result.text for result in zxingcpp.read_barcodes(first_page)})
        document.close()
        assert len(decoded) == 24
        url = decoded[0]
        assert url.startswith(server.upper() + f"/01/{gtin}/10/B-26%2F7/21/")

        response = page.goto(url)
        assert response is not None and response.status == 200
        verdict = page.locator("[data-verdict]")
        assert verdict.get_attribute("data-verdict") == "genuine_first_scan"
        assert page.goto(batch_url).status == 200
    finally:
        context.close()

    elsewhere = [u for u in requests if urlsplit(u).hostname != HOST]
    assert elsewhere == [], f"requests to other hosts: {elsewhere}"
    assert errors == [], f"console errors: {errors}"
