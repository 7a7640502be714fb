"""Migration 0005 turns escalations.handout_id into an integer foreign key and gives each
outbox message an idempotency key, keeping every existing row, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy.exc import IntegrityError

from caresheet.store.db import MIGRATIONS_DIR, Store, StoreUnavailableError, alembic_config
from team.conftest import NOW

ESCALATION = sa.text(
    "INSERT INTO escalations (id, handout_id, source, source_id, tier, tier_rank, sheet_code, "
    "reasons, created_at, status) VALUES (:id, :handout, 'checkin', :id, 'urgent', 2, 'P586', "
    "'[\"You have a very bad headache.\"]', :at, 'open')"
)
MESSAGE = sa.text(
    "INSERT INTO outbox (channel, payload, escalation_id, created_at, attempts, "
    "next_attempt_at, last_error) VALUES ('webhook', '{}', :escalation, :at, 1, :at, "
    "'HTTP 503')"
)


OLD_SHEET = sa.text(
    "INSERT INTO sheet_versions (code, language, version, status, title, content_hash, "
    "source_text, document, imported_at) VALUES ('P586', 'en', :version, 'published', 'P586', "
    "'0', '', '{}', :at)"
)
OLD_HANDOUT = sa.text(
    "INSERT INTO handouts (token_hash, sheet_version_id, sheet_code, language, version, params, "
    "procedure_at, procedure_zone, created_at, expires_at) VALUES (:token, :sheet, 'P586', "
    "'en', :version, '{}', :at, 'UTC', :at, :at)"
)


def issue_handout(store: Store) -> int:
    """A handout row as a 0004 database holds it, written in that schema's own columns (the
    code of today reads and writes later columns of ``sheet_versions``)."""
    with store.engine.begin() as connection:
        version = 1 + (connection.execute(sa.text(
            "SELECT count(*) FROM sheet_versions")).scalar() or 0)
        connection.execute(OLD_SHEET, {"version": version, "at": NOW})
        sheet = connection.execute(sa.text("SELECT max(id) FROM sheet_versions")).scalar()
        connection.execute(OLD_HANDOUT, {"token": f"{version:064d}", "sheet": sheet,
                                         "version": version, "at": NOW})
        handout = connection.execute(sa.text("SELECT max(id) FROM handouts")).scalar()
    assert isinstance(handout, int)
    return handout


def _store_at_0004(url: str) -> Store:
    """A database brought up to 0004 (and the search branch), not beyond."""
    store = Store.open(url, migrate=False)
    with store.engine.begin() as connection:
        for revision in ("0004_team", "0002_search"):
            command.upgrade(alembic_config(connection), revision)
    return store


def _script_heads() -> set[str]:
    return set(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads())


def _applied_through(heads: set[str]) -> set[str]:
    """Every revision below ``heads``: what a database at those heads has applied."""
    scripts = ScriptDirectory(str(MIGRATIONS_DIR))
    return {rev.revision for head in heads for rev in scripts.walk_revisions("base", head)}


def _heads(store: Store) -> set[str]:
    with store.engine.connect() as connection:
        return set(connection.execute(sa.text("SELECT version_num FROM alembic_version"))
                   .scalars())


def test_0005_keeps_escalations_and_messages(db_url: str) -> None:
    old = _store_at_0004(db_url)
    first, second = issue_handout(old), issue_handout(old)
    with old.engine.begin() as connection:
        connection.execute(ESCALATION, {"id": 1, "handout": str(first), "at": NOW})
        connection.execute(ESCALATION, {"id": 2, "handout": str(second), "at": NOW})
        connection.execute(MESSAGE, {"escalation": 1, "at": NOW})
        connection.execute(MESSAGE, {"escalation": 2, "at": NOW})
        kept = list(connection.execute(sa.text("SELECT id FROM outbox ORDER BY id")).scalars())
    old.close()

    store = Store.open(db_url)
    try:
        # Opened at today's heads; 0005 is on the way to every later head (0008 revises it).
        assert _heads(store) == _script_heads()
        assert "0005_team_keys" in _applied_through(_heads(store))
        with store.engine.connect() as connection:
            rows = connection.execute(sa.text(
                "SELECT id, handout_id, reasons FROM escalations ORDER BY id")).all()
            messages = connection.execute(sa.text(
                "SELECT id, escalation_id, attempts, last_error, idempotency_key, claim_token "
                "FROM outbox ORDER BY id")).all()
        assert [(r.id, r.handout_id) for r in rows] == [(1, first), (2, second)]
        assert all(isinstance(r.handout_id, int) for r in rows)
        assert rows[0].reasons == '["You have a very bad headache."]'
        assert [(m.id, m.escalation_id, m.attempts, m.last_error) for m in messages] == [
            (kept[0], 1, 1, "HTTP 503"), (kept[1], 2, 1, "HTTP 503")]
        keys = [m.idempotency_key for m in messages]
        assert len(set(keys)) == 2 and all(len(k) == 32 for k in keys)
        assert [m.claim_token for m in messages] == [None, None]
        # Now a real foreign key: an escalation must name a handout that exists.
        with pytest.raises(IntegrityError), store.engine.begin() as connection:
            connection.execute(ESCALATION, {"id": 3, "handout": 999_999, "at": NOW})
        # New rows keep counting from the old ones.
        with store.engine.begin() as connection:
            connection.execute(ESCALATION, {"id": 3, "handout": first, "at": NOW})
            connection.execute(sa.text(
                "INSERT INTO outbox (channel, payload, escalation_id, created_at, attempts, "
                "next_attempt_at, idempotency_key) VALUES ('email', '{}', 3, :at, 0, :at, 'k')"
            ), {"at": NOW})
            newest = connection.execute(sa.text("SELECT max(id) FROM outbox")).scalar()
        assert newest == kept[1] + 1
    finally:
        store.close()


def test_0005_refuses_an_escalation_that_names_no_handout(db_url: str) -> None:
    old = _store_at_0004(db_url)
    handout = issue_handout(old)
    with old.engine.begin() as connection:
        connection.execute(ESCALATION, {"id": 1, "handout": str(handout), "at": NOW})
        connection.execute(ESCALATION, {"id": 7, "handout": "not-a-handout", "at": NOW})
        connection.execute(ESCALATION, {"id": 8, "handout": "424242", "at": NOW})
    old.close()

    with pytest.raises(StoreUnavailableError, match=r"escalation\(s\) 7, 8 name no handout"):
        Store.open(db_url)
    untouched = Store.open(db_url, migrate=False)
    try:
        assert _heads(untouched) == {"0004_team", "0002_search"}
        with untouched.engine.connect() as connection:
            count = connection.execute(sa.text("SELECT count(*) FROM escalations")).scalar()
        assert count == 3
    finally:
        untouched.close()
