"""Identifiers for resolver tests."""

from __future__ import annotations

import secrets

from sqlalchemy.orm import Session

from signing.gs1 import gtin_check_digit
from tests.conftest import fresh_prefix
from tracemark import catalog
from tracemark.models import Product

LINKSET = "application/linkset+json"
GS1 = "https://gs1.org/voc/"


def unique_gtin(prefix: str = "0950") -> str:
    body = prefix + "".join(secrets.choice("0123456789") for _ in range(13 - len(prefix)))
    return body + str(gtin_check_digit(body))


def product_of_new_brand(session: Session, brand_name: str, product_name: str) -> Product:
    """A new brand holding a company prefix of its own, and a product under it."""
    prefix = fresh_prefix()
    brand = catalog.create_brand(session, f"r-{secrets.token_hex(4)}", brand_name)
    catalog.claim_prefix(session, brand, prefix)
    return catalog.create_product(session, brand, unique_gtin("0" + prefix), product_name)
