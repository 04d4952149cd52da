"""The checkpoint template editor: a brand's templates, one template's fields added one by
one through a form, removed, moved, the template retired or reactivated, and the
standard templates added on demand.

Every member sees the templates; owners and staff change them. Each change of content is
a new version (``tracemark.quality.checkpoints``), audited with the version it made.
"""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_login import login_required

from admin import checkpoint_forms as forms
from admin.access import Member, editing, editor_form, member_of, refuse_unless_editor
from admin.views import bp
from tracemark import errors
from tracemark.models import CheckpointTemplate
from tracemark.quality import checkpoints


def _template(member: Member, key: str) -> CheckpointTemplate:
    try:
        return checkpoints.get(member.session, member.brand, key)
    except errors.NotFound:
        abort(404)


def _texts(template: CheckpointTemplate, **values) -> dict:
    return {f"name_{locale}": text for locale, text in template.name.items()} | values


def checkpoint_page(page: str, member: Member, status: int = 200, **values):
    """A checkpoint page (``page`` names its template) with what all of them show checkpoints
    by: their labels in the request's language and the forms' names."""
    return render_template(
        page,
        member=member,
        label=checkpoints.label,
        locale=str(get_locale()),
        names=forms,
        **values,
    ), status


@bp.route("/brands/<slug>/checkpoints", methods=["GET", "POST"])
@login_required
def checkpoint_templates(slug: str):
    member = member_of(slug)
    form = editor_form(member, forms.TemplateForm)
    if form is not None and form.validate_on_submit():
        try:
            template = checkpoints.create_template(
                member.session,
                member.brand,
                form.key.data,
                form.texts("name"),
                biz_step=form.biz_step.data,
                subject=form.subject.data,
                disposition=form.disposition.data or None,
                actor=member.actor,
            )
        except checkpoints.TemplateError as error:
            target = form.key if error.code == "bad_key" else form["name_en"]
            target.errors = [*target.errors, forms.TEMPLATE_ERRORS[error.code]]
        except errors.Duplicate:
            form.key.errors = [*form.key.errors, forms.DUPLICATE_KEY]
        else:
            member.session.commit()
            return redirect(url_for("admin.checkpoint", slug=slug, key=template.key), 303)
        member.session.rollback()
    return checkpoint_page(
        "admin/checkpoints/list.html",
        member,
        400 if request.method == "POST" else 200,
        form=form,
        seed_form=forms.SeedForm() if form is not None else None,
        templates=checkpoints.templates(member.session, member.brand),
    )


@bp.post("/brands/<slug>/checkpoints/standard")
@login_required
def seed_checkpoints(slug: str):
    member = member_of(slug)
    refuse_unless_editor(member)
    if not forms.SeedForm().validate_on_submit():
        abort(400)
    checkpoints.seed_standard(member.session, member.brand, actor=member.actor)
    member.session.commit()
    return redirect(url_for("admin.checkpoint_templates", slug=slug), 303)


def _page(member: Member, template, head=None, field=None, status: int = 200):
    editing = member.can_edit
    if editing and head is None:
        head = forms.TemplateHeadForm(
            formdata=None,
            biz_step=template.biz_step,
            disposition=template.disposition or "",
            subject=template.subject,
            **_texts(template),
        )
    return checkpoint_page(
        "admin/checkpoints/template.html",
        member,
        status,
        template=template,
        head=head if editing else None,
        field_form=(field or forms.FieldForm(formdata=None)) if editing else None,
        action_form=forms.FieldActionForm() if editing else None,
        active_form=forms.ActiveForm() if editing else None,
    )


@bp.route("/brands/<slug>/checkpoints/<key>", methods=["GET", "POST"])
@login_required
def checkpoint(slug: str, key: str):
    """The template and its editor; a POST changes its head (a new version)."""
    member = member_of(slug)
    template = _template(member, key)
    if request.method == "GET":
        return _page(member, template)
    refuse_unless_editor(member)
    head = forms.TemplateHeadForm()
    if head.validate_on_submit():
        try:
            revised = checkpoints.revise(
                member.session,
                template,
                name=head.texts("name"),
                biz_step=head.biz_step.data,
                disposition=head.disposition.data or None,
                subject=head.subject.data,
                actor=member.actor,
            )
        except (checkpoints.TemplateError, errors.Duplicate) as error:
            code = getattr(error, "code", "no_name")
            message = forms.TEMPLATE_ERRORS.get(code, forms.CHANGED_MEANWHILE)
            head["name_en"].errors = [*head["name_en"].errors, message]
        else:
            return _saved(member, template, revised)
    member.session.rollback()
    return _page(member, template, head=head, status=400)


def _saved(member: Member, before, after):
    if after is not before:
        member.session.commit()
    return redirect(url_for("admin.checkpoint", slug=member.brand.slug, key=after.key), 303)


@bp.post("/brands/<slug>/checkpoints/<key>/fields")
@login_required
def checkpoint_field(slug: str, key: str):
    member, template = editing(slug, _template, key)
    form = forms.FieldForm()
    if form.validate_on_submit():
        try:
            revised = checkpoints.add_field(
                member.session, template, form.spec(), actor=member.actor
            )
        except checkpoints.TemplateError as error:
            form.refuse(error)
        except errors.Duplicate:
            form.name.errors = [*form.name.errors, forms.CHANGED_MEANWHILE]
        else:
            return _saved(member, template, revised)
    member.session.rollback()
    return _page(member, template, field=form, status=400)


@bp.post("/brands/<slug>/checkpoints/<key>/fields/<field>")
@login_required
def checkpoint_field_action(slug: str, key: str, field: str):
    """Remove field ``field``, or move it one place up or down."""
    member = member_of(slug)
    template = _template(member, key)
    if field not in {spec["name"] for spec in template.fields}:
        abort(404)
    refuse_unless_editor(member)
    form = forms.FieldActionForm()
    if not form.validate_on_submit():
        abort(400)
    action = form.action.data
    try:
        if action == "remove":
            revised = checkpoints.remove_field(member.session, template, field, actor=member.actor)
        else:
            step = -1 if action == "up" else 1
            revised = checkpoints.move_field(
                member.session, template, field, step, actor=member.actor
            )
    except errors.Duplicate:
        abort(409)
    return _saved(member, template, revised)


@bp.post("/brands/<slug>/checkpoints/<key>/active")
@login_required
def checkpoint_active(slug: str, key: str):
    """Retire or reactivate the template."""
    member, template = editing(slug, _template, key)
    form = forms.ActiveForm()
    if not form.validate_on_submit():
        abort(400)
    active = form.active.data == "1"
    if checkpoints.set_active(member.session, template, active, actor=member.actor):
        member.session.commit()
    return redirect(url_for("admin.checkpoint", slug=slug, key=key), 303)
