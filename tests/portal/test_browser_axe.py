"""axe-core finds nothing wrong on any kind of portal page, in any of the portal's
languages, as a phone shows it.

Each locale gets its own codes, so every verdict is seen as a shopper sees it there: the
start page, a first scan (with its stories, picture, test report and journey), a code
scanned before, a possible copy, a hold, a recall, a revoked key, a forged label and its
report form (empty, refused, sent), the PIN claim (refused, expired form, accepted) and
the owner's page after it, a malformed code and an address that is no Digital Link
(400), an address with nothing (404), and a genuine label as the brand's staff see it
(with their button to record a checkpoint).
One browser, one page, the pages one after another. Guarded like the portal's browser
test (see ``tests/portal/test_browser.py``).
"""

from __future__ import annotations

import secrets

import pytest

from tests.conftest import PASSPHRASE, forge, furnish, make_brand
from tests.helpers.admin import PASSWORD
from tests.helpers.browser import PHONE, axe_violations, load_axe
from tests.helpers.content import photo
from tests.helpers.verdicts import code_paths, genuine_states, held_and_recalled
from tracemark.accounts import users as accounts
from tracemark.codes import issuance, keystore, pins
from tracemark.config import Settings
from tracemark.content import images
from tracemark.i18n import LOCALES
from tracemark.models import PublishState, Role

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db", ["sqlite"], indirect=True)]

#: A code address that is no code: the verdict page's 400.
MALFORMED = "/01/09506000134353/10/L2401A/21/X?S=1.ABCDE." + "A" * 103


@pytest.fixture
def settings(db) -> Settings:
    """Rate limits that eight languages' worth of scans, claims and reports stay under."""
    return Settings(
        database_url=db.url,
        secret_key="test",
        key_passphrase=PASSPHRASE,
        pin_secret="test-pin-secret",
        scan_rate_limit="10000/minute",
        claim_rate_limit="1000/hour",
        report_rate_limit="1000/hour",
    )


@pytest.fixture
def codes(db, demo, app) -> dict[str, dict[str, str]]:
    """Per locale: a fresh code with its PIN, one scanned before, a copied one; and codes
    shared by every locale whose verdict a visit does not change."""
    n = len(LOCALES)
    issuance.issue(db.sessions, demo.batch.id, 3 * n + 1, PASSPHRASE, with_pin=True)
    revoked = make_brand(db.sessions)
    issuance.issue(db.sessions, revoked.batch.id, 1, PASSPHRASE)
    with db.sessions.begin() as session:
        batch = session.merge(demo.batch)
        batch.product.brand.name = "Demo Olive Oil Co."
        furnish(session, batch)
        bottle = images.add_image(session, batch.product, photo((800, 600)), "The bottle")
        images.set_state(bottle, PublishState.PUBLISHED)
        keystore.revoke_key(session, keystore.get_key(session, revoked.kid), "leaked")
    (on_hold,), (gone,) = held_and_recalled(db.sessions, demo.batch, 1)
    with db.sessions.begin() as session:
        pin_key = pins.brand_pin_key("test-pin-secret", demo.brand.id)
        main = code_paths(session, session.merge(demo.batch), pin_key)
        shared = {
            "batch_on_hold": on_hold,
            "batch_recalled": gone,
            "revoked_key": code_paths(session, session.merge(revoked.batch))[0][0],
            "not_genuine": forge(main[-1][0]),
            "malformed": MALFORMED,
            "bad_address": "/01/09506000134353",  # a wrong check digit: the resolver's 400
            "not_found": "/nothing-here",
            "home": "/",
        }
        staff = accounts.create_user(session, f"staff-{secrets.token_hex(4)}@example.com",
                                     PASSWORD, "Staff")  # fmt: skip
        accounts.grant(session, staff, session.merge(demo.brand), Role.STAFF)
        shared["staff"] = staff.email
    found = genuine_states(app, main, LOCALES)
    for mine in found.values():
        mine.update(shared)
    return found


def _submit(page, form: str) -> None:
    with page.expect_navigation():
        page.locator(f"{form} button[type=submit]").click()


def test_no_portal_page_breaks_an_accessibility_rule_in_any_language(browser, server, codes):
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True)
    load_axe(context)
    context.set_default_timeout(10_000)
    page = context.new_page()
    found: dict[str, list[str]] = {}

    def check(kind: str, status: int | None = None, response=None) -> None:
        if response is not None:
            assert response.status == status, (locale, kind, response.status)
        violations = axe_violations(page)
        if violations:
            found[f"{locale}/{kind}"] = violations

    try:
        for locale, mine in codes.items():
            page.goto(f"{server}/lang/{locale}?next=/")  # the switcher's cookie
            for kind, status in (
                ("home", 200),
                ("not_found", 404),
                ("malformed", 400),
                ("bad_address", 400),
                ("genuine_scanned_before", 200),
                ("suspicious_copy", 200),
                ("batch_on_hold", 200),
                ("batch_recalled", 200),
                ("revoked_key", 200),
            ):
                check(kind, status, page.goto(server + mine[kind]))
            # a forged label, its report form, a refused report and a sent one
            check("not_genuine", 200, page.goto(server + mine["not_genuine"]))
            with page.expect_navigation():
                page.locator("[data-report-link]").click()
            check("report_form")
            _submit(page, ".report-form")  # no place at all: refused
            assert page.locator("[data-error]").count() == 1
            check("report_refused")
            page.fill("#shop", "Mercado Central")
            page.fill("#city", "Valencia")
            _submit(page, ".report-form")
            check("report_sent")
            # a first scan, and the claims made from it
            fresh = server + mine["genuine_first_scan"]
            check("genuine_first_scan", 200, page.goto(fresh))
            assert page.locator("section.documents, section.journey, .pictures img").count() == 3
            page.evaluate("document.querySelector('input[name=csrf_token]').value = 'stale'")
            page.fill("#pin", "1")
            _submit(page, "form.claim")
            check("claim_expired_form")
            page.goto(fresh)
            page.fill("#pin", "1")
            _submit(page, "form.claim")
            check("claim_wrong_pin")
            page.goto(fresh)
            page.fill("#pin", mine["pin"])
            _submit(page, "form.claim")
            assert page.locator("[data-claim]").get_attribute("data-claim") == "claimed"
            check("claimed")
            page.goto(fresh)
            assert page.locator("[data-owner]").count() == 1
            check("owner_page")
        # the brand's staff, signed in, get a button to record a checkpoint
        page.goto(f"{server}/admin/login")
        page.fill("input[name=email]", codes["en"]["staff"])
        page.fill("input[name=password]", PASSWORD)
        _submit(page, "form.admin-form")
        for locale, mine in codes.items():
            page.goto(f"{server}/lang/{locale}?next=/")
            check("staff_view", 200, page.goto(server + mine["genuine_scanned_before"]))
            assert page.locator("[data-record-checkpoint]").count() == 1
    finally:
        context.close()
    assert found == {}, "\n".join(f"{where}: {v}" for where, vs in found.items() for v in vs)
