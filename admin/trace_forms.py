"""Forms of the traceability pages: suppliers, material lots, lot status, and putting a
recall's batches on hold. Every message translated; ``tracemark.trace.supply`` checks again."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from admin.forms import COUNTRIES, ProductForm, _strip, _upper
from admin.intent import RestorableForm
from signing.gs1 import MAX_LOT_LENGTH, is_valid_ai_value
from tracemark.i18n import LOCALES
from tracemark.models import LotStatus

LOT_STATUS_NAMES = {
    LotStatus.RELEASED: _l("Released"),
    LotStatus.ON_HOLD: _l("On hold"),
    LotStatus.REJECTED: _l("Rejected"),
    LotStatus.RECALLED: _l("Recalled"),
}


def no_control_characters(_form, field) -> None:
    """NUL and other control characters never reach the database (PostgreSQL refuses NUL
    in text), whatever a hostile client sends."""
    data = field.data
    if isinstance(data, str) and any(ord(c) < 32 and c not in "\r\n\t" for c in data):
        raise ValidationError(_l("Remove the control characters from this field."))


class SupplierForm(RestorableForm):
    name = StringField(
        _l("Name"),
        filters=[_strip],
        validators=[DataRequired(_l("Enter a name.")), Length(max=200), no_control_characters],
    )
    party_id = StringField(
        _l("Party identifier (e.g. GLN URN), optional"),
        filters=[_strip],
        validators=[Optional(), Length(max=300), no_control_characters],
    )
    country = StringField(_l("Country (ISO code, e.g. ES)"), filters=[_upper])

    def validate_country(self, field) -> None:
        if not field.data:
            field.data = None
        elif field.data not in COUNTRIES:
            raise ValidationError(_l("Enter a two-letter ISO country code, such as ES or FR."))


class LotForm(RestorableForm):
    """Receiving a material lot: by the material's GTIN when it has one, else by the
    class identifier the supplier's events use."""

    material = StringField(
        _l("Material"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Enter the material.")),
            Length(max=200),
            no_control_characters,
        ],
    )
    supplier = SelectField(_l("Supplier"), coerce=int)
    lot_number = StringField(
        _l("Lot number"),
        filters=[_strip],
        validators=[DataRequired(_l("Enter the lot number."))],
    )
    # one of the two is needed (see validate): neither is labelled optional
    gtin = StringField(_l("GTIN of the material (or the class identifier below)"), filters=[_strip])
    epc_class = StringField(
        _l("Class identifier used in events (when there is no GTIN)"),
        filters=[_strip],
        validators=[Optional(), Length(max=300), no_control_characters],
    )
    received_on = DateField(_l("Received on"), validators=[Optional()])

    def set_suppliers(self, suppliers) -> None:
        self.supplier.choices = [SelectChoice(s.id, s.name) for s in suppliers]

    def validate_lot_number(self, field) -> None:
        if not is_valid_ai_value(field.data or "", MAX_LOT_LENGTH):
            raise ValidationError(
                _l(
                    "A lot has 1 to 20 characters: Latin letters, digits and the "
                    "punctuation GS1 allows, without spaces."
                )
            )

    def validate_gtin(self, field) -> None:
        if not field.data:
            field.data = None
            return
        ProductForm.validate_gtin(self, field)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if valid and not self.gtin.data and not self.epc_class.data:
            self.gtin.errors.append(
                _l("Give the material's GTIN, or the class identifier its events use.")
            )
            return False
        return valid


class LotStatusForm(RestorableForm):
    """Lock or release a lot; the button pressed says which."""

    status = SelectField(
        _l("Status"),
        choices=[SelectChoice(s.value, label) for s, label in LOT_STATUS_NAMES.items()],
    )


class _HoldForm(RestorableForm):
    """Put every batch a recall reaches on hold, with a notice to consumers. Sent twice:
    first to see what will change, then with ``confirmed`` to change it."""

    confirmed = HiddenField()

    def notice(self) -> dict[str, str]:
        return {locale: self[f"notice_{locale}"].data or "" for locale in LOCALES}

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if valid and not any(self.notice().values()):
            self[f"notice_{next(iter(LOCALES))}"].errors.append(
                _l("Write a notice for consumers in at least one language.")
            )
            return False
        return valid


#: ``confirmed`` plus ``notice_<locale>`` text areas, one per locale.
HoldForm = type(
    "HoldForm",
    (_HoldForm,),
    {
        f"notice_{locale}": TextAreaField(
            name, filters=[_strip], validators=[Length(max=2000), no_control_characters]
        )
        for locale, name in LOCALES.items()
    },
)
