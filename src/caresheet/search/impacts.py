"""Top-k full-text ranking on SQLite from per-phrase impact lists kept in the process.

FTS5's bm25() is a sum over the query's phrases, each phrase's part depending only on that
phrase and the document (its IDF is taken over the whole table, whatever else the query
asks). So the score of any OR or AND-of-ORs query is the sum of per-phrase scores, and each
phrase's scores can be read once, kept as an impact list (documents by falling score), and
reused by every later query that has the phrase. A query then reads only the tops of its
lists: the candidates are the documents seen in the first ``depth`` entries of any list,
their exact sums come from the lists' maps, and the answer is final once the tenth best sum
is above the most an unseen document could score (the sum of the next entry of every
list; Fagin's threshold algorithm). Otherwise the depth grows. An AND query scores only the
documents of its rarest group that every other group also has.
An AND query without a language filter reads a list whole only once a second query wants
it: until then ``match.match_all`` lets FTS5 rank the AND itself, which scores only the
sheets with every idea.

The lists of one database belong to its index's change counter (``search_state.generation``):
when it moves, all are dropped, so every process stays exact after any write, whoever made
it. A session that has itself written to the index builds lists but keeps none (its counter
may yet be rolled back). The lists are bounded by their total number of entries.
"""

from __future__ import annotations

import heapq
import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import neg

from sqlalchemy.orm import Session

from caresheet.search.cache import forget, per_database

Phrase = tuple[str, ...]
# (table, the score expression, the FTS5 expression of the phrase with its language filter)
ListKey = tuple[str, str, str]
MAX_ENTRIES = 1_000_000  # every list's entries together, per database (~200 MB at most)
FIRST_DEPTH = 32
MAX_ASKED = 100_000  # lists remembered as asked for once, per database


@dataclass(frozen=True, slots=True)
class ImpactList:
    """One phrase's documents, best first, and each document's score (> 0)."""

    ids: list[int]
    scores: list[float]
    score_of: dict[int, float]
    members: frozenset[int]  # the ids again, for intersections that run in C

    def next_score(self, depth: int) -> float:
        """The most a document not in the first ``depth`` entries can score here."""
        return self.scores[depth] if depth < len(self.scores) else 0.0


class _Lists:
    """One database's impact lists under one generation, least recently used dropped first."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.generation = -1
        self.entries = 0
        self.items: OrderedDict[ListKey, ImpactList] = OrderedDict()
        self.asked: set[ListKey] = set()  # lists asked for but not read (see ``ask``)

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

    def put(self, generation: int, key: ListKey, value: ImpactList) -> None:
        with self.lock:
            self._at(generation)
            if key in self.items:
                return
            self.items[key] = value
            self.entries += len(value.ids)
            while self.entries > MAX_ENTRIES and len(self.items) > 1:
                _, dropped = self.items.popitem(last=False)
                self.entries -= len(dropped.ids)


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
            f"SELECT rowid, {order} AS score FROM {table} WHERE {table} MATCH :q "
            "ORDER BY score, rowid",
            {"q": expression},
        ).fetchall()
        # bm25() is negative, lower is better; a match always counts for something.
        ids = [row[0] for row in rows]
        scores = [max(-float(row[1]), 1e-9) for row in rows]
        made = ImpactList(ids, scores, dict(zip(ids, scores, strict=True)), frozenset(ids))
        if self.lists is not None:
            self.lists.put(self.generation, key, made)
        return made


def _sums(docs: Sequence[int], lists: Sequence[ImpactList]) -> list[float]:
    """Each document's sum over ``lists``, in the order of ``lists`` (as bm25() adds them).

    The look-ups run in C (``map`` over each list's ``dict.get``), one pass per list rather
    than a Python loop per document and list: a common word's list has thousands of entries.
    """
    if not docs:
        return []
    columns = [map(found.score_of.get, docs, repeat(0.0)) for found in lists]
    return list(map(sum, zip(*columns, strict=True)))


def _best(docs: Sequence[int], sums: Sequence[float], limit: int) -> list[tuple[int, float]]:
    """The ``limit`` best (document, sum): highest sum first, lower id on a tie."""
    keyed = heapq.nsmallest(limit, zip(map(neg, sums), docs, strict=True))  # compared in C
    return [(doc, -negative) for negative, doc in keyed]


def top_any(lists: Sequence[ImpactList], limit: int) -> list[tuple[int, float]]:
    """The ``limit`` documents with the highest sum over ``lists`` (in any of them)."""
    lists = [found for found in lists if found.ids]
    if not lists:
        return []
    depth = FIRST_DEPTH
    docs: list[int] = []
    sums: list[float] = []
    seen: set[int] = set()
    reached = 0
    while True:
        # Only the documents first seen at this depth are scored: the others kept their sums.
        new = [doc for found in lists for doc in found.ids[reached:depth]]
        fresh = [doc for doc in dict.fromkeys(new) if doc not in seen]
        seen.update(fresh)
        docs += fresh
        sums += _sums(fresh, lists)
        reached = depth
        best = _best(docs, sums, limit)
        exhausted = all(depth >= len(found.ids) for found in lists)
        unseen = sum(found.next_score(depth) for found in lists)
        # Strictly above: an unseen document that ties the last score may have a lower id,
        # and ids break ties (as ``ORDER BY rank, rowid`` does).
        if exhausted or (len(best) == limit and best[-1][1] > unseen):
            return best
        depth *= 4


def top_all(groups: Sequence[Sequence[ImpactList]], limit: int) -> list[tuple[int, float]]:
    """The ``limit`` documents with the highest sum over every list of every group, among
    those in at least one list of each group."""
    if not groups or not all(any(found.ids for found in group) for group in groups):
        return []
    sizes = [sum(len(found.ids) for found in group) for group in groups]
    order = sorted(range(len(groups)), key=sizes.__getitem__)
    candidates: set[int] = set().union(*(found.members for found in groups[order[0]]))
    for index in order[1:]:
        if not candidates:
            return []
        # Each ``&`` walks the smaller side: the candidates, which only shrink.
        candidates = set().union(*(candidates & found.members for found in groups[index]))
    docs = list(candidates)
    return _best(docs, _sums(docs, [found for group in groups for found in group]), limit)
