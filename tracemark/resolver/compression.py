"""Compressed GS1 Digital Link URIs (GS1 Digital Link standard, URI compression).

A compressed URI carries its element strings as one URI-safe base64 path segment
(``/AQnYUc1gmiCNV4JG``), or keeps the primary key readable and compresses the rest
(``/01/05412345000013/EEarwSM``). The bits are a sequence of:

- an AI as hex nibbles, two first; :data:`AI_LENGTH` says from those two whether one or
  two more follow; its value then takes the components ``FORMATS`` gives the AI:
  a fixed-length numeric part as a binary number of just enough bits for that many
  digits, a variable-length numeric part as a length and then such a number, and an
  alphanumeric part as a 3-bit encoding (digits, lower-case hex, upper-case hex, base64,
  7-bit ASCII), a length unless fixed, and the characters;
- or two nibbles outside 00-99 naming a predefined sequence of AIs (``SEQUENCES``),
  whose values follow in turn;
- or ``F`` and a 7-bit length: a key of other than GS1's (base64 characters), then its
  value as an alphanumeric part of at most 127 characters.

Up to five zero bits pad the end to whole base64 characters.

:func:`decompress` turns a compressed path back into the canonical uncompressed path and
query; :func:`compress` does the reverse (without the predefined sequences, which every
decompressor reads anyway). Both are pure: no I/O, nothing but :class:`CompressionProblem`
raised for bad input.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, quote, unquote

from tracemark.resolver.ai_table import AI_LENGTH, FORMATS, SEQUENCES

BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_INDEX = {char: i for i, char in enumerate(BASE64)}
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")
#: The shortest compressed GTIN: an 8-bit AI and 47 bits of 14 digits, in base64.
MIN_SEGMENT = 10
MAX_SEGMENT = 1000

#: The GTIN's qualifiers, in the order of a Digital Link path.
PATH_QUALIFIERS = ("22", "10", "21", "235")
#: The 3-bit encodings of an alphanumeric part.
NUMERIC, HEX_LOWER, HEX_UPPER, BASE64_CHARS, ASCII = range(5)
_HEX = "0123456789ABCDEF"


class CompressionProblem(ValueError):
    """Not a compressed GS1 Digital Link this resolver can read; ``reason`` is stable."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _components(ai: str) -> list[tuple[str, bool, int]]:
    """``(kind, fixed, length)`` for each part of the AI's format."""
    try:
        spec = FORMATS[ai]
    except KeyError:
        raise CompressionProblem("unknown_ai") from None
    parts = []
    for piece in spec.split("+"):
        kind, rest = piece[0], piece[1:]
        fixed = not rest.startswith("..")
        parts.append((kind, fixed, int(rest.lstrip("."))))
    return parts


def length_bits(maximum: int) -> int:
    """Bits holding the length of a part of at most ``maximum`` characters."""
    return math.ceil(math.log2(maximum) + 0.01)


def value_bits(digits: int) -> int:
    """Bits holding a number of ``digits`` decimal digits."""
    return math.ceil(digits * math.log2(10) + 0.01)


class _Reader:
    def __init__(self, bits: str) -> None:
        self.bits = bits
        self.at = 0

    def left(self) -> int:
        return len(self.bits) - self.at

    def take(self, n: int) -> int:
        if n > self.left():
            raise CompressionProblem("truncated")
        chunk = self.bits[self.at : self.at + n]
        self.at += n
        return int(chunk, 2) if chunk else 0

    def digits(self, n: int) -> str:
        number = self.take(value_bits(n))
        text = str(number).zfill(n) if n else ""
        if len(text) > n:
            raise CompressionProblem("bad_value")
        return text

    def characters(self, encoding: int, n: int) -> str:
        if encoding == NUMERIC:
            return self.digits(n)
        if encoding in (HEX_LOWER, HEX_UPPER):
            text = "".join(_HEX[self.take(4)] for _ in range(n))
            return text.lower() if encoding == HEX_LOWER else text
        if encoding == BASE64_CHARS:
            return "".join(BASE64[self.take(6)] for _ in range(n))
        if encoding == ASCII:
            return "".join(chr(self.take(7)) for _ in range(n))
        raise CompressionProblem("bad_encoding")


def _read_value(reader: _Reader, ai: str) -> str:
    value = []
    for kind, fixed, length in _components(ai):
        if kind == "N":
            count = length if fixed else reader.take(length_bits(length))
            if count > length:
                raise CompressionProblem("bad_length")
            value.append(reader.digits(count))
        else:
            encoding = reader.take(3)
            count = length if fixed else reader.take(length_bits(length))
            if count > length:
                raise CompressionProblem("bad_length")
            value.append(reader.characters(encoding, count))
    return "".join(value)


def decode(segment: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The GS1 element strings (AI, value) and the other key=value pairs, in order, that
    one compressed segment holds.

    :raises CompressionProblem: ``bad_segment`` (not base64, or too long),
        ``unknown_ai``, ``unknown_sequence``, ``truncated``, ``bad_encoding``,
        ``bad_length``, ``bad_value``, ``duplicate``.
    """
    if len(segment) > MAX_SEGMENT or not _SEGMENT.fullmatch(segment):
        raise CompressionProblem("bad_segment")
    return _decode_bits("".join(f"{_INDEX[char]:06b}" for char in segment))


def _decode_bits(bits: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    reader = _Reader(bits)
    elements: list[tuple[str, str]] = []
    others: list[tuple[str, str]] = []
    while reader.left() > 8:  # less is padding
        high, low = reader.take(4), reader.take(4)
        if high <= 9 and low <= 9:
            ai = f"{high}{low}"
            length = AI_LENGTH.get(ai)
            if length is None:
                raise CompressionProblem("unknown_ai")
            for _ in range(length - 2):
                digit = reader.take(4)
                if digit > 9:
                    raise CompressionProblem("unknown_ai")
                ai += str(digit)
            elements.append((ai, _read_value(reader, ai)))
        elif high == 15:
            size = (low << 3) | reader.take(3)
            key = "".join(BASE64[reader.take(6)] for _ in range(size))
            encoding = reader.take(3)
            others.append((key, reader.characters(encoding, reader.take(7))))
        else:
            sequence = SEQUENCES.get(f"{_HEX[high]}{_HEX[low]}")
            if sequence is None:
                raise CompressionProblem("unknown_sequence")
            elements.extend((ai, _read_value(reader, ai)) for ai in sequence)
    if reader.left() and int(bits[reader.at :], 2):
        raise CompressionProblem("bad_value")  # the padding is zeros
    seen = [ai for ai, _value in elements]
    if len(set(seen)) != len(seen):
        raise CompressionProblem("duplicate")
    return elements, others


def is_compressed_path(path: str) -> bool:
    """Whether ``path`` has the shape of a compressed Digital Link (one base64 segment, or
    ``/01/{gtin}/`` and one); a cheap test before :func:`decompress`."""
    segments = path.strip("/").split("/")
    if len(segments) == 3 and segments[0] == "01":
        return bool(_SEGMENT.fullmatch(segments[2]))
    return (
        len(segments) == 1
        and len(segments[0]) >= MIN_SEGMENT
        and bool(_SEGMENT.fullmatch(segments[0]))
    )


def decompress(path: str, query: str = "") -> str:
    """The canonical uncompressed path and query (``/01/…?17=…&k=v``) of a compressed
    request path (and the query it came with, kept after the compressed pairs).

    :raises CompressionProblem: see :func:`decode`; also ``not_gtin`` when the
        identifier is not a GTIN (the only key this resolver serves) and ``bad_path``
        when the path is no compressed Digital Link at all.
    """
    segments = path.strip("/").split("/")
    if len(segments) == 3 and segments[0] == "01":
        gtin = unquote(segments[1])
        elements, others = decode(segments[2])
        if any(ai == "01" for ai, _value in elements):
            raise CompressionProblem("duplicate")
        elements.insert(0, ("01", gtin))
    elif len(segments) == 1:
        if len(segments[0]) < MIN_SEGMENT:
            raise CompressionProblem("bad_segment")
        elements, others = decode(segments[0])
    else:
        raise CompressionProblem("bad_path")
    values = dict(elements)
    if "01" not in values:
        raise CompressionProblem("not_gtin")
    uncompressed = f"/01/{_escape(values['01'])}" + "".join(
        f"/{ai}/{_escape(values[ai])}" for ai in PATH_QUALIFIERS if ai in values
    )
    pairs = [
        f"{ai}={_escape(value)}"
        for ai, value in sorted(elements, key=lambda pair: pair[0])
        if ai != "01" and ai not in PATH_QUALIFIERS
    ]
    pairs.extend(f"{key}={_escape(value)}" for key, value in others)
    if query:
        pairs.append(query)
    return uncompressed + ("?" + "&".join(pairs) if pairs else "")


def _escape(value: str) -> str:
    return quote(value, safe="")


def compress(path: str, query: str = "", *, keep_primary: bool = False) -> str:
    """The compressed form of an uncompressed Digital Link path (``/01/{gtin}/10/{lot}``)
    and query (GS1 data attributes and other pairs, all compressed): ``/{segment}``, or
    ``/01/{gtin}/{segment}`` with ``keep_primary``.

    :raises CompressionProblem: a value that does not fit its AI's format, an unknown
        AI, or a path that is not ``/AI/value`` pairs.
    """
    segments = path.strip("/").split("/")
    if len(segments) % 2:
        raise CompressionProblem("bad_path")
    elements = [(segments[i], unquote(segments[i + 1])) for i in range(0, len(segments), 2)]
    others: list[tuple[str, str]] = []
    for key, value in parse_qsl(query, keep_blank_values=True):
        (elements if key.isdigit() else others).append((key, value))
    head = ""
    if keep_primary:
        (ai, value), elements = elements[0], elements[1:]
        head = f"/{ai}/{_escape(value)}"
    return f"{head}/{encode(elements, others)}"


def encode(elements: Iterable[tuple[str, str]], others: Mapping[str, str] | Iterable = ()) -> str:
    """One compressed segment holding ``elements`` (AI, value) and ``others`` (key, value)."""
    bits = []
    for ai, value in elements:
        if ai[:2] not in AI_LENGTH or AI_LENGTH[ai[:2]] != len(ai) or not ai.isdigit():
            raise CompressionProblem("unknown_ai")
        bits.append("".join(f"{int(digit):04b}" for digit in ai))
        bits.append(_encode_value(ai, value))
    pairs = others.items() if isinstance(others, Mapping) else others
    for key, value in pairs:
        if not key or len(key) > 127 or not _SEGMENT.fullmatch(key):
            raise CompressionProblem("bad_key")
        bits.append(f"1111{len(key):07b}" + "".join(f"{_INDEX[c]:06b}" for c in key))
        encoding, body = _characters(value)
        if len(value) > 127:
            raise CompressionProblem("bad_length")
        bits.append(f"{encoding:03b}{len(value):07b}{body}")
    joined = "".join(bits)
    joined += "0" * (-len(joined) % 6)
    return "".join(BASE64[int(joined[i : i + 6], 2)] for i in range(0, len(joined), 6))


def _number(text: str) -> str:
    return f"{int(text):0{value_bits(len(text))}b}" if text else "0"


def _characters(text: str) -> tuple[int, str]:
    if not text or (text.isascii() and text.isdigit()):
        return NUMERIC, _number(text)
    if re.fullmatch(r"[0-9a-f]+", text):
        return HEX_LOWER, "".join(f"{_HEX.index(c.upper()):04b}" for c in text)
    if re.fullmatch(r"[0-9A-F]+", text):
        return HEX_UPPER, "".join(f"{_HEX.index(c):04b}" for c in text)
    if _SEGMENT.fullmatch(text):
        return BASE64_CHARS, "".join(f"{_INDEX[c]:06b}" for c in text)
    if text.isascii():
        return ASCII, "".join(f"{ord(c):07b}" for c in text)
    raise CompressionProblem("bad_value")


def _encode_value(ai: str, value: str) -> str:
    bits = []
    rest = value
    for index, (kind, fixed, length) in enumerate(_components(ai)):
        last = index == len(_components(ai)) - 1
        take = length if fixed or not last else len(rest)
        part, rest = rest[:take], rest[take:]
        if kind == "N":
            if not ((part.isascii() and part.isdigit()) or (not part and not fixed)):
                raise CompressionProblem("bad_value")
            if fixed:
                if len(part) != length:
                    raise CompressionProblem("bad_length")
                bits.append(_number(part))
            else:
                if len(part) > length:
                    raise CompressionProblem("bad_length")
                bits.append(f"{len(part):0{length_bits(length)}b}{_number(part)}")
        else:
            if len(part) > length or (fixed and len(part) != length):
                raise CompressionProblem("bad_length")
            encoding, body = _characters(part)
            size = "" if fixed else f"{len(part):0{length_bits(length)}b}"
            bits.append(f"{encoding:03b}{size}{body}")
    if rest:
        raise CompressionProblem("bad_length")
    return "".join(bits)
