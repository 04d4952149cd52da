"""The one CSV writer for every export a person opens in a spreadsheet (audit log, boards,
recall impact, analytics).

Spreadsheets read a cell as a formula when it starts with ``=``, ``+``, ``-`` or ``@``
(also after a tab, a carriage return or spaces), and they split lines on the *locale's*
list separator: ``,`` in English, ``;`` in German, French, Spanish or Portuguese. So a
cell is made inert piece by piece: every piece between separators (``,``, ``;`` or a
line break) that would start a formula gets an apostrophe in front, which spreadsheets
show as text (OWASP "CSV injection"). A lot ``X;=1+1`` is written ``X;'=1+1``: whichever
separator the reader splits on, no piece runs. Every cell is also quoted, so a reader
that honours quotes sees one cell. Numbers stay numbers: only text is rewritten.

Label files for industrial printers are not spreadsheet exports and keep their data
byte for byte (``tracemark.labels.render.write_csv``).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator

#: What a spreadsheet reads as the start of a formula (ASCII and full-width forms).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
#: The list separators of the supported locales' spreadsheets.
SEPARATORS = (",", ";")
#: Where a spreadsheet may start a new cell: a separator, or a line break inside a cell
#: (for a reader that does not honour quotes).
_PIECES = re.compile(r"([,;\r\n])")


def neutralise(value: object) -> object:
    """``value`` safe for a spreadsheet whichever separator it splits on: each piece of
    text that would start a formula gets an apostrophe. None is an empty cell; numbers and
    other non-text values are returned as they are."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str):
        return value
    pieces = _PIECES.split(value)
    for index in range(0, len(pieces), 2):  # even indexes are text, odd ones separators
        if pieces[index].lstrip(" ").startswith(FORMULA_STARTS):
            pieces[index] = "'" + pieces[index]
    text = "".join(pieces)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class SafeWriter:
    """A ``csv`` writer whose cells are all quoted and :func:`neutralise`\\ d."""

    def __init__(self, out) -> None:
        self._writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_ALL)

    def writerow(self, cells: Iterable[object]) -> None:
        self._writer.writerow([neutralise(cell) for cell in cells])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def text(header: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    """A whole CSV document: the header line, then the rows."""
    out = io.StringIO()
    writer = SafeWriter(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def lines(header: Iterable[str], rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """The same document one line at a time (for streamed downloads)."""
    out = io.StringIO()
    writer = SafeWriter(out)

    def line(cells: Iterable[object]) -> str:
        out.seek(0)
        out.truncate()
        writer.writerow(cells)
        return out.getvalue()

    yield line(header)
    for row in rows:
        yield line(row)
