"""The sheet store on a real SQLite file and a real PostgreSQL database (``db_url``)."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select, text

from caresheet import sheets
from caresheet.authoring.batch import SheetFilesError
from caresheet.authoring.parse import read_file
from caresheet.errors import BadInputError, NotFoundError
from caresheet.library import LIBRARY_DIR
from caresheet.model.sheet import Status
from caresheet.store import sheets as stored_sheets
from caresheet.store.db import MIGRATIONS_DIR, Store, StoreUnavailableError
from caresheet.store.tables import SheetVersion

P586_EN = LIBRARY_DIR / "P586.en.md"
P586_ES = LIBRARY_DIR / "P586.es.md"


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    opened = Store.open(db_url)
    yield opened
    opened.close()


@pytest.fixture
def p586(tmp_path: Path) -> Path:
    """A copy of the shipped P586 that a test may edit."""
    folder = tmp_path / "sheets"
    folder.mkdir()
    return Path(shutil.copy(P586_EN, folder / "P586.en.md"))


def row_count(store: Store) -> int:
    with store.session(write=False) as session:
        return session.scalar(select(func.count()).select_from(SheetVersion)) or 0


def import_(store: Store, *paths: Path) -> list[stored_sheets.ImportOutcome]:
    with store.session() as session:
        return sheets.import_paths(session, list(paths))


def edit(path: Path, old: str, new: str) -> None:
    source = path.read_text(encoding="utf-8")
    assert old in source, old
    path.write_text(source.replace(old, new, 1), encoding="utf-8")


# ---------------------------------------------------------------- schema


def test_open_creates_the_schema_at_the_migration_heads(store: Store) -> None:
    with store.engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        applied = set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
        unique = inspect(connection).get_unique_constraints("sheet_versions")
    assert {"sheet_versions", "alembic_version"} <= tables
    assert applied == set(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads())
    assert any(set(u["column_names"]) == {"code", "language", "version"} for u in unique)


def test_open_again_is_idempotent_and_keeps_data(db_url: str) -> None:
    first = Store.open(db_url)
    import_(first, P586_EN)
    first.close()
    again = Store.open(db_url)
    assert row_count(again) == 1
    assert again.dialect in {"sqlite", "postgresql"}
    again.close()


def test_sqlite_is_tuned_for_several_processes(sqlite_url: str) -> None:
    store = Store.open(sqlite_url)
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    store.close()


def test_a_sqlite_file_in_a_missing_folder_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="does not exist"):
        Store.open(f"sqlite:///{tmp_path}/no/such/folder/caresheet.db")


def test_an_unreachable_postgresql_is_one_clear_error() -> None:
    with pytest.raises(StoreUnavailableError) as raised:
        Store.open("postgresql+psycopg://nobody:secret@127.0.0.1:1/caresheet")
    message = str(raised.value)
    assert "cannot use the database" in message and "\n" not in message
    assert "secret" not in message  # the password is hidden


def test_a_database_other_than_sqlite_or_postgresql_is_refused() -> None:
    with pytest.raises(BadInputError, match="SQLite or PostgreSQL"):
        Store.open("mysql://user@localhost/caresheet")


def test_a_failed_session_saves_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.session() as session:
        sheets.import_paths(session, [P586_EN])
        raise RuntimeError("boom")
    assert row_count(store) == 0


# ---------------------------------------------------------------- import and read


def test_import_then_get_gives_back_the_same_sheet(store: Store) -> None:
    outcomes = import_(store, P586_EN)
    assert [(o.code, o.language, o.version, o.action) for o in outcomes] == [
        ("P586", "en", 1, "created")
    ]
    with store.session(write=False) as session:
        stored = stored_sheets.get(session, "P586")
        by_id = stored_sheets.get_by_id(session, stored.id)
    assert stored.sheet == read_file(P586_EN).sheet
    assert stored.sheet.model_dump() == read_file(P586_EN).sheet.model_dump()
    assert stored.source_text == P586_EN.read_text(encoding="utf-8")
    assert stored.status is Status.DRAFT and stored.version == 1
    assert stored.imported_at.tzinfo is not None
    assert by_id == stored


def test_importing_the_same_file_twice_changes_nothing(store: Store) -> None:
    import_(store, P586_EN)
    with store.session(write=False) as session:
        before = stored_sheets.get(session, "P586")
    again = import_(store, P586_EN, P586_EN)  # the same file twice in one call, too
    assert [o.action for o in again] == ["unchanged"]
    assert row_count(store) == 1
    with store.session(write=False) as session:
        assert [s.version for s in stored_sheets.versions(session, "P586")] == [1]
        assert stored_sheets.get(session, "P586").imported_at == before.imported_at


def test_a_changed_sheet_adds_a_version_and_the_old_one_stays_readable(
    store: Store, p586: Path
) -> None:
    import_(store, p586)
    edit(p586, "text: You passed out.", "text: You passed out or fainted.")
    outcome = import_(store, p586)
    assert [(o.version, o.action) for o in outcome] == [(2, "new_version")]
    with store.session(write=False) as session:
        old = stored_sheets.get(session, "P586", version=1)
        new = stored_sheets.get(session, "P586", version=2)
        now = stored_sheets.latest(session, "P586")
    assert old.sheet.rule("passed_out").text == "You passed out."
    assert new.sheet.rule("passed_out").text == "You passed out or fainted."
    assert new.sheet.version == 2 and old.sheet.version == 1
    assert now.version == 2
    assert row_count(store) == 2


def test_a_whitespace_only_change_adds_no_version(store: Store, p586: Path) -> None:
    import_(store, p586)
    source = p586.read_text(encoding="utf-8")
    spaced = source.replace("\n## ", "\n\n\n## ").replace("ask: Do you", "ask:   Do you")
    p586.write_text(spaced + "\n\n", encoding="utf-8")
    assert [o.action for o in import_(store, p586)] == ["unchanged"]
    assert row_count(store) == 1


def test_a_new_version_is_the_file_version_when_that_is_higher(store: Store, p586: Path) -> None:
    import_(store, p586)
    edit(p586, "version: 1", "version: 5")
    edit(p586, "text: You passed out.", "text: You fainted.")
    assert [o.version for o in import_(store, p586)] == [5]
    with store.session(write=False) as session:
        assert [s.version for s in stored_sheets.versions(session, "P586")] == [1, 5]


def test_a_malformed_file_saves_nothing_from_the_whole_call(store: Store, tmp_path: Path) -> None:
    bad = tmp_path / "bad.md"
    bad.write_text("---\ncode: P9\ntitle: x\n", encoding="utf-8")
    with pytest.raises(SheetFilesError) as raised:
        import_(store, P586_EN, bad)
    assert str(raised.value).startswith(f"{bad}:1: ")
    assert row_count(store) == 0


def test_every_malformed_file_is_reported(store: Store, tmp_path: Path) -> None:
    for name in ("a.md", "b.md"):
        (tmp_path / name).write_text("no front matter\n", encoding="utf-8")
    with pytest.raises(SheetFilesError) as raised:
        import_(store, tmp_path / "a.md", tmp_path / "b.md")
    assert [e.path for e in raised.value.errors] == [str(tmp_path / "a.md"), str(tmp_path / "b.md")]


def test_a_missing_path_is_bad_input(store: Store, tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="no such file or folder"):
        import_(store, tmp_path / "nothing-here.md")


# ---------------------------------------------------------------- current and status


def test_current_is_the_latest_published_and_latest_the_newest_not_retired(
    store: Store, p586: Path
) -> None:
    import_(store, p586)
    edit(p586, "text: You passed out.", "text: You fainted.")
    import_(store, p586)
    with store.session() as session:
        # Nothing published: no public version at all, the same error as no sheet.
        with pytest.raises(NotFoundError, match="no care sheet with code P586"):
            stored_sheets.current(session, "P586")
        assert stored_sheets.latest(session, "P586").version == 2
        published = stored_sheets.set_status(
            session, "P586", "en", 1, "published", reviewer="R. Nurse",
            reviewed_on=dt.date(2026, 1, 2),
        )
        assert published.sheet.status is Status.PUBLISHED
        assert published.sheet.reviewer == "R. Nurse"
        assert stored_sheets.current(session, "P586").version == 1  # a draft never hides it
        assert stored_sheets.latest(session, "P586").version == 2
        stored_sheets.set_status(session, "P586", "en", 2, Status.REVIEWED)
        assert stored_sheets.current(session, "P586").version == 1  # reviewed is not public
        stored_sheets.set_status(session, "P586", "en", 1, Status.RETIRED)
        with pytest.raises(NotFoundError):
            stored_sheets.current(session, "P586")
        stored_sheets.set_status(session, "P586", "en", 2, Status.RETIRED)
        with pytest.raises(NotFoundError, match="retired"):
            stored_sheets.latest(session, "P586")
        assert stored_sheets.list_current(session) == []
        assert stored_sheets.list_latest(session) == []
        # Retired versions stay readable by number (a handout may pin one).
        assert stored_sheets.get(session, "P586", version=1).status is Status.RETIRED


def test_status_survives_a_reimport_of_the_same_file(store: Store) -> None:
    import_(store, P586_EN)
    with store.session() as session:
        stored_sheets.set_status(session, "P586", "en", 1, "published")
    assert [o.action for o in import_(store, P586_EN)] == ["unchanged"]
    with store.session(write=False) as session:
        assert stored_sheets.current(session, "P586").status is Status.PUBLISHED


def test_bad_status_and_unknown_versions_are_clear_errors(store: Store) -> None:
    import_(store, P586_EN)
    with store.session() as session:
        with pytest.raises(BadInputError, match="draft, reviewed, published, retired"):
            stored_sheets.set_status(session, "P586", "en", 1, "approved")
        with pytest.raises(NotFoundError, match="no version 9; versions: 1"):
            stored_sheets.set_status(session, "P586", "en", 9, "published")
        with pytest.raises(NotFoundError, match="no care sheet with code P999"):
            stored_sheets.get(session, "P999")
        with pytest.raises(NotFoundError, match="languages: en"):
            stored_sheets.latest(session, "P586", "fr")
        assert stored_sheets.get(session, "p586").code == "P586"  # codes are not case-sensitive


def test_list_current_gives_one_version_per_sheet_and_language(store: Store, p586: Path) -> None:
    import_(store, p586, P586_ES)
    edit(p586, "text: You passed out.", "text: You fainted.")
    import_(store, p586)
    with store.session(write=False) as session:
        everything = stored_sheets.list_latest(session)
        spanish = stored_sheets.list_latest(session, "es")
        assert stored_sheets.list_current(session) == []  # nothing published yet
    assert [(s.code, s.language, s.version) for s in everything] == [
        ("P586", "en", 2), ("P586", "es", 1)
    ]
    assert [(s.code, s.language) for s in spanish] == [("P586", "es")]


# ---------------------------------------------------------------- translations


def test_a_translation_imports_with_its_base_in_the_same_call(store: Store) -> None:
    outcomes = import_(store, P586_ES, P586_EN)  # order given does not matter
    assert [(o.language, o.action) for o in outcomes] == [("en", "created"), ("es", "created")]
    with store.session(write=False) as session:
        spanish = stored_sheets.get(session, "P586", "es")
        english = stored_sheets.get(session, "P586", "en")
    assert spanish.sheet == read_file(P586_ES, base=read_file(P586_EN).sheet).sheet
    assert spanish.sheet.translation_of == "en"
    # The logic is the base's: same findings and conditions, other words.
    assert [r.when for r in spanish.sheet.rules] == [r.when for r in english.sheet.rules]
    assert spanish.sheet.title != english.sheet.title


def test_a_translation_alone_reads_against_the_stored_base(store: Store) -> None:
    import_(store, P586_EN)
    assert [o.action for o in import_(store, P586_ES)] == ["created"]
    assert [o.action for o in import_(store, P586_ES)] == ["unchanged"]


def test_a_translation_without_its_base_is_refused_with_its_line(store: Store) -> None:
    with pytest.raises(SheetFilesError) as raised:
        import_(store, P586_ES)
    (error,) = raised.value.errors
    assert error.path == str(P586_ES)
    assert P586_ES.read_text(encoding="utf-8").splitlines()[error.line - 1].startswith(
        "translation_of:"
    )
    assert "import that sheet first" in error.message
    assert row_count(store) == 0


def test_two_files_for_one_sheet_and_language_are_refused(store: Store, p586: Path) -> None:
    with pytest.raises(SheetFilesError, match="is also in"):
        import_(store, p586, P586_EN)
    assert row_count(store) == 0


def test_a_connection_lost_mid_session_is_one_clear_error(postgres_url: str) -> None:
    store = Store.open(postgres_url)
    with pytest.raises(StoreUnavailableError) as raised, store.session() as session:
        session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
    assert "failed" in str(raised.value) and "\n" not in str(raised.value)
    with store.session(write=False) as session:  # the pool recovers
        assert session.execute(text("SELECT 1")).scalar() == 1
    store.close()


# ---------------------------------------------------------------- a changed base sheet


def test_a_changed_condition_reaches_the_stored_translation(store: Store, p586: Path) -> None:
    import_(store, p586, P586_ES)
    edit(p586, "when: (headache or sore_back) and after 2d",
         "when: (headache or sore_back) and after 3d")
    outcomes = import_(store, p586)  # English alone: Spanish is re-read from the store
    assert [(o.language, o.version, o.action) for o in outcomes] == [
        ("en", 2, "new_version"), ("es", 2, "new_version")
    ]
    with store.session(write=False) as session:
        spanish = stored_sheets.latest(session, "P586", "es").sheet
        old_spanish = stored_sheets.get(session, "P586", "es", version=1).sheet
    assert spanish.rule("lasting_headache_or_sore_back").when.endswith("after 3d")
    assert old_spanish.rule("lasting_headache_or_sore_back").when.endswith("after 2d")
    assert spanish.rule("passed_out").text == old_spanish.rule("passed_out").text  # words kept


def test_an_english_wording_change_leaves_the_translation_alone(store: Store, p586: Path) -> None:
    import_(store, p586, P586_ES)
    edit(p586, "text: You passed out.", "text: You fainted.")
    outcomes = import_(store, p586)
    assert [(o.language, o.action) for o in outcomes] == [
        ("en", "new_version"), ("es", "unchanged")
    ]


def test_a_new_rule_without_its_translation_saves_nothing(store: Store, p586: Path) -> None:
    import_(store, p586, P586_ES)
    edit(p586, "rules:\n", "rules:\n  - id: fainted\n    tier: emergency\n    when: passed_out\n"
         "    text: You fainted.\n")
    with pytest.raises(SheetFilesError, match="not yet translated: fainted") as raised:
        import_(store, p586)
    assert "update this translation" in str(raised.value)
    assert row_count(store) == 2
