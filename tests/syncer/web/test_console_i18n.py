"""The console's catalogs: every message of the templates and console modules is translated to Chinese,
no catalog holds messages nothing uses, placeholders survive translation; the request's language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po
from listing_sync.syncer.web import i18n

ROOT = Path(__file__).resolve().parents[3]
METHODS = [("syncer/web/**.py", "python"), ("syncer/web/templates/**.html", "jinja2")]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdr]")


def _used() -> set[str]:
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    found = extract_from_dir(str(ROOT), METHODS, keywords=keywords)
    return {message for _file, _line, message, _comments, _context in found if isinstance(message, str)}


def _catalog(language: str):
    path = i18n.LOCALES / i18n.LANGUAGES[language] / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        return read_po(fh)


def test_every_message_is_translated_and_none_is_stale() -> None:
    used = _used()
    assert len(used) > 150  # the extraction found the templates
    for language in i18n.LANGUAGES:
        ids = {m.id for m in _catalog(language) if m.id}
        assert sorted(used - ids) == [], f"{language}: messages missing from the catalog (README: pybabel update)"
        assert sorted(ids - used) == [], f"{language}: messages nothing uses"
    chinese = i18n.messages("zh-CN")
    assert sorted(used - set(chinese)) == [], "untranslated (zh-CN)"
    for message, text in chinese.items():
        assert set(PLACEHOLDER.findall(message)) == set(PLACEHOLDER.findall(text)), message


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("zh", "zh-CN"),
        ("zh_CN", "zh-CN"),
        ("zh-Hans-CN", "zh-CN"),
        ("en-US", "en"),
        ("EN", "en"),
        ("fr", None),
        ("", None),
    ],
)
def test_language_tags(given: str, expected: str | None) -> None:
    assert i18n.normalize(given) == expected


def test_translation_fills_placeholders_and_falls_back_to_english() -> None:
    zh, en = i18n.Translator("zh-CN"), i18n.Translator("en")
    assert zh("Change set %(id)s", id=7) == "变更集 7"
    assert en("Change set %(id)s", id=7) == "Change set 7"
    assert zh("a message nobody translated") == "a message nobody translated"
