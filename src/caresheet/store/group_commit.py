"""Group commit: many request threads' small writes share one commit, each in its own savepoint.

A durable commit costs one flush to disk (an fsync of SQLite's WAL with ``synchronous=FULL``,
PostgreSQL's WAL flush), and that flush, not the SQL, bounds how many check-ins per second
a server can save. One writer thread per store takes every write that is waiting, runs each
under its own SAVEPOINT (so one bad write fails alone), commits once, and only then answers
each caller. A caller is answered only after the commit that holds its row: nothing is
acknowledged that a crash could lose. On SQLite the single writer also means request threads
never sleep in the busy handler waiting for each other.
"""

from __future__ import annotations

import logging
import queue
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from caresheet.store.db import Store

T = TypeVar("T")
MAX_BATCH = 256
log = logging.getLogger("caresheet.store.group_commit")

Work = Callable[[Session], Any]


class GroupWriter:
    """One writer thread for one store; ``run(work)`` blocks until ``work`` is committed."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._waiting: queue.SimpleQueue[tuple[Work, Future[Any]]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def run(self, work: Callable[[Session], T], timeout: float = 30.0) -> T:
        """Run ``work(session)`` in the next group transaction; raise what it (or commit) raised."""
        return self.submit(work).result(timeout)

    def submit(self, work: Callable[[Session], T]) -> Future[T]:
        """Queue ``work``; the future is resolved only after the commit that holds it."""
        done: Future[T] = Future()
        self._waiting.put((work, done))
        self._ensure_thread()
        return done

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="caresheet-group-commit",
                                                daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while True:
            batch = [self._waiting.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._waiting.get_nowait())
                except queue.Empty:
                    break
            self._commit(batch)

    def _commit(self, batch: list[tuple[Work, Future[Any]]]) -> None:
        # Alone in its transaction, a write needs no savepoint: its failure rolls back
        # only itself. That saves two statements when the server is not busy.
        alone = len(batch) == 1
        outcomes: list[tuple[Future[Any], Any, BaseException | None]] = []
        try:
            with self._store.session() as session:
                for work, done in batch:
                    try:
                        if alone:
                            outcomes.append((done, work(session), None))
                            continue
                        with session.begin_nested():
                            outcomes.append((done, work(session), None))
                    except Exception as error:  # this write alone fails
                        if alone:
                            raise _WorkFailed(error) from error
                        outcomes.append((done, None, error))
        except _WorkFailed as failed:
            batch[0][1].set_exception(failed.error)
            return
        except Exception as error:  # the commit failed: nothing in the batch is saved
            # The kind of error only: its text would carry the rows' values.
            log.error("a group commit of %d writes failed: %s", len(batch),
                      type(error).__name__)
            for _, done in batch:
                if not done.done():
                    done.set_exception(error)
            return
        for done, value, failure in outcomes:
            if failure is None:
                done.set_result(value)
            else:
                done.set_exception(failure)


class _WorkFailed(Exception):
    """Carries the error of a write that was alone in its transaction past the rollback."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


_WRITERS: weakref.WeakKeyDictionary[Store, GroupWriter] = weakref.WeakKeyDictionary()
_WRITERS_LOCK = threading.Lock()


def writer_for(store: Store) -> GroupWriter:
    """The store's one writer (made on first use)."""
    with _WRITERS_LOCK:
        writer = _WRITERS.get(store)
        if writer is None:
            writer = _WRITERS[store] = GroupWriter(store)
        return writer
