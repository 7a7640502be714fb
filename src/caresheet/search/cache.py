"""Answers to recent queries, kept until the index changes.

A query's results are a pure function of the index and of (text, language, limit), so each
process keeps the last ``SIZE`` answers per database under the index's change counter
(``search_state.generation``): every import, new version or status change bumps it in the
same transaction, after which no old answer is ever returned. The cache belongs to the
engine's connection pool, so a new ``Store`` (or a database made again at the same URL) starts
empty. A session that has itself written to the index reads and fills nothing: its counter may
yet be rolled back and then reused by another write.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session

SIZE = 1024
WROTE_INDEX = "caresheet.search.wrote_index"  # session.info flag set by search.index

Key = tuple[int, str, str | None, int]  # generation, cleaned text, language, limit


class Answers:
    """A bounded, thread-safe least-recently-used map of one database's recent answers.

    An answer is small: its hits hold no sheet text until a snippet is read
    (``caresheet.search.match.Bodies``), and then only the snippet."""

    def __init__(self, size: int = SIZE) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[Key, object] = OrderedDict()
        self.generation = -1

    def get(self, key: Key) -> object | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: Key, value: object) -> None:
        with self._lock:
            if key[0] != self.generation:
                # Answers of an older index can never be asked for again: drop them at once.
                self._items.clear()
                self.generation = key[0]
            self._items.pop(key, None)
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


_BY_POOL: weakref.WeakKeyDictionary[object, Answers] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()
_Kept = TypeVar("_Kept")


def per_database(session: Session, kept: weakref.WeakKeyDictionary[object, _Kept],
                 make: Callable[[], _Kept]) -> _Kept | None:
    """The state ``kept`` holds for this session's database (one per connection pool, that is
    per process and database), made on first use; None when the session has written to the
    index itself, since its own uncommitted rows must not feed a shared cache."""
    if session.info.get(WROTE_INDEX):
        return None
    pool = session.get_bind().engine.pool
    with _LOCK:
        found = kept.get(pool)
        if found is None:
            found = kept[pool] = make()
        return found


def forget(kept: weakref.WeakKeyDictionary[object, _Kept]) -> None:
    """Drop every database's state in ``kept`` (under the lock ``per_database`` takes)."""
    with _LOCK:
        kept.clear()


def answers_for(session: Session) -> Answers | None:
    """This database's answers, or None when the session must not use them."""
    return per_database(session, _BY_POOL, Answers)


def mark_written(session: Session) -> None:
    """Called by every write to the index: this session's answers are its own from now on."""
    session.info[WROTE_INDEX] = True


def clear() -> None:
    """Forget every answer (tests that change how queries are planned)."""
    forget(_BY_POOL)
