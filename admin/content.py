"""What consumers read about a batch, managed by its brand: stories per locale (Markdown,
draft or published, with a preview), pictures of products and stories, test reports.

Every member sees them, drafts included; owners and staff change them. Each change is
audited and drops this worker's cached batch views, so the portal shows it at once here
and within the cache lifetime everywhere else.
"""

from __future__ import annotations

from babel.units import format_unit
from flask import Response, abort, current_app, redirect, render_template, url_for
from flask_babel import get_locale
from flask_login import login_required

from admin import content_forms as forms
from admin.access import (
    Member,
    editing,
    editor_form,
    found_or_404,
    member_of,
    refuse_unless_editor,
)
from admin.views import bp
from tracemark import catalog
from tracemark.content import images
from tracemark.content import stories as content
from tracemark.i18n import LOCALES
from tracemark.models import Batch, Product
from tracemark.scanning.batch_view import story_html


@bp.app_template_filter("file_size")
def file_size(size: int) -> str:
    """``size`` bytes in the page's language: 29 bytes, 1,7 ko, 9.8 MB (bytes in the
    long form: CLDR's short English form is the singular "byte")."""
    for unit, scale in (("digital-megabyte", 1e6), ("digital-kilobyte", 1e3)):
        if size >= scale:
            value = round(size / scale, 1)
            return format_unit(value, unit, length="short", locale=get_locale())
    return format_unit(size, "digital-byte", length="long", locale=get_locale())


def batch_content(member: Member, batch: Batch) -> dict:
    """What the batch page shows of its stories, pictures and reports."""
    editing = member.can_edit
    return {
        "stories": content.stories(member.session, batch),
        "story_images": images.images_of(member.session, batch),
        "documents": content.documents(member.session, batch),
        "image_form": forms.ImageForm() if editing else None,
        "document_form": forms.DocumentForm() if editing else None,
        "state_names": forms.STATE_NAMES,
        "image_path": images.image_path,
    }


def product_content(member: Member, product: Product) -> dict:
    """What the product page shows of its pictures."""
    editing = member.can_edit
    return {
        "product_images": images.images_of(member.session, product),
        "image_form": forms.ImageForm() if editing else None,
        "state_names": forms.STATE_NAMES,
        "image_path": images.image_path,
    }


def _batch(member: Member, batch_id: int) -> Batch:
    return found_or_404(catalog.get_batch, member, batch_id)


def _locale(locale: str) -> str:
    if locale not in LOCALES:
        abort(404)
    return locale


def _changed(member: Member, batch_ids: set[int] | None) -> None:
    """Commit, and let this worker's portal show the change at once."""
    member.session.commit()
    current_app.extensions["tracemark.batch_views"].forget(batch_ids)


def _to_batch(member: Member, batch_id: int, anchor: str):
    path = url_for("admin.batch", slug=member.brand.slug, batch_id=batch_id, _anchor=anchor)
    return redirect(path, code=303)


def _to_product(member: Member, product_id: int, anchor: str):
    path = url_for("admin.product", slug=member.brand.slug, product_id=product_id, _anchor=anchor)
    return redirect(path, code=303)


@bp.route("/brands/<slug>/batches/<id:batch_id>/stories/<locale>", methods=["GET", "POST"])
@login_required
def story(slug: str, batch_id: int, locale: str):
    member = member_of(slug)
    batch, locale = _batch(member, batch_id), _locale(locale)
    found = content.story(member.session, batch, locale)
    form = editor_form(member, lambda: forms.StoryForm(obj=found))
    if form is not None and form.validate_on_submit():
        found, changed = content.save_story(
            member.session, batch, locale, form.title.data, form.body.data, actor=member.actor
        )
        if changed:
            _changed(member, {batch.id})
        return redirect(url_for("admin.story", slug=slug, batch_id=batch.id, locale=locale), 303)
    return render_template(
        "admin/content/story.html",
        member=member,
        batch=batch,
        locale=locale,
        story=found,
        form=form,
        state_names=forms.STATE_NAMES,
        story_images=images.images_of(member.session, batch),
        image_path=images.image_path,
    )


@bp.post("/brands/<slug>/batches/<id:batch_id>/stories/<locale>/state")
@login_required
def story_state(slug: str, batch_id: int, locale: str):
    member = member_of(slug)
    batch, locale = _batch(member, batch_id), _locale(locale)
    found = content.story(member.session, batch, locale) or abort(404)
    refuse_unless_editor(member)
    if content.set_state(found, _state_sent(), actor=member.actor):
        _changed(member, {batch.id})
    return redirect(url_for("admin.story", slug=slug, batch_id=batch.id, locale=locale), 303)


@bp.get("/brands/<slug>/batches/<id:batch_id>/stories/<locale>/preview")
@login_required
def story_preview(slug: str, batch_id: int, locale: str):
    """The story exactly as the portal shows it (the portal's own template part), in
    whichever state it is."""
    member = member_of(slug)
    batch, locale = _batch(member, batch_id), _locale(locale)
    found = content.story(member.session, batch, locale) or abort(404)
    return render_template(
        "admin/content/preview.html",
        member=member,
        batch=batch,
        story=found,
        html=story_html(member.session, found),
        state_names=forms.STATE_NAMES,
    )


@bp.post("/brands/<slug>/batches/<id:batch_id>/images")
@login_required
def batch_image(slug: str, batch_id: int):
    member, batch = editing(slug, _batch, batch_id)
    return _upload_image(member, batch)


@bp.post("/brands/<slug>/products/<id:product_id>/images")
@login_required
def product_image(slug: str, product_id: int):
    member, product = editing(slug, _product, product_id)
    return _upload_image(member, product)


def _upload_image(member: Member, owner: Product | Batch):
    form = forms.ImageForm()
    kind = "product" if isinstance(owner, Product) else "batch"
    back = _to_product if kind == "product" else _to_batch
    return _upload(
        member,
        owner,
        form,
        kind,
        lambda: images.add_image(
            member.session, owner, form.read(), form.alt.data or "", actor=member.actor
        ),
        forms.IMAGE_ERRORS,
        lambda: back(member, owner.id, "images"),
    )


def _upload(member: Member, owner: Product | Batch, form, kind: str, store, refusals, done):
    """Store a file sent whole through ``store()``, commit (a draft: nothing public
    changed) and answer ``done()``. A form not sent whole, or a file the core refuses
    (``refusals`` says why, by the refusal's reason), gets the upload form alone (400)."""
    if form.validate_on_submit():
        try:
            store()
        except content.ContentError as error:
            form.refuse(refusals, error.reason)
        else:
            member.session.commit()
            return done()
    return _upload_page(member, owner, form, kind)


def _upload_page(member: Member, owner: Product | Batch, form, kind: str):
    """An upload form alone, with what was wrong: answered 400, nothing stored.

    ``kind``: ``product`` or ``batch`` (a picture for it), or ``document``.
    """
    member.session.rollback()
    return render_template(
        "admin/content/upload.html", member=member, owner=owner, form=form, kind=kind
    ), 400


@bp.post("/brands/<slug>/images/<id:image_id>/state")
@login_required
def image_state(slug: str, image_id: int):
    member, image = editing(slug, _image, image_id)
    try:
        changed = images.set_state(image, _state_sent(), actor=member.actor)
    except content.ContentError:
        abort(404)  # a story picture has no state of its own
    if changed:
        _changed(member, None)  # every batch of the product shows its pictures
    return _to_product(member, image.product_id, "images")


@bp.post("/brands/<slug>/batches/<id:batch_id>/documents")
@login_required
def document_upload(slug: str, batch_id: int):
    member, batch = editing(slug, _batch, batch_id)
    form = forms.DocumentForm()
    return _upload(
        member,
        batch,
        form,
        "document",
        lambda: content.attach_document(
            member.session,
            batch,
            form.title.data,
            form.read(),
            filename=form.file.data.filename or "report.pdf",
            issuer=form.issuer.data or None,
            issued_on=form.issued_on.data,
            actor=member.actor,
        ),
        forms.DOCUMENT_ERRORS,
        lambda: _to_batch(member, batch.id, "documents"),
    )


@bp.post("/brands/<slug>/documents/<id:document_id>/state")
@login_required
def document_state(slug: str, document_id: int):
    member, document = editing(slug, _document, document_id)
    if content.set_state(document, _state_sent(), actor=member.actor):
        _changed(member, {document.batch_id})
    return _to_batch(member, document.batch_id, "documents")


@bp.get("/brands/<slug>/documents/<id:document_id>")
@login_required
def document_download(slug: str, document_id: int):
    """A document as its brand's members check it before publishing: a download only."""
    member = member_of(slug)
    document = content.get_document(member.session, member.brand.id, document_id) or abort(404)
    data = content.document_data(member.session, document)
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f"attachment; filename=report-{document.id}.pdf"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _state_sent():
    """The state the state button sends (published or hidden); a 400 when it is not sent
    whole."""
    form = forms.StateForm()
    if not form.validate_on_submit():
        abort(400)
    return form.value()


def _product(member: Member, product_id: int):
    return found_or_404(catalog.get_product, member, product_id)


def _image(member: Member, image_id: int):
    return images.get_image(member.session, member.brand.id, image_id) or abort(404)


def _document(member: Member, document_id: int):
    return content.get_document(member.session, member.brand.id, document_id) or abort(404)
