"""Alembic's entry point for caresheet's migrations.

``Store.open`` runs these programmatically and hands over a connection that already holds
the migration lock (see ``caresheet.store.db``). Run from the ``alembic`` command instead,
it connects to ``caresheet.config.database_url()`` itself.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection

from caresheet.config import database_url
from caresheet.store.tables import Base


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things in place; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    given = context.config.attributes.get("connection")
    if isinstance(given, Connection):
        run(given)
        return
    engine = create_engine(database_url())
    try:
        with engine.begin() as connection:
            run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("caresheet runs its migrations online only")
run_online()
