"""The costliest impact lists are read before any query needs them, again after every
change to the index, and a warmed process answers exactly as a cold one."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from asgi_client import AppClient
from caresheet import search
from caresheet.library import LIBRARY_DIR
from caresheet.search import cache as search_cache
from caresheet.search import impacts, warming
from caresheet.search import match as search_match
from caresheet.store.db import Store
from caresheet.web.app import create_app
from helpers import import_published, publish_files, retitled_p586

QUERIES = ["spinal tap", "pain after surgery", "home care", "colonoscopia", "heart cath",
           "what to expect", "fever", "knee scope left"]


def _head_list(store: Store, phrase: tuple[str, ...]) -> impacts.ImpactList | None:
    """The phrase's head list if this process holds it at the index's current generation."""
    with store.session(write=False) as session:
        reader = impacts.Reader(session, search_match.generation(session))
        return reader.kept("search_head", "rank", search_match.fts5_expression([phrase], None))


def _answers(store: Store, language: str | None) -> list[list[tuple[str, float]]]:
    found = []
    with store.session(write=False) as session:
        for query in QUERIES:
            search_cache.clear()
            hits = search.search(session, query, language, limit=10).hits
            found.append([(hit.code, hit.score) for hit in hits])
    return found


def _kept(store: Store, kind: tuple[str, str], phrase: tuple[str, ...]) -> bool:
    with store.session(write=False) as session:
        reader = impacts.Reader(session, search_match.generation(session))
        return reader.kept(*kind, search_match.fts5_expression([phrase], None)) is not None


def test_warm_reads_head_terms_lay_phrases_and_the_lists_of_rare_words(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(warming, "MIN_SHEETS", 2)  # the sample library is small
    impacts.clear()
    assert _head_list(store, ("home",)) is None and _head_list(store, ("spinal", "tap")) is None
    with store.session(write=False) as session:
        read = warming.warm(session)
        dictionary = search.term_dictionary(session)
    assert read > 0
    home = _head_list(store, ("home",))  # in every title ("What to Expect at Home")
    assert home is not None and len(home) > 10
    assert _head_list(store, ("spinal", "tap")) is not None  # a lay phrase of the vocabulary
    # "okapi" is in no sheet, "puncture" in a few, ``once`` in one: the lists of "puncture"
    # on every column and on the bodies are read ahead, as a query for a rare word reads
    # them; a word in fewer than MIN_SHEETS sheets is cheap to read when first asked.
    counts = dictionary.counts
    once = min(term for term, n in counts.items() if n == 1)
    assert counts.get("okapi", 0) == 0 and 2 <= counts["puncture"] < 100
    for kind in (search_match.FULL_LIST, search_match.BODY_LIST):
        assert _kept(store, kind, ("puncture",))
        assert not _kept(store, kind, ("okapi",)) and not _kept(store, kind, (once,))


def test_the_bound_on_entries_read_ahead_holds(store: Store, monkeypatch: pytest.MonkeyPatch
                                              ) -> None:
    impacts.clear()
    monkeypatch.setattr(warming, "MIN_SHEETS", 2)
    monkeypatch.setattr(warming, "MAX_ENTRIES", 50)
    with store.session(write=False) as session:
        read = warming.warm(session)
    # It stops at the first list past the bound: the head list of the most used head term.
    assert 50 <= read < 50 + 200
    assert not _kept(store, search_match.FULL_LIST, ("puncture",))


@pytest.mark.parametrize("language", [None, "en", "es"])
def test_a_warmed_process_answers_as_a_cold_one(store: Store, language: str | None) -> None:
    impacts.clear()
    cold = _answers(store, language)
    impacts.clear()
    with store.session(write=False) as session:
        warming.warm(session)
    assert _answers(store, language) == cold
    assert any(cold)


def test_the_thread_warms_again_after_another_process_changes_the_index(
    store: Store, sqlite_url: str, tmp_path: Path
) -> None:
    impacts.clear()
    stop = threading.Event()
    thread = threading.Thread(target=warming.keep_warm, args=(store.session, stop, 0.05))
    thread.start()
    try:
        _wait_for(lambda: _head_list(store, ("spinal", "tap")) is not None)
        # Another process (another Store: its own pool and lists) publishes a new version.
        publish_files(sqlite_url, [retitled_p586(tmp_path, "Spinal Tap: What to Expect")])
        # The change dropped every list; the thread notices and reads them again.
        _wait_for(lambda: _head_list(store, ("spinal", "tap")) is not None)
        fresh = _head_list(store, ("spinal", "tap"))
        with store.session(write=False) as session:
            p586 = search_match.by_sheet_code(session, "P586", "en")[0].id
        assert fresh is not None and p586 in fresh.ids.tolist()
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()


def _wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the lists were not warmed in time"
        time.sleep(0.02)


def test_the_app_keeps_the_lists_warm_while_it_runs(tmp_path: Path) -> None:
    def warming_threads() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name == "caresheet-search-warm"]

    with AppClient(create_app(f"sqlite:///{tmp_path}/caresheet.db")) as client:
        assert client.get("/healthz").status_code == 200
        assert len(warming_threads()) == 1
    assert warming_threads() == []


def test_postgresql_warms_nothing(postgres_url: str) -> None:
    store = Store.open(postgres_url)
    try:
        with store.session() as session:
            import_published(session, [LIBRARY_DIR / "P586.en.md"])
        with store.session(write=False) as session:
            assert warming.warm(session) == 0
        halt = warming.start(store.session, store.dialect)
        assert not [t for t in threading.enumerate() if t.name == "caresheet-search-warm"]
        halt()
    finally:
        store.close()
