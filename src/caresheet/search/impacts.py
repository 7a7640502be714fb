"""Top-k full-text ranking on SQLite from per-phrase impact lists kept in the process.

FTS5's bm25() is a sum over the query's phrases, each phrase's part depending only on that
phrase and the document (its IDF is taken over the whole table, whatever else the query
asks). So the score of any OR or AND-of-ORs query is the sum of per-phrase scores, and each
phrase's scores can be read once, kept as an impact list (its documents and their scores,
as two arrays), and reused by every later query that has the phrase.
A query then adds its lists up with numpy: one ``bincount`` sums every document's scores
over every list (in the order of the lists, as bm25() adds them), and only the top of the
sums is sorted. This costs the same whether the scores fall fast or are flat (thousands of
titles of one length score alike, where a threshold algorithm must read every list to the
end), and runs in C: 0.2 ms for lists of 25,000 entries where Python sets and dicts took 1 ms.
An AND query sums only the documents that some list of every group has. A language filter
is a mask over the sums, not part of any list (see ``Reader.language``), so one phrase's
list serves every language.
An AND query reads a list whole only once a second query wants it: until then
``match.match_all`` lets FTS5 rank the AND itself, which scores only the sheets with every
idea. ``caresheet.search.warming`` reads most lists ahead of any query.

The lists of one database belong to its index's change counter (``search_state.generation``):
when it moves, all are dropped, so every process stays exact after any write, whoever made
it. A session that has itself written to the index builds lists but keeps none (its counter
may yet be rolled back). The lists are bounded by their total number of entries.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from caresheet.search.cache import forget, per_database

Phrase = tuple[str, ...]
# (table, the score expression, the FTS5 expression of the phrase, never a language filter)
ListKey = tuple[str, str, str]
Mask = npt.NDArray[np.bool_]  # by document id: True for the documents in a language
MAX_ENTRIES = 4_000_000  # every list's entries together, per database (64 MB of arrays)
MAX_ASKED = 100_000  # lists remembered as asked for once, per database


@dataclass(frozen=True, slots=True)
class ImpactList:
    """One phrase's documents and each one's score (> 0), in no particular order."""

    ids: npt.NDArray[np.int64]
    scores: npt.NDArray[np.float64]
    end: int  # one past the highest id: the length of a dense array over the list

    @classmethod
    def of(cls, pairs: Sequence[tuple[int, float]]) -> ImpactList:
        """The list of these (document, score) pairs; a document appears once."""
        ids = np.fromiter((doc for doc, _ in pairs), dtype=np.int64, count=len(pairs))
        scores = np.fromiter((score for _, score in pairs), dtype=np.float64, count=len(pairs))
        return cls(ids, scores, int(ids.max()) + 1 if len(ids) else 0)

    def __len__(self) -> int:
        return len(self.ids)


class _Lists:
    """One database's impact lists under one generation, least recently used dropped first."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.generation = -1
        self.entries = 0
        self.items: OrderedDict[ListKey, ImpactList] = OrderedDict()
        self.asked: set[ListKey] = set()  # lists asked for but not read (see ``ask``)
        self.languages: dict[str, Mask] = {}  # see ``Reader.language``

    def get(self, generation: int, key: ListKey) -> ImpactList | None:
        with self.lock:
            if generation != self.generation:
                return None
            found = self.items.get(key)
            if found is not None:
                self.items.move_to_end(key)
            return found

    def _at(self, generation: int) -> None:
        """Drop everything of an older generation (the caller holds the lock)."""
        if generation != self.generation:
            self.items.clear()
            self.asked.clear()
            self.languages.clear()
            self.entries = 0
            self.generation = generation

    def ask(self, generation: int, key: ListKey) -> bool:
        """Note that a query wanted this list; True if one already had (so it is worth
        reading whole and keeping: a list used once costs more to read than it saves)."""
        with self.lock:
            self._at(generation)
            if key in self.asked:
                return True
            if len(self.asked) >= MAX_ASKED:
                self.asked.clear()
            self.asked.add(key)
            return False

    def language(self, generation: int, language: str) -> Mask | None:
        with self.lock:
            return self.languages.get(language) if generation == self.generation else None

    def put_language(self, generation: int, language: str, mask: Mask) -> None:
        with self.lock:
            self._at(generation)
            self.languages[language] = mask

    def put(self, generation: int, key: ListKey, value: ImpactList) -> None:
        with self.lock:
            self._at(generation)
            if key in self.items:
                return
            self.items[key] = value
            self.entries += len(value)
            while self.entries > MAX_ENTRIES and len(self.items) > 1:
                _, dropped = self.items.popitem(last=False)
                self.entries -= len(dropped)


_BY_POOL: weakref.WeakKeyDictionary[object, _Lists] = weakref.WeakKeyDictionary()


def _lists_for(session: Session) -> _Lists | None:
    return per_database(session, _BY_POOL, _Lists)


def clear() -> None:
    """Forget every list (tests that compare with FTS5's own ranking)."""
    forget(_BY_POOL)


class Reader:
    """The impact lists of one session's database at its current generation."""

    def __init__(self, session: Session, generation: int) -> None:
        self.session = session
        self.generation = generation
        self.lists = _lists_for(session)
        driver = session.connection().connection.driver_connection
        assert driver is not None  # a checked-out connection always has one
        self.driver = driver

    def kept(self, table: str, order: str, expression: str) -> ImpactList | None:
        """The phrase's list if this process already holds it (nothing is read)."""
        if self.lists is None:
            return None
        return self.lists.get(self.generation, (table, order, expression))

    def asked_before(self, table: str, order: str, expression: str) -> bool:
        """Whether an earlier query of this generation wanted this list too (and note this
        one); never, when the session keeps no lists."""
        if self.lists is None:
            return False
        return self.lists.ask(self.generation, (table, order, expression))

    def impact_list(self, table: str, order: str, expression: str) -> ImpactList:
        """The phrase's list: from this process's lists, else read from FTS5 once."""
        key = (table, order, expression)
        found = self.kept(table, order, expression)
        if found is not None:
            return found
        rows = self.driver.execute(
            f"SELECT rowid, {order} FROM {table} WHERE {table} MATCH :q", {"q": expression}
        ).fetchall()
        # bm25() is negative, lower is better; a match always counts for something.
        made = ImpactList.of([(row[0], max(-float(row[1]), 1e-9)) for row in rows])
        if self.lists is not None:
            self.lists.put(self.generation, key, made)
        return made


    def language(self, language: str | None) -> Mask | None:
        """Which documents are in ``language`` (None: no filter), read once per generation.

        A list is never read with a language filter: the filter's term is in a column of
        weight 0, so it adds exactly 0.0 to bm25() and a phrase's scores are the same with
        or without it. One list per phrase then serves every language, and the filter is
        this mask over the sums.
        """
        if language is None:
            return None
        found = self.lists.language(self.generation, language) if self.lists else None
        if found is not None:
            return found
        end = self.driver.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM search_documents")
        ids = self.driver.execute(
            "SELECT id FROM search_documents WHERE language = :language", {"language": language}
        ).fetchall()
        mask = np.zeros(end.fetchone()[0], dtype=np.bool_)
        mask[[row[0] for row in ids]] = True
        if self.lists is not None:
            self.lists.put_language(self.generation, language, mask)
        return mask


def _best(docs: npt.NDArray[np.int64], sums: npt.NDArray[np.float64],
          limit: int) -> list[tuple[int, float]]:
    """The ``limit`` best (document, sum): highest sum first, lower id on a tie."""
    if len(docs) > limit:
        # Only the sums at least as high as the limit-th highest can be in the answer.
        cut = np.partition(sums, len(sums) - limit)[len(sums) - limit]
        kept = sums >= cut
        docs, sums = docs[kept], sums[kept]
    order = np.lexsort((docs, -sums))[:limit]
    return list(zip(docs[order].tolist(), sums[order].tolist(), strict=True))


def _summed(lists: Sequence[ImpactList]) -> npt.NDArray[np.float64]:
    """Every document's sum over ``lists``, indexed by document id (0 where in none).

    ``bincount`` adds the weights in the order given, so each sum is made in the order of
    ``lists``, as bm25() adds its phrases: the same float, to the last bit.
    """
    ids = np.concatenate([found.ids for found in lists])
    scores = np.concatenate([found.scores for found in lists])
    # numpy's stubs type bincount as counting; with weights it returns float64.
    return cast("npt.NDArray[np.float64]", np.bincount(ids, weights=scores))


def _within(inside: Mask, among: Mask | None) -> npt.NDArray[np.int64]:
    """The ids ``inside`` marks, kept to those ``among`` marks too (when given).

    ``among`` covers every id of the index (``Reader.language``), so every marked id is
    within it."""
    docs = np.flatnonzero(inside)  # on a mask: ten times as fast as on the sums
    return docs if among is None else docs[among[docs]]


def top_any(lists: Sequence[ImpactList], limit: int,
            among: Mask | None = None) -> list[tuple[int, float]]:
    """The ``limit`` documents with the highest sum over ``lists`` (in any of them), of
    those ``among`` marks when given."""
    lists = [found for found in lists if len(found)]
    if not lists:
        return []
    sums = _summed(lists)
    docs = _within(sums > 0, among)  # every score is > 0
    return _best(docs, sums[docs], limit)


def top_all(groups: Sequence[Sequence[ImpactList]], limit: int,
            among: Mask | None = None) -> list[tuple[int, float]]:
    """The ``limit`` documents with the highest sum over every list of every group, among
    those in at least one list of each group (and that ``among`` marks, when given)."""
    groups = [[found for found in group if len(found)] for group in groups]
    if not groups or not all(groups):
        return []
    everything = [found for group in groups for found in group]
    end = max(found.end for found in everything)
    inside = np.ones(end, dtype=np.bool_)
    for group in groups:
        member = np.zeros(end, dtype=np.bool_)
        for found in group:
            member[found.ids] = True
        inside &= member
    docs = _within(inside, among)
    return _best(docs, _summed(everything)[docs], limit)
