"""The index follows the store: import, new version, review status and retirement.

Each test runs on SQLite and PostgreSQL (``db_url``) through the store's own functions, which
call ``search_match.sync`` in the same transaction.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from caresheet import search, sheets
from caresheet.errors import BadInputError
from caresheet.library import LIBRARY_DIR
from caresheet.search import index as search_index
from caresheet.search import match as search_match
from caresheet.store.db import Store
from helpers import import_published, retitled_p586


def _codes(store: Store, query: str, language: str | None = None) -> list[str]:
    with store.session(write=False) as session:
        return [hit.code for hit in search.search(session, query, language=language).hits]


def _titles(store: Store, query: str) -> list[str]:
    with store.session(write=False) as session:
        return [hit.title for hit in search.search(session, query).hits]


@pytest.fixture
def store(db_url: str) -> Store:
    return Store.open(db_url)


def test_an_imported_sheet_is_found_once_published(store: Store, tmp_path: Path) -> None:
    assert _codes(store, "spinal tap") == []
    with store.session() as session:
        sheets.import_paths(session, [retitled_p586(tmp_path, "Spinal Tap: At Home")])
    # A draft is for staff only: search (words, code and clinical codes) does not know it.
    assert _codes(store, "spinal tap") == [] and _codes(store, "P586") == []
    with store.session(write=False) as session:
        assert search.by_clinical_code(session, "cpt", "62270", "en") == []
        assert search.search(session, "P586").jump is None
    with store.session() as session:
        sheets.set_status(session, "P586", "en", 1, "reviewed")
    assert _codes(store, "spinal tap") == []
    with store.session() as session:
        sheets.set_status(session, "P586", "en", 1, "published")
    assert _codes(store, "spinal tap") == ["P586"]
    assert _codes(store, "P586") == ["P586"]


def test_a_new_version_replaces_the_old_words(store: Store, tmp_path: Path) -> None:
    with store.session() as session:
        import_published(session, [retitled_p586(tmp_path, "Spinal Tap: Zebrafinch Edition")])
    assert _titles(store, "zebrafinch") == ["Spinal Tap: Zebrafinch Edition"]
    with store.session() as session:
        import_published(session, [retitled_p586(tmp_path, "Spinal Tap: Okapi Edition")])
    assert _titles(store, "zebrafinch") == []
    assert _titles(store, "okapi") == ["Spinal Tap: Okapi Edition"]
    with store.session(write=False) as session:
        terms = dict(search_match.term_counts(session))
        rows = session.execute(text("SELECT COUNT(*) FROM search_documents")).scalar()
    assert "okapi" in terms and "zebrafinch" not in terms
    assert rows == 1


def test_a_new_draft_does_not_hide_the_published_version(store: Store, tmp_path: Path) -> None:
    with store.session() as session:
        sheets.import_paths(session, [retitled_p586(tmp_path, "Spinal Tap: Published Words")])
        sheets.set_status(session, "P586", "en", 1, "published")
        sheets.import_paths(session, [retitled_p586(tmp_path, "Spinal Tap: Draft Words")])
    assert _titles(store, "spinal tap") == ["Spinal Tap: Published Words"]
    with store.session(write=False) as session:
        (hit,) = search.search(session, "P586").hits
    assert (hit.version, hit.status) == (1, "published")


def test_a_retired_sheet_leaves_the_index(store: Store, tmp_path: Path) -> None:
    with store.session() as session:
        import_published(session, [retitled_p586(tmp_path, "Spinal Tap: At Home")])
        sheets.set_status(session, "P586", "en", 1, "retired")
    assert _codes(store, "spinal tap") == []
    assert _codes(store, "62270") == []
    with store.session(write=False) as session:
        results = search.search(session, "P586")
        assert results.jump is None
        assert search.browse(session) == []
        assert dict(search_match.term_counts(session)) == {}


def test_every_change_moves_the_generation(store: Store, tmp_path: Path) -> None:
    with store.session(write=False) as session:
        before = search_match.generation(session)
    with store.session() as session:
        sheets.import_paths(session, [retitled_p586(tmp_path, "Spinal Tap: At Home")])
    with store.session(write=False) as session:
        after_import = search_match.generation(session)
    with store.session() as session:
        sheets.set_status(session, "P586", "en", 1, "reviewed")
    with store.session(write=False) as session:
        after_status = search_match.generation(session)
    assert before < after_import < after_status


def test_a_typo_of_a_new_word_is_corrected_after_import(store: Store, tmp_path: Path) -> None:
    with store.session() as session:
        import_published(session, [retitled_p586(tmp_path, "Spinal Tap: Okapi Edition")])
    assert _codes(store, "zebrafinsh") == []
    with store.session() as session:
        import_published(session, [retitled_p586(tmp_path, "Spinal Tap: Zebrafinch Edition")])
    # The cached dictionary noticed the change and now knows the new word.
    assert _codes(store, "zebrafinsh") == ["P586"]


@pytest.mark.parametrize(
    ("system", "code"),
    [
        ("snomed", "277762005"),
        ("http://snomed.info/sct", "277762005"),
        ("2.16.840.1.113883.6.96", "277762005"),
        ("cpt", "62270"),
        ("2.16.840.1.113883.6.12", "62270"),
        ("icd10pcs", "009u3zx"),
    ],
)
def test_clinical_code_lookup(store: Store, tmp_path: Path, system: str, code: str) -> None:
    with store.session() as session:
        import_published(session, [retitled_p586(tmp_path, "Spinal Tap: At Home")])
    with store.session(write=False) as session:
        found = search.by_clinical_code(session, system, code, "en")
        assert [(s.code, s.language) for s in found] == [("P586", "en")]
        assert search.by_clinical_code(session, system, code, "es") == []
        assert search.by_clinical_code(session, "cpt", "99999", "en") == []


def test_clinical_code_lookup_in_an_unknown_system_is_bad_input(store: Store) -> None:
    with store.session(write=False) as session, pytest.raises(BadInputError, match="snomed"):
        search.by_clinical_code(session, "1.2.3.4", "62270")


def test_reindex_rebuilds_the_same_index(store: Store) -> None:
    with store.session() as session:
        sheets.install_samples(session)
    queries = ["spinal tap", "colonscopy", "62270", "heart cath", "punción lumbar", "CS105"]
    with store.session(write=False) as session:
        before = [[h.code for h in search.search(session, q).hits] for q in queries]
        terms_before = sorted(search_match.term_counts(session))
    with store.session() as session:
        assert search_index.reindex(session) == len(list(LIBRARY_DIR.glob("*.md")))
    with store.session(write=False) as session:
        after = [[h.code for h in search.search(session, q).hits] for q in queries]
        assert sorted(search_match.term_counts(session)) == terms_before
    assert after == before


def test_spanish_words_are_found_without_their_accents(store: Store, tmp_path: Path) -> None:
    spanish = (LIBRARY_DIR / "P586.es.md").read_text(encoding="utf-8")
    title = 'title: "Punción lumbar: qué esperar en casa"'
    assert title in spanish
    retitled_p586(tmp_path, "Spinal Tap: At Home")
    (tmp_path / "P586.es.md").write_text(
        spanish.replace(title, 'title: "Cirugía de la columna: qué esperar en casa"'),
        encoding="utf-8",
    )
    with store.session() as session:
        import_published(session, [tmp_path])
    for query in ("cirugia", "CIRUGÍA", "cirugía columna", "Cirugia de la columna"):
        assert _codes(store, query, "es") == ["P586"], query
