"""Typo tolerance: the nearest indexed term to a word that matches nothing.

Words of 5 to 7 letters may be one edit away, words of 8 or more two edits ("punture" ->
"puncture", "colonscopy" -> "colonoscopy"); shorter words are too easy to turn into another
real word. Candidates come from a deletion index (every term with one letter left out, as
SymSpell does) so a look-up checks a few dozen terms, not the whole dictionary.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from rapidfuzz.distance import OSA

MIN_LENGTH = 5


def max_edits(word: str) -> int:
    """How many edits a word of this length may be off by."""
    if len(word) >= 8:
        return 2
    if len(word) >= MIN_LENGTH:
        return 1
    return 0


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (a swap of two letters is one edit), capped at
    ``limit + 1``. Computed in C by rapidfuzz: a typo's candidates are checked in about a
    microsecond each where a Python loop took 60 (a tenth of a search's time)."""
    return int(OSA.distance(a, b, score_cutoff=limit))


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


@dataclass
class TermDictionary:
    """Indexed terms with how many sheets use each, and their one-deletion keys."""

    counts: dict[str, int] = field(default_factory=dict)
    documents: int = 0  # how many sheets the counts are out of
    _by_delete: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, counts: Iterable[tuple[str, int]]) -> TermDictionary:
        dictionary = cls()
        for term, count in counts:
            dictionary.add(term, count)
        return dictionary

    def add(self, term: str, count: int = 1) -> None:
        if term in self.counts:
            self.counts[term] += count
            return
        self.counts[term] = count
        if len(term) >= MIN_LENGTH - 1 and term.isalpha() and term.isascii():
            self._by_delete.setdefault(term, []).append(term)
            for key in _deletes(term):
                self._by_delete.setdefault(key, []).append(term)

    def __contains__(self, term: object) -> bool:
        return term in self.counts

    def correct(self, word: str, edits: int | None = None) -> str | None:
        """The closest term within the allowed edits (most used on a tie); None if none.

        Every term one edit away shares a key with the word's own deletes (an inserted,
        left out, changed or swapped letter), so those keys are looked up first; the keys two
        deletes away (some hundred of them) are only made when no term is one edit away.
        """
        allowed = max_edits(word) if edits is None else edits
        if allowed == 0 or word in self.counts or not word.isalpha():
            return None
        first = _deletes(word)
        best = self._closest(word, {word} | first, allowed)
        if (best is None or best[0] > 1) and allowed >= 2 and len(word) <= 24:
            farther = {key for near in first for key in _deletes(near)}
            best = self._closest(word, {word} | first | farther, allowed)
        return None if best is None else best[2]

    def _closest(self, word: str, keys: set[str], allowed: int) -> tuple[int, int, str] | None:
        """(distance, -uses, term) of the best term under ``keys`` within ``allowed`` edits."""
        candidates = {term for key in keys for term in self._by_delete.get(key, ())}
        best: tuple[int, int, str] | None = None
        for term in candidates:
            distance = edit_distance(word, term, allowed)
            if distance > allowed:
                continue
            rank = (distance, -self.counts[term], term)
            if best is None or rank < best:
                best = rank
        return best
