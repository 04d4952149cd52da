"""The resolver link editor: members read a product's links, owners and staff add and
delete them, every change audited by the core operation."""

from __future__ import annotations

import re
import secrets

import pytest

from tests.conftest import make_brand
from tests.helpers.admin import PASSWORD, csrf_token, login
from tracemark.accounts import users as accounts
from tracemark.models import AuditLog, ResolverLink, Role


@pytest.fixture
def shop(db):
    demo = make_brand(db.sessions)
    emails = {}
    with db.sessions.begin() as session:
        for role in (Role.STAFF, Role.MARKETING):
            email = f"{role.value}-{secrets.token_hex(4)}@example.com"
            user = accounts.create_user(session, email, PASSWORD, role.value)
            accounts.grant(session, user, session.merge(demo.brand), role)
            emails[role] = email
    page = f"/admin/brands/{demo.brand.slug}/products/{demo.product.id}/links"
    return demo, emails, page


def _form(client, page, **fields):
    html = client.get(page).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    return {"csrf_token": token, "audience": "public", **fields}


def test_staff_add_and_delete_links_audited(db, app, shop):
    demo, emails, page = shop
    client = app.test_client()
    assert login(client, emails[Role.STAFF]).status_code == 302
    refused = client.post(
        page, data=_form(client, page, link_type="gs1:nothing", target="ftp://x", title_en="")
    )
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "Choose a link type of the GS1 Web vocabulary" in html
    data = _form(
        client,
        page,
        link_type="gs1:pip",
        target="https://olivar.example/p",
        title_en="Product page",
        title_fr="Page produit",
        hreflang="en",
        media_type="text/html",
        is_default="y",
        qualifiers="/10/L2401A",
    )
    added = client.post(page, data=data)
    assert added.status_code == 303
    html = client.get(page).get_data(as_text=True)
    assert "https://olivar.example/p" in html and "/10/L2401A" in html
    with db.sessions() as session:
        link = session.query(ResolverLink).filter_by(product_id=demo.product.id).one()
        assert link.titles == {"en": "Product page", "fr": "Page produit"} and link.is_default
        entry = session.query(AuditLog).filter_by(action="link.create", object_id=str(link.id))
        assert entry.one().user_id is not None
    delete = f"{page}/{link.id}/delete"
    assert client.post(delete, data={"csrf_token": csrf_token(client, page)}).status_code == 303
    with db.sessions() as session:
        assert session.get(ResolverLink, link.id) is None
        assert (
            session.query(AuditLog).filter_by(action="link.delete", object_id=str(link.id)).count()
            == 1
        )


def test_marketing_reads_the_links_but_cannot_change_them(db, app, shop):
    _demo, emails, page = shop
    client = app.test_client()
    assert login(client, emails[Role.MARKETING]).status_code == 302
    html = client.get(page).get_data(as_text=True)
    assert "Add link" not in html and "data-read-only" in html
    refused = client.post(
        page, data={"csrf_token": csrf_token(client, page), "link_type": "gs1:pip"}
    )
    assert refused.status_code == 403
