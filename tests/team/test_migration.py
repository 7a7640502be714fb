"""The 0004_team migration builds exactly the tables the models describe, on both databases."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import caresheet.store.team  # noqa: F401  (registers the team tables on Base)
from caresheet.store.db import Store
from caresheet.store.tables import Base

TEAM_TABLES = {"users", "staff_sessions", "login_attempts", "audit_events", "escalations",
               "outbox", "handout_issuers"}


def _tables_in(diff: Any) -> set[str]:
    found: set[str] = set()
    items = diff if isinstance(diff, list) else [diff]
    for item in items:
        for part in item if isinstance(item, tuple) else (item,):
            name = getattr(part, "name", None)
            table = getattr(part, "table", None)
            if isinstance(part, str) and part in TEAM_TABLES:
                found.add(part)
            if table is not None and getattr(table, "name", None) in TEAM_TABLES:
                found.add(table.name)
            if name in TEAM_TABLES:
                found.add(str(name))
    return found


def test_migration_matches_the_models(db_url: str) -> None:
    store = Store.open(db_url)
    try:
        with store.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diffs = compare_metadata(context, Base.metadata)
    finally:
        store.close()
    ours = [d for d in diffs if _tables_in(d)]
    assert ours == []
