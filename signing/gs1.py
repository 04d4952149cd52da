"""GS1 rules the code format relies on: GTIN check digits and the AI 10/21 character set."""

from __future__ import annotations

import re

#: GS1 AI encodable character set 82 (GS1 General Specifications, figure 7.11-1),
#: allowed in lot (AI 10) and serial (AI 21) values.
CSET82 = frozenset(
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)
#: Maximum lengths of AI 10 (batch/lot) and AI 21 (serial) values.
MAX_LOT_LENGTH = 20
MAX_SERIAL_LENGTH = 20

_GTIN14 = re.compile(r"[0-9]{14}")


def gtin_check_digit(body: str) -> int:
    """The GS1 mod-10 check digit for ``body`` (a GTIN without its last digit)."""
    digits = [int(char) for char in reversed(body)]
    total = 3 * sum(digits[0::2]) + sum(digits[1::2])
    return (10 - total % 10) % 10


def normalize_gtin(gtin: str) -> str:
    """Return ``gtin`` (GTIN-8, -12, -13 or -14) as the 14 digits GS1 Digital Link uses.

    :raises ValueError: wrong length, non-digits, or a wrong check digit.
    """
    if not isinstance(gtin, str) or len(gtin) not in (8, 12, 13, 14) or not gtin.isascii():
        raise ValueError("a GTIN has 8, 12, 13 or 14 digits")
    padded = gtin.rjust(14, "0")
    if not _GTIN14.fullmatch(padded):
        raise ValueError("a GTIN has only digits")
    if gtin_check_digit(padded[:-1]) != int(padded[-1]):
        raise ValueError("wrong GTIN check digit")
    return padded


def is_valid_gtin14(gtin: str) -> bool:
    return bool(_GTIN14.fullmatch(gtin)) and gtin_check_digit(gtin[:-1]) == int(gtin[-1])


def is_valid_ai_value(value: str, max_length: int) -> bool:
    """True when ``value`` is a non-empty CSET 82 string of at most ``max_length`` chars."""
    return 0 < len(value) <= max_length and CSET82.issuperset(value)
