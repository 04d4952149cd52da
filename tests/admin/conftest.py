"""Admin fixtures: two brands with people in every role, signed in through the login form."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import select

from tests.conftest import make_brand
from tests.helpers.admin import PASSWORD, ROLES, Catalog, People
from tracemark.accounts import users as accounts
from tracemark.models import Role, User


@pytest.fixture
def people(db) -> People:
    mine, theirs = make_brand(db.sessions), make_brand(db.sessions)
    emails = {}
    with db.sessions.begin() as session:
        for name, brand, role in (
            ("owner", mine.brand, Role.OWNER),
            ("staff", mine.brand, Role.STAFF),
            ("stranger", theirs.brand, Role.OWNER),
            ("inactive", mine.brand, Role.OWNER),
        ):
            email = f"{name}-{secrets.token_hex(4)}@example.com"
            user = accounts.create_user(session, email, PASSWORD, name.title())
            accounts.grant(session, user, brand, role)
            emails[name] = email
        session.scalar(select(User).where(User.email == emails["inactive"])).is_active = False
    return People(mine.brand, theirs.brand, **emails)


@pytest.fixture
def shop(db) -> Catalog:
    mine, theirs = make_brand(db.sessions), make_brand(db.sessions)
    emails = {}
    with db.sessions.begin() as session:
        for name in ROLES:
            email = f"{name}-{secrets.token_hex(4)}@example.com"
            user = accounts.create_user(session, email, PASSWORD, name.title())
            if name == "outsider":
                accounts.grant(session, user, theirs.brand, Role.OWNER)
            else:
                accounts.grant(session, user, mine.brand, Role(name))
            emails[name] = email
    return Catalog(
        mine.brand,
        theirs.brand,
        mine.product.id,
        mine.batch.id,
        theirs.product.id,
        theirs.batch.id,
        emails,
        mine.prefix,
        mine.product.gtin,
    )
