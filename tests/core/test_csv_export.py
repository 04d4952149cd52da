"""The shared spreadsheet-safe CSV writer: no cell runs as a formula, whichever list
separator (``,`` or ``;``) the spreadsheet splits lines on."""

from __future__ import annotations

import csv
import io
import re

import pytest

from tracemark import csv_export

HOSTILE = [
    "=1+1",
    "X;=1+1",
    "X,=1+1",
    "a;b,@SUM(A1);c",
    "ok; +cmd|' /C calc'!A0",
    "x;\t=1",
    "x, -2+3",
    "\uff1d1+1",
    '=HYPERLINK("http://evil.example","x")',
    "\r=1",
]


def _starts_formula(piece: str) -> bool:
    return piece.lstrip(' "').startswith(csv_export.FORMULA_STARTS)


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("separator", csv_export.SEPARATORS)
def test_no_piece_runs_whichever_separator_a_spreadsheet_splits_on(value, separator):
    document = csv_export.text(["name"], [[value]])
    # a reader that honours quotes, with the locale's separator
    for row in csv.reader(io.StringIO(document), delimiter=separator):
        assert not any(_starts_formula(cell) for cell in row)
    # and one that splits raw lines on the separator, ignoring quotes
    for line in document.splitlines():
        assert not any(_starts_formula(piece) for piece in line.split(separator))


def test_a_reader_that_honours_quotes_gets_the_cell_back_with_only_apostrophes_added():
    document = csv_export.text(["lot"], [["X;=1+1"], ["plain, text; here"], [None], [12], [-3]])
    rows = list(csv.reader(io.StringIO(document)))
    assert rows == [["lot"], ["X;'=1+1"], ["plain, text; here"], [""], ["12"], ["-3"]]
    assert all(re.fullmatch(r'("[^"]*"(,|$))+', line) for line in document.splitlines())


def test_text_that_is_safe_and_values_that_are_not_text_are_unchanged():
    assert csv_export.neutralise("plain") == "plain"
    assert csv_export.neutralise("a-b;c=d") == "a-b;c=d"
    assert csv_export.neutralise(-5) == -5 and csv_export.neutralise(1.5) == 1.5
    assert csv_export.neutralise(None) == ""
    assert csv_export.neutralise(" =1") == "' =1"


def test_lines_streams_the_same_document_as_text():
    rows = [["a", "=1"], ["b;-1", 2]]
    assert "".join(csv_export.lines(["k", "v"], rows)) == csv_export.text(["k", "v"], rows)
