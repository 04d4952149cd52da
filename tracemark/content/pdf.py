"""Test reports as PDFs that a consumer can open safely: parsed, cleaned and rewritten.

A report is published to consumers who open it in a desktop reader, so an upload is not
trusted for carrying a PDF header. :func:`clean_pdf` parses it with pypdf and refuses
what does not parse, what is encrypted beyond an empty password, and what has no page;
it refuses HTML or SVG markup anywhere in the raw bytes (a polyglot a browser or viewer
could take for a web page); it refuses active content (JavaScript, launch, form
submission, remote go-to, embedded files, XFA forms, rich media, movies, sounds, links
other than http, https and mailto);
it strips the automatic actions (``/OpenAction``, ``/AA``) that remain, which at best
move the view. What it returns is a new file written from the parsed objects alone —
comments, junk between objects and unreferenced objects are gone — and that file is what
is stored, hashed and served.
"""

from __future__ import annotations

import io
import logging
import re

from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, PdfObject

#: Markup that makes a file readable as a web page (case-insensitive).
_MARKUP = re.compile(
    rb"<\s*(?:html|script|svg|iframe|!doctype\s+html|\?xml-stylesheet)[\s>/]",
    re.IGNORECASE,
)
#: Action types (``/S``) that run code, start programs, send data or open other files.
REFUSED_ACTIONS = frozenset(
    {
        "/JavaScript",
        "/Launch",
        "/SubmitForm",
        "/ImportData",
        "/GoToR",
        "/GoToE",
        "/Rendition",
        "/Movie",
        "/Sound",
        "/RichMediaExecute",
    }
)
#: Keys whose mere presence means scripts, embedded files or an XFA form.
REFUSED_KEYS = frozenset(
    {"/JS", "/JavaScript", "/EmbeddedFiles", "/EF", "/XFA", "/RichMediaContent"}
)
#: Annotation subtypes that carry files or media.
REFUSED_ANNOTATIONS = frozenset(
    {"/FileAttachment", "/RichMedia", "/Movie", "/Sound", "/Screen", "/3D"}
)
#: Link targets a report may have (no ``javascript:``, ``file:`` or ``data:`` links).
_SAFE_URI = re.compile(r"(?:https?://|mailto:)", re.IGNORECASE)
#: Automatic actions, stripped when they hold nothing refused.
STRIPPED_KEYS = ("/OpenAction", "/AA")


class PdfRefused(ValueError):
    """The upload cannot be published as a PDF; ``reason`` is ``type`` (not only a PDF),
    ``unreadable`` (does not parse, encrypted, no page) or ``active`` (active content)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def clean_pdf(data: bytes) -> bytes:
    """The PDF rewritten without automatic actions, if it may be published.

    :raises PdfRefused: see the module's description.
    """
    if not data.startswith(b"%PDF-"):
        raise PdfRefused("only PDF documents are accepted", "type")
    if _MARKUP.search(data):
        raise PdfRefused("the file carries HTML or SVG markup besides the PDF", "type")
    writer = _parse(data)
    stripped = _check(writer)
    for holder in stripped:
        for key in STRIPPED_KEYS:
            holder.pop(NameObject(key), None)
    out = io.BytesIO()
    try:
        writer.write(out)
    except (PyPdfError, ValueError, TypeError, KeyError, AttributeError, RecursionError) as error:
        raise PdfRefused(f"the PDF cannot be rewritten: {error}"[:200], "unreadable") from None
    cleaned = out.getvalue()
    if _MARKUP.search(cleaned):  # markup inside a string or a stream that survived
        raise PdfRefused("the file carries HTML or SVG markup besides the PDF", "type")
    _parse(cleaned)  # what is served parses too
    return cleaned


def _parse(data: bytes) -> PdfWriter:
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # warnings on sloppy files are ours
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise PdfRefused("the PDF is encrypted", "unreadable")
        if len(reader.pages) < 1:
            raise PdfRefused("the PDF has no page", "unreadable")
        return PdfWriter(clone_from=reader)
    except PdfRefused:
        raise
    except Exception as error:  # pypdf raises many kinds on broken files
        raise PdfRefused(f"the PDF cannot be read: {error}"[:200], "unreadable") from None


def _check(writer: PdfWriter) -> list[DictionaryObject]:
    """Walk every object reachable from the catalog; refuse active content and return the
    dictionaries holding automatic actions to strip."""
    stripped: list[DictionaryObject] = []
    seen: set[int] = set()
    stack: list[PdfObject] = [writer.root_object]
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            if item.idnum in seen:
                continue
            seen.add(item.idnum)
            try:
                item = item.get_object()
            except Exception:  # any failure to resolve is a broken file
                raise PdfRefused("the PDF has a broken reference", "unreadable") from None
        if isinstance(item, DictionaryObject):
            _judge(item)
            if any(key in item for key in STRIPPED_KEYS):
                stripped.append(item)
            stack.extend(item.values())
        elif isinstance(item, ArrayObject):
            stack.extend(item)
    return stripped


def _judge(item: DictionaryObject) -> None:
    refused = REFUSED_KEYS.intersection(item.keys())
    if refused:
        raise PdfRefused(f"the PDF holds {sorted(refused)[0]}", "active")
    if str(item.get("/S", "")) in REFUSED_ACTIONS:
        raise PdfRefused(f"the PDF holds a {item['/S']} action", "active")
    if str(item.get("/S", "")) == "/URI" and not _SAFE_URI.match(str(item.get("/URI", ""))):
        raise PdfRefused("the PDF links to a script or a local file", "active")
    if str(item.get("/Subtype", "")) in REFUSED_ANNOTATIONS and "/Rect" in item:
        raise PdfRefused(f"the PDF holds a {item['/Subtype']} annotation", "active")
    if str(item.get("/Type", "")) == "/EmbeddedFile":
        raise PdfRefused("the PDF holds an embedded file", "active")
