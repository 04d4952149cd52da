"""Forms of checkpoint templates: the editor's, and the recording form generated from a
template's fields.

The editor's forms check what a person can correct and hand plain values to
``tracemark.quality.checkpoints``, which checks again; its refusals (stable codes) become
translated field errors through :data:`TEMPLATE_ERRORS`. The recording form is built per
template by :func:`record_form`: one WTForms field per template field, with its type,
range, choices and required flag, labelled in the page's language.
"""

from __future__ import annotations

import re
import secrets

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Optional

from admin.intent import RestorableForm
from tracemark.i18n import LOCALES
from tracemark.models import CheckpointTemplate
from tracemark.quality import checkpoints, recording

TYPE_NAMES = {
    "text": _l("Text"),
    "number": _l("Number"),
    "date": _l("Date"),
    "choice": _l("Choice"),
    "file": _l("File (PDF or picture)"),
    "passfail": _l("Pass / fail"),
}
SUBJECT_NAMES = {
    "unit": _l("A unit (scan its label)"),
    "batch": _l("A batch"),
    "material_lot": _l("A material lot"),
}
KIND_NAMES = {
    "label": _l("Scanned label (URL)"),
    "element": _l("GS1 element string"),
    "batch": _l("Batch lot number"),
    "material_lot": _l("Material lot number"),
}
RESULT_NAMES = {"pass": _l("Pass"), "fail": _l("Fail")}
BIZ_STEP_NAMES = {
    "receiving": _l("Receiving"),
    "accepting": _l("Accepting"),
    "inspecting": _l("Inspecting"),
    "sampling": _l("Sampling"),
    "assembling": _l("Assembling"),
    "commissioning": _l("Commissioning"),
    "repackaging": _l("Repackaging"),
    "packing": _l("Packing"),
    "labelling": _l("Labelling"),
    "storing": _l("Storing"),
    "loading": _l("Loading"),
    "shipping": _l("Shipping"),
    "departing": _l("Departing"),
    "arriving": _l("Arriving"),
    "holding": _l("Holding"),
    "destroying": _l("Destroying"),
    "other": _l("Other"),
}
DISPOSITION_NAMES = {
    "active": _l("Active"),
    "in_progress": _l("In progress"),
    "conformant": _l("Conformant"),
    "non_conformant": _l("Non-conformant"),
    "in_transit": _l("In transit"),
    "container_closed": _l("Container closed"),
    "needs_replacement": _l("Needs replacement"),
    "damaged": _l("Damaged"),
    "expired": _l("Expired"),
    "recalled": _l("Recalled"),
    "destroyed": _l("Destroyed"),
}
#: ``TemplateError`` code → message (shown on the field the error concerns).
TEMPLATE_ERRORS = {
    "bad_key": _l("A key has lowercase letters, digits and hyphens, such as qc-inspection."),
    "no_name": _l("Give a name in at least one language."),
    "bad_biz_step": _l("Choose a business step from the list."),
    "bad_disposition": _l("Choose a disposition from the list."),
    "bad_subject": _l("Choose what the checkpoint is about."),
    "bad_field_name": _l(
        "A field name starts with a lowercase letter and has only lowercase letters, digits "
        "and underscores (at most 40)."
    ),
    "duplicate_field": _l("This template has a field with this name already."),
    "bad_type": _l("Choose a field type from the list."),
    "no_label": _l("Give a label in at least one language."),
    "bad_label": _l("A label has at most 120 characters."),
    "bad_max_length": _l("The maximum length is between 1 and 2000 characters."),
    "bad_unit": _l("A unit has at most 16 characters."),
    "bad_number": _l("Enter a number."),
    "bad_range": _l("The minimum cannot be larger than the maximum."),
    "bad_decimals": _l("Decimals are between 0 and 6."),
    "no_choices": _l("List at least one choice."),
    "too_many_choices": _l("A field has at most 50 choices."),
    "bad_choice": _l(
        "A choice value has letters, digits, dots, hyphens and underscores (at most 40)."
    ),
    "duplicate_choice": _l("Each choice value may appear only once."),
    "too_many_fields": _l("A template has at most 40 fields."),
    "no_field": _l("This template has no such field."),
}
#: ``RecordingError`` code → message.
RECORDING_ERRORS = {
    "empty": _l("Scan or type what you are recording."),
    "bad_label": _l("This label is not genuine: its signature does not verify."),
    "revoked_key": _l("This label was signed with a revoked key."),
    "other_brand": _l("This label is not one of this brand's."),
    "bad_element_string": _l(
        "Enter a GS1 element string with a GTIN and a lot or serial, such as "
        "(01)09506000134352(10)L2401A."
    ),
    "unknown_unit": _l("This brand has no unit with this GTIN and serial number."),
    "unknown_batch": _l("This brand has no batch with this lot number."),
    "ambiguous_batch": _l(
        "Several products have a batch with this lot number: use the element string with the GTIN."
    ),
    "unknown_material_lot": _l("This brand has received no material lot with this number."),
    "ambiguous_material_lot": _l("Several material lots have this number."),
    "needs_unit": _l("This checkpoint is about a unit: scan its label."),
    "needs_batch": _l("This checkpoint is about a batch: give a lot number or a unit's label."),
    "needs_material_lot": _l("This checkpoint is about a material lot: give its lot number."),
    "bad_nonce": _l("This form is incomplete: reload the page and try again."),
    "required": _l("This field is required."),
    "too_long": _l("This text is too long."),
    "not_number": _l("Enter a number."),
    "too_small": _l("This number is below the minimum."),
    "too_large": _l("This number is above the maximum."),
    "too_precise": _l("This number has too many decimals."),
    "not_date": _l("Enter a date."),
    "not_choice": _l("Choose one of the options."),
    "not_passfail": _l("Choose pass or fail."),
    "file_too_large": _l("A file can be at most 10 MB (a picture 5 MB)."),
    "file_type": _l("A file must be a PDF or a PNG, JPEG or WebP picture."),
}
DUPLICATE_KEY = _l("This brand has a checkpoint with this key already.")
CHANGED_MEANWHILE = _l("The template changed meanwhile: reload the page and try again.")
_OFFSET = re.compile(r"[+-](0[0-9]|1[0-4]):[0-5][0-9]")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _no_nul(_form, field) -> None:
    if isinstance(field.data, str) and "\x00" in field.data:
        raise ValidationError(_l("This text contains a character that is not allowed."))


def _locale_fields(prefix: str, required_message) -> dict:
    return {
        f"{prefix}_{locale}": StringField(
            name, filters=[_strip], validators=[Length(max=120), _no_nul]
        )
        for locale, name in LOCALES.items()
    }


class _Localized(RestorableForm):
    """A form with a ``<prefix>_<locale>`` text per locale."""

    def texts(self, prefix: str) -> dict[str, str]:
        return {
            locale: self[f"{prefix}_{locale}"].data
            for locale in LOCALES
            if self[f"{prefix}_{locale}"].data
        }


class _TemplateHead(_Localized):
    biz_step = SelectField(
        _l("Business step"),
        choices=[SelectChoice(step, BIZ_STEP_NAMES[step]) for step in checkpoints.BIZ_STEPS],
    )
    disposition = SelectField(
        _l("Default disposition"),
        choices=[SelectChoice("", "—")]
        + [SelectChoice(d, DISPOSITION_NAMES[d]) for d in checkpoints.DISPOSITIONS],
        default="",
    )
    subject = SelectField(
        _l("About"),
        choices=[SelectChoice(s, SUBJECT_NAMES[s]) for s in checkpoints.SUBJECTS],
    )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if valid and not self.texts("name"):
            self["name_en"].errors.append(TEMPLATE_ERRORS["no_name"])
            return False
        return valid


#: A new template: its key, and the head every version has.
TemplateForm = type(
    "TemplateForm",
    (_TemplateHead,),
    {
        "key": StringField(
            _l("Key (lowercase letters, digits, hyphens)"),
            filters=[lambda v: v.strip().lower() if isinstance(v, str) else v],
            validators=[DataRequired(_l("Enter a key.")), Length(max=64), _no_nul],
        ),
        **_locale_fields("name", None),
    },
)
#: The head of an existing template (name, step, disposition, subject).
TemplateHeadForm = type("TemplateHeadForm", (_TemplateHead,), _locale_fields("name", None))


class _FieldBase(_Localized):
    type = SelectField(
        _l("Type"), choices=[SelectChoice(k, v) for k, v in TYPE_NAMES.items()], default="text"
    )
    name = StringField(
        _l("Field name (lowercase letters, digits, underscores)"),
        filters=[lambda v: v.strip().lower() if isinstance(v, str) else v],
        validators=[DataRequired(_l("Enter a field name.")), Length(max=40), _no_nul],
    )
    required = BooleanField(_l("Required"))
    max_length = IntegerField(
        _l("Maximum length (text)"),
        validators=[Optional()],
        render_kw={"inputmode": "numeric"},
    )
    unit = StringField(
        _l("Unit (number), such as kg or °C"),
        filters=[_strip],
        validators=[Optional(), Length(max=16), _no_nul],
    )
    minimum = StringField(
        _l("Minimum (number)"), filters=[_strip], render_kw={"inputmode": "decimal"}
    )
    maximum = StringField(
        _l("Maximum (number)"), filters=[_strip], render_kw={"inputmode": "decimal"}
    )
    decimals = IntegerField(
        _l("Decimals (number)"), validators=[Optional()], render_kw={"inputmode": "numeric"}
    )
    choices = TextAreaField(
        _l("Choices: one value per line (letters, digits, hyphens)"),
        validators=[Optional(), Length(max=4000), _no_nul],
    )

    def _bound(self, field) -> float | None:
        if not field.data:
            return None
        try:
            value = float(field.data.replace(",", "."))
        except ValueError:
            raise ValidationError(TEMPLATE_ERRORS["bad_number"]) from None
        if not abs(value) <= checkpoints.MAX_MAGNITUDE:
            raise ValidationError(TEMPLATE_ERRORS["bad_number"])
        return value

    def validate_minimum(self, field) -> None:
        self._bound(field)

    def validate_maximum(self, field) -> None:
        self._bound(field)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if valid and not self.texts("label"):
            self["label_en"].errors.append(TEMPLATE_ERRORS["no_label"])
            return False
        if valid and self.type.data == "choice" and not self._choice_values():
            self.choices.errors.append(TEMPLATE_ERRORS["no_choices"])
            return False
        return valid

    def _choice_values(self) -> list[str]:
        return [line.strip() for line in (self.choices.data or "").splitlines() if line.strip()]

    def spec(self) -> dict:
        """The field definition for ``tracemark.quality.checkpoints.check_field``."""
        kind = self.type.data
        spec: dict = {
            "name": self.name.data,
            "type": kind,
            "label": self.texts("label"),
            "required": bool(self.required.data),
        }
        if kind == "text":
            spec["max_length"] = self.max_length.data if self.max_length.data is not None else 200
        elif kind == "number":
            spec.update(
                unit=self.unit.data or None,
                min=self._bound(self.minimum),
                max=self._bound(self.maximum),
                decimals=self.decimals.data or 0,
            )
        elif kind == "choice":
            values = self._choice_values()
            labels = {
                locale: (self[f"choice_labels_{locale}"].data or "").splitlines()
                for locale in LOCALES
            }
            spec["choices"] = [
                {
                    "value": value,
                    "label": {
                        locale: lines[i].strip()
                        for locale, lines in labels.items()
                        if i < len(lines) and lines[i].strip()
                    }
                    or {"en": value},
                }
                for i, value in enumerate(values)
            ]
        return spec

    def refuse(self, error: checkpoints.TemplateError) -> None:
        """Show a core refusal on the field it concerns."""
        target = {
            "bad_field_name": self.name,
            "duplicate_field": self.name,
            "bad_type": self.type,
            "no_label": self["label_en"],
            "bad_label": self["label_en"],
            "bad_max_length": self.max_length,
            "bad_unit": self.unit,
            "bad_number": self.minimum,
            "bad_range": self.minimum,
            "bad_decimals": self.decimals,
        }.get(error.code, self.choices if "choice" in error.code else self.name)
        target.errors = [*target.errors, TEMPLATE_ERRORS[error.code]]


#: A new field: type, name, settings, and a label and choice labels per locale.
FieldForm = type(
    "FieldForm",
    (_FieldBase,),
    {
        **_locale_fields("label", None),
        **{
            f"choice_labels_{locale}": TextAreaField(
                name, validators=[Optional(), Length(max=4000), _no_nul]
            )
            for locale, name in LOCALES.items()
        },
    },
)


class FieldActionForm(FlaskForm):
    """Remove a field, or move it up or down."""

    action = HiddenField(validators=[AnyOf(["remove", "up", "down"])])


class ActiveForm(FlaskForm):
    """Retire (``0``) or reactivate (``1``) a template."""

    active = HiddenField(validators=[AnyOf(["0", "1"])])


class SeedForm(FlaskForm):
    """Add the standard templates."""


def new_nonce() -> str:
    return secrets.token_hex(16)


class _RecordBase(FlaskForm):
    kind = SelectField(
        _l("Identify by"),
        choices=[SelectChoice(k, v) for k, v in KIND_NAMES.items()],
        default="label",
    )
    identifier = StringField(
        _l("Label, element string or lot number"),
        filters=[_strip],
        validators=[DataRequired(RECORDING_ERRORS["empty"]), Length(max=500), _no_nul],
        render_kw={"autocomplete": "off", "autocapitalize": "off", "spellcheck": "false"},
    )
    site = SelectField(_l("Site"), coerce=int, default=0)
    nonce = HiddenField()
    offset = HiddenField(default="+00:00", render_kw={"data-offset": ""})

    def validate_nonce(self, field) -> None:
        if not isinstance(field.data, str) or not re.fullmatch(r"[0-9a-f]{32}", field.data):
            raise ValidationError(RECORDING_ERRORS["bad_nonce"])

    def validate_offset(self, field) -> None:
        if not isinstance(field.data, str) or not _OFFSET.fullmatch(field.data):
            field.data = "+00:00"

    def set_sites(self, sites) -> None:
        self.site.choices = [SelectChoice(0, "—")] + [SelectChoice(s.id, s.name) for s in sites]


def _number_validator(spec: dict):
    def check(_form, field) -> None:
        if field.data in (None, ""):
            return
        try:
            recording.clean_values(_Only(spec), {spec["name"]: field.data})
        except recording.RecordingError as error:
            raise ValidationError(RECORDING_ERRORS[error.code]) from None

    return check


class _Only:
    """A template of one field, for checking one value with the core's rules."""

    def __init__(self, spec: dict) -> None:
        self.fields = [{**spec, "required": False}]


def _field(spec: dict, locale: str):
    """The WTForms field for one template field."""
    text = checkpoints.label(spec["label"], locale)
    required = spec["required"]
    presence = [InputRequired(RECORDING_ERRORS["required"])] if required else [Optional()]
    kind = spec["type"]
    if kind == "text":
        return StringField(
            text,
            filters=[_strip],
            validators=[
                *([DataRequired(RECORDING_ERRORS["required"])] if required else [Optional()]),
                Length(max=spec["max_length"], message=RECORDING_ERRORS["too_long"]),
                _no_nul,
            ],
            render_kw={"maxlength": spec["max_length"]},
        )
    if kind == "number":
        attributes = {"inputmode": "numeric" if spec["decimals"] == 0 else "decimal",
                      "autocomplete": "off"}  # fmt: skip
        if spec.get("unit"):
            attributes["data-unit"] = spec["unit"]
        return StringField(
            text,
            filters=[_strip],
            validators=[*presence, Length(max=40), _number_validator(spec)],
            render_kw=attributes,
        )
    if kind == "date":
        return DateField(text, validators=presence, render_kw={"max": "9999-12-31"})
    if kind == "choice":
        choices = [SelectChoice("", "—")] + [
            SelectChoice(c["value"], checkpoints.label(c["label"], locale)) for c in spec["choices"]
        ]
        return SelectField(
            text,
            choices=choices,
            validators=[
                *([DataRequired(RECORDING_ERRORS["required"])] if required else [Optional()]),
            ],
        )
    if kind == "passfail":
        return RadioField(
            text,
            choices=[SelectChoice(k, v) for k, v in RESULT_NAMES.items()],
            validators=[*presence],
            validate_choice=True,
        )
    return FileField(text, render_kw={"accept": "application/pdf,image/png,image/jpeg,image/webp"})


#: Prefix of generated fields, so no template field can shadow the form's own.
FIELD_PREFIX = "f_"


def record_form(template: CheckpointTemplate, locale: str, **kwargs) -> FlaskForm:
    """The recording form for ``template`` in ``locale``."""
    fields = {FIELD_PREFIX + spec["name"]: _field(spec, locale) for spec in template.fields}
    form_class = type("RecordForm", (_RecordBase,), fields)
    form = form_class(**kwargs)
    form.template_fields = [(spec, form[FIELD_PREFIX + spec["name"]]) for spec in template.fields]
    return form
