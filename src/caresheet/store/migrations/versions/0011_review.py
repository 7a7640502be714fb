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
down_revision: str | None = "0008_ehr"
branch_labels: str | None = None
depends_on: str | None = None

When = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("sheet_versions") as batch:
        batch.add_column(sa.Column("author", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column("sample", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(sa.Column("base_version", sa.Integer(), nullable=True))
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
    with op.batch_alter_table("sheet_versions") as batch:
        batch.drop_column("base_version")
        batch.drop_column("sample")
        batch.drop_column("author")
