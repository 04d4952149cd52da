"""Print-ready labels for product units: QR code + human-readable serial.

This module knows nothing about Flask or SQLAlchemy: its input is an iterable of
:class:`Label` (the URL encoded in the QR code and the caption printed under it).

Per unit outputs (:func:`label_svg`, :func:`label_png`) are rendered by segno from
:func:`make_qr`.  The bulk sheet (:func:`write_pdf_sheet`) lives in
:mod:`tracemark.labels.pdfsheet`, which uses a vectorised encoder that reproduces segno's
matrices bit for bit (it is verified against segno at run time and in the tests)
because segno alone cannot encode 100,000 codes in the time a print job allows.

Why the QR code is split into segments: the signed URLs are mostly QR-alphanumeric
(upper case, digits, ``/ . : -``) with a few byte-only characters (``?`` ``=`` and
lower-case lots).  Encoding the whole URL in byte mode costs 8 bits per character;
alphanumeric mode costs 5.5.  For the typical 192-character URL that is version 8
instead of version 10 at error level M, i.e. 49 instead of 57 modules a side and
30% larger modules at the same print size.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Any, BinaryIO
from xml.sax.saxutils import escape

import segno

__all__ = [
    "ALPHANUMERIC_CHARS",
    "QUIET_ZONE",
    "Label",
    "label_png",
    "label_svg",
    "make_qr",
    "qr_segments",
    "qr_version_for",
    "write_csv",
    "write_pdf_sheet",
]

#: The 45 characters of QR alphanumeric mode (ISO/IEC 18004, table 5), in code order.
ALPHANUMERIC_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_ALNUM_SET = frozenset(ALPHANUMERIC_CHARS)
_DIGITS = frozenset("0123456789")

#: Quiet zone (light border) around every code, in modules, as ISO/IEC 18004 requires.
QUIET_ZONE = 4

#: Error correction level used for every label: M restores ~15% damage, which is the
#: usual trade-off for printed labels (H would push the typical URL to version 11+).
ERROR_LEVEL = "M"

# Data capacity in bits at error level M for versions 1..40 (ISO/IEC 18004 table 7).
_CAPACITY_M = (
    128, 224, 352, 512, 688, 864, 992, 1232, 1456, 1728,
    2032, 2320, 2672, 2920, 3320, 3624, 4056, 4504, 5016, 5352,
    5712, 6256, 6880, 7312, 8000, 8496, 9024, 9544, 10136, 10984,
    11640, 12328, 13048, 13800, 14496, 15312, 15936, 16816, 17728, 18672,
)  # fmt: skip

# Version ranges with their character-count-indicator widths (ISO/IEC 18004 table 3).
_MODE_NUMERIC, _MODE_ALNUM, _MODE_BYTE = "numeric", "alphanumeric", "byte"
_VERSION_RANGES: tuple[tuple[range, dict[str, int]], ...] = (
    (range(1, 10), {_MODE_NUMERIC: 10, _MODE_ALNUM: 9, _MODE_BYTE: 8}),
    (range(10, 27), {_MODE_NUMERIC: 12, _MODE_ALNUM: 11, _MODE_BYTE: 16}),
    (range(27, 41), {_MODE_NUMERIC: 14, _MODE_ALNUM: 13, _MODE_BYTE: 16}),
)


@dataclass(frozen=True, slots=True)
class Label:
    """One label: ``url`` goes into the QR code, ``caption`` (the serial) is printed."""

    url: str
    caption: str
    #: The scratch-off PIN, printed apart from the code (CSV only).
    pin: str | None = None


# --------------------------------------------------------------------------- segments


def _payload_bits(mode: str, n: int) -> int:
    """Bits needed for ``n`` characters in ``mode``, without the segment header."""
    if mode == _MODE_NUMERIC:
        return 10 * (n // 3) + (0, 4, 7)[n % 3]
    if mode == _MODE_ALNUM:
        return 11 * (n // 2) + 6 * (n % 2)
    return 8 * n


def segment_mode(segment: str) -> str:
    """The mode segno guesses for one segment string (numeric < alphanumeric < byte)."""
    if segment.isascii() and segment.isdigit():
        return _MODE_NUMERIC
    if all(c in _ALNUM_SET for c in segment):
        return _MODE_ALNUM
    return _MODE_BYTE


def _runs(text: str) -> list[tuple[str, bool]]:
    """Maximal runs of alphanumeric-mode characters (True) and other characters."""
    runs: list[tuple[str, bool]] = []
    start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or (text[i] in _ALNUM_SET) != (text[start] in _ALNUM_SET):
            runs.append((text[start:i], text[start] in _ALNUM_SET))
            start = i
    return runs


def _best_segmentation(runs: list[tuple[str, bool]], cci: dict[str, int]) -> tuple[int, list[str]]:
    """Cheapest split of ``runs`` for one version range: returns (bits, segments).

    Byte-only runs must be byte mode.  An alphanumeric run is either its own segment
    (numeric if it is all digits, as segno then guesses) or is absorbed by the
    neighbouring byte segment(s) when its mode-switch header costs more than the
    5.5-vs-8 bits per character it saves.  Splitting a run is never cheaper, so a
    dynamic programme over runs with the state "last segment is byte / is not" is exact.
    """
    inf = float("inf")
    # state -> (cost, segments); "B": the last segment is byte mode and can be extended.
    best: dict[str, tuple[float, list[str]]] = {"start": (0, [])}
    byte_header = 4 + cci[_MODE_BYTE]
    for run, is_alnum in runs:
        options: list[tuple[str, float, list[str]]] = []
        for state, (cost, segs) in best.items():
            # As byte: extend the open byte segment or open a new one.
            if state == "B":
                options.append(("B", cost + 8 * len(run), [*segs[:-1], segs[-1] + run]))
            else:
                options.append(("B", cost + byte_header + 8 * len(run), [*segs, run]))
            if is_alnum:
                mode = _MODE_NUMERIC if run.isdigit() else _MODE_ALNUM
                bits = 4 + cci[mode] + _payload_bits(mode, len(run))
                options.append(("A", cost + bits, [*segs, run]))
        best = {}
        for state, cost, segs in options:
            if cost < best.get(state, (inf, []))[0]:
                best[state] = (cost, segs)
    cost, segs = min(best.values(), key=lambda item: item[0])
    return int(cost), segs


def _split(url: str) -> tuple[int, list[str]]:
    """(version, segments) at level M: the smallest version over all version ranges."""
    runs = _runs(url)
    for versions, cci in _VERSION_RANGES:
        bits, segs = _best_segmentation(runs, cci)
        for version in versions:
            if bits <= _CAPACITY_M[version - 1]:
                return version, segs
    raise ValueError(f"URL of {len(url)} characters does not fit in a QR code at level M")


def qr_segments(url: str) -> list[str]:
    """Split ``url`` into segments that segno encodes in the cheapest mix of modes.

    segno guesses each segment's mode from its content, so the returned strings are
    chosen such that the guess is the intended mode: alphanumeric runs stay separate,
    short ones are merged into the byte segment next to them when the extra header
    (4 bits mode + 9..13 bits count) outweighs the saving.
    """
    if not url:
        raise ValueError("empty URL")
    return _split(url)[1]


def qr_version_for(url: str) -> int:
    """QR version (level M) that :func:`make_qr` will produce for ``url``."""
    return _split(url)[0]


def make_qr(url: str, *, mask: int | None = None) -> segno.QRCode:
    """QR code for ``url`` at level M, mixed-mode segments, best mask unless ``mask``.

    ``boost_error=False`` keeps level M even when a higher level would fit: all codes
    of a batch then share version and layout, which the bulk encoder relies on.
    """
    return segno.make(
        qr_segments(url), error=ERROR_LEVEL, boost_error=False, micro=False, mask=mask
    )


# --------------------------------------------------------------------------- per unit


def label_svg(label: Label, *, module_px: int = 4, caption: bool = True) -> str:
    """Standalone SVG: the QR (one path, 4-module quiet zone) and the serial under it.

    Dark modules are merged into horizontal runs, so a scanner-friendly vector file
    stays small; the caption is a plain ``<text>`` element (font substitution is
    harmless for a serial).
    """
    qr = make_qr(label.url)
    size = len(qr.matrix)
    side = size + 2 * QUIET_ZONE
    parts: list[str] = []
    for y, row in enumerate(qr.matrix):
        x = 0
        while x < size:
            if row[x]:
                start = x
                while x < size and row[x]:
                    x += 1
                parts.append(f"M{start + QUIET_ZONE} {y + QUIET_ZONE}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    caption_h = 6 if caption else 0
    width = side * module_px
    height = (side + caption_h) * module_px
    text = ""
    if caption:
        text = (
            f'<text x="{side / 2:g}" y="{side + 3.5:g}" font-family="Helvetica, Arial, sans-serif"'
            f' font-size="4" text-anchor="middle" fill="#000">{escape(label.caption)}</text>'
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
        f' viewBox="0 0 {side} {side + caption_h}">'
        f'<rect width="{side}" height="{side + caption_h}" fill="#fff"/>'
        f'<path fill="#000" shape-rendering="crispEdges" d="{"".join(parts)}"/>'
        f"{text}</svg>\n"
    )


def label_png(label: Label, *, scale: int = 8) -> bytes:
    """PNG of the QR code (4-module quiet zone), ``scale`` pixels per module.

    No caption: PNGs go to systems that print their own text (and a raster caption
    would need a font file that the servers do not ship).
    """
    buf = io.BytesIO()
    make_qr(label.url).save(buf, kind="png", scale=scale, border=QUIET_ZONE)
    return buf.getvalue()


# --------------------------------------------------------------------------- bulk


def write_csv(labels: Iterable[Label], out: IO[str], *, with_pin: bool = False) -> int:
    """CSV (``serial,url``, and ``pin`` when asked, with a header); returns the row count.

    Industrial printers (thermal transfer, inkjet coders) render the code themselves
    from the data; the csv module handles quoting of any odd caption.
    """
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("serial", "url", "pin") if with_pin else ("serial", "url"))
    count = 0
    for label in labels:
        row = (
            (label.caption, label.url, label.pin or "") if with_pin else (label.caption, label.url)
        )
        writer.writerow(row)
        count += 1
    return count


def write_pdf_sheet(labels: Iterable[Label], out: BinaryIO, **options: Any) -> int:
    """Stream a PDF label sheet to ``out``; options as
    :func:`tracemark.labels.pdfsheet.write_pdf_sheet`.

    Imported on use: numpy is needed for sheets only.
    """
    from tracemark.labels import pdfsheet

    return pdfsheet.write_pdf_sheet(labels, out, **options)
