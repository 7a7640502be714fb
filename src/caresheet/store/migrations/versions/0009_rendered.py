"""The rendered-output cache: pages, PDFs, text and FHIR resources, shared by every process.

Revision ID: 0009_rendered
Revises: 0008_ehr
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_rendered"
down_revision: str | None = "0011_review"
branch_labels: str | None = None
depends_on: str | None = None

When = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "rendered_outputs",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("sheet_version_id", sa.Integer(), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("etag", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("used_at", When, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_rendered_outputs"),
    )
    op.create_index("ix_rendered_outputs_used_at", "rendered_outputs", ["used_at"])
    op.create_index("ix_rendered_outputs_sheet_version_id", "rendered_outputs",
                    ["sheet_version_id"])


def downgrade() -> None:
    op.drop_index("ix_rendered_outputs_sheet_version_id", table_name="rendered_outputs")
    op.drop_index("ix_rendered_outputs_used_at", table_name="rendered_outputs")
    op.drop_table("rendered_outputs")
