"""Signed unit identities: keys, key rings and the code format.

A pure library: it imports nothing of Tracemark's core, Flask or SQLAlchemy, so that a
regulator can verify any code offline with this package and a brand's published key set.
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
from signing.keyring import KeyEntry, KeyRing, KeyStatus

__all__ = [
    "FORMAT_VERSION",
    "KeyEntry",
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
