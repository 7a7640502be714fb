"""Migration 0011 (four-eyes review) keeps every stored version and the handouts pinned to
them, on SQLite and PostgreSQL: old versions get no recorded author and are not samples."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import command

from caresheet.model.sheet import Sheet, Status
from caresheet.store import sheets as stored_sheets
from caresheet.store.db import Store, alembic_config

AT = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
OLD_SHEET = sa.text(
    "INSERT INTO sheet_versions (code, language, version, status, title, content_hash, "
    "source_text, document, imported_at) VALUES ('P586', 'en', 1, 'draft', 'P586', '0', '', "
    ":document, :at)"
)
OLD_HANDOUT = sa.text(
    "INSERT INTO handouts (token_hash, sheet_version_id, sheet_code, language, version, params, "
    "procedure_at, procedure_zone, created_at, expires_at) VALUES (:token, :sheet, 'P586', "
    "'en', 1, '{}', :at, 'UTC', :at, :at)"
)


def test_0011_keeps_versions_and_the_handouts_that_pin_them(db_url: str, p586: Sheet) -> None:
    old = Store.open(db_url, migrate=False)
    with old.engine.begin() as connection:
        for revision in ("0008_ehr", "0002_search"):
            command.upgrade(alembic_config(connection), revision)
        connection.execute(OLD_SHEET, {"document": p586.model_dump_json(), "at": AT})
        sheet = connection.execute(sa.text("SELECT max(id) FROM sheet_versions")).scalar()
        connection.execute(OLD_HANDOUT, {"token": "0" * 64, "sheet": sheet, "at": AT})
    old.close()

    store = Store.open(db_url)  # upgrades to today's heads
    try:
        with store.session(write=False) as session:
            (kept,) = stored_sheets.versions(session, "P586")
            handouts = session.execute(sa.text("SELECT sheet_version_id FROM handouts")).all()
        assert (kept.author, kept.sample, kept.base_version) == (None, False, None)
        assert kept.status is Status.DRAFT and kept.sheet.title == p586.title
        assert [h.sheet_version_id for h in handouts] == [kept.id]
    finally:
        store.close()
