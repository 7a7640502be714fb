"""How many sheets have each term in their title, aliases or keywords (SQLite).

``search_head_vocab`` is an FTS5 vocabulary table over ``search_head``: it stores nothing,
it reads the full-text index. ``caresheet.search.warm`` uses it to find the terms whose
impact lists cost most to read, and reads them before any query needs them. PostgreSQL
ranks in SQL and keeps no lists, so it needs no such table.

Revision ID: 0014_head_vocab
Revises: 0013_phone_key
"""

from __future__ import annotations

from alembic import op

revision = "0014_head_vocab"
down_revision: str | None = "0013_phone_key"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE search_head_vocab USING fts5vocab(search_head, row)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS search_head_vocab")
