"""The PDF writer's text pages: what the recall report is written with."""

import io

import pypdfium2 as pdfium

from tracemark.labels.pdf import PAGE_SIZES, text_width, write_text_pdf


def test_text_pages_hold_every_line_in_order_and_cut_long_ones_to_the_page():
    lines = [f"row {i}" for i in range(100)] + ["W" * 400]
    out = io.BytesIO()
    pages = write_text_pdf(lines, out, size=9, leading=12, margin=40)
    document = pdfium.PdfDocument(out.getvalue())
    per_page = int((PAGE_SIZES["A4"][1] - 80) // 12)
    assert pages == len(document) == -(-len(lines) // per_page)
    shown = [line for page in document for line in page.get_textpage().get_text_range().split()]
    assert shown[: 2 * 100 : 2] == ["row"] * 100
    assert shown[1 : 2 * 100 : 2] == [str(i) for i in range(100)]
    last = shown[-1]
    assert last.endswith("…") and 0 < len(last) < 400
    assert text_width(last[:-1].encode()) * 9 <= PAGE_SIZES["A4"][0] - 80


def test_text_outside_winansi_is_written_not_refused():
    out = io.BytesIO()
    assert write_text_pdf(["Lot 批次 (Ürün) \\ done"], out) == 1
    shown = pdfium.PdfDocument(out.getvalue())[0].get_textpage().get_text_range()
    assert "(Ürün) \\ done" in shown
