"""The resolver link editor's forms: a link (type, target, level, titles per language,
language, media type, default, audience) and the delete button."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from admin.intent import RestorableForm
from tracemark.i18n import LOCALES
from tracemark.models import Audience, ResolverLink
from tracemark.resolver.links import LinkData

AUDIENCE_NAMES = {
    Audience.PUBLIC: _l("Everyone"),
    Audience.REGULATOR: _l("Regulators and the brand"),
    Audience.BRAND: _l("The brand only"),
}


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class LinkForm(RestorableForm):
    link_type = StringField(_l("Link type"), filters=[_strip], validators=[Length(max=200)])
    target = StringField(_l("Target address"), filters=[_strip], validators=[Length(max=1000)])
    qualifiers = StringField(
        _l("Level (empty: the GTIN; /10/LOT: a batch)"),
        filters=[_strip],
        validators=[Length(max=200)],
    )
    hreflang = StringField(_l("Language of the target"), filters=[_strip])
    media_type = StringField(_l("Media type"), filters=[_strip])
    is_default = BooleanField(_l("Default link"))
    audience = SelectField(
        _l("Shown to"),
        choices=[SelectChoice(audience.value, name) for audience, name in AUDIENCE_NAMES.items()],
        default=Audience.PUBLIC.value,
    )

    @classmethod
    def of_link(cls, link: ResolverLink) -> LinkForm:
        """The form filled with ``link`` (a submitted form's values win over it)."""
        data = {
            "link_type": link.link_type,
            "target": link.target,
            "qualifiers": link.qualifiers,
            "hreflang": link.hreflang or "",
            "media_type": link.media_type or "",
            "is_default": link.is_default,
            "audience": link.audience.value,
        }
        data.update((f"title_{locale}", text) for locale, text in link.titles.items())
        return cls(data=data)

    def data_for_core(self) -> LinkData:
        return LinkData(
            link_type=self.link_type.data or "",
            target=self.target.data or "",
            titles={locale: self[f"title_{locale}"].data or "" for locale in LOCALES},
            qualifiers=self.qualifiers.data or "",
            hreflang=self.hreflang.data,
            media_type=self.media_type.data,
            is_default=bool(self.is_default.data),
            audience=Audience(self.audience.data),
        )


for _locale, _name in LOCALES.items():
    setattr(
        LinkForm,
        f"title_{_locale}",
        StringField(_l("Title (%(language)s)", language=_name), filters=[_strip]),
    )


class DeleteLinkForm(RestorableForm):
    """Deleting a link, or making it the default: a button (its CSRF token is the form)."""
