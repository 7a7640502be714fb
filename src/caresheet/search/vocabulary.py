"""The lay vocabulary: phrases that mean the same thing to a patient, for query expansion.

Authors keep it in ``library/vocabulary.yaml`` as a list of lists; the first phrase of each
entry is the clinical term. A query that contains any phrase of an entry also looks for all
of its other phrases, so "spinal tap" finds "Lumbar Puncture" and "heart cath" finds
"Cardiac Catheterization".
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from caresheet.errors import SheetFormatError
from caresheet.search.analysis import stem_en, stem_es, words

VOCABULARY_PATH = Path(__file__).resolve().parent.parent / "library" / "vocabulary.yaml"

Phrase = tuple[str, ...]  # folded words, not stemmed


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Entries of equivalent phrases, and each phrase's entry for look-up."""

    entries: tuple[tuple[Phrase, ...], ...]
    entry_of: dict[Phrase, int]
    longest: int

    def entry(self, phrase: Phrase) -> tuple[Phrase, ...] | None:
        index = self.entry_of.get(phrase)
        return None if index is None else self.entries[index]

    def words(self) -> set[str]:
        """Every word of every phrase: typo correction may land on them."""
        return {word for entry in self.entries for phrase in entry for word in phrase}


def parse_vocabulary(text: str, path: str = "vocabulary.yaml", strict: bool = True) -> Vocabulary:
    """Read the YAML list of lists; a malformed file names its line.

    ``strict`` also refuses a phrase listed in two entries (the linter and the tests use it);
    search reads the file leniently, first entry wins, so an author's slip never breaks search.
    """
    try:
        data = yaml.safe_load(text) or []
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise SheetFormatError(path, line, f"not valid YAML: {error}") from None
    if not isinstance(data, list):
        raise SheetFormatError(path, 1, "write a list of entries, each a [list, of, phrases]")
    entries: list[tuple[Phrase, ...]] = []
    entry_of: dict[Phrase, int] = {}
    for number, raw in enumerate(data, start=1):
        if not isinstance(raw, list) or not all(isinstance(p, str | int) for p in raw):
            raise SheetFormatError(
                path, _line_of(text, number), "each entry is a [list, of, phrases]"
            )
        phrases = tuple(dict.fromkeys(p for p in (tuple(words(str(x))) for x in raw) if p))
        if len(phrases) < 2:
            continue
        for phrase in phrases:
            if phrase in entry_of and strict:
                raise SheetFormatError(
                    path,
                    _line_of(text, number),
                    f"the phrase {' '.join(phrase)!r} is in two entries",
                )
            entry_of.setdefault(phrase, len(entries))
        entries.append(phrases)
    # Stemmed forms ("spinal taps") come second, so a phrase as written always wins.
    for number, phrases in enumerate(entries):
        for phrase in phrases:
            for stemmer in (stem_en, stem_es):
                entry_of.setdefault(tuple(stemmer(w) for w in phrase), number)
    longest = max((len(p) for p in entry_of), default=1)
    return Vocabulary(tuple(entries), entry_of, longest)


def _line_of(text: str, entry_number: int) -> int:
    """The line where the n-th top-level ``-`` entry starts."""
    seen = 0
    for line_number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("-"):
            seen += 1
            if seen == entry_number:
                return line_number
    return 1


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """The shipped vocabulary, read once per process."""
    source = VOCABULARY_PATH.read_text(encoding="utf-8")
    return parse_vocabulary(source, str(VOCABULARY_PATH), strict=False)


@dataclass(frozen=True, slots=True)
class Match:
    """A vocabulary phrase found in a query: where, and every phrase that means the same."""

    start: int
    end: int
    alternatives: tuple[Phrase, ...]


def find_phrases(query_words: list[str], vocab: Vocabulary) -> list[Match]:
    """Vocabulary phrases in the query words, longest first, not overlapping.

    A window matches as typed or in either language's stems ("spinal taps" = "spinal tap").
    """
    found: list[Match] = []
    taken = [False] * len(query_words)
    for size in range(min(vocab.longest, len(query_words)), 0, -1):
        for start in range(len(query_words) - size + 1):
            if any(taken[start : start + size]):
                continue
            phrase = tuple(query_words[start : start + size])
            entry = (
                vocab.entry(phrase)
                or vocab.entry(tuple(stem_en(w) for w in phrase))
                or vocab.entry(tuple(stem_es(w) for w in phrase))
            )
            if entry is None:
                continue
            found.append(Match(start, start + size, entry))
            for i in range(start, start + size):
                taken[i] = True
    return sorted(found, key=lambda m: m.start)
