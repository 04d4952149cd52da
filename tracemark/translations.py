"""Translated text outside any web request (e-mails a worker sends, notices a rule sets).

The same catalogs as the web faces (``translations/``); strings are marked with
:func:`N_` so extraction finds them, and translated with :func:`translate` in a given
locale (English, the source language, when the locale has no catalog).
"""

from __future__ import annotations

import functools
from pathlib import Path

from babel.support import NullTranslations, Translations

from tracemark.i18n import DEFAULT, LOCALES, normalize

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
