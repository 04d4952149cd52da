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
    demo = make_brand(db.sessions, owned=True)
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


def _add(db, demo, **fields):
    from tracemark.resolver.links import LinkData, add_link

    with db.sessions.begin() as session:
        product = session.merge(demo.product)
        data = {"link_type": "gs1:pip", "target": "https://olivar.example/a", "titles": {"en": "A"}}
        return add_link(session, product, LinkData(**{**data, **fields})).id


def test_staff_edit_a_link_and_its_titles_per_language_audited(db, app, shop):
    demo, emails, page = shop
    link_id = _add(db, demo, titles={"en": "Page", "de": "Seite"})
    client = app.test_client()
    assert login(client, emails[Role.STAFF]).status_code == 302
    edit = f"{page}/{link_id}/edit"
    form = client.get(edit).get_data(as_text=True)
    assert 'value="https://olivar.example/a"' in form and 'value="Seite"' in form
    bad = client.post(edit, data=_form(client, edit, link_type="gs1:pip", target="nope"))
    assert bad.status_code == 400 and "Enter an absolute http or https address." in bad.text
    saved = client.post(
        edit,
        data=_form(
            client,
            edit,
            link_type="gs1:productSustainabilityInfo",
            target="https://olivar.example/impact",
            title_en="Impact",
            title_fr="Impact environnemental",
            qualifiers="/10/L2401A",
        ),
    )
    assert saved.status_code == 303
    with db.sessions() as session:
        link = session.get(ResolverLink, link_id)
        assert (link.link_type, link.target, link.qualifiers) == (
            "gs1:productSustainabilityInfo",
            "https://olivar.example/impact",
            "/10/L2401A",
        )
        assert link.titles == {"en": "Impact", "fr": "Impact environnemental"}  # no "de"
        entry = session.query(AuditLog).filter_by(action="link.update", object_id=str(link_id))
        entry = entry.one()
        assert entry.user_id is not None and entry.details["before"]["titles"]["de"] == "Seite"


def test_making_a_link_the_default_clears_the_others_of_its_level(db, app, client, shop):
    demo, emails, page = shop
    first = _add(db, demo, is_default=True)
    second = _add(db, demo, link_type="gs1:faqs", target="https://olivar.example/faq")
    staff = app.test_client()
    assert login(staff, emails[Role.STAFF]).status_code == 302
    assert client.get(f"/01/{demo.product.gtin}").headers["Location"] == "https://olivar.example/a"
    made = staff.post(f"{page}/{second}/default", data={"csrf_token": csrf_token(staff, page)})
    assert made.status_code == 303
    with db.sessions() as session:
        assert not session.get(ResolverLink, first).is_default
        assert session.get(ResolverLink, second).is_default
        entry = session.query(AuditLog).filter_by(action="link.set_default", object_id=str(second))
        assert entry.one().details["cleared"] == [first]
    resolved = client.get(f"/01/{demo.product.gtin}")
    assert resolved.headers["Location"] == "https://olivar.example/faq"


def test_marketing_can_neither_edit_nor_make_default(db, app, shop):
    demo, emails, page = shop
    link_id = _add(db, demo)
    client = app.test_client()
    assert login(client, emails[Role.MARKETING]).status_code == 302
    token = csrf_token(client, page)
    assert client.get(f"{page}/{link_id}/edit").status_code == 403
    assert client.post(f"{page}/{link_id}/default", data={"csrf_token": token}).status_code == 403
    with db.sessions() as session:
        entries = session.query(AuditLog).filter_by(
            object_type="resolver_link", object_id=str(link_id)
        )
        assert [entry.action for entry in entries] == ["link.create"]


def test_a_product_outside_the_brands_prefixes_gets_no_link_from_the_editor(db, app):
    legacy = make_brand(db.sessions)  # its product predates the brand's prefix
    email = f"owner-{secrets.token_hex(4)}@example.com"
    with db.sessions.begin() as session:
        user = accounts.create_user(session, email, PASSWORD, "Owner")
        accounts.grant(session, user, session.merge(legacy.brand), Role.OWNER)
    page = f"/admin/brands/{legacy.brand.slug}/products/{legacy.product.id}/links"
    client = app.test_client()
    assert login(client, email).status_code == 302
    refused = client.post(
        page,
        data=_form(client, page, link_type="gs1:pip", target="https://x.example", title_en="X"),
    )
    assert refused.status_code == 400 and "GS1 company prefixes" in refused.text
    with db.sessions() as session:
        assert session.query(ResolverLink).filter_by(product_id=legacy.product.id).count() == 0
