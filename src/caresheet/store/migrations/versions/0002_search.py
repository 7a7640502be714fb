"""Search index: one row per current sheet, its clinical codes, and the dictionary of terms.

Revision ID: 0002_search
Revises: 0001_sheets

The documents hold terms already analyzed in Python (caresheet.search.analysis), so both
databases index the same words; only the full-text machinery differs:
- SQLite: an FTS5 table over the document columns (external content, kept in step by
  triggers, ascii tokenizer over the analyzed terms), ranked with bm25() and column weights
  title > aliases > keywords > body; and a second, small one over the head columns only.
- PostgreSQL: a stored tsvector column (setweight A/B/C/D, 'simple' configuration since the
  words are already stemmed and folded) with a GIN index, ranked with ts_rank_cd; and a
  second one over the head columns only.
No extension is created: unaccent and pg_trgm would do in SQL what analysis does in Python,
and CREATE EXTENSION needs rights an application's database user often lacks.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_search"
down_revision: str | None = "0001_sheets"
branch_labels: str | None = None
depends_on: str | None = None

# Column weights, title first; the language column only filters.
FTS_COLUMNS = ("t_title", "t_aliases", "t_keywords", "t_body", "t_lang")
BM25_WEIGHTS = "10.0, 6.0, 4.0, 1.0, 0.0"
# The head (title, aliases, keywords) again on its own: its term lists are short, so words
# found in thousands of sheet bodies are matched here quickly.
HEAD_COLUMNS = ("t_title", "t_aliases", "t_keywords", "t_lang")
HEAD_WEIGHTS = "10.0, 6.0, 4.0, 0.0"

_PG_HEAD = (
    "setweight(to_tsvector('simple'::regconfig, t_title), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, t_aliases), 'B') || "
    "setweight(to_tsvector('simple'::regconfig, t_keywords), 'C')"
)
_PG_TSVECTOR = _PG_HEAD + " || setweight(to_tsvector('simple'::regconfig, t_body), 'D')"


def upgrade() -> None:
    op.create_table(
        "search_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sheet_version_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("aliases", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("t_title", sa.Text(), nullable=False),
        sa.Column("t_aliases", sa.Text(), nullable=False),
        sa.Column("t_keywords", sa.Text(), nullable=False),
        sa.Column("t_body", sa.Text(), nullable=False),
        sa.Column("t_lang", sa.String(24), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_search_documents"),
        sa.UniqueConstraint("code", "language", name="uq_search_documents_code_language"),
        sa.ForeignKeyConstraint(
            ["sheet_version_id"],
            ["sheet_versions.id"],
            name="fk_search_documents_sheet_version_id_sheet_versions",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_search_documents_language", "search_documents", ["language"])
    op.create_table(
        "search_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("system", sa.String(16), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_search_codes"),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["search_documents.id"],
            name="fk_search_codes_document_id_search_documents",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_search_codes_system_code", "search_codes", ["system", "code"])
    op.create_index("ix_search_codes_code", "search_codes", ["code"])
    op.create_index("ix_search_codes_document_id", "search_codes", ["document_id"])
    op.create_table(
        "search_terms",
        sa.Column("term", sa.String(64), nullable=False),
        sa.Column("documents", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("term", name="pk_search_terms"),
    )
    op.create_table(
        "search_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_search_state"),
    )
    op.execute("INSERT INTO search_state (id, generation) VALUES (1, 0)")

    if op.get_bind().dialect.name == "sqlite":
        _sqlite_fts()
    else:
        _postgres_tsvector()


def _sqlite_fts() -> None:
    tables = {"search_fts": (FTS_COLUMNS, BM25_WEIGHTS), "search_head": (HEAD_COLUMNS, HEAD_WEIGHTS)}
    for table, (columns, weights) in tables.items():
        # The columns hold analyzed terms separated by spaces, already folded and lower case,
        # so the plain ascii tokenizer splits them exactly as analysis did, and fastest.
        op.execute(
            f"CREATE VIRTUAL TABLE {table} USING fts5({', '.join(columns)}, "
            "content='search_documents', content_rowid='id', tokenize='ascii')"
        )
        op.execute(f"INSERT INTO {table}({table}, rank) VALUES ('rank', 'bm25({weights})')")
    inserts = "".join(
        f"INSERT INTO {t}(rowid, {', '.join(c)}) VALUES (new.id, "
        f"{', '.join('new.' + x for x in c)}); "
        for t, (c, _) in tables.items()
    )
    deletes = "".join(
        f"INSERT INTO {t}({t}, rowid, {', '.join(c)}) VALUES ('delete', old.id, "
        f"{', '.join('old.' + x for x in c)}); "
        for t, (c, _) in tables.items()
    )
    op.execute(f"CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents BEGIN {inserts}END")
    op.execute(f"CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents BEGIN {deletes}END")
    op.execute(
        "CREATE TRIGGER search_documents_au AFTER UPDATE ON search_documents "
        f"BEGIN {deletes}{inserts}END"
    )


def _postgres_tsvector() -> None:
    op.execute(
        f"ALTER TABLE search_documents ADD COLUMN tsv tsvector "
        f"GENERATED ALWAYS AS ({_PG_TSVECTOR}) STORED"
    )
    op.execute("CREATE INDEX ix_search_documents_tsv ON search_documents USING gin (tsv)")
    # The head alone, as on SQLite: words common in bodies are matched here, quickly.
    op.execute(
        f"ALTER TABLE search_documents ADD COLUMN tsv_head tsvector "
        f"GENERATED ALWAYS AS ({_PG_HEAD}) STORED"
    )
    op.execute(
        "CREATE INDEX ix_search_documents_tsv_head ON search_documents USING gin (tsv_head)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("search_documents_ai", "search_documents_ad", "search_documents_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS search_fts")
        op.execute("DROP TABLE IF EXISTS search_head")
    op.drop_table("search_state")
    op.drop_table("search_terms")
    op.drop_table("search_codes")
    op.drop_table("search_documents")
