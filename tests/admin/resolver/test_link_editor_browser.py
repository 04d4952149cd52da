"""The link editor in a real browser: an owner adds a product page link, and the public
resolver answers with it at once."""

from __future__ import annotations

import json
import secrets
from urllib.parse import urlsplit

import pytest

from tests.helpers.admin import PASSWORD
from tests.helpers.browser import ARTIFACTS, watched_page
from tests.helpers.resolver import product_of_new_brand
from tracemark.accounts import users as accounts
from tracemark.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db", ["sqlite"], indirect=True)]


@pytest.fixture
def owner(db):
    """A brand holding a company prefix, a product under it, and the brand's owner."""
    email = f"owner-{secrets.token_hex(4)}@example.com"
    with db.sessions.begin() as session:
        product = product_of_new_brand(session, "Link Oil Co.", "Oil")
        brand = product.brand
        user = accounts.create_user(session, email, PASSWORD, "Link owner")
        accounts.grant(session, user, brand, Role.OWNER)
        return brand.slug, product.id, product.gtin, email


def test_an_owner_adds_a_link_and_the_resolver_serves_it(browser, server, owner):
    slug, product_id, gtin, email = owner
    context = browser.new_context(locale="en-US")
    context.set_default_timeout(10_000)
    page, _requests, errors = watched_page(context)
    try:
        page.goto(f"{server}/admin/login")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("button[type=submit]")
        page.goto(f"{server}/admin/brands/{slug}/products/{product_id}")
        with page.expect_navigation():
            page.click("[data-links-link]")
        assert urlsplit(page.url).path.endswith(f"/products/{product_id}/links")

        page.fill("input[name=link_type]", "gs1:pip")
        page.fill("input[name=target]", "https://link-oil.example/oil")
        page.fill("input[name=title_en]", "Our olive oil")
        page.fill("input[name=title_fr]", "Notre huile")
        page.check("input[name=is_default]")
        with page.expect_navigation():
            page.click("form.admin-form button[type=submit]")
        row = page.locator('[data-links] tr[data-link-type="gs1:pip"]')
        assert row.count() == 1 and "https://link-oil.example/oil" in row.inner_text()
        assert row.locator("[data-default]").count() == 1
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=ARTIFACTS / "admin-links.png", full_page=True)

        redirect = page.request.get(f"{server}/01/{gtin}", max_redirects=0)
        assert redirect.status == 307
        assert redirect.headers["location"] == "https://link-oil.example/oil"
        linkset = page.request.get(f"{server}/01/{gtin}?linkType=linkset")
        (context_object,) = json.loads(linkset.body())["linkset"]
        titles = [t["title"] for t in context_object["https://gs1.org/voc/pip"]]
        assert titles == ["Our olive oil"]
        assert errors == []
    finally:
        context.close()
