"""Sheet versions: one row per imported version of a sheet in one language.

Revision ID: 0001_sheets
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_sheets"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "sheet_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("source_text", sa.Text(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewer", sa.Text(), nullable=True),
        sa.Column("reviewed_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sheet_versions"),
        sa.UniqueConstraint(
            "code", "language", "version", name="uq_sheet_versions_code_language_version"
        ),
    )
    op.create_index("ix_sheet_versions_code_language", "sheet_versions", ["code", "language"])


def downgrade() -> None:
    op.drop_index("ix_sheet_versions_code_language", table_name="sheet_versions")
    op.drop_table("sheet_versions")
