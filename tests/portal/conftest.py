"""Fixtures of the portal's tests: a resolver item with links at every level."""

from __future__ import annotations

import secrets

import pytest

from tests.conftest import PASSPHRASE
from tests.helpers.admin import PASSWORD
from tests.helpers.resolver import product_of_new_brand
from tracemark import catalog
from tracemark.accounts import tokens as api_tokens
from tracemark.accounts import users as accounts
from tracemark.codes import issuance, keystore
from tracemark.codes.printing import batch_urls
from tracemark.models import Audience, Batch, Role
from tracemark.resolver.links import LinkData, add_link


@pytest.fixture
def item(db):
    """A product of its own GTIN with links at the GTIN and lot levels, one signed unit,
    and a regulator and a staff member of its brand."""
    with db.sessions.begin() as session:
        product = product_of_new_brand(session, "Olivar", "Olive oil 1 l")
        brand, gtin = product.brand, product.gtin
        product.texts = {"fr": {"name": "Huile d'olive 1 l"}}
        batch = catalog.create_batch(session, product, "L1")
        keystore.create_key(session, brand, PASSPHRASE)
        add = lambda **kw: add_link(session, product, LinkData(**kw))  # noqa: E731
        add(
            link_type="gs1:pip",
            target="https://olivar.example/en/oil",
            titles={"en": "Oil"},
            hreflang="en",
            media_type="text/html",
            is_default=True,
        )
        add(
            link_type="gs1:pip",
            target="https://olivar.example/fr/huile",
            titles={"en": "Oil", "fr": "Huile"},
            hreflang="fr",
            media_type="text/html",
        )
        add(
            link_type="gs1:certificationInfo",
            target="https://lab.example/cert?id=7",
            titles={"en": "Organic certificate"},
            qualifiers="/10/L1",
        )
        add(
            link_type="gs1:safetyInfo",
            target="https://olivar.example/authority",
            titles={"en": "Dossier"},
            audience=Audience.REGULATOR,
        )
        add(
            link_type="gs1:masterData",
            target="https://olivar.example/internal",
            titles={"en": "Internal"},
            audience=Audience.BRAND,
        )
        people = {}
        for role in (Role.REGULATOR, Role.STAFF):
            email = f"{role.value}-{secrets.token_hex(4)}@example.com"
            user = accounts.create_user(session, email, PASSWORD, role.value)
            accounts.grant(session, user, brand, role)
            people[role] = email
        batch_id = batch.id
        token = api_tokens.create_token(session, brand, "reader", ("read",))[1]
        slug = brand.slug
    issuance.issue(db.sessions, batch_id, 1, PASSPHRASE)
    with db.sessions.begin() as session:
        url = next(batch_urls(session, session.get_one(Batch, batch_id), "http://x"))[1]
    return {
        "gtin": gtin,
        "unit": url[url.index("/01/") :],
        "people": people,
        "token": token,
        "slug": slug,
    }
