"""UI words (page chrome, labels, notices) in the reader's language, through gettext catalogs.

A sheet's own words come from its translation file; the fixed safety wording from
``wording.py``. Everything else a page says goes through here, so a translator edits one
``.po`` file per language (``locale/<lang>/LC_MESSAGES/caresheet.po``).
"""

from __future__ import annotations

import gettext
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "caresheet"
DEFAULT = "en"
# "sp" is what some EHRs send for Spanish (MedlinePlus Connect accepts it).
ALIASES = {"sp": "es", "spa": "es", "eng": "en"}


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
