"""Reading the impact lists before any query needs them: the index, made ready in memory.

On SQLite a phrase's impact list (``caresheet.search.impacts``) is read from FTS5 the first
time a query has the phrase, and FTS5 scores every sheet that has it: about 1.5 us a sheet,
10 ms for a word in 7,500 titles, 0.4 ms for a word in 200 sheets, paid by whoever asks
first, and again after every change to the index. Almost every list a query can need is
known ahead: the head lists of the words of titles, aliases and keywords and of the
vocabulary's lay phrases, and the lists of every word that is not common. ``warm`` reads
those worth reading, costliest first, within a bound; ``start`` runs it in a thread beside
the server, at start and whenever the index changes, as a search engine warms a new
searcher before it serves. At 50,000 sheets that is 1.6 s of reading and 30 MB; for the
sample library, 0.03 s. On PostgreSQL, which ranks in SQL and keeps no lists, both do
nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager

from sqlalchemy.orm import Session

from caresheet.search import match as matching
from caresheet.search.analysis import LANGUAGES
from caresheet.search.plan import common_limit, stems_of, term_dictionary
from caresheet.search.vocabulary import vocabulary

SessionFactory = Callable[..., AbstractContextManager[Session]]

# A term in fewer sheets than this is read when first needed: in 0.05 ms or less.
MIN_SHEETS = 32
MAX_ENTRIES = 3_000_000  # read ahead at most (about 4 s of reading; 80 MB kept)
CHECK_SECONDS = 2.0  # how often the thread looks for a change to the index

log = logging.getLogger(__name__)


def warm(session: Session) -> int:
    """Read ahead, costliest first, the lists a query may need; returns the entries read.

    First the head lists of the head terms and of every phrase of the vocabulary (a query
    with a common word reads the head lists of all its phrases), then, for each term that
    is not common, its lists on every column and on the bodies alone (a query reads those
    for its rare words). Left to be read on first use: the terms in fewer than
    ``MIN_SHEETS`` sheets (0.05 ms or less each), the phrases a person types word for
    word, and whatever is past ``MAX_ENTRIES``.
    """
    if not matching.keeps_lists(session.get_bind().dialect.name):
        return 0
    dictionary = term_dictionary(session)
    limit = common_limit(dictionary)
    lay = [stemmed for entry in vocabulary().entries for phrase in entry
           for stemmed in stems_of(phrase, None)]
    head = matching.head_phrases(session, MIN_SHEETS)
    rare = sorted((n, term) for term, n in dictionary.counts.items()
                  if MIN_SHEETS <= n <= limit)
    wanted = [
        *((matching.HEAD_LIST, phrase) for phrase in dict.fromkeys([*head, *lay])),
        *((kind, (term,)) for _, term in reversed(rare)
          for kind in (matching.FULL_LIST, matching.BODY_LIST)),
    ]
    return matching.warm(session, wanted, LANGUAGES, MAX_ENTRIES)


def keep_warm(sessions: SessionFactory, stop: threading.Event,
              interval: float = CHECK_SECONDS) -> None:
    """Warm now, then again each time the index's change counter moves, until ``stop``."""
    warmed = None
    while True:
        try:
            with sessions(write=False) as session:
                now = matching.generation(session)
                if now != warmed:
                    warm(session)
                    warmed = now
        except Exception:  # a busy or lost database: searches read lists as they need them
            log.warning("search lists not warmed; trying again", exc_info=True)
        if stop.wait(interval):
            return


def start(sessions: SessionFactory, dialect: str) -> Callable[[], None]:
    """Keep the lists warm in a daemon thread (SQLite only); returns what stops it."""
    stop = threading.Event()
    if not matching.keeps_lists(dialect):
        return stop.set
    thread = threading.Thread(target=keep_warm, args=(sessions, stop),
                              name="caresheet-search-warm", daemon=True)
    thread.start()

    def halt() -> None:
        stop.set()
        thread.join(timeout=10)

    return halt
