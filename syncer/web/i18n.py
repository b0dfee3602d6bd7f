"""The console's languages: Babel message catalogs in ``locales/<language>/LC_MESSAGES/messages.po``,
Simplified Chinese by default, English switchable. A request's language is its ``?lang=`` (the console
then keeps it in the ``lang`` cookie), else the ``lang`` cookie, else zh-CN.

The ``.po`` files are read at run time with ``babel.messages.pofile`` (once per process) instead of being
compiled to ``.mo``: the wheel ships the text catalogs as package data and needs no build step, and a
translator edits one file that is what runs. Message ids are the English text; a message missing from a
catalog shows in English. ``locales/README.md`` says how to add and check messages.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from starlette.requests import HTTPConnection

LOCALES = Path(__file__).resolve().parent / "locales"
#: language tag -> catalog folder
LANGUAGES = {"zh-CN": "zh_CN", "en": "en"}
DEFAULT_LANGUAGE = "zh-CN"
COOKIE = "lang"


def normalize(value: str | None) -> str | None:
    """``zh``, ``zh-cn``, ``zh_CN``, ``zh-Hans`` -> ``zh-CN``; ``en``, ``en-US`` -> ``en``; others None."""
    tag = (value or "").strip().replace("_", "-").lower()
    if tag == "zh" or tag.startswith(("zh-cn", "zh-hans", "zh-sg")):
        return "zh-CN"
    if tag == "en" or tag.startswith("en-"):
        return "en"
    return None


def language_of(request: HTTPConnection) -> str:
    """The request's language: ``?lang=``, else the ``lang`` cookie, else zh-CN."""
    return normalize(request.query_params.get("lang")) or normalize(request.cookies.get(COOKIE)) or DEFAULT_LANGUAGE


@cache
def messages(language: str) -> dict[str, str]:
    """The translated messages of one language (msgid -> text), read once from its ``.po`` file."""
    from babel.messages.pofile import read_po

    path = LOCALES / LANGUAGES[language] / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=LANGUAGES[language])
    return {
        message.id: message.string
        for message in catalog
        if isinstance(message.id, str) and message.id and isinstance(message.string, str) and message.string
        if not message.fuzzy
    }


class Translator:
    """``_("Listings")`` in one language; ``_("%(n)s listings", n=3)`` fills %-style placeholders."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.messages = messages(language)

    def __call__(self, message: str, **values: object) -> str:
        text = self.messages.get(message, message)
        return text % values if values else text


def gettext_for(request: HTTPConnection) -> Translator:
    """The translator of the request's language."""
    return Translator(language_of(request))
