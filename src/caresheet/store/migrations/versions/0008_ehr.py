"""The EHR side: CDS clients, seen JWT ids, cards handed out and the feedback on them.

Revision ID: 0008_ehr
Revises: 0005_team_keys
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_ehr"
down_revision: str | None = "0005_team_keys"
branch_labels: str | None = None
depends_on: str | None = None

When = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "cds_clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("iss", sa.String(400), nullable=False),
        sa.Column("jwks_url", sa.Text(), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cds_clients"),
        sa.UniqueConstraint("iss", name="uq_cds_clients_iss"),
    )
    op.create_table(
        "cds_seen_jti",
        sa.Column("iss", sa.String(400), nullable=False),
        sa.Column("jti", sa.String(200), nullable=False),
        sa.Column("expires_at", When, nullable=False),
        sa.PrimaryKeyConstraint("iss", "jti", name="pk_cds_seen_jti"),
    )
    op.create_index("ix_cds_seen_jti_expires_at", "cds_seen_jti", ["expires_at"])
    op.create_table(
        "cds_cards",
        sa.Column("uuid", sa.String(36), nullable=False),
        sa.Column("service_id", sa.String(64), nullable=False),
        sa.Column("client_iss", sa.String(400), nullable=True),
        sa.Column("sheet_code", sa.String(16), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("issued_at", When, nullable=False),
        sa.PrimaryKeyConstraint("uuid", name="pk_cds_cards"),
    )
    op.create_table(
        "cds_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card_uuid", sa.String(36), nullable=False),
        sa.Column("service_id", sa.String(64), nullable=False),
        sa.Column("sheet_code", sa.String(16), nullable=False),
        sa.Column("client_iss", sa.String(400), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("user_comment", sa.Text(), nullable=True),
        sa.Column("outcome_at", When, nullable=False),
        sa.Column("received_at", When, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cds_feedback"),
    )
    op.create_index("ix_cds_feedback_card_uuid", "cds_feedback", ["card_uuid"])


def downgrade() -> None:
    op.drop_index("ix_cds_feedback_card_uuid", table_name="cds_feedback")
    op.drop_table("cds_feedback")
    op.drop_table("cds_cards")
    op.drop_index("ix_cds_seen_jti_expires_at", table_name="cds_seen_jti")
    op.drop_table("cds_seen_jti")
    op.drop_table("cds_clients")
