"""Signed unit identities: keys, key rings and the code format.

A pure library: it imports nothing of Tracemark's core, Flask or SQLAlchemy, so that a
regulator can verify any code, and any provenance statement (``signing.statements``),
offline with this package and a brand's published key set.
"""

from signing.codes import (
    FORMAT_VERSION,
    Status,
    UnitCode,
    Verification,
    build_url,
    parse,
    parse_and_verify,
    sign_code,
    signed_message,
)
from signing.keyring import KeyEntry, KeyPurpose, KeyRing, KeyStatus

__all__ = [
    "FORMAT_VERSION",
    "KeyEntry",
    "KeyPurpose",
    "KeyRing",
    "KeyStatus",
    "Status",
    "UnitCode",
    "Verification",
    "build_url",
    "parse",
    "parse_and_verify",
    "sign_code",
    "signed_message",
]
