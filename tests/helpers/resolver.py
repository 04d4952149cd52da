"""Identifiers for resolver tests."""

from __future__ import annotations

import secrets

from signing.gs1 import gtin_check_digit

LINKSET = "application/linkset+json"
GS1 = "https://gs1.org/voc/"


def unique_gtin(prefix: str = "0950") -> str:
    body = prefix + "".join(secrets.choice("0123456789") for _ in range(13 - len(prefix)))
    return body + str(gtin_check_digit(body))
