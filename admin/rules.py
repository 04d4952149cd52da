"""A brand's rules pages: the rules, a rule's form, recent firings and the outbox.

Owners and staff manage rules (the pages show webhook secrets and addresses, so other
roles get 403); every change is audited. A dead outbox message can be sent again by hand.
"""

from __future__ import annotations

from flask import abort, make_response, redirect, render_template, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from admin import rule_forms
from admin.access import Member, found_or_404, member_of, refuse_unless_editor
from admin.views import bp
from tracemark import catalog, errors
from tracemark.models import MessageStatus, Rule
from tracemark.notify import outbox
from tracemark.quality import rules
from tracemark.web import error_response, settings

#: Firings and outbox messages listed on the activity page.
RECENT = 100
DUPLICATE_NAME = _l("A rule with this name exists already.")


def _editor(slug: str) -> Member:
    """The member, when they may manage the brand's rules (a 403 stops the request else)."""
    member = member_of(slug)
    refuse_unless_editor(member, _forbidden)
    return member


def _forbidden():
    return error_response(
        403, "forbidden", gettext("Only the brand's owners and staff manage its rules.")
    )


def _policy() -> dict[str, bool]:
    current = settings()
    return {
        "allow_http": current.webhook_allow_http,
        "allow_private": current.webhook_allow_private,
    }


def _editor_rule(slug: str, rule_id: int) -> tuple[Member, Rule]:
    """The editor and their brand's rule ``rule_id`` (a 403 for a reader, then a 404 for a
    rule of no such id in the brand)."""
    member = _editor(slug)
    return member, found_or_404(rules.get_rule, member, rule_id)


def _sent(make_form):
    """The form of a button, valid; else the request is stopped with a 400 (such a form has
    nothing a person could correct, so there is no page to show it again)."""
    form = make_form()
    if not form.validate_on_submit():
        message = gettext("The request could not be understood.")
        abort(make_response(error_response(400, "bad_form", message)))
    return form


def _save(member: Member, form: rule_forms.RuleForm, rule: Rule | None):
    """Create or update from a validated form: the rule, or None with the form's errors."""
    try:
        if rule is None:
            rule = rules.create_rule(
                member.session, member.brand, form.spec(), actor=member.actor, **_policy()
            )
        else:
            rules.update_rule(member.session, rule, form.spec(), actor=member.actor, **_policy())
    except errors.Duplicate:
        form.name.errors.append(DUPLICATE_NAME)
        return None
    except rules.RuleError as error:
        name, message = rule_forms.RULE_ERRORS.get(error.field, ("name", None))
        form[name].errors.append(message or gettext("Check this value."))
        return None
    member.session.commit()
    return rule


@bp.route("/brands/<slug>/rules", methods=["GET", "POST"])
@login_required
def rules_list(slug: str):
    member = _editor(slug)
    form = rule_forms.RuleForm(**_policy())
    status = 200
    if form.is_submitted():
        if form.validate() and _save(member, form, None) is not None:
            return redirect(url_for("admin.rules_list", slug=slug), code=303)
        status = 400
    return _list_page(member, form, rule_forms.LanguageForm(locale=member.brand.locale or "en"),
                      status)  # fmt: skip


def _list_page(member: Member, form, language, status: int = 200):
    page = render_template(
        "admin/rules/list.html",
        member=member,
        rules=rules.rules_of(member.session, member.brand),
        form=form,
        language=language,
        operator_names=rule_forms.OPERATOR_NAMES,
        action_names=rule_forms.ACTION_NAMES,
        state_form=rule_forms.RuleStateForm(),
    )
    return page, status


@bp.post("/brands/<slug>/rules/language")
@login_required
def rules_language(slug: str):
    member = _editor(slug)
    language = rule_forms.LanguageForm()
    if not language.validate_on_submit():
        return _list_page(member, rule_forms.RuleForm(formdata=None, **_policy()), language, 400)
    locale = None if language.locale.data == "en" else language.locale.data
    if catalog.set_locale(member.session, member.brand, locale, actor=member.actor):
        member.session.commit()
    return redirect(url_for("admin.rules_list", slug=slug), code=303)


@bp.route("/brands/<slug>/rules/<id:rule_id>", methods=["GET", "POST"])
@login_required
def rule(slug: str, rule_id: int):
    member, rule = _editor_rule(slug, rule_id)
    form = rule_forms.RuleForm.of(rule, **_policy())
    status = 200
    if form.is_submitted():
        if form.validate() and _save(member, form, rule) is not None:
            return redirect(url_for("admin.rule", slug=slug, rule_id=rule.id), code=303)
        status = 400
    return _rule_page(member, rule, form, rule_forms.DeleteRuleForm(), status)


def _rule_page(member: Member, rule: Rule, form, delete_form, status: int = 200):
    page = render_template(
        "admin/rules/rule.html",
        member=member,
        rule=rule,
        form=form,
        delete_form=delete_form,
        state_form=rule_forms.RuleStateForm(),
    )
    return page, status


@bp.post("/brands/<slug>/rules/<id:rule_id>/state")
@login_required
def rule_state(slug: str, rule_id: int):
    member, rule = _editor_rule(slug, rule_id)
    form = _sent(rule_forms.RuleStateForm)
    enabled = form.enabled.data == "1"
    if rules.set_enabled(member.session, rule, enabled, actor=member.actor):
        member.session.commit()
    return redirect(url_for("admin.rules_list", slug=slug), code=303)


@bp.post("/brands/<slug>/rules/<id:rule_id>/delete")
@login_required
def delete_rule(slug: str, rule_id: int):
    member, rule = _editor_rule(slug, rule_id)
    delete_form = rule_forms.DeleteRuleForm()
    if not delete_form.validate_on_submit():
        form = rule_forms.RuleForm.of(rule, **_policy())
        return _rule_page(member, rule, form, delete_form, 400)
    rules.delete_rule(member.session, rule, actor=member.actor)
    member.session.commit()
    return redirect(url_for("admin.rules_list", slug=slug), code=303)


@bp.get("/brands/<slug>/rules/activity")
@login_required
def rule_activity(slug: str):
    member = _editor(slug)
    return render_template(
        "admin/rules/activity.html",
        member=member,
        firings=rules.firings(member.session, member.brand, RECENT),
        messages=outbox.messages(member.session, member.brand, RECENT),
        action_names=rule_forms.ACTION_NAMES,
        retry_form=rule_forms.RetryForm(),
        dead=MessageStatus.DEAD,
    )


@bp.post("/brands/<slug>/outbox/<bigid:message_id>/retry")
@login_required
def retry_message(slug: str, message_id: int):
    member = _editor(slug)
    message = found_or_404(outbox.get_message, member, message_id)
    _sent(rule_forms.RetryForm)
    try:
        outbox.retry(member.session, message, actor=member.actor)
    except outbox.NotDead:
        return error_response(
            409, "not_dead", gettext("Only a message that could not be delivered can be retried.")
        )
    member.session.commit()
    return redirect(url_for("admin.rule_activity", slug=slug), code=303)
