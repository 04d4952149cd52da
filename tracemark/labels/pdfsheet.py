"""Streaming PDF label sheets.

Pages go to :class:`tracemark.labels.pdf.PdfWriter` as they are rendered, so the file is
written as it goes.  With ``workers > 1`` pages are rendered in a process
pool (ordered, bounded look-ahead), so memory stays flat for any label count.
QR matrices come from :mod:`tracemark.labels.qrbatch`.
"""

from __future__ import annotations

import functools
import itertools
import os
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import BinaryIO

import numpy as np

from tracemark.labels.pdf import MM, PAGE_SIZES, PdfWriter, pdf_number, pdf_string, text_width
from tracemark.labels.qrbatch import MAX_FAST_VERSION, Encoder, template
from tracemark.labels.render import (
    QUIET_ZONE,
    Label,
)
from tracemark.parallel import ordered_map

__all__ = ["PAGE_SIZES", "write_pdf_sheet"]

#: Smallest printed module we accept; below that, office printers blur the code.
MIN_MODULE_MM = 0.25
#: Labels encoded per task (and so per pool round trip).
_LABELS_PER_CHUNK = 512


# --------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class _Layout:
    """Geometry of one sheet; every length in points, origin bottom-left."""

    width: float
    height: float
    columns: int
    rows: int
    margin: float
    gap: float
    cut_marks: bool

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    @property
    def cell(self) -> tuple[float, float]:
        w = (self.width - 2 * self.margin - (self.columns - 1) * self.gap) / self.columns
        h = (self.height - 2 * self.margin - (self.rows - 1) * self.gap) / self.rows
        return w, h

    @property
    def font_size(self) -> float:
        return max(4.0, min(9.0, self.cell[1] * 0.07))

    def qr_side(self) -> float:
        """Side of the code incl. quiet zone: the cell minus the caption band."""
        w, h = self.cell
        return min(w, h - 1.6 * self.font_size)

    def check(self, symbol_size: int) -> float:
        """Module size in points; refuses grids that would print unreadably small."""
        module = self.qr_side() / (symbol_size + 2 * QUIET_ZONE)
        if module < MIN_MODULE_MM * MM:
            raise ValueError(
                f"{self.columns}x{self.rows} grid gives {module / MM:.2f} mm modules for a"
                f" {symbol_size}-module code; need >= {MIN_MODULE_MM} mm: use fewer cells"
            )
        return module

    def cut_mark_ops(self) -> bytes:
        """Hairline ticks in the page margin at every cell edge (for guillotine cutting)."""
        if not self.cut_marks or self.margin < 3 * MM:
            return b""
        w, h = self.cell
        length = min(5 * MM, self.margin - MM)
        ops = [b"q 0.25 w 0 G"]
        for c in range(self.columns):
            for x in (self.margin + c * (w + self.gap), self.margin + c * (w + self.gap) + w):
                for y0 in (0.0, self.height - length):
                    ops.append(
                        b"%s %s m %s %s l"
                        % (pdf_number(x), pdf_number(y0), pdf_number(x), pdf_number(y0 + length))
                    )
        for r in range(self.rows):
            top = self.height - self.margin - r * (h + self.gap)
            for y in (top, top - h):
                for x0 in (0.0, self.width - length):
                    ops.append(
                        b"%s %s m %s %s l"
                        % (pdf_number(x0), pdf_number(y), pdf_number(x0 + length), pdf_number(y))
                    )
        ops.append(b"S Q\n")
        return b"\n".join(ops)


def _runs_by_label(mats: np.ndarray, tokens: np.ndarray) -> list[list[bytes]]:
    """Horizontal dark runs of each matrix as ``re`` operators (row by row)."""
    batch, n, _ = mats.shape
    padded = np.zeros((batch, n, n + 2), dtype=np.int8)
    padded[:, :, 1:-1] = mats
    # Edges alternate start, end along each row, and nonzero() walks rows in order.
    lab, row, col = np.nonzero(np.diff(padded, axis=2))
    lab, row, start = lab[::2], row[::2], col[::2]
    ops = tokens[(row * n + start) * n + (col[1::2] - start - 1)].tolist()
    bounds = np.searchsorted(lab, np.arange(batch + 1)).tolist()
    return [ops[bounds[i] : bounds[i + 1]] for i in range(batch)]


def _render_pages(
    labels: Sequence[tuple[str, str]], layout: _Layout, level: int, encoder: Encoder
) -> list[bytes]:
    """Compressed content streams for consecutive whole pages of ``labels``."""
    mats = encoder.matrices([url for url, _ in labels])
    by_size: dict[int, list[int]] = {}
    for i, m in enumerate(mats):
        by_size.setdefault(m.shape[0], []).append(i)
    ops: list[list[bytes]] = [[] for _ in labels]
    for size, members in by_size.items():
        tokens = _template_tokens(size)
        for i, runs in zip(
            members, _runs_by_label(np.stack([mats[i] for i in members]), tokens), strict=True
        ):
            ops[i] = runs
    cell_w, cell_h = layout.cell
    side = layout.qr_side()
    fs = layout.font_size
    marks = layout.cut_mark_ops()
    pages: list[bytes] = []
    for first in range(0, len(labels), layout.per_page):
        parts: list[bytes] = [marks]
        for k in range(first, min(first + layout.per_page, len(labels))):
            slot = k - first
            col, row = slot % layout.columns, slot // layout.columns
            left = layout.margin + col * (cell_w + layout.gap)
            top = layout.height - layout.margin - row * (cell_h + layout.gap)
            size = mats[k].shape[0]
            module = layout.check(size)
            x0 = left + (cell_w - side) / 2 + QUIET_ZONE * module
            y0 = top - QUIET_ZONE * module
            parts.append(
                b"q %s 0 0 -%s %s %s cm\n"
                % (pdf_number(module), pdf_number(module), pdf_number(x0), pdf_number(y0))
            )
            parts.extend(ops[k])
            caption = pdf_string(labels[k][1])
            cfs = min(fs, 0.95 * cell_w / max(text_width(caption), 1e-6))
            tx = left + (cell_w - cfs * text_width(caption)) / 2
            ty = top - side - 1.1 * fs
            parts.append(
                b"f Q\nBT /F1 %s Tf %s %s Td (%s) Tj ET\n"
                % (pdf_number(cfs), pdf_number(tx), pdf_number(ty), caption)
            )
        pages.append(zlib.compress(b"".join(parts), level))
    return pages


def _template_tokens(size: int) -> np.ndarray:
    return (
        template((size - 17) // 4).rect_tokens()
        if size <= 17 + 4 * MAX_FAST_VERSION
        else _big_tokens(size)
    )


@cache
def _big_tokens(size: int) -> np.ndarray:
    toks = np.empty(size**3, dtype=object)
    for y, x in itertools.product(range(size), range(size)):
        for w in range(1, size - x + 1):
            toks[(y * size + x) * size + w - 1] = b"%d %d %d 1 re\n" % (x, y, w)
    return toks


# Worker-process state: one encoder (plan cache, templates) per process.
_WORKER_ENCODER: Encoder | None = None


def _worker_render(labels: list[tuple[str, str]], layout: _Layout, level: int) -> list[bytes]:
    global _WORKER_ENCODER
    if _WORKER_ENCODER is None:
        _WORKER_ENCODER = Encoder()
    return _render_pages(labels, layout, level, _WORKER_ENCODER)


def _chunks(labels: Iterable[Label], size: int) -> Iterator[list[tuple[str, str]]]:
    it = iter(labels)
    while chunk := [(lab.url, lab.caption) for lab in itertools.islice(it, size)]:
        yield chunk


def write_pdf_sheet(
    labels: Iterable[Label],
    out: BinaryIO,
    *,
    page: str = "A4",
    columns: int = 4,
    rows: int = 6,
    margin_mm: float = 10.0,
    gap_mm: float = 3.0,
    cut_marks: bool = False,
    progress: Callable[[int, int | None], None] | None = None,
    workers: int | None = None,
    compress_level: int = 6,
) -> int:
    """Write a label sheet PDF to ``out`` (only ``out.write`` is used); return the count.

    Each cell holds one code drawn as vector rectangles (horizontal runs of dark
    modules, one filled path per code, so it stays sharp at any printer resolution)
    scaled to fill the cell above the caption with a 4-module quiet zone, and the
    serial centred under it in Helvetica (base-14, not embedded).  ``labels`` is
    consumed lazily and pages are written as soon as they are rendered, so memory is
    flat for any count; ``progress(done, total)`` is called after every page, with
    ``total`` None when ``labels`` has no ``len()``.

    ``workers``: processes rendering pages in parallel (default: CPU count; 1 = in
    this process).  Small jobs (one chunk) never start a pool.  The pool uses the
    "spawn" start method: forking a threaded web server process is unsafe.  Output
    is byte-identical whatever the worker count.

    ``compress_level``: zlib level of the content streams; 6 gives ~1.3 KB per label,
    1 is ~4x faster to compress but ~2.1 KB per label.

    Masks are chosen per code by the full ISO/IEC 18004 penalty evaluation (cheap
    here), so print robustness is the same as segno's own choice.  qpdf may warn
    "input stream is complete but output may still be valid" on a content stream
    whose inflated size hits its buffer boundary; the streams are complete.
    """
    try:
        width, height = PAGE_SIZES[page.upper()]
    except KeyError:
        raise ValueError(f"unknown page size {page!r}; use one of {sorted(PAGE_SIZES)}") from None
    if columns < 1 or rows < 1:
        raise ValueError("columns and rows must be >= 1")
    layout = _Layout(width, height, columns, rows, margin_mm * MM, gap_mm * MM, cut_marks)
    cell_w, cell_h = layout.cell
    if cell_w <= 0 or cell_h <= 0:
        raise ValueError("margins and gaps leave no room for the labels")
    layout.check(21)  # even a version-1 code must be printable at this grid
    total = len(labels) if hasattr(labels, "__len__") else None  # type: ignore[arg-type]
    pages_per_chunk = max(1, -(-_LABELS_PER_CHUNK // layout.per_page))
    chunks = _chunks(labels, pages_per_chunk * layout.per_page)
    writer = PdfWriter(out, width, height)
    done = 0

    def emit(chunk_len: int, pages: list[bytes]) -> None:
        nonlocal done
        for i, content in enumerate(pages):
            writer.add_page(content)
            done += min(layout.per_page, chunk_len - i * layout.per_page)
            if progress is not None:
                progress(done, total)

    n_workers = workers if workers is not None else (os.cpu_count() or 1)
    first = next(chunks, None)
    second = next(chunks, None) if first is not None else None
    if first is not None and (second is None or n_workers <= 1):
        encoder = Encoder()
        for chunk in itertools.chain([first], [second] if second else [], chunks):
            emit(len(chunk), _render_pages(chunk, layout, compress_level, encoder))
    elif first is not None:
        render = functools.partial(_worker_render, layout=layout, level=compress_level)
        chunks = itertools.chain([first, second], chunks)
        # bounded look-ahead keeps memory flat
        for chunk, pages in ordered_map(render, chunks, workers=n_workers, ahead=2 * n_workers):
            emit(len(chunk), pages)
    writer.close()
    return done
