"""Recording a checkpoint from a phone, in a real headless Chromium at 390 by 844 pixels.

A staff member signed in to the admin app opens a unit's label as the phone's camera
would (the portal's verdict page), follows the "record a checkpoint" link only they see,
chooses the QC inspection, fills the generated form (in French: labels and units
translated, numeric keypads, a date picker on the shipping form) and records it; the
event is then among the batch's events. The pages fit the phone's width, ask no other
host for anything and break no Content-Security-Policy. Guarded like the portal's
browser test (see ``tests/portal/test_browser.py``).
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

import pytest

from tests.conftest import PASSPHRASE, make_brand
from tests.helpers.admin import PASSWORD
from tests.helpers.browser import ARTIFACTS, HOST, PHONE, watched_page
from tracemark import catalog
from tracemark.accounts import users as accounts
from tracemark.codes import issuance
from tracemark.codes.printing import batch_urls
from tracemark.models import Batch, Brand, Role
from tracemark.quality import checkpoints
from tracemark.trace import events as trace

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db", ["sqlite"], indirect=True)]


@pytest.fixture
def staff(db):
    """A brand with issued codes, the standard checkpoints and a site; a staff member."""
    demo = make_brand(db.sessions)
    issuance.issue(db.sessions, demo.batch.id, 2, PASSPHRASE)
    email = f"staff-{secrets.token_hex(4)}@example.com"
    with db.sessions.begin() as session:
        brand = session.get_one(Brand, demo.brand.id)
        checkpoints.seed_standard(session, brand)
        catalog.create_site(session, brand, "Moulin de Jaén", country="ES")
        user = accounts.create_user(session, email, PASSWORD, "Staff")
        accounts.grant(session, user, brand, Role.STAFF)
    return demo, email


def _fits(page) -> None:
    scroll_width, inner_width = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner_width, (page.url, scroll_width, inner_width)


def test_staff_record_a_qc_inspection_from_a_scanned_label(browser, server, db, staff):
    demo, email = staff
    with db.sessions() as session:
        batch = session.get_one(Batch, demo.batch.id)
        printed = next(batch_urls(session, batch, server))[1]
    label = server + printed[printed.index("/01/") :]  # the brand prints its own host
    context = browser.new_context(locale="fr-FR", viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(10_000)
    page, requests, errors = watched_page(context)
    try:
        # anonymous, the verdict page offers nothing to record
        page.goto(label)
        assert page.locator("[data-verdict]").count() == 1
        assert page.locator("[data-record-checkpoint]").count() == 0

        page.goto(f"{server}/admin/login")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("button[type=submit]")

        # the phone's camera opens the label: signed in as staff, the link shows
        page.goto(label)
        link = page.locator("[data-record-checkpoint]")
        assert link.inner_text() == "Enregistrer un point de contrôle"
        with page.expect_navigation():
            link.click()
        assert urlsplit(page.url).path == f"/admin/brands/{demo.brand.slug}/record"
        _fits(page)
        with page.expect_navigation():
            page.click('[data-template="qc-inspection"]')
        form = page.locator("[data-record-form]")
        assert page.locator("h1").inner_text() == "Contrôle qualité"
        assert page.input_value("input[name=identifier]").upper() == label.upper()
        assert page.get_attribute("input[name=f_sample_size]", "inputmode") == "numeric"
        assert page.get_attribute("input[name=f_acidity]", "inputmode") == "decimal"
        assert "(%)" in form.locator('[data-field="f_acidity"] label').inner_text()
        assert "Taille de l'échantillon" in form.inner_text()
        assert page.input_value("input[name=offset]") == "+00:00" or page.input_value(
            "input[name=offset]"
        ).startswith(("+", "-"))
        _fits(page)

        page.fill("input[name=f_sample_size]", "12")
        page.fill("input[name=f_acidity]", "0,4")
        page.select_option("select[name=f_appearance]", "good")
        page.check("input[name=f_seal_intact][value=pass]")
        page.select_option("select[name=site]", label="Moulin de Jaén")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=ARTIFACTS / "record-phone.png", full_page=True)
        with page.expect_navigation():
            page.click("[data-record-form] button[type=submit]")
        assert page.locator("[data-recorded]").inner_text() == "Point de contrôle enregistré"
        assert page.get_attribute("[data-disposition]", "data-disposition") == "conformant"
        _fits(page)
        page.screenshot(path=ARTIFACTS / "recorded-phone.png", full_page=True)

        # the shipping form has a date picker
        page.goto(f"{server}/admin/brands/{demo.brand.slug}/record?template=shipping")
        assert page.get_attribute("input[name=f_departure]", "type") == "date"
        _fits(page)
    finally:
        context.close()

    with db.sessions() as session:
        batch = session.get_one(Batch, demo.batch.id)
        events = [e for e in trace.events_of_batch(session, batch) if "tm:checkpoint" in e.data]
    assert len(events) == 1
    event = events[0]
    assert event.biz_step == "inspecting" and event.site_id is not None
    assert event.data["tm:fields"] == {
        "sample_size": 12, "acidity": 0.4, "appearance": "good", "seal_intact": "pass"
    }  # fmt: skip
    assert event.data["tm:operator"] == email
    elsewhere = [u for u in requests if urlsplit(u).hostname != HOST]
    assert elsewhere == [], f"requests to other hosts: {elsewhere}"
    assert errors == [], f"console errors: {errors}"
