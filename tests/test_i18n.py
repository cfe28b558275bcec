"""Every patient-facing string is in every catalog, translated, with its placeholders intact."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import locales
from locales import _

ROOT = Path(__file__).resolve().parents[1]
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"\{\w*\}")


def source_messages() -> set[str]:
    found = set()
    for folder in ("bot", "web", "clinic", "dialogs", "content", "exports", "scheduler", "storage"):
        for _filename, _lineno, message, _comments, _context in extract_from_dir(
            ROOT / folder,
            method_map=[("**.py", "python"), ("**.toml", "content.babel_extract:extract"),
                        ("**/templates/**.html", "jinja2.ext:babel_extract")],
            keywords=KEYWORDS,
        ):
            found.add(message[0] if isinstance(message, tuple) else message)  # a catalog keys plurals by the singular
    return found


@pytest.fixture(scope="module")
def messages() -> set[str]:
    return source_messages()


@pytest.mark.parametrize("language", locales.SUPPORTED)
def test_catalog_has_every_message_translated(language, messages):
    with open(ROOT / "locales" / language / "LC_MESSAGES" / "messages.po", "rb") as fp:
        catalog = read_po(fp, locale=language)
    missing = sorted(m for m in messages if m not in catalog)
    assert not missing, f"{language} lacks: {missing}"
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        if language == locales.DEFAULT:
            continue  # the source language: gettext shows the msgid itself
        assert all(strings), f"{language}: untranslated {message.id!r}"
        assert "fuzzy" not in message.flags, f"{language}: fuzzy {message.id!r}"
        wanted = set(PLACEHOLDER.findall(ids[0]))
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) == wanted, f"{language}: placeholders of {message.id!r} in {string!r}"


def test_the_template_is_current(messages):
    with open(ROOT / "locales" / "messages.pot", "rb") as fp:
        template = read_po(fp)
    assert sorted(m for m in messages if m not in template) == []


def test_a_patient_reads_their_own_language():
    for language, start in [("en", "Which language"), ("es", "¿Qué idioma"), ("de", "Welche Sprache")]:
        with locales.use(language):
            assert _("Which language would you like me to use?").startswith(start)
