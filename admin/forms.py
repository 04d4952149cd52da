"""Catalog forms of the admin app: parsing and validation, every message translated.

The forms check what a person can correct (GTIN check digit, lot characters, dates,
country, coordinates); ``tracemark.catalog`` checks again and owns the state change.
"""

from __future__ import annotations

import re

from babel import Locale
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    FloatField,
    Form,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from admin.intent import RestorableForm
from signing.gs1 import MAX_LOT_LENGTH, is_valid_ai_value, normalize_gtin
from tracemark.i18n import LOCALES
from tracemark.models import BatchStatus

#: ISO 3166-1 alpha-2 codes (CLDR's territories without its groupings and private codes).
COUNTRIES = frozenset(
    code
    for code in Locale("en").territories
    if len(code) == 2 and code.isalpha() and code not in {"EU", "EZ", "QO", "UN", "XK", "ZZ"}
)
STATUS_NAMES = {
    BatchStatus.RELEASED: _l("Released"),
    BatchStatus.ON_HOLD: _l("On hold"),
    BatchStatus.RECALLED: _l("Recalled"),
}
NO_SITE = 0


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _upper(value):
    return value.strip().upper() if isinstance(value, str) else value


class SiteForm(RestorableForm):
    name = StringField(
        _l("Name"),
        filters=[_strip],
        validators=[DataRequired(_l("Enter a name.")), Length(max=200)],
    )
    region = StringField(_l("Region"), filters=[_strip], validators=[Optional(), Length(max=200)])
    country = StringField(_l("Country (ISO code, e.g. ES)"), filters=[_upper])
    latitude = FloatField(
        _l("Latitude"),
        validators=[
            Optional(),
            NumberRange(-90, 90, _l("A latitude is between -90 and 90.")),
        ],
    )
    longitude = FloatField(
        _l("Longitude"),
        validators=[
            Optional(),
            NumberRange(-180, 180, _l("A longitude is between -180 and 180.")),
        ],
    )

    def validate_country(self, field) -> None:
        if not field.data:
            field.data = None
        elif field.data not in COUNTRIES:
            raise ValidationError(_l("Enter a two-letter ISO country code, such as ES or FR."))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        pair = (self.latitude, self.longitude)
        if valid and (pair[0].data is None) != (pair[1].data is None):
            missing = pair[0] if pair[0].data is None else pair[1]
            missing.errors.append(_l("Give both coordinates or neither."))
            return False
        return valid


class ProductForm(RestorableForm):
    gtin = StringField(
        _l("GTIN"), filters=[_strip], validators=[DataRequired(_l("Enter the GTIN."))]
    )
    name = StringField(
        _l("Name"),
        filters=[_strip],
        validators=[DataRequired(_l("Enter a name.")), Length(max=200)],
    )

    def validate_gtin(self, field) -> None:
        """Replace the value with its 14-digit form."""
        try:
            field.data = normalize_gtin(field.data)
        except ValueError as error:
            if "check digit" in str(error):
                raise ValidationError(
                    _l("The check digit is wrong: check the GTIN for a typing error.")
                ) from None
            raise ValidationError(_l("A GTIN has 8, 12, 13 or 14 digits.")) from None


class LocaleTexts(Form):
    """A product's name and description in one locale (both optional)."""

    name = StringField(_l("Name"), filters=[_strip], validators=[Length(max=200)])
    description = TextAreaField(_l("Description"), filters=[_strip], validators=[Length(max=5000)])


class _ProductEdit(RestorableForm):
    name = StringField(
        _l("Name"),
        filters=[_strip],
        validators=[DataRequired(_l("Enter a name.")), Length(max=200)],
    )

    def texts(self) -> dict[str, dict[str, str]]:
        return {locale: dict(self[f"texts_{locale}"].data) for locale in LOCALES}


#: Product name plus ``texts_<locale>`` subforms, one per locale.
ProductEditForm = type(
    "ProductEditForm",
    (_ProductEdit,),
    {f"texts_{locale}": FormField(LocaleTexts, label=name) for locale, name in LOCALES.items()},
)


class _BatchFacts(RestorableForm):
    production_date = DateField(_l("Production date"), validators=[Optional()])
    expiry_date = DateField(_l("Expiry date"), validators=[Optional()])
    site = SelectField(_l("Site"), coerce=int, default=NO_SITE)
    line = StringField(_l("Line"), filters=[_strip], validators=[Optional(), Length(max=100)])

    def validate_expiry_date(self, field) -> None:
        production = self.production_date.data
        if field.data is not None and production is not None and field.data < production:
            raise ValidationError(_l("The expiry date cannot be before the production date."))

    def set_sites(self, sites) -> None:
        self.site.choices = [SelectChoice(NO_SITE, "—")] + [
            SelectChoice(site.id, site.name) for site in sites
        ]


class BatchForm(_BatchFacts):
    product = SelectField(_l("Product"), coerce=int)
    lot = StringField(_l("Lot"), filters=[_strip], validators=[DataRequired(_l("Enter the lot."))])

    def set_products(self, products) -> None:
        self.product.choices = [SelectChoice(p.id, f"{p.name} ({p.gtin})") for p in products]

    def validate_lot(self, field) -> None:
        if not is_valid_ai_value(field.data, MAX_LOT_LENGTH):
            raise ValidationError(
                _l(
                    "A lot has 1 to 20 characters: Latin letters, digits and the "
                    "punctuation GS1 allows, without spaces."
                )
            )


class BatchEditForm(_BatchFacts):
    pass


class _BatchStatus(RestorableForm):
    status = SelectField(
        _l("Status"),
        choices=[SelectChoice(status.value, label) for status, label in STATUS_NAMES.items()],
    )

    def notice(self) -> dict[str, str]:
        return {locale: self[f"notice_{locale}"].data or "" for locale in LOCALES}

    def validate_status(self, field) -> None:
        if field.data != BatchStatus.RELEASED and not any(self.notice().values()):
            raise ValidationError(_l("Write a notice for consumers in at least one language."))


#: Status plus ``notice_<locale>`` text areas, one per locale.
BatchStatusForm = type(
    "BatchStatusForm",
    (_BatchStatus,),
    {
        f"notice_{locale}": TextAreaField(name, filters=[_strip], validators=[Length(max=2000)])
        for locale, name in LOCALES.items()
    },
)


class RevokeKeyForm(RestorableForm):
    """Revoking a key needs a reason: it is kept with the key and in the audit log."""

    reason = StringField(
        _l("Reason"),
        validators=[DataRequired(_l("Say why the key is revoked.")), Length(max=500)],
    )


class KeyRequestForm(RestorableForm):
    """Asking for a new code key: nothing to fill in, but the form carries the CSRF token."""


#: The most codes one issuance form asks for (larger orders are several jobs).
MAX_ISSUE = 5_000_000
#: A whole number, digits grouped by threes with a space, comma, dot or apostrophe allowed.
_COUNT = re.compile(r"[0-9]+|[0-9]{1,3}(?:([ ,.'\u00a0\u202f])[0-9]{3})(?:\1[0-9]{3})*")


class IssueForm(RestorableForm):
    """Issuing codes for a batch. ``request_key`` is drawn when the form is shown: the
    same form sent twice queues one job (see ``tracemark.codes.issuance.create_job``)."""

    count = StringField(
        _l("Number of codes"),
        filters=[_strip],
        validators=[DataRequired(_l("Enter how many codes to issue."))],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    with_pin = BooleanField(_l("With scratch-off PINs (listed in the CSV, printed apart)"))
    request_key = HiddenField()

    def validate_count(self, field) -> None:
        """Replace the text with the number it spells."""
        if not isinstance(field.data, str) or not _COUNT.fullmatch(field.data):
            raise ValidationError(_l("Enter a whole number, such as 10000."))
        number = int(re.sub(r"[^0-9]", "", field.data))
        if not 1 <= number <= MAX_ISSUE:
            raise ValidationError(_l("Issue between 1 and 5,000,000 codes at a time."))
        field.data = number

    def validate_request_key(self, field) -> None:
        if not isinstance(field.data, str) or not re.fullmatch(r"[0-9a-f]{32}", field.data):
            raise ValidationError(_l("This form is incomplete: reload the page and try again."))


class ApiTokenForm(RestorableForm):
    """A new API token: what it is for, and what it may do."""

    name = StringField(
        _l("Name"),
        filters=[_strip],
        validators=[DataRequired(_l("Say what the token is for.")), Length(max=100)],
    )
    capture = BooleanField(_l("Capture EPCIS events"))
    read = BooleanField(_l("Read events, statistics, traces and jobs"))
    issue = BooleanField(_l("Create batches and issue codes"))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not self.scopes():
            self.capture.errors = [*self.capture.errors, _l("Choose at least one scope.")]
            return False
        return valid

    def scopes(self) -> list[str]:
        return [name for name in ("capture", "read", "issue") if getattr(self, name).data]


class RevokeApiTokenForm(RestorableForm):
    """Revoking a token: a button (its CSRF token is the form)."""
