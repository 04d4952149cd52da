"""axe-core finds nothing wrong on any admin page an owner can open, in any of the admin's
languages, at a laptop's size; nor on the sign-in pages (password, then second factor).

The pages are those of the route walk (``tests/helpers/route_walk.py``): every GET
route an owner may read, with the walk's values for its parameters, filled with the walk's
objects (a product, a batch with codes, a story, a document, a picture, a supplier and
its lot, a rule and a failed message, a checkpoint template and a recorded file, an API
token, a resolver link, a forgery report). Whatever answers with something else than an
HTML page (a CSV, a PDF, a JSON progress report) is left out, so a new page is checked
as soon as the walk knows its route. One browser, one page, the pages one after
another. Guarded like the portal's browser test (see ``tests/portal/test_browser.py``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pyotp
import pytest
from sqlalchemy import select

from tests.helpers.admin import PASSWORD
from tests.helpers.browser import LAPTOP, axe_violations, load_axe
from tests.helpers.route_walk import (
    ACCESS,
    ACCOUNT_ROUTES,
    World,
    admin_rules,
    client_as,
    make_world,
    path_for,
)
from tracemark.accounts import second_factor
from tracemark.i18n import COOKIE, LOCALES
from tracemark.models import User

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db", ["sqlite"], indirect=True)]


@pytest.fixture
def world(db) -> World:
    return make_world(db)


def _owner_pages(app, walk: World) -> list[str]:
    """The paths of every admin page an owner reads, as the walk builds them, that answer
    with HTML."""
    client = client_as(app, walk, "owner")
    pages = []
    for rule, method in admin_rules(app):
        if method != "GET":
            continue
        account = ACCOUNT_ROUTES.get((rule.endpoint, method))
        if account is not None and account["owner"] != 200:
            continue
        if account is None and "owner" not in ACCESS[rule.endpoint].read:
            continue
        path = path_for(rule, walk.mine)
        answer = client.get(path)
        if answer.status_code == 200 and answer.mimetype == "text/html":
            pages.append(path)
    return pages


def _sign_in(page, server: str, email: str) -> None:
    page.goto(f"{server}/admin/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("form.admin-form button[type=submit]")


def test_no_admin_page_breaks_an_accessibility_rule_in_any_language(
    app,
    db,
    browser,
    server,
    world,
):
    pages = _owner_pages(app, world)
    assert len(pages) > 30, pages  # the walk's pages, not a handful
    with db.sessions.begin() as session:  # staff sign in with a second factor
        staff = session.scalar(select(User).where(User.email == world.emails["staff"]))
        staff.totp_secret = second_factor.encrypt_secret(pyotp.random_base32(), "test", staff.id)
    context = browser.new_context(viewport=LAPTOP)
    load_axe(context)
    context.set_default_timeout(10_000)
    page = context.new_page()
    found: dict[str, list[str]] = {}

    def check(paths: list[str]) -> None:
        """Every path in every locale."""
        for locale in LOCALES:
            context.add_cookies([{"name": COOKIE, "value": locale, "url": server}])
            for path in paths:
                response = page.goto(server + path)
                assert response is not None and response.status == 200, (locale, path)
                if violations := axe_violations(page):
                    found[f"{locale} {path}"] = violations

    try:
        check(["/admin/login"])
        _sign_in(page, server, world.emails["staff"])
        assert urlsplit(page.url).path == "/admin/login/code"
        check(["/admin/login/code"])
        context.clear_cookies()
        _sign_in(page, server, world.emails["owner"])
        check(pages)
    finally:
        context.close()
    assert found == {}, "\n".join(f"{where}: {v}" for where, vs in found.items() for v in vs)
