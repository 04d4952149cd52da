"""Test reports are parsed and rewritten: no polyglot, no unparsable file, no active
content reaches a consumer's PDF reader, and the stored hash is that of what is served."""

from __future__ import annotations

import hashlib
import io

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.annotations import Link
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

from tests.conftest import PDF, one_page_pdf
from tracemark.content import pdf
from tracemark.content import stories as content


def _js(script: str = "app.alert('hi')") -> DictionaryObject:
    return DictionaryObject(
        {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject(script)}
    )


def _written(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _page_writer() -> PdfWriter:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    return writer


def _with_annotation(annotation: dict) -> bytes:
    writer = _page_writer()
    entries = {NameObject(k): v for k, v in annotation.items()}
    entries[NameObject("/Type")] = NameObject("/Annot")
    entries[NameObject("/Rect")] = ArrayObject([FloatObject(v) for v in (10, 10, 100, 100)])
    writer.add_annotation(0, DictionaryObject(entries))
    return _written(writer)


def _launch_link() -> bytes:
    writer = _page_writer()
    link = Link(rect=(10, 10, 100, 100), url="https://lab.example.com/")
    link[NameObject("/A")] = DictionaryObject(
        {NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("cmd.exe")}
    )
    writer.add_annotation(0, link)
    return _written(writer)


def _names_javascript() -> bytes:
    writer = _page_writer()
    tree = DictionaryObject(
        {NameObject("/Names"): ArrayObject([TextStringObject("start"), writer._add_object(_js())])}
    )
    writer.root_object[NameObject("/Names")] = DictionaryObject({NameObject("/JavaScript"): tree})
    return _written(writer)


def _attachment() -> bytes:
    writer = _page_writer()
    writer.add_attachment("invoice.exe", b"MZ\x90\x00")
    return _written(writer)


def _xfa() -> bytes:
    writer = _page_writer()
    writer.root_object[NameObject("/AcroForm")] = DictionaryObject(
        {
            NameObject("/Fields"): ArrayObject(),
            NameObject("/XFA"): writer._add_object(DictionaryObject()),
        }
    )
    return _written(writer)


def _page_action() -> bytes:
    writer = _page_writer()
    writer.pages[0][NameObject("/AA")] = DictionaryObject({NameObject("/O"): _js()})
    return _written(writer)


def _link_to(uri: str) -> bytes:
    writer = _page_writer()
    writer.add_annotation(0, Link(rect=(10, 10, 100, 100), url=uri))
    return _written(writer)


ACTIVE = {
    "javascript link": lambda: _link_to("javascript:app.alert(1)"),
    "file link": lambda: _link_to("file:///C:/Windows/System32/calc.exe"),
    "open-action javascript": lambda: one_page_pdf(OpenAction=_js()),
    "names javascript": _names_javascript,
    "page open javascript": _page_action,
    "launch link": _launch_link,
    "embedded file": _attachment,
    "xfa form": _xfa,
    "rich media": lambda: _with_annotation({"/Subtype": NameObject("/RichMedia")}),
    "file attachment annotation": lambda: _with_annotation(
        {"/Subtype": NameObject("/FileAttachment")}
    ),
    "submit form": lambda: _with_annotation(
        {
            "/Subtype": NameObject("/Link"),
            "/A": DictionaryObject(
                {
                    NameObject("/S"): NameObject("/SubmitForm"),
                    NameObject("/F"): TextStringObject("https://evil.example/"),
                }
            ),
        }
    ),
}


@pytest.mark.parametrize("make", ACTIVE.values(), ids=ACTIVE.keys())
def test_active_content_is_refused(make):
    data = make()
    PdfReader(io.BytesIO(data))  # a well-formed PDF: only its content is refused
    with pytest.raises(pdf.PdfRefused) as refused:
        pdf.clean_pdf(data)
    assert refused.value.reason == "active"


def test_an_automatic_go_to_is_stripped_and_the_served_file_is_what_is_hashed(db, demo):
    go_to = ArrayObject([NumberObject(0), NameObject("/Fit")])
    writer = _page_writer()
    writer.root_object[NameObject("/OpenAction")] = go_to
    writer.pages[0][NameObject("/AA")] = DictionaryObject(
        {NameObject("/O"): DictionaryObject({NameObject("/S"): NameObject("/GoTo")})}
    )
    upload = _written(writer)
    cleaned = pdf.clean_pdf(upload)
    reader = PdfReader(io.BytesIO(cleaned))
    assert "/OpenAction" not in reader.trailer["/Root"] and "/AA" not in reader.pages[0]
    assert pdf.clean_pdf(cleaned) == cleaned
    with db.sessions.begin() as session:
        batch = session.merge(demo.batch)
        document = content.attach_document(session, batch, "Report", upload, filename="r.pdf")
        served = content.document_data(session, document)
        assert served == cleaned
        assert (document.sha256, document.size) == (
            hashlib.sha256(served).hexdigest(),
            len(served),
        )


def _with_comment(comment: bytes) -> bytes:
    head, rest = PDF.split(b"\n", 1)
    return head + b"\n%" + comment + b"\n" + rest


POLYGLOTS = {
    "html in a comment": _with_comment(b"<html><body><script>alert(document.domain)</script>"),
    "svg in a comment": _with_comment(b'<svg xmlns="http://www.w3.org/2000/svg" onload="x()">'),
    "doctype": _with_comment(b"<!DOCTYPE html>"),
    "html after the end": PDF + b"<script>fetch('/admin')</script>",
    "html first": b"<html><script>alert(1)</script></html>\n" + PDF,
}


@pytest.mark.parametrize("data", POLYGLOTS.values(), ids=POLYGLOTS.keys())
def test_html_and_svg_polyglots_are_refused(data):
    with pytest.raises(pdf.PdfRefused) as refused:
        pdf.clean_pdf(data)
    assert refused.value.reason == "type"


def test_markup_in_an_uncompressed_content_stream_is_refused():
    writer = _page_writer()
    page = writer.pages[0]
    stream = writer._add_object(pdf_stream(b"BT (<script>alert(1)</script>) Tj ET"))
    page[NameObject("/Contents")] = stream
    with pytest.raises(pdf.PdfRefused, match="markup"):
        pdf.clean_pdf(_written(writer))


def pdf_stream(data: bytes):
    from pypdf.generic import StreamObject

    stream = StreamObject()
    stream.set_data(data)
    return stream


def _encrypted(user_password: str) -> bytes:
    writer = _page_writer()
    writer.encrypt(user_password=user_password, owner_password="owner secret", algorithm="AES-128")
    return _written(writer)


UNREADABLE = {
    "header only": b"%PDF-1.4\n% test report\n%%EOF\n",
    "header and junk": b"%PDF-1.7\n" + b"\x00\xff" * 200 + b"\n%%EOF\n",
    "no page": _written(PdfWriter()),
    "truncated": PDF[: len(PDF) // 3],
    "password needed": _encrypted("open sesame"),
}


@pytest.mark.parametrize("data", UNREADABLE.values(), ids=UNREADABLE.keys())
def test_pdfs_that_do_not_parse_are_refused(data):
    with pytest.raises(pdf.PdfRefused) as refused:
        pdf.clean_pdf(data)
    assert refused.value.reason == "unreadable"


def test_a_pdf_locked_only_against_editing_is_served_without_encryption():
    cleaned = pdf.clean_pdf(_encrypted(""))
    reader = PdfReader(io.BytesIO(cleaned))
    assert not reader.is_encrypted and len(reader.pages) == 1


@pytest.mark.parametrize("uri", ["https://lab.example.com/", "mailto:lab@example.com"])
def test_links_to_web_pages_and_mail_stay(uri):
    cleaned = pdf.clean_pdf(_link_to(uri))
    annotation = PdfReader(io.BytesIO(cleaned)).pages[0]["/Annots"][0].get_object()
    assert annotation["/A"]["/URI"] == uri
