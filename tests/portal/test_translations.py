"""The portal's translation catalogs are complete, consistent and compiled.

After changing any user-facing text, run ``scripts/i18n.sh`` (extract -> update -> compile),
translate the new entries in every ``translations/<locale>/LC_MESSAGES/messages.po`` and run it
again to recompile.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "translations"
TEMPLATE = TRANSLATIONS / "messages.pot"
SCRIPT = ROOT / "scripts" / "i18n.sh"
LOCALES = ["zh_Hans", "es", "fr", "de", "ja", "pt", "ar"]

#: A %-style conversion (named or not) or an escaped percent sign.
PERCENT = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]")


def _read_po(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def _po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def _ids(catalog: Catalog) -> set:
    return {message.id for message in catalog if message.id}


def _strings(message) -> list[str]:
    return list(message.string) if message.pluralizable else [message.string]


def _texts(message) -> list[str]:
    return list(message.id) if message.pluralizable else [message.id]


def _placeholders(text: str) -> set[str]:
    return {match.group(0) for match in PERCENT.finditer(text) if match.group(0) != "%%"}


def _stray_percent(text: str) -> bool:
    """A ``%`` that is not part of a conversion breaks ``text % values``."""
    return "%" in PERCENT.sub("", text)


def _messages(catalog: Catalog) -> dict:
    """The translations a catalog carries, without its header."""

    def frozen(value):
        return tuple(value) if isinstance(value, list | tuple) else value

    return {frozen(message.id): frozen(message.string) for message in catalog if message.id}


@pytest.fixture(scope="module")
def template() -> Catalog:
    return _read_po(TEMPLATE)


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_has_every_message_of_the_template(locale, template):
    catalog = _read_po(_po_path(locale))
    assert str(catalog.locale_identifier) == locale
    missing = _ids(template) - _ids(catalog)
    extra = _ids(catalog) - _ids(template)
    assert not missing, f"{locale}: not in the catalog, run scripts/i18n.sh: {sorted(missing)}"
    assert not extra, f"{locale}: not in the template any more: {sorted(extra)}"


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_is_fully_translated_and_not_fuzzy(locale):
    catalog = _read_po(_po_path(locale))
    assert not catalog.fuzzy, f"{locale}: the catalog header is fuzzy (pybabel would skip it)"
    fuzzy = [message.id for message in catalog if message.id and message.fuzzy]
    untranslated = [
        message.id
        for message in catalog
        if message.id and not all(text.strip() for text in _strings(message))
    ]
    assert not fuzzy and not untranslated, f"{locale}: fuzzy: {fuzzy}; untranslated: {untranslated}"


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_the_placeholders(locale):
    catalog = _read_po(_po_path(locale))
    problems = []
    for message in catalog:
        if not message.id:
            continue
        wanted = set().union(*(_placeholders(text) for text in _texts(message)))
        for text in _strings(message):
            found = _placeholders(text)
            if found != wanted:
                problems.append(f"{message.id!r}: {sorted(found)} instead of {sorted(wanted)}")
            if _stray_percent(text) and not any(_stray_percent(t) for t in _texts(message)):
                problems.append(f"{message.id!r}: stray % in {text!r}")
    problems += [
        f"{message.id!r}: {error}" for message, errors in catalog.check() for error in errors
    ]
    assert not problems, f"{locale}:\n" + "\n".join(problems)


@pytest.mark.parametrize("locale", LOCALES)
def test_committed_mo_matches_the_po(locale):
    po_path = _po_path(locale)
    mo_path = po_path.with_suffix(".mo")
    assert mo_path.is_file(), f"{mo_path.relative_to(ROOT)} is missing: run scripts/i18n.sh"
    compiled = io.BytesIO()
    write_mo(compiled, _read_po(po_path))  # what ``pybabel compile`` writes (fuzzy skipped)
    compiled.seek(0)
    with mo_path.open("rb") as handle:
        committed = read_mo(handle)
    assert _messages(committed) == _messages(read_mo(compiled)), (
        f"{mo_path.relative_to(ROOT)} is stale: run scripts/i18n.sh"
    )


def test_template_is_up_to_date_with_the_sources(tmp_path, template):
    fresh = tmp_path / "messages.pot"
    # the same options as the real extraction: the script is the one copy of them
    environment = {**os.environ, "PYTHON": sys.executable}
    run = subprocess.run(
        ["bash", str(SCRIPT), "--extract-to", str(fresh)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    extracted = _read_po(fresh)
    added = _ids(extracted) - _ids(template)
    removed = _ids(template) - _ids(extracted)
    assert not added and not removed, (
        f"translations/messages.pot is stale, run scripts/i18n.sh; "
        f"new: {sorted(added)}; gone: {sorted(removed)}"
    )
