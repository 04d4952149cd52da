"""The brand's GS1 company prefixes page: owners claim and release prefixes, everyone else
is refused; each change audited by the core operation."""

from __future__ import annotations

import secrets

import pytest

from tests.conftest import fresh_prefix, make_brand
from tests.helpers.admin import PASSWORD, csrf_token, login
from tracemark import catalog
from tracemark.accounts import users as accounts
from tracemark.models import AuditLog, Brand, BrandPrefix, Role


@pytest.fixture
def brand(db):
    demo = make_brand(db.sessions, owned=True)
    emails = {}
    with db.sessions.begin() as session:
        for role in (Role.OWNER, Role.STAFF):
            email = f"{role.value}-{secrets.token_hex(4)}@example.com"
            user = accounts.create_user(session, email, PASSWORD, role.value)
            accounts.grant(session, user, session.merge(demo.brand), role)
            emails[role] = email
    return demo, emails, f"/admin/brands/{demo.brand.slug}/prefixes"


def _signed_in(app, email):
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


def _held(db, demo) -> list[str]:
    with db.sessions() as session:
        return catalog.prefixes(session, session.get(Brand, demo.brand.id))


def test_an_owner_claims_and_releases_a_prefix_audited(db, app, brand):
    demo, emails, page = brand
    client = _signed_in(app, emails[Role.OWNER])
    assert f'data-prefix="{demo.prefix}"' in client.get(page).text
    prefix = fresh_prefix()
    claimed = client.post(page, data={"csrf_token": csrf_token(client, page), "prefix": prefix})
    assert claimed.status_code == 303
    assert _held(db, demo) == sorted([demo.prefix, prefix])
    release = f"{page}/{prefix}/release"
    assert client.post(release, data={"csrf_token": csrf_token(client, page)}).status_code == 303
    assert _held(db, demo) == [demo.prefix]
    with db.sessions() as session:
        entries = session.query(AuditLog).filter_by(brand_id=demo.brand.id).all()
        actions = [(e.action, e.details.get("prefix"), e.user_id is not None) for e in entries]
        assert ("brand.claim_prefix", prefix, True) in actions
        assert ("brand.release_prefix", prefix, True) in actions


def test_a_prefix_with_products_under_it_stays(db, app, brand):
    demo, emails, page = brand
    client = _signed_in(app, emails[Role.OWNER])
    kept = client.post(
        f"{page}/{demo.prefix}/release", data={"csrf_token": csrf_token(client, page)}
    )
    assert kept.status_code == 409 and "Products are registered under this prefix." in kept.text
    assert _held(db, demo) == [demo.prefix]
    unknown = client.post(f"{page}/123456/release", data={"csrf_token": csrf_token(client, page)})
    assert unknown.status_code == 404


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("12a", "A GS1 company prefix has 4 to 12 digits."),
        ("", "Enter the prefix."),
        ("taken", "Another brand holds this prefix, or one overlapping it."),
    ],
)
def test_a_bad_or_taken_prefix_is_a_field_error(db, app, brand, value, message):
    demo, emails, page = brand
    if value == "taken":
        value = make_brand(db.sessions).prefix  # another brand's
    client = _signed_in(app, emails[Role.OWNER])
    refused = client.post(page, data={"csrf_token": csrf_token(client, page), "prefix": value})
    assert refused.status_code == 400 and message in refused.text
    assert _held(db, demo) == [demo.prefix]


def test_only_owners_manage_prefixes_and_strangers_see_nothing(db, app, brand):
    demo, emails, page = brand
    staff = _signed_in(app, emails[Role.STAFF])
    assert staff.get(page).status_code == 403
    token = csrf_token(staff, "/admin/")
    assert staff.post(page, data={"csrf_token": token, "prefix": fresh_prefix()}).status_code == 403
    release = f"{page}/{demo.prefix}/release"
    assert staff.post(release, data={"csrf_token": token}).status_code == 403
    other = make_brand(db.sessions)
    assert staff.get(f"/admin/brands/{other.brand.slug}/prefixes").status_code == 404
    # another brand's prefix, addressed under my brand, is not mine to release
    owner = _signed_in(app, emails[Role.OWNER])
    crossed = f"{page}/{other.prefix}/release"
    assert owner.post(crossed, data={"csrf_token": csrf_token(owner, page)}).status_code == 404
    with db.sessions() as session:
        assert session.query(BrandPrefix).filter_by(prefix=other.prefix).count() == 1
