"""The API token page: owners only; a created token is shown once and works; revoking
stops it; both are audited."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.helpers.admin import ROLES, assert_no_inline_code, base, post_form, signed_in
from tracemark.models import ApiToken, AuditLog


def test_only_owners_see_the_token_page(app, shop):
    for role in ROLES:
        response = signed_in(app, shop, role).get(f"{base(shop)}/tokens")
        expected = {"owner": 200, "outsider": 404}.get(role, 403)
        assert response.status_code == expected, role


def test_a_token_is_shown_once_works_and_is_revoked(app, shop, db):
    client = signed_in(app, shop)
    page = f"{base(shop)}/tokens"
    created = post_form(client, page, page, {"name": "SAP S/4", "read": "y", "issue": "y"})
    assert created.status_code == 200
    assert created.headers["Cache-Control"] == "no-store"
    html = created.get_data(as_text=True)
    assert_no_inline_code(html)
    token = re.search(r"data-token>(tm_[a-z0-9]{12}_[A-Za-z0-9_-]{43})<", html).group(1)
    prefix = token.split("_")[1]
    assert token not in client.get(page).get_data(as_text=True)  # shown once
    api = app.test_client()
    events = f"/api/v1/brands/{shop.brand.slug}/events"
    auth = {"Authorization": f"Bearer {token}"}
    assert api.get(events, headers=auth).status_code == 200
    assert api.post(events, headers=auth, json={}).status_code == 403  # no capture scope
    revoked = post_form(client, page, f"{page}/{prefix}/revoke", {})
    assert revoked.status_code == 303
    assert api.get(events, headers=auth).status_code == 401
    with db.sessions() as session:
        row = session.scalar(select(ApiToken).where(ApiToken.prefix == prefix))
        assert row.scopes == "read issue" and row.name == "SAP S/4" and row.is_revoked
        actions = session.scalars(
            select(AuditLog.action).where(
                AuditLog.brand_id == shop.brand.id, AuditLog.object_id == str(row.id)
            )
        ).all()
    assert actions == ["token.create", "token.revoke"]


def test_a_token_needs_a_name_and_a_scope(app, shop, db):
    client = signed_in(app, shop)
    page = f"{base(shop)}/tokens"
    for data in ({"name": "ERP"}, {"name": " ", "read": "y"}, {"name": "x" * 101, "read": "y"}):
        assert post_form(client, page, page, data).status_code == 400
    with db.sessions() as session:
        held = select(ApiToken).where(ApiToken.brand_id == shop.brand.id)
        assert session.scalars(held).all() == []
