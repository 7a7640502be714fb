"""Handouts (a sheet version issued to one patient), their check-ins and teach-back results.

Revision ID: 0003_handouts
Revises: 0001_sheets
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_handouts"
down_revision: str | None = "0001_sheets"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "handouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("sheet_version_id", sa.Integer(), nullable=False),
        sa.Column("sheet_code", sa.String(16), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("procedure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("procedure_zone", sa.String(64), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_handouts"),
        sa.UniqueConstraint("token_hash", name="uq_handouts_token_hash"),
        sa.ForeignKeyConstraint(
            ["sheet_version_id"], ["sheet_versions.id"],
            name="fk_handouts_sheet_version_id_sheet_versions",
        ),
    )
    op.create_table(
        "checkins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handout_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("elapsed_hours", sa.Float(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("matched", sa.JSON(), nullable=False),
        sa.Column("disposition", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_checkins"),
        sa.ForeignKeyConstraint(
            ["handout_id"], ["handouts.id"], name="fk_checkins_handout_id_handouts"
        ),
    )
    op.create_index("ix_checkins_handout_id_id", "checkins", ["handout_id", "id"])
    op.create_table(
        "teachback_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handout_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("question_id", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("chosen", sa.String(80), nullable=True),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.Column("warning_sign", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_teachback_results"),
        sa.ForeignKeyConstraint(
            ["handout_id"], ["handouts.id"], name="fk_teachback_results_handout_id_handouts"
        ),
    )
    op.create_index(
        "ix_teachback_results_handout_id_id", "teachback_results", ["handout_id", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_teachback_results_handout_id_id", table_name="teachback_results")
    op.drop_table("teachback_results")
    op.drop_index("ix_checkins_handout_id_id", table_name="checkins")
    op.drop_table("checkins")
    op.drop_table("handouts")
