"""Stories, pictures and test reports in the admin app, and what the portal then shows."""

from __future__ import annotations

import hashlib
import io
import re
import secrets
from dataclasses import dataclass

import pytest
from PIL import Image as Pillow
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject, TextStringObject
from sqlalchemy import func, select

from tests.conftest import PASSPHRASE, PDF, one_page_pdf
from tests.helpers.admin import (
    ROLES,
    Catalog,
    assert_no_inline_code,
    audit_actions_for,
    base,
    csrf_token,
    errors_of,
    signed_in,
)
from tests.helpers.content import GPS_TAG, assert_harmless, photo
from tracemark.codes import issuance
from tracemark.codes.printing import batch_urls
from tracemark.content import images
from tracemark.content import stories as content
from tracemark.content.pdf import clean_pdf
from tracemark.models import Batch, BatchStory, Document, Image, Product, PublishState

UNREADABLE = "This PDF cannot be read. Save it again from the program that made it."
ACTIVE = (
    "This PDF holds scripts, embedded files or other active content. Save it without them "
    "(for example by printing it to a new PDF)."
)
SCRIPT = DictionaryObject(
    {
        NameObject("/S"): NameObject("/JavaScript"),
        NameObject("/JS"): TextStringObject("app.launchURL('https://evil.example/')"),
    }
)
_STORY = re.compile(r'<section class="story"[^>]*>.*?</section>', re.DOTALL)


@dataclass
class Content:
    """One of everything in the shop's brand and in the other brand."""

    story_locale: str
    image_id: int  # a product picture
    story_image_id: int
    document_id: int
    other_image_id: int
    other_document_id: int
    other_batch_id: int


@pytest.fixture
def stock(db, shop: Catalog) -> Content:
    with db.sessions.begin() as session:
        batch, product = session.get(Batch, shop.batch_id), session.get(Product, shop.product_id)
        content.add_story(session, batch, "de", "Ernte", "Im Oktober gepflückt.")
        image = images.add_image(session, product, photo((20, 20)), "Bottle")
        story_image = images.add_image(session, batch, photo((30, 20)), "Grove")
        document = content.attach_document(session, batch, "Report", PDF, filename="r.pdf")
        other_batch = session.get(Batch, shop.other_batch_id)
        other_product = session.get(Product, shop.other_product_id)
        content.add_story(session, other_batch, "de", "Fremd", "x")
        other_image = images.add_image(session, other_product, photo((10, 10)))
        other_document = content.attach_document(session, other_batch, "R", PDF, filename="r.pdf")
        session.flush()
        return Content(
            "de",
            image.id,
            story_image.id,
            document.id,
            other_image.id,
            other_document.id,
            other_batch.id,
        )


def _png(size=(8, 8)) -> bytes:
    out = io.BytesIO()
    Pillow.new("RGB", size, (10, 200, 30)).save(out, "PNG")
    return out.getvalue()


def _writes(shop: Catalog, stock: Content) -> list[tuple[str, dict]]:
    """Every content route that changes something, with a valid submission."""
    batch = f"{base(shop)}/batches/{shop.batch_id}"
    return [
        (f"{batch}/stories/de", {"title": "Ernte 2026", "body": "Neu."}),
        (f"{batch}/stories/de/state", {"state": "published"}),
        (f"{batch}/images", {"file": (io.BytesIO(_png()), "a.png"), "alt": "A"}),
        (f"{base(shop)}/products/{shop.product_id}/images",
         {"file": (io.BytesIO(_png()), "b.png")}),
        (f"{base(shop)}/images/{stock.image_id}/state", {"state": "published"}),
        (f"{batch}/documents", {"file": (io.BytesIO(PDF), "r.pdf"), "title": "Lab"}),
        (f"{base(shop)}/documents/{stock.document_id}/state", {"state": "published"}),
    ]  # fmt: skip


def _reads(shop: Catalog, stock: Content) -> list[str]:
    batch = f"{base(shop)}/batches/{shop.batch_id}"
    return [
        f"{batch}/stories/de",
        f"{batch}/stories/fr",  # none yet
        f"{batch}/stories/de/preview",
        f"{base(shop)}/documents/{stock.document_id}",
        batch,
        f"{base(shop)}/products/{shop.product_id}",
    ]


#: role -> (GET status, POST statuses) on every content route.
EXPECTED = {
    "owner": (200, {303}),
    "staff": (200, {303}),
    "marketing": (200, {403}),
    "regulator": (200, {403}),
    "outsider": (404, {404}),
}


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(app, db, shop, stock, role):
    client = signed_in(app, shop, role)
    token = csrf_token(client, "/admin/")
    get_status, post_statuses = EXPECTED[role]
    for path in _reads(shop, stock):
        page = client.get(path)
        assert page.status_code == get_status, (role, path)
        html = page.get_data().decode(errors="replace")  # a PDF among the pages
        if role in ("marketing", "regulator"):
            assert '<form class="admin-form' not in html and 'class="admin-inline"' not in html
    before = _counts(db)
    for path, data in _writes(shop, stock):
        answer = client.post(path, data={"csrf_token": token, **data})
        assert answer.status_code in post_statuses, (role, path, answer.status_code)
        if answer.status_code == 403:
            assert "Only the brand&#39;s owners and staff" in answer.get_data(as_text=True)
    if role not in ("owner", "staff"):
        assert _counts(db) == before


def _counts(db) -> tuple:
    with db.sessions() as session:
        return (
            session.scalar(select(func.count()).select_from(Image)),
            session.scalar(select(func.count()).select_from(Document)),
            tuple(session.execute(select(BatchStory.title, BatchStory.state)).all()),
            tuple(session.execute(select(Image.state)).scalars()),
            tuple(session.execute(select(Document.state)).scalars()),
        )


def test_another_brands_content_is_not_found_under_my_brand(app, db, shop, stock):
    client = signed_in(app, shop)
    token = csrf_token(client, "/admin/")
    state = {"csrf_token": token, "state": "published"}
    before = _counts(db)
    for path in (
        f"{base(shop)}/batches/{stock.other_batch_id}/stories/de",
        f"{base(shop)}/batches/{stock.other_batch_id}/stories/de/preview",
        f"{base(shop)}/documents/{stock.other_document_id}",
        f"{base(shop)}/batches/{shop.batch_id}/stories/xx",
    ):
        assert client.get(path).status_code == 404, path
    for path in (
        f"{base(shop)}/batches/{stock.other_batch_id}/stories/de",
        f"{base(shop)}/batches/{stock.other_batch_id}/stories/de/state",
        f"{base(shop)}/batches/{stock.other_batch_id}/images",
        f"{base(shop)}/batches/{stock.other_batch_id}/documents",
        f"{base(shop)}/products/{shop.other_product_id}/images",
        f"{base(shop)}/images/{stock.other_image_id}/state",
        f"{base(shop)}/documents/{stock.other_document_id}/state",
        f"{base(shop)}/images/{stock.story_image_id}/state",  # a story picture has no state
    ):
        data = {**state, "title": "x", "body": "y", "file": (io.BytesIO(PDF), "r.pdf")}
        assert client.post(path, data=data).status_code == 404, path
    assert _counts(db) == before


def _code_path(db, shop: Catalog) -> str:
    issuance.issue(db.sessions, shop.batch_id, 1, PASSPHRASE)
    with db.sessions() as session:
        url = next(batch_urls(session, session.get(Batch, shop.batch_id), "http://x"))[1]
    return url[url.index("/01/") :]


def _submit(client, path: str, data: dict, **kwargs):
    return client.post(path, data={"csrf_token": csrf_token(client, "/admin/"), **data}, **kwargs)


def test_a_story_is_written_previewed_published_and_withdrawn(app, db, shop, stock):
    code = _code_path(db, shop)
    portal = app.test_client()
    admin = signed_in(app, shop, "staff")
    editor = f"{base(shop)}/batches/{shop.batch_id}/stories/fr"
    body = (
        "Cueillies **en octobre** sur les collines.\n\n"
        f"![L'oliveraie](image:{stock.story_image_id})\n\n"
        "- pressée à froid\n- filtrée\n\n[Notre moulin](https://acme.example/moulin)"
    )
    missing = _submit(admin, editor, {"title": "", "body": body})
    assert missing.status_code == 200 and list(errors_of(missing)) == ["title"]
    saved = _submit(admin, editor, {"title": "Récolte 2026", "body": body})
    assert saved.status_code == 303
    french = {"Accept-Language": "fr"}

    def story_on_portal():
        page = portal.get(code, headers=french).get_data(as_text=True)
        found = _STORY.search(page)
        return found.group(0) if found else None

    assert story_on_portal() is None  # a draft
    preview = admin.get(f"{editor}/preview", headers=french)
    assert preview.status_code == 200
    previewed = _STORY.search(preview.get_data(as_text=True)).group(0)
    assert previewed.startswith('<section class="story" lang="fr">')
    assert "<strong>en octobre</strong>" in previewed and 'rel="nofollow noopener"' in previewed
    # the story's picture: visible to the brand's members while a draft, not to the public
    src = re.search(r'<img src="([^"]+)" width="30" height="20"', previewed).group(1)
    assert admin.get(src).status_code == 200 and portal.get(src).status_code == 404

    assert _submit(admin, f"{editor}/state", {"state": "published"}).status_code == 303
    assert story_on_portal() == previewed  # exactly what the preview showed
    served = portal.get(src)
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert hashlib.sha256(served.data).hexdigest() in src
    assert portal.get(src, headers={"If-None-Match": served.headers["ETag"]}).status_code == 304

    edited = _submit(admin, editor, {"title": "Récolte 2026", "body": "Nouveau texte."})
    assert edited.status_code == 303
    assert "Nouveau texte." in story_on_portal()  # stays published when edited
    assert portal.get(src).status_code == 404  # no published story shows the picture now

    assert _submit(admin, f"{editor}/state", {"state": "draft"}).status_code == 303
    assert story_on_portal() is None
    actions = [
        (e.action, e.details.get("state"))
        for e in audit_actions_for(db, shop.brand.id, "story.state")
    ]
    assert actions == [("story.state", "published"), ("story.state", "draft")]
    saves = audit_actions_for(db, shop.brand.id, "story.save")
    assert [e.details.get("title") for e in saves] == ["Récolte 2026", None]
    edit = b"Nouveau texte."
    assert saves[1].details == {"locale": "fr", "body_length": len(edit),
                                "body_sha256": hashlib.sha256(edit).hexdigest()}  # fmt: skip


XSS = (
    "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n"
    "[a](javascript:alert(1)) [b](JAVASCRIPT:alert(1)) [c](data:text/html,<script>)\n\n"
    "![d](data:image/png;base64,iVBORw0KGgo=) ![e](https://evil.example/x.png)\n\n"
    '<a href="javascript:alert(1)" onclick="alert(1)">f</a> <svg onload=alert(1)>'
)


def test_script_in_a_story_never_reaches_the_portal_or_the_preview(app, db, shop, stock):
    code = _code_path(db, shop)
    admin = signed_in(app, shop)
    editor = f"{base(shop)}/batches/{shop.batch_id}/stories/en"
    assert _submit(admin, editor, {"title": "<b>T</b>", "body": XSS}).status_code == 303
    assert _submit(admin, f"{editor}/state", {"state": "published"}).status_code == 303
    for page in (admin.get(f"{editor}/preview"), app.test_client().get(code)):
        section = _STORY.search(page.get_data(as_text=True)).group(0)
        assert_harmless(section.replace(f"/images/{stock.story_image_id}/", "/images/7/"))
        assert "<script" not in section and "<svg" not in section and "<b>" not in section
        assert '="data:' not in section and '="https://evil' not in section


def test_product_pictures_show_on_the_portal_once_published(app, db, shop, stock):
    code = _code_path(db, shop)
    portal = app.test_client()
    admin = signed_in(app, shop)
    upload = _submit(
        admin,
        f"{base(shop)}/products/{shop.product_id}/images",
        {"file": (io.BytesIO(photo((400, 300))), "IMG_0001.jpg"), "alt": "The bottle"},
    )
    assert upload.status_code == 303
    with db.sessions() as session:
        image = session.scalars(select(Image).order_by(Image.id.desc())).first()
        stored = Pillow.open(io.BytesIO(image.data))
        assert image.product_id == shop.product_id and image.state is PublishState.DRAFT
        assert stored.getexif().get(GPS_TAG) is None and b"PhoneMaker" not in image.data
        path = images.image_path(image)
    assert path not in portal.get(code).get_data(as_text=True)
    draft = admin.get(path)
    assert draft.status_code == 200 and draft.headers["Cache-Control"] == "private, no-store"
    assert portal.get(path).status_code == 404
    state = f"{base(shop)}/images/{image.id}/state"
    assert _submit(admin, state, {"state": "published"}).status_code == 303
    html = portal.get(code).get_data(as_text=True)
    assert (
        f'<img src="{path}" width="400" height="300" alt="The bottle" fetchpriority="high">'
    ) in html  # the first picture is the largest paint: never lazy
    assert portal.get(path).status_code == 200
    # the address names the content: another hash or extension is not found
    assert portal.get(path.replace(".jpg", ".png")).status_code == 404
    assert portal.get(re.sub(r"/[0-9a-f]{64}", "/" + "0" * 64, path)).status_code == 404
    assert _submit(admin, state, {"state": "draft"}).status_code == 303
    assert path not in portal.get(code).get_data(as_text=True)
    assert portal.get(path).status_code == 404
    assert [e.details["state"] for e in audit_actions_for(db, shop.brand.id, "image.state")] == [
        "published",
        "draft",
    ]
    assert audit_actions_for(db, shop.brand.id, "image.add")[0].details["sha256"] == image.sha256


@pytest.mark.parametrize(
    ("route", "filename", "data", "field_message"),
    [
        ("documents", "report.pdf", b"MZ\x90\x00\x03" + b"\x00" * 500,
         "A document must be a PDF file."),
        ("documents", "report.pdf", b"<!doctype html><script>alert(1)</script>",
         "A document must be a PDF file."),
        ("documents", "report.pdf", b"%PDF-1.4\n<html>no end", "A document must be a PDF file."),
        ("documents", "report.pdf", PDF + b"<svg onload=alert(1)>",
         "A document must be a PDF file."),
        ("documents", "report.pdf", b"%PDF-1.4\n% lab report\n%%EOF\n", UNREADABLE),
        ("documents", "report.pdf", one_page_pdf(OpenAction=SCRIPT), ACTIVE),
        ("documents", "report.pdf", b"", "Choose a file."),
        ("images", "photo.png", b"<html><script>alert(1)</script></html>",
         "A picture must be a PNG, JPEG or WebP image."),
        ("images", "photo.jpg", PDF, "A picture must be a PNG, JPEG or WebP image."),
        ("images", "photo.png", b"MZ\x90\x00" + b"\x00" * 100,
         "A picture must be a PNG, JPEG or WebP image."),
    ],
)  # fmt: skip
def test_disguised_uploads_are_refused_and_nothing_is_stored(
    app, db, shop, stock, route, filename, data, field_message
):
    admin = signed_in(app, shop)
    before = _counts(db)
    fields = {"title": "Lab"} if route == "documents" else {}
    mimetype = "application/pdf" if filename.endswith(".pdf") else "image/png"
    response = _submit(
        admin,
        f"{base(shop)}/batches/{shop.batch_id}/{route}",
        {**fields, "file": (io.BytesIO(data), filename, mimetype)},
    )
    assert response.status_code == 400
    assert errors_of(response) == {"file": field_message}
    assert _counts(db) == before


def test_oversize_uploads_are_refused_in_the_users_language(app, db, shop, stock):
    admin = signed_in(app, shop)
    before = _counts(db)
    german = {"Accept-Language": "de"}
    big_pdf = b"%PDF-1.4\n" + b"0" * content.MAX_DOCUMENT_BYTES + b"\n%%EOF\n"
    response = _submit(
        admin,
        f"{base(shop)}/batches/{shop.batch_id}/documents",
        {"title": "Big", "file": (io.BytesIO(big_pdf), "big.pdf")},
        headers=german,
    )
    assert response.status_code == 400
    assert errors_of(response) == {"file": "Ein Dokument darf höchstens 10 MB groß sein."}
    big_png = _png() + b"\x00" * images.MAX_IMAGE_BYTES
    response = _submit(
        admin,
        f"{base(shop)}/batches/{shop.batch_id}/images",
        {"file": (io.BytesIO(big_png), "big.png")},
        headers=german,
    )
    assert response.status_code == 400
    assert errors_of(response) == {"file": "Ein Bild darf höchstens 5 MB groß sein."}
    # past the app's request limit: a translated page, not a bare error
    huge = b"%PDF-" + b"0" * app.config["MAX_CONTENT_LENGTH"]
    response = _submit(
        admin,
        f"{base(shop)}/batches/{shop.batch_id}/documents",
        {"title": "Huge", "file": (io.BytesIO(huge), "huge.pdf")},
        headers=german,
    )
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert 'lang="de"' in page and "Die gesendeten Daten sind zu groß." in page
    assert _counts(db) == before


def test_a_test_report_is_uploaded_listed_published_and_withdrawn(app, db, shop, stock):
    code = _code_path(db, shop)
    portal = app.test_client()
    admin = signed_in(app, shop, "staff")
    report = one_page_pdf(
        OpenAction=ArrayObject([NumberObject(0), NameObject("/Fit")]), Lang=TextStringObject("es")
    )
    response = _submit(
        admin,
        f"{base(shop)}/batches/{shop.batch_id}/documents",
        {"title": "Pesticide screen", "issuer": "Lab SA", "issued_on": "2026-10-05",
         "file": (io.BytesIO(report), "screen.pdf")},
    )  # fmt: skip
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/batches/{shop.batch_id}#documents")
    report = clean_pdf(report)  # what is kept and served: the automatic action stripped
    digest = hashlib.sha256(report).hexdigest()
    with db.sessions() as session:
        document = session.scalar(select(Document).where(Document.sha256 == digest))
        assert (document.issuer, str(document.issued_on)) == ("Lab SA", "2026-10-05")
    page = admin.get(f"{base(shop)}/batches/{shop.batch_id}").get_data(as_text=True)
    row = re.search(rf'<tr data-document="{document.id}".*?</tr>', page, re.DOTALL).group(0)
    assert digest in row and f"{len(report)} bytes" in row and 'data-state="draft"' in row
    french = admin.get(f"{base(shop)}/batches/{shop.batch_id}", headers={"Accept-Language": "fr"})
    assert re.search(rf"{len(report)}\s+octets<br>", french.get_data(as_text=True))  # octets
    download = admin.get(f"{base(shop)}/documents/{document.id}")
    assert download.data == report
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "Pesticide screen" not in portal.get(code).get_data(as_text=True)
    state = f"{base(shop)}/documents/{document.id}/state"
    assert _submit(admin, state, {"state": "published"}).status_code == 303
    assert "Pesticide screen" in portal.get(code).get_data(as_text=True)
    public = portal.get(f"/documents/{document.id}/report-{document.id}.pdf")
    assert public.data == report and public.headers["Content-Disposition"].startswith("attachment")
    assert public.headers["X-Content-SHA256"] == digest
    assert _submit(admin, state, {"state": "draft"}).status_code == 303
    assert "Pesticide screen" not in portal.get(code).get_data(as_text=True)
    assert portal.get(f"/documents/{document.id}/report-{document.id}.pdf").status_code == 404
    assert [
        e.details.get("sha256") for e in audit_actions_for(db, shop.brand.id, "document.add")
    ] == [digest]
    assert [e.details["state"] for e in audit_actions_for(db, shop.brand.id, "document.state")] == [
        "published",
        "draft",
    ]


def test_the_verdict_page_stays_light(app, db, shop, stock):
    """At most 60 KB before pictures (page and stylesheet), with a long story and pictures."""
    code = _code_path(db, shop)
    with db.sessions.begin() as session:
        batch = session.get(Batch, shop.batch_id)
        body = "\n\n".join(f"Paragraph {n} about the harvest, " * 8 for n in range(40))
        body += f"\n\n![Grove](image:{stock.story_image_id})"
        content.add_story(session, batch, "en", "Harvest", body, publish=True)
        for image in images.images_of(session, session.get(Product, shop.product_id)):
            images.set_state(image, PublishState.PUBLISHED)
    client = app.test_client()
    page = client.get(code)
    html = page.get_data(as_text=True)
    css = client.get("/static/portal.css").data
    assert html.count("<img ") == 2 and html.count('loading="lazy"') == 1
    assert len(page.data) + len(css) <= 60_000


def test_content_pages_have_no_inline_script_or_style(app, shop, stock):
    client = signed_in(app, shop)
    for path in _reads(shop, stock):
        page = client.get(path)
        if page.mimetype == "text/html":
            assert_no_inline_code(page.get_data(as_text=True))


def test_a_story_for_an_unknown_language_is_not_found(app, shop, stock):
    client = signed_in(app, shop)
    path = f"{base(shop)}/batches/{shop.batch_id}/stories/{secrets.token_hex(2)}"
    assert client.get(path).status_code == 404
