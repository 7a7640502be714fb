"""Cached answers: a repeated query skips the index, and no answer outlives a change.

Each test runs on SQLite and PostgreSQL (``db_url``); changes go through ``caresheet.sheets``,
the library's one write path, as every face does.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from caresheet import search, sheets
from caresheet.search import cache as search_cache
from caresheet.search import match as matching
from caresheet.search.snippets import snippet
from caresheet.store.db import Store
from helpers import import_published, retitled_p586


class Rollback(Exception):
    """Raised inside a store session to roll its transaction back."""


def _titles(store: Store, query: str) -> list[str]:
    with store.session(write=False) as session:
        return [hit.title for hit in search.search(session, query).hits]


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    store = Store.open(db_url)
    yield store
    store.close()


TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@pytest.fixture
def statements(store: Store) -> Iterator[list[str]]:
    """Every SQL statement the store runs from now on (transaction control left out).

    On SQLite the search reads through the driver itself, past SQLAlchemy's events, so the
    statements are taken from SQLite's own trace of every connection opened from now on.
    """
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(TRANSACTION_CONTROL):
            seen.append(statement)

    if store.engine.dialect.name != "sqlite":
        event.listen(store.engine, "before_cursor_execute", record)
        yield seen
        event.remove(store.engine, "before_cursor_execute", record)
        return

    def trace(dbapi_connection: Any, connection_record: Any) -> None:
        dbapi_connection.set_trace_callback(lambda statement: record(None, None, statement))

    store.engine.dispose()  # every connection from now on is a new, traced one
    event.listen(store.engine, "connect", trace)
    yield seen
    event.remove(store.engine, "connect", trace)


def test_a_repeated_query_reads_only_the_change_counter(
    store: Store, tmp_path: Path, statements: list[str]
) -> None:
    with store.session() as session:
        sheets.install_samples(session)
    with store.session(write=False) as session:
        first = search.search(session, "spinal tap")
        statements.clear()
        again = search.search(session, "spinal tap")
    assert again == first and first.hits[0].code == "P586"
    assert len(statements) == 1 and "search_state" in statements[0]
    # Another language, limit or text is another answer.
    with store.session(write=False) as session:
        statements.clear()
        search.search(session, "spinal tap", language="es")
        search.search(session, "spinal tap", limit=1)
    assert len(statements) > 2


def test_a_caller_changing_its_hits_does_not_change_the_cache(
    store: Store, tmp_path: Path
) -> None:
    with store.session() as session:
        import_published(session, [retitled_p586(tmp_path, "Spinal Tap: At Home")])
    with store.session(write=False) as session:
        search.search(session, "spinal tap").hits.clear()
        assert [h.code for h in search.search(session, "spinal tap").hits] == ["P586"]


def test_no_cached_answer_outlives_an_import_or_a_status_change(
    store: Store, tmp_path: Path
) -> None:
    assert _titles(store, "okapi") == []  # cached: nothing
    with store.session() as session:
        import_published(session, [retitled_p586(tmp_path, "Spinal Tap: Okapi Edition")])
    assert _titles(store, "okapi") == ["Spinal Tap: Okapi Edition"]  # cached: found
    with store.session() as session:
        sheets.import_paths(session, [retitled_p586(tmp_path, "Spinal Tap: Zebrafinch Edition")])
    assert _titles(store, "zebrafinch") == []  # a draft: not public
    with store.session() as session:
        sheets.set_status(session, "P586", "en", 2, "published")
    assert _titles(store, "okapi") == []
    with store.session(write=False) as session:
        (hit,) = search.search(session, "zebrafinch").hits
    assert hit.status == "published"
    with store.session() as session:
        sheets.set_status(session, "P586", "en", 2, "retired")
    # Version 1 (published, Okapi) is what current() returns once version 2 is retired.
    assert _titles(store, "zebrafinch") == []
    assert _titles(store, "okapi") == ["Spinal Tap: Okapi Edition"]


def test_an_answer_from_a_rolled_back_write_is_never_served(
    store: Store, tmp_path: Path
) -> None:
    with store.session() as session:
        import_published(session, [retitled_p586(tmp_path, "Spinal Tap: At Home")])
    with pytest.raises(Rollback), store.session() as session:
        import_published(session, [retitled_p586(tmp_path, "Spinal Tap: Okapi Edition")])
        # The session sees its own write, under a counter the rollback will give back.
        assert [h.title for h in search.search(session, "okapi").hits] == [
            "Spinal Tap: Okapi Edition"
        ]
        raise Rollback
    # Another write now takes that same counter value: its answers must be its own.
    with store.session() as session:
        import_published(session, [retitled_p586(tmp_path, "Spinal Tap: Zebrafinch Edition")])
    assert _titles(store, "okapi") == []
    assert _titles(store, "zebrafinch") == ["Spinal Tap: Zebrafinch Edition"]


def test_each_database_has_its_own_answers(tmp_path: Path) -> None:
    one, two = (Store.open(f"sqlite:///{tmp_path}/{n}.db") for n in ("one", "two"))
    with one.session() as session:
        import_published(session, [retitled_p586(tmp_path, "Spinal Tap: At Home")])
    assert _titles(one, "spinal tap") == ["Spinal Tap: At Home"]
    assert _titles(two, "spinal tap") == []
    one.close()
    two.close()


def test_the_cache_keeps_at_most_its_size() -> None:
    answers = search_cache.Answers(size=2)
    for n in range(3):
        answers.put((7, f"q{n}", None, 20), n)
    assert len(answers) == 2 and answers.get((7, "q0", None, 20)) is None
    answers.put((8, "q", None, 20), "new")  # a newer index: older answers go at once
    assert len(answers) == 1


def test_snippets_are_made_when_read_and_are_the_same(store: Store, tmp_path: Path) -> None:
    with store.session() as session:
        import_published(session, [retitled_p586(tmp_path, "Spinal Tap: At Home")])
    query = "spinal tap headache"
    with store.session(write=False) as session:
        hit = search.search(session, query, limit=50).hits[0]
        (document,) = matching.by_sheet_code(session, "P586", "en")
        plan = search.plan_query(search.words(query), None, search.term_dictionary(session),
                                 search.vocabulary())
        body = matching.fetch(session, "SELECT body FROM search_documents WHERE id = :id",
                              {"id": document.id})[0][0]
    # Nothing made yet: a picker that shows titles only never pays for it.
    assert not hit.made_snippet.made
    shown = hit.snippet  # read after the search's session has ended
    assert hit.made_snippet.made and hit.snippet is shown  # made once, kept
    assert shown == snippet(document.aliases, body, plan.marks, "en", "Also called")
    assert "<mark>" in shown
    with store.session(write=False) as session:
        again = search.search(session, query, limit=50).hits[0]
    assert again.snippet is shown  # the cached answer holds the snippet made


def test_a_search_reads_no_sheet_text_until_a_snippet_is_read_then_all_at_once(
    store: Store, statements: list[str]
) -> None:
    with store.session() as session:
        sheets.install_samples(session)
    with store.session(write=False) as session:
        statements.clear()
        hits = search.search(session, "pain", limit=10).hits
    assert len(hits) > 3
    assert not [s for s in statements if "body" in s]  # the picker's case: no text read
    shown = [str(hit.snippet) for hit in hits]  # the results page, after the session ended
    assert len([s for s in statements if "body" in s]) == 1  # every hit's text in one read
    assert sum("<mark>" in text for text in shown) > 3


def test_a_snippet_read_after_its_version_changed_shows_no_other_version_s_words(
    store: Store, tmp_path: Path
) -> None:
    with store.session() as session:
        import_published(session, [retitled_p586(tmp_path, "Spinal Tap: At Home")])
    with store.session(write=False) as session:
        (hit,) = [h for h in search.search(session, "headache").hits if h.code == "P586"]
    path = retitled_p586(tmp_path, "Spinal Tap: At Home")
    path.write_text(path.read_text(encoding="utf-8").replace("headache", "okapiache"),
                    encoding="utf-8")
    with store.session() as session:
        import_published(session, [path])  # a new version, indexed in place of the old
    assert str(hit.snippet) == ""  # the version it found is gone: nothing, not the new text
    with store.session(write=False) as session:
        (again,) = [h for h in search.search(session, "okapiache").hits if h.code == "P586"]
    assert "<mark>okapiache</mark>" in str(again.snippet)


def test_a_cached_answer_does_not_keep_its_store_alive(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path}/caresheet.db")
    with store.session() as session:
        sheets.install_samples(session)
    with store.session(write=False) as session:
        assert search.search(session, "spinal tap").hits  # cached, its snippets not read
    engine = weakref.ref(store.engine)
    del store, session
    gc.collect()
    assert engine() is None


def test_a_snippet_whose_text_cannot_be_read_is_empty_not_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = Store.open(f"sqlite:///{tmp_path}/caresheet.db")
    with store.session() as session:
        sheets.install_samples(session)
    with store.session(write=False) as session:
        hits = search.search(session, "spinal tap").hits
    with store.session() as session:  # a real failure: the table is not there any more
        session.execute(text("ALTER TABLE search_documents RENAME TO gone"))
    shown = [str(hit.snippet) for hit in hits]  # no error: what the hit itself holds
    assert all(text_ == "" or text_.startswith("Also called: ") for text_ in shown)
    assert "<mark>spinal</mark>" in shown[0]  # P586's aliases
    assert "could not be read (OperationalError)" in caplog.text
    store.close()
