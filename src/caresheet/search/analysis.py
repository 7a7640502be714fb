"""Text to search terms, the same way for sheets and queries, on every store.

Analysis happens here in Python rather than in each database's tokenizer, so SQLite and
PostgreSQL index exactly the same terms and rank the same documents: lower case, accents
folded ("cirugía" = "cirugia"), split on anything that is not a letter or digit, and a light
plural/-ing/-ed stemmer per language. A sheet is stemmed in its own language; a query whose
language is unknown looks for the stems of every language (``query_stems``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

WORD = re.compile(r"[^\W_]+")
MAX_TERM_LENGTH = 40

# Words that carry no meaning in a query ("what to do after a colonoscopy").
_STOPWORDS = """
    a an and are as at be but by can could did do does doing for from had has have how i if in
    into is it its me my no not of on or our should so than that the their them then there these
    they this to up was we were what when where which who why will with would you your yours
    after before during about get got am been being
    el la los las un una unos unas y o de del al en por para con sin que qué como cómo cuando
    cuándo es son se su sus mi mis me lo le les ya muy mas más pero si sí no despues después
    antes durante tengo tiene hacer hago debo puedo
"""


# Combining marks left after NFKD decomposition: the accents to drop.
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def fold(text: str) -> str:
    """Lower case without accents: ``Cirugía`` -> ``cirugia``, ``niño`` -> ``nino``."""
    lowered = text.casefold()
    if lowered.isascii():
        return lowered
    return _COMBINING.sub("", unicodedata.normalize("NFKD", lowered))


def words(text: str) -> list[str]:
    """The folded words of a text, in order (no stemming)."""
    return WORD.findall(fold(text))


LANGUAGES = ("en", "es")


def stem(word: str, language: str = "en") -> str:
    """The light stem of a folded word in a language (``es`` for Spanish, else English)."""
    if language.startswith("es"):
        return stem_es(word)
    return stem_en(word)


# Plain dicts as caches: analysis calls these millions of times on a big import.
_STEMMED_EN: dict[str, str] = {}
_STEMMED_ES: dict[str, str] = {}
_CACHE_LIMIT = 500_000


def _cached(cache: dict[str, str], stemmer: Callable[[str], str], word: str) -> str:
    """A stem from ``cache``, or computed and kept while the cache is under its limit."""
    found = cache.get(word)
    if found is None:
        found = stemmer(word)
        if len(cache) < _CACHE_LIMIT:
            cache[word] = found
    return found


def stem_en(word: str) -> str:
    """English plurals, -ing and -ed (cached; see ``_stem_en``)."""
    return _cached(_STEMMED_EN, _stem_en, word)


def stem_es(word: str) -> str:
    """Spanish plurals (cached; see ``_stem_es``)."""
    return _cached(_STEMMED_ES, _stem_es, word)


def _stem_en(word: str) -> str:
    """English plurals, -ing and -ed, never below 4 letters.

    Light on purpose: it must never join two words a patient would tell apart ("biopsies" ->
    "biopsy", "stitches" -> "stitch", "bleeding" -> "bleed", "bones" -> "bone").
    """
    if len(word) <= 3 or not word.isalpha():
        return word[:MAX_TERM_LENGTH]
    base = word
    if base.endswith("ies") and len(base) > 4:
        base = base[:-3] + "y"
    elif base.endswith(("sses", "shes", "ches", "xes", "zes")):
        base = base[:-2]
    elif base.endswith("s") and not base.endswith(("ss", "us", "is")):
        base = base[:-1]
    elif base.endswith("ing") and len(base) > 6 and _has_vowel(base[:-3]):
        base = _undouble(base[:-3])
    elif base.endswith("ed") and len(base) > 5 and _has_vowel(base[:-2]):
        base = _undouble(base[:-2])
    return base[:MAX_TERM_LENGTH]


def _stem_es(word: str) -> str:
    """Spanish plurals: "pruebas" -> "prueba", "dolores" -> "dolor", "luces" -> "luz"."""
    if len(word) <= 3 or not word.isalpha():
        return word[:MAX_TERM_LENGTH]
    base = word
    if base.endswith("ces") and len(base) > 4:
        base = base[:-3] + "z"
    elif base.endswith("es") and len(base) > 4 and base[-3] not in "aeiou":
        base = base[:-2]
    elif base.endswith("s") and base[-2] in "aeiou":
        base = base[:-1]
    return base[:MAX_TERM_LENGTH]


def _has_vowel(text: str) -> bool:
    return any(ch in "aeiouy" for ch in text)


def _undouble(text: str) -> str:
    """``stopp`` -> ``stop``, ``clott`` -> ``clot``, but ``swell`` and ``pass`` stay."""
    if len(text) >= 3 and text[-1] == text[-2] and text[-1] not in "lsz":
        return text[:-1]
    return text


def terms(text: str, language: str = "en") -> list[str]:
    """The index terms of a text, in order: folded, split, stemmed in its language."""
    spanish = language.startswith("es")
    cache, stemmer = (_STEMMED_ES, stem_es) if spanish else (_STEMMED_EN, stem_en)
    get = cache.get
    return [get(word) or stemmer(word) for word in WORD.findall(fold(text))]


def analyzed(text: str, language: str = "en") -> str:
    """The terms of a text joined by spaces: what the full-text index stores."""
    return " ".join(terms(text, language))


def query_stems(word: str, language: str | None) -> tuple[str, ...]:
    """The stems to look for: the query's language, or every language when it is unknown."""
    if language is not None:
        return (stem(word, language),)
    return tuple(dict.fromkeys(stem(word, lang) for lang in LANGUAGES))


STOPWORDS = frozenset(fold(word) for word in _STOPWORDS.split())
