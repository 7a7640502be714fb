"""SMART App Launch: registered EHRs, EHR users linked to accounts, launches, write-backs.

Revision ID: 0012_smart
Revises: 0008_ehr
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_smart"
down_revision: str | None = "0010_clinics"
branch_labels: str | None = None
depends_on: str | None = None

When = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "smart_ehrs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("iss", sa.String(400), nullable=False),
        sa.Column("client_id", sa.String(200), nullable=False),
        sa.Column("client_secret", sa.Text(), nullable=True),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("clinic", sa.String(200), nullable=True),
        sa.Column("created_at", When, nullable=False),
        sa.Column("auth_issuer", sa.String(400), nullable=True),
        sa.Column("jwks_uri", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_smart_ehrs"),
        sa.UniqueConstraint("name", name="uq_smart_ehrs_name"),
        sa.UniqueConstraint("iss", name="uq_smart_ehrs_iss"),
    )
    op.create_index("ix_smart_ehrs_auth_issuer", "smart_ehrs", ["auth_issuer"])
    op.create_table(
        "smart_user_links",
        sa.Column("ehr_id", sa.Integer(), nullable=False),
        sa.Column("fhir_user", sa.String(400), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["ehr_id"], ["smart_ehrs.id"], ondelete="CASCADE",
                                name="fk_smart_user_links_ehr_id_smart_ehrs"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_smart_user_links_user_id_users"),
        sa.PrimaryKeyConstraint("ehr_id", "fhir_user", name="pk_smart_user_links"),
    )
    op.create_index("ix_smart_user_links_user_id", "smart_user_links", ["user_id"])
    op.create_table(
        "smart_launches",
        sa.Column("session_hash", sa.String(64), nullable=False),
        sa.Column("ehr_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(100), nullable=True),
        sa.Column("code_verifier", sa.String(200), nullable=True),
        sa.Column("nonce", sa.String(100), nullable=False),
        sa.Column("token_endpoint", sa.Text(), nullable=False),
        sa.Column("jwks_uri", sa.Text(), nullable=True),
        sa.Column("issuer", sa.Text(), nullable=True),
        sa.Column("created_at", When, nullable=False),
        sa.Column("expires_at", When, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("access_token", sa.Text(), nullable=True),
        sa.Column("patient", sa.String(200), nullable=True),
        sa.Column("encounter", sa.String(200), nullable=True),
        sa.Column("need_patient_banner", sa.Boolean(), nullable=False),
        sa.Column("app_context", sa.String(200), nullable=True),
        sa.Column("csrf_token", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(["ehr_id"], ["smart_ehrs.id"], ondelete="CASCADE",
                                name="fk_smart_launches_ehr_id_smart_ehrs"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_smart_launches_user_id_users"),
        sa.PrimaryKeyConstraint("session_hash", name="pk_smart_launches"),
    )
    op.create_index("ix_smart_launches_expires_at", "smart_launches", ["expires_at"])
    op.create_table(
        "smart_writebacks",
        sa.Column("handout_id", sa.Integer(), nullable=False),
        sa.Column("ehr_id", sa.Integer(), nullable=True),
        sa.Column("document_id", sa.String(200), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("at", When, nullable=False),
        sa.ForeignKeyConstraint(["handout_id"], ["handouts.id"],
                                name="fk_smart_writebacks_handout_id_handouts"),
        sa.ForeignKeyConstraint(["ehr_id"], ["smart_ehrs.id"], ondelete="SET NULL",
                                name="fk_smart_writebacks_ehr_id_smart_ehrs"),
        sa.PrimaryKeyConstraint("handout_id", name="pk_smart_writebacks"),
    )


def downgrade() -> None:
    op.drop_table("smart_writebacks")
    op.drop_index("ix_smart_launches_expires_at", table_name="smart_launches")
    op.drop_table("smart_launches")
    op.drop_index("ix_smart_user_links_user_id", table_name="smart_user_links")
    op.drop_table("smart_user_links")
    op.drop_index("ix_smart_ehrs_auth_issuer", table_name="smart_ehrs")
    op.drop_table("smart_ehrs")
