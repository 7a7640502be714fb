"""The shipped migrations build exactly the tables the model declares (for this module's tables)."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from caresheet.store.db import Store
from caresheet.store.tables import Base, LibrarySetting, SheetReview, SheetVersion

OWN_TABLES = {SheetVersion.__tablename__, SheetReview.__tablename__,
              LibrarySetting.__tablename__}


def _tables_named(diff: Any) -> set[str]:
    """The table names a diff entry (or a list of entries, for column changes) touches."""
    if isinstance(diff, list):
        return set().union(*(_tables_named(d) for d in diff))
    names = set()
    for part in diff[1:]:
        name = getattr(part, "name", None) if not isinstance(part, str) else None
        table = getattr(part, "table", None)
        if table is not None:
            names.add(table.name)
        elif name:
            names.add(name)
        elif isinstance(part, str):
            names.add(part)
    return names


def test_the_sheet_migration_matches_the_model(db_url: str) -> None:
    store = Store.open(db_url)
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    store.close()
    ours = [d for d in diffs if _tables_named(d) & OWN_TABLES]
    assert ours == []

