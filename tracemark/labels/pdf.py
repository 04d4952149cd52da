"""A minimal streaming PDF 1.4 writer, shared by the label sheets and the recall report.

Each page's content stream (zlib) and page object are written when the page is done;
only byte offsets are kept, and the page tree and xref table are written at the end, so
memory stays flat for any page count. Text uses the base-14 Helvetica (not embedded) in
WinAnsiEncoding, measured with its Adobe metrics.
"""

from __future__ import annotations

import zlib
from array import array
from collections.abc import Sequence
from typing import BinaryIO

__all__ = [
    "MM",
    "PAGE_SIZES",
    "PdfWriter",
    "pdf_number",
    "pdf_string",
    "text_width",
    "write_text_pdf",
]

#: One millimetre in PostScript points.
MM = 72 / 25.4
#: Page sizes in PostScript points.
PAGE_SIZES: dict[str, tuple[float, float]] = {
    "A4": (210 * MM, 297 * MM),
    "LETTER": (612.0, 792.0),
}

# Helvetica advance widths (1/1000 em, Adobe AFM) for ASCII 32..126 in WinAnsiEncoding.
_HELVETICA_WIDTHS = (
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
)  # fmt: skip


def text_width(text: bytes) -> float:
    """Width of ``text`` in Helvetica at 1 pt (non-ASCII bytes count as an em/2)."""
    return sum(_HELVETICA_WIDTHS[c - 32] if 32 <= c < 127 else 556 for c in text) / 1000


def pdf_string(text: str) -> bytes:
    """``text`` as the inside of a PDF literal string in WinAnsiEncoding (cp1252; what
    it cannot hold becomes ``?``), its delimiters escaped."""
    raw = text.encode("cp1252", "replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def pdf_number(v: float) -> bytes:
    return (b"%.3f" % v).rstrip(b"0").rstrip(b".")


class PdfWriter:
    """Minimal streaming PDF 1.4 writer: objects go out as soon as they are complete.

    Object numbers: 1 catalog, 2 root page tree, 3 font, then per group of up to
    ``_GROUP`` pages one intermediate /Pages node followed by (content, page) pairs.
    Two levels keep every /Kids array small (readers have array limits) while only
    the group list and the byte offsets (8 bytes per object) are held in memory.
    """

    _GROUP = 256

    def __init__(self, out: BinaryIO, width: float, height: float) -> None:
        self._out = out
        self._pos = 0
        self._offsets = array("Q", [0, 0, 0, 0])  # index = object number; 0 unused
        self._groups: list[int] = []
        self._group_pages: list[int] = []
        self._group_node = 0
        self.pages = 0
        self._page_dict = (
            b"/Type /Page /MediaBox [0 0 %s %s] /Resources << /Font << /F1 3 0 R >>"
            b" /ProcSet [/PDF /Text] >>" % (pdf_number(width), pdf_number(height))
        )
        self._write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        self._object(1, b"<< /Type /Catalog /Pages 2 0 R >>")
        self._object(
            3,
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        )

    def _write(self, data: bytes) -> None:
        self._out.write(data)
        self._pos += len(data)

    def _new_object(self) -> int:
        self._offsets.append(0)
        return len(self._offsets) - 1

    def _object(self, num: int, body: bytes) -> None:
        self._offsets[num] = self._pos
        self._write(b"%d 0 obj\n%s\nendobj\n" % (num, body))

    def add_page(self, compressed_content: bytes) -> None:
        """Write one page whose content stream is ``compressed_content`` (zlib); its
        text may use the font ``/F1`` (Helvetica, WinAnsiEncoding)."""
        if not self._group_pages:
            self._group_node = self._new_object()
            self._groups.append(self._group_node)
        content, page = self._new_object(), self._new_object()
        self._offsets[content] = self._pos
        self._write(
            b"%d 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n"
            % (content, len(compressed_content))
            + compressed_content
            + b"\nendstream\nendobj\n"
        )
        self._object(
            page,
            b"<< %s /Parent %d 0 R /Contents %d 0 R >>"
            % (self._page_dict, self._group_node, content),
        )
        self._group_pages.append(page)
        self.pages += 1
        if len(self._group_pages) == self._GROUP:
            self._close_group()

    def _close_group(self) -> None:
        if self._group_pages:
            kids = b" ".join(b"%d 0 R" % p for p in self._group_pages)
            self._object(
                self._group_node,
                b"<< /Type /Pages /Parent 2 0 R /Kids [%s] /Count %d >>"
                % (kids, len(self._group_pages)),
            )
            self._group_pages = []

    def close(self) -> None:
        """Write the page tree, the xref table and the trailer; the file is complete."""
        self._close_group()
        kids = b" ".join(b"%d 0 R" % g for g in self._groups)
        self._object(2, b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, self.pages))
        xref = self._pos
        size = len(self._offsets)
        self._write(b"xref\n0 %d\n0000000000 65535 f \n" % size)
        for start in range(1, size, 4096):
            self._write(
                b"".join(b"%010d 00000 n \n" % off for off in self._offsets[start : start + 4096])
            )
        self._write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref))


def write_text_pdf(
    lines: Sequence[str],
    out: BinaryIO,
    *,
    page: str = "A4",
    size: float = 9.0,
    leading: float = 12.0,
    margin: float = 40.0,
) -> int:
    """Write ``lines`` as a plain-text PDF to ``out``: Helvetica at ``size`` points, one
    line per line of text, each cut with "…" to the width inside ``margin``, as many
    pages as they need. Returns the page count."""
    width, height = PAGE_SIZES[page]
    writer = PdfWriter(out, width, height)
    per_page = int((height - 2 * margin) // leading)
    for start in range(0, len(lines), per_page):
        ops = [b"BT /F1 %s Tf %s TL %s %s Td" % (
            pdf_number(size), pdf_number(leading), pdf_number(margin), pdf_number(height - margin)
        )]  # fmt: skip
        for line in lines[start : start + per_page]:
            ops.append(b"(%s) Tj T*" % pdf_string(_fit(line, width - 2 * margin, size)))
        ops.append(b"ET")
        writer.add_page(zlib.compress(b"\n".join(ops)))
    writer.close()
    return writer.pages


def _fit(line: str, width: float, size: float) -> str:
    while line and text_width(line.encode("cp1252", "replace")) * size > width:
        line = line[:-2] + "…"
    return line
