"""Four-eyes review: who wrote each version, which versions are shipped samples, which base
version a translation was written against, every review step, and the library's settings.

Versions stored before this revision have no recorded author (NULL: "not recorded") and are
not samples; their status is left as it was.

Revision ID: 0011_review
Revises: 0008_ehr
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_review"
down_revision: str | None = "0012_smart"
branch_labels: str | None = None
depends_on: str | None = None

When = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Plain ADD COLUMN on both databases: a batch (copy and drop) on SQLite would drop a
    # table that handouts point at by foreign key.
    op.add_column("sheet_versions", sa.Column("author", sa.Text(), nullable=True))
    op.add_column(
        "sheet_versions",
        sa.Column("sample", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column("sheet_versions", sa.Column("base_version", sa.Integer(), nullable=True))
    op.create_table(
        "sheet_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sheet_version_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=False),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("reviewer", sa.Text(), nullable=False),
        sa.Column("at", When, nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["sheet_version_id"], ["sheet_versions.id"],
            name="fk_sheet_reviews_sheet_version_id_sheet_versions",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_sheet_reviews"),
    )
    op.create_index("ix_sheet_reviews_sheet_version_id", "sheet_reviews", ["sheet_version_id"])
    op.create_table(
        "library_settings",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_library_settings"),
    )


def downgrade() -> None:
    op.drop_table("library_settings")
    op.drop_index("ix_sheet_reviews_sheet_version_id", table_name="sheet_reviews")
    op.drop_table("sheet_reviews")
    for column in ("base_version", "sample", "author"):
        op.drop_column("sheet_versions", column)
