"""Plain-language checks: reading grade, long sentences, jargon and steps that lead with a verb.

Patients read these sheets when tired, worried or in pain, so the bar is grade 6 (warning)
and grade 8 (error) on the Flesch-Kincaid scale, computed with textstat 0.7.4 (later
versions download data at run time). Grades are only computed for English text: textstat's
English syllable counts would give meaningless grades for other languages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from importlib.resources import files

import textstat
import yaml

GRADE_WARNING = 6.0
GRADE_ERROR = 8.0
LONG_SENTENCE_WORDS = 20

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[A-Za-z0-9][\w'\u2019-]*")

# Words that start a sentence but are not an instruction ("You will…", "The pain…").
NOT_ACTIONS = frozenset({
    "a", "an", "the", "you", "your", "yours", "it", "its", "this", "that", "these", "those",
    "there", "he", "she", "they", "we", "i", "my", "our", "their", "his", "her", "some",
    "most", "many", "each",
})
# Words that open a condition; the action then follows the first comma ("If …, call …").
CONDITIONS = frozenset({
    "if", "when", "after", "before", "until", "while", "unless", "once", "as", "since",
})


def readable_text(texts: Iterable[str]) -> str:
    """Join texts as sentences: a step without a full stop still ends a sentence."""
    sentences = []
    for text in texts:
        text = text.strip()
        if text:
            sentences.append(text if text[-1] in ".!?" else text + ".")
    return " ".join(sentences)


def grade(text: str) -> float:
    """The Flesch-Kincaid grade of the text (0.0 for no text)."""
    if not _WORD.search(text):
        return 0.0
    return float(textstat.flesch_kincaid_grade(text))


def long_sentences(text: str, limit: int = LONG_SENTENCE_WORDS) -> list[int]:
    """Word counts of the sentences in ``text`` that are longer than ``limit`` words."""
    counts = [len(_WORD.findall(sentence)) for sentence in _SENTENCE_END.split(text.strip())]
    return [count for count in counts if count > limit]


@cache
def jargon() -> dict[str, str]:
    """The shipped jargon list: medical word -> the plain words to use."""
    source = files("caresheet").joinpath("jargon.yaml").read_text(encoding="utf-8")
    loaded = yaml.safe_load(source)
    return {str(word).lower(): str(plain) for word, plain in loaded.items()}


def inflections(word: str) -> list[str]:
    """The forms of a jargon word an author writes: plural, past, -ing ("sutures", "sutured").

    Only the last word of a phrase is inflected ("puncture sites"). Regular English endings
    only; an irregular form worth catching goes in the jargon list as its own entry.
    """
    head, _, last = word.rpartition(" ")
    prefix = f"{head} " if head else ""
    forms = {last, last + "s", last + "es"}
    if last.endswith("y") and last[-2:-1] not in ("a", "e", "o", "u"):
        forms |= {last[:-1] + "ies", last[:-1] + "ied"}
    if last.endswith("e"):
        forms |= {last + "d", last[:-1] + "ing"}
    else:
        forms |= {last + "ed", last + "ing"}
    return sorted((prefix + form for form in forms), key=len, reverse=True)


@cache
def _jargon_pattern(word: str) -> re.Pattern[str]:
    forms = "|".join(re.escape(form) for form in inflections(word))
    return re.compile(r"(?<![\w-])(?:" + forms + r")(?![\w-])", re.IGNORECASE)


def jargon_in(text: str, allowed: str = "") -> list[tuple[str, str]]:
    """(word as written, plain word) for each jargon word in ``text``, plurals and other
    inflected forms included ("analgesics", "sutured"), each place reported once.

    ``allowed`` is text whose jargon is the sheet's own name for itself (its title,
    aliases and code displays): a sheet called "Lumbar Puncture" may say so.
    """
    found: dict[int, tuple[str, str]] = {}
    for word, plain in jargon().items():
        pattern = _jargon_pattern(word)
        if pattern.search(allowed):
            continue
        for match in pattern.finditer(text):
            seen = found.get(match.start())
            longer = seen is None or len(match.group(0)) > len(seen[0])
            if longer or match.group(0).lower() == word:
                found[match.start()] = (match.group(0), plain)
    return [found[start] for start in sorted(found)]


def action_problem(step: str) -> str | None:
    """Why a step does not lead with an action, or None when it does.

    A heuristic with few false alarms: it flags only steps whose first word is clearly
    not a verb ("You should rest", "The bandage can come off"), and a condition with no
    action after its first comma ("If you feel dizzy you should sit").
    """
    words = [w.lower() for w in _WORD.findall(step)]
    if not words:
        return None
    if words[0] in CONDITIONS:
        head, comma, main = step.partition(",")
        if not comma:
            return (
                f"the step starts with {words[0]!r} but has no comma before its action; "
                "write it as 'If …, <do this>' or start with the action"
            )
        main_words = [w.lower() for w in _WORD.findall(main)]
        if main_words and main_words[0] in NOT_ACTIONS:
            return (
                f"after '{head.strip()},' the step goes on with {main_words[0]!r}; "
                "start what follows the comma with the action, e.g. 'call', 'take', 'rest'"
            )
        return None
    if words[0] in NOT_ACTIONS:
        return (
            f"the step starts with {words[0]!r}; start it with the action, "
            "e.g. 'Rest…', 'Take…', 'Call…'"
        )
    return None
