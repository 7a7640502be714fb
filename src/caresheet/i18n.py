"""Every UI word (chrome, labels, notices, safety wording) in the reader's language, by gettext.

A sheet's own words come from its translation file. Every other word a page, a PDF or the
guide says is a gettext message whose msgid is the English text: the templates call ``_()``;
the fixed safety wording (``wording.py``), the page chrome (``web/deps.py``), the public pages'
words (``web/public.py``), the teach-back quiz (``teachback.py``) and the time words of the
timeline and the guide (``plan.py``, ``web/guide.py``) are built from the catalog per
language. So a translator edits one ``.po`` file per language
(``locale/<lang>/LC_MESSAGES/caresheet.po``), and ``tests/test_catalog.py`` checks that it is
complete, compiled and in step with the source.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from functools import lru_cache, wraps
from pathlib import Path
from typing import TypeVar

from babel import Locale, UnknownLocaleError

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "caresheet"
DEFAULT = "en"
# "sp" is what some EHRs send for Spanish (MedlinePlus Connect accepts it).
ALIASES = {"sp": "es", "spa": "es", "eng": "en"}

T = TypeVar("T")


def normalize(lang: str | None) -> str:
    """A language tag as our catalogs name it: ``es-MX`` -> ``es``, ``sp`` -> ``es``."""
    if not lang:
        return DEFAULT
    base = lang.strip().replace("_", "-").split("-")[0].lower()
    return ALIASES.get(base, base) or DEFAULT


@lru_cache(maxsize=16)
def gettext_for(lang: str | None) -> gettext.NullTranslations:
    """The catalog for a language; English (the msgids themselves) when there is none."""
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[normalize(lang)], fallback=True)


def ui_language(lang: str | None) -> str:
    """The language UI words come out in: ``lang`` when it has a catalog, else English."""
    code = normalize(lang)
    return code if isinstance(gettext_for(code), gettext.GNUTranslations) else DEFAULT


def per_language(build: Callable[[str], T]) -> Callable[[str], T]:
    """Build a set of words once per catalog: ``es-MX`` reuses ``es``'s, and a language with
    no catalog gets the English set, language names included, never a mix."""
    cached = lru_cache(maxsize=16)(build)

    @wraps(build)
    def words_in(language: str) -> T:
        return cached(ui_language(language))

    return words_in


def _(message: str, lang: str | None) -> str:
    """One UI message in ``lang``; named ``_`` so ``pybabel extract`` finds the msgids."""
    return gettext_for(lang).gettext(message)


def language_name(lang: str, in_lang: str | None = None) -> str:
    """The name of ``lang`` written in ``in_lang`` (``es`` in ``es`` -> ``español``)."""
    try:
        return Locale.parse(normalize(lang)).get_display_name(normalize(in_lang or lang)) or lang
    except (ValueError, UnknownLocaleError):
        return lang


def fallback_notice(asked: str, shown: str) -> str:
    """The notice shown when a sheet is missing in the asked language, in that language."""
    return _("This sheet is not available in %(asked)s. It is shown in %(shown)s.", asked) % {
        "asked": language_name(asked, asked),
        "shown": language_name(shown, asked),
    }
