"""Forms of the rules pages: a rule's condition and actions as fields, no code.

The form checks what a person can correct (a value the operator needs, a number, the
addresses, the webhook URL); ``tracemark.quality.rules`` checks again and owns the change.
"""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from admin.intent import RestorableForm
from admin.views import ROLE_NAMES
from tracemark.accounts import users as accounts
from tracemark.i18n import LOCALES
from tracemark.models import Operator
from tracemark.notify import webhooks
from tracemark.quality import rules
from tracemark.quality.rules import RuleSpec

OPERATOR_NAMES = {
    Operator.EQ: _l("equals"),
    Operator.NE: _l("does not equal"),
    Operator.LT: _l("is less than"),
    Operator.LE: _l("is at most"),
    Operator.GT: _l("is greater than"),
    Operator.GE: _l("is at least"),
    Operator.IN: _l("is one of (comma-separated)"),
    Operator.CONTAINS: _l("contains"),
    Operator.FAILED: _l("failed (a pass/fail field, or any QC test)"),
    Operator.EXCURSION: _l("had a sensor excursion"),
    Operator.PRESENT: _l("is filled in"),
}
ACTION_NAMES = {
    "hold_batch": _l("Hold the batch"),
    "lock_lot": _l("Lock the material lot"),
    "notify": _l("Send an e-mail"),
    "webhook": _l("Call a webhook"),
}
_SPLIT = re.compile(r"[\s,;]+")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class _Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RuleForm(RestorableForm):
    name = StringField(
        _l("Name"),
        filters=[_strip],
        validators=[DataRequired(_l("Enter a name.")), Length(max=100)],
    )
    enabled = BooleanField(_l("Enabled"), default=True)
    template_key = StringField(
        _l("Checkpoint template (key; empty for any event)"),
        filters=[_strip],
        validators=[Optional(), Length(max=100)],
    )
    field = StringField(
        _l("Field, QC test or sensor type"),
        filters=[_strip],
        validators=[Optional(), Length(max=100)],
    )
    operator = SelectField(
        _l("Condition"),
        choices=[SelectChoice(op.value, label) for op, label in OPERATOR_NAMES.items()],
    )
    value = StringField(_l("Value"), filters=[_strip], validators=[Optional(), Length(max=500)])
    biz_step = StringField(
        _l("Business step (e.g. inspecting; empty for any)"),
        filters=[_strip],
        validators=[Optional(), Length(max=64)],
    )
    disposition = StringField(
        _l("Disposition (e.g. non_conformant; empty for any)"),
        filters=[_strip],
        validators=[Optional(), Length(max=64)],
    )
    hold_batch = BooleanField(ACTION_NAMES["hold_batch"])
    hold_notice = TextAreaField(
        _l("Notice to consumers (empty for the standard one)"),
        filters=[_strip],
        validators=[Optional(), Length(max=rules.MAX_NOTICE)],
    )
    lock_lot = BooleanField(ACTION_NAMES["lock_lot"])
    notify = BooleanField(ACTION_NAMES["notify"])
    notify_roles = _Checkboxes(
        _l("To the members with these roles"),
        choices=[SelectChoice(role.value, label) for role, label in ROLE_NAMES.items()],
        validate_choice=True,
    )
    notify_emails = TextAreaField(
        _l("And to these addresses (separated by commas)"),
        filters=[_strip],
        validators=[Optional(), Length(max=5000)],
    )
    webhook = BooleanField(ACTION_NAMES["webhook"])
    webhook_url = StringField(
        _l("Webhook URL"), filters=[_strip], validators=[Optional(), Length(max=webhooks.MAX_URL)]
    )

    def __init__(self, *args, allow_http: bool = False, allow_private: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.allow_http, self.allow_private = allow_http, allow_private

    @classmethod
    def of(cls, rule, **policy: bool) -> RuleForm:
        """A form showing ``rule`` (filled from the request when one was sent)."""
        actions = {action["type"]: action for action in rule.actions}
        notify = actions.get("notify", {})
        return cls(
            name=rule.name,
            enabled=rule.enabled,
            template_key=rule.template_key,
            field=rule.field,
            operator=rule.operator.value,
            value=rule.value,
            biz_step=rule.biz_step,
            disposition=rule.disposition,
            hold_batch="hold_batch" in actions,
            hold_notice=actions.get("hold_batch", {}).get("notice"),
            lock_lot="lock_lot" in actions,
            notify="notify" in actions,
            notify_roles=notify.get("roles", []),
            notify_emails=", ".join(notify.get("emails", [])),
            webhook="webhook" in actions,
            webhook_url=actions.get("webhook", {}).get("url"),
            **policy,
        )

    def emails(self) -> list[str]:
        return [part for part in _SPLIT.split(self.notify_emails.data or "") if part]

    def spec(self) -> RuleSpec:
        actions: list[dict] = []
        if self.hold_batch.data:
            actions.append({"type": "hold_batch", "notice": self.hold_notice.data or None})
        if self.lock_lot.data:
            actions.append({"type": "lock_lot"})
        if self.notify.data:
            actions.append(
                {"type": "notify", "roles": self.notify_roles.data or [], "emails": self.emails()}
            )
        if self.webhook.data:
            actions.append({"type": "webhook", "url": self.webhook_url.data})
        return RuleSpec(
            name=self.name.data,
            operator=self.operator.data,
            actions=actions,
            field=self.field.data or None,
            value=self.value.data or None,
            template_key=self.template_key.data or None,
            biz_step=self.biz_step.data or None,
            disposition=self.disposition.data or None,
            enabled=bool(self.enabled.data),
        )

    def validate_field(self, field) -> None:
        if not field.data and self.operator.data in {op.value for op in rules.NEEDS_FIELD}:
            raise ValidationError(_l("This condition needs a field."))

    def validate_value(self, field) -> None:
        operator = self.operator.data
        if not field.data and operator in {op.value for op in rules.NEEDS_VALUE}:
            raise ValidationError(_l("This condition needs a value."))
        if field.data and operator in {op.value for op in rules.NUMERIC}:
            try:
                float(field.data)
            except ValueError:
                raise ValidationError(
                    _l("This condition compares numbers: enter a number.")
                ) from None

    def validate_hold_batch(self, field) -> None:
        if not any(f.data for f in (field, self.lock_lot, self.notify, self.webhook)):
            raise ValidationError(_l("Pick at least one action."))

    def validate_notify_roles(self, field) -> None:
        if self.notify.data and not field.data and not self.emails():
            raise ValidationError(_l("Pick roles or give addresses to e-mail."))

    def validate_notify_emails(self, field) -> None:
        if not self.notify.data:
            return
        emails = self.emails()
        if len(emails) > rules.MAX_EMAILS:
            raise ValidationError(_l("Give at most 20 addresses."))
        for email in emails:
            if not accounts.is_email(accounts.normalize_email(email)):
                raise ValidationError(
                    _l("This is not an e-mail address: %(email)s", email=email[:60])
                )

    def validate_webhook_url(self, field) -> None:
        if not self.webhook.data:
            return
        try:
            webhooks.check_url(
                field.data, allow_http=self.allow_http, allow_private=self.allow_private
            )
        except ValueError:
            if self.allow_http:
                raise ValidationError(_l("Enter an http or https URL of a public host.")) from None
            raise ValidationError(_l("Enter an https URL of a public host.")) from None


#: Where a rule the core refuses is shown to need correcting (the form checks most first).
RULE_ERRORS = {
    "name": ("name", _l("Enter a name in printable characters.")),
    "operator": ("operator", _l("Pick a condition.")),
    "field": ("field", _l("This condition needs a field.")),
    "value": ("value", _l("Enter a value in printable characters.")),
    "template_key": ("template_key", _l("Enter the key in printable characters.")),
    "biz_step": ("biz_step", _l("Enter the step in printable characters.")),
    "disposition": ("disposition", _l("Enter the disposition in printable characters.")),
    "notice": ("hold_notice", _l("Enter the notice in printable characters.")),
    "actions": ("hold_batch", _l("Pick at least one action.")),
    "notify": ("notify_emails", _l("Pick roles or give addresses to e-mail.")),
    "notify_roles": ("notify_roles", _l("Pick roles or give addresses to e-mail.")),
    "notify_emails": ("notify_emails", _l("Check the addresses.")),
    "webhook_url": ("webhook_url", _l("Enter an https URL of a public host.")),
}


class RuleStateForm(RestorableForm):
    enabled = HiddenField(validators=[InputRequired()])

    def validate_enabled(self, field) -> None:
        if field.data not in ("0", "1"):
            raise ValidationError(_l("This form is incomplete: reload the page and try again."))


class DeleteRuleForm(RestorableForm):
    confirm = BooleanField(
        _l("Yes, delete this rule (its past firings stay listed)"),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )


class LanguageForm(RestorableForm):
    locale = SelectField(
        _l("Language of notifications"),
        choices=[SelectChoice(code, name) for code, name in LOCALES.items()],
    )


class RetryForm(RestorableForm):
    pass
