"""Locales: the one place where the locale is chosen (?lang=, then the cookie, then
Accept-Language), and translated text outside any web request (e-mails a worker sends,
notices a rule sets).

Both read the same catalogs (``translations/``). Strings used outside a request are marked
with :func:`N_` so extraction finds them, and translated with :func:`translate` in a given
locale (English, the source language, when the locale has no catalog).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations
from babel.units import format_unit

if TYPE_CHECKING:
    from flask import Flask

#: Locales with a complete catalog under translations/, in the switcher's order.
LOCALES: dict[str, str] = {
    "en": "English",
    "zh_Hans": "简体中文",
    "es": "Español",
    "fr": "Français",
    "de": "Deutsch",
    "ja": "日本語",
    "pt": "Português",
    "ar": "العربية",
}
RTL = frozenset({"ar"})
DEFAULT = "en"
COOKIE = "tm_lang"
#: Primary language subtag → our locale, for Accept-Language values like ``zh-CN``.
_BY_LANGUAGE = {code.split("_")[0]: code for code in LOCALES}


def normalize(tag: str | None) -> str | None:
    """Map a language tag (``pt-BR``, ``zh_Hans``, ``ZH-cn``) to a supported locale."""
    if not tag:
        return None
    tag = tag.strip().replace("-", "_")
    for code in LOCALES:
        if tag.lower() == code.lower():
            return code
    return _BY_LANGUAGE.get(tag.split("_")[0].lower())


def select_locale() -> str:
    from flask import request  # (the locale lists above serve the worker too, without Flask)

    for candidate in (request.args.get("lang"), request.cookies.get(COOKIE)):
        chosen = normalize(candidate)
        if chosen:
            return chosen
    return _accepted(request.headers.get("Accept-Language", ""))


@functools.lru_cache(maxsize=1024)
def _accepted(header: str) -> str:
    """The best supported locale of an ``Accept-Language`` header: parsed once per
    distinct header (phones send a few hundred distinct ones; the cache is bounded)."""
    from werkzeug.datastructures import LanguageAccept
    from werkzeug.http import parse_accept_header

    for tag, _quality in parse_accept_header(header, LanguageAccept):
        chosen = normalize(tag)
        if chosen:
            return chosen
    return DEFAULT


def text_direction(locale: str) -> str:
    return "rtl" if locale.split("_")[0] in RTL else "ltr"


def init_app(app: Flask, translations_dir: str) -> None:
    from flask_babel import Babel

    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = translations_dir
    Babel(app, locale_selector=select_locale)


TRANSLATIONS_DIR = Path(__file__).resolve().parents[1] / "translations"


def N_(message: str) -> str:
    """Mark ``message`` for extraction; it is translated later, in the reader's locale."""
    return message


@functools.cache
def _catalog(locale: str) -> NullTranslations:
    if locale == DEFAULT:
        return NullTranslations()
    return Translations.load(str(TRANSLATIONS_DIR), [locale])


def translate(locale: str | None, message: str, **params: object) -> str:
    """``message`` in ``locale`` (a supported one, else English), ``%(name)s`` filled in."""
    chosen = normalize(locale) or DEFAULT
    text = _catalog(chosen if chosen in LOCALES else DEFAULT).gettext(message)
    return text % params if params else text


#: UN/CEFACT units of measure (as EPCIS quantities name them) → CLDR units, so a quantity
#: reads "12.500 kg" or "500 l" in the reader's language. Counts (``EA``, ``H87``) have no
#: unit word; other codes are shown as written after the number.
CLDR_UNITS = {
    "KGM": "mass-kilogram", "GRM": "mass-gram", "TNE": "mass-tonne", "LBR": "mass-pound",
    "LTR": "volume-liter", "MLT": "volume-milliliter", "MTQ": "volume-cubic-meter",
    "MTR": "length-meter", "CMT": "length-centimeter", "MMT": "length-millimeter",
}  # fmt: skip
COUNTS = frozenset({"EA", "H87", "C62"})


def quantity_text(value: float, uom: str | None, locale: str) -> str:
    """``value`` in ``uom`` as the reader writes it: Babel's number and unit symbol for
    the units it knows, the bare number for counts, else the number and the code."""
    if uom in CLDR_UNITS:
        return format_unit(value, CLDR_UNITS[uom], length="short", locale=locale)
    number = format_decimal(value, locale=locale)
    return number if not uom or uom in COUNTS else f"{number} {uom}"
