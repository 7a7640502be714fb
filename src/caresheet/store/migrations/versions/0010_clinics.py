"""Clinics and their staff, the patient's contact on a handout, API tokens, patient messages.

Adds ``clinics`` (with the embedded default clinic, id 1, so an installation with one clinic
needs no set-up), ``clinic_members`` (staff to clinics), ``api_tokens`` (hashed bearer tokens
for systems); on ``handouts`` the clinic and the patient's contact (record number, encounter,
phone, email, preferred language) and when the patient asked for no more prompts; on
``outbox`` the handout a patient message is for, and a unique idempotency key, so a follow-up
prompt scheduled twice (a restart, a second worker) is one row.

Revision ID: 0010_clinics
Revises: 0008_ehr
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0010_clinics"
down_revision: str | None = "0008_ehr"
branch_labels: str | None = None
depends_on: str | None = None

When = sa.DateTime(timezone=True)
DEFAULT_CLINIC_ID = 1


def upgrade() -> None:
    clinics = op.create_table(
        "clinics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("phone", sa.String(40), nullable=True),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("webhook_url", sa.Text(), nullable=True),
        sa.Column("quiet_start", sa.Integer(), nullable=False),
        sa.Column("quiet_end", sa.Integer(), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_clinics"),
        sa.UniqueConstraint("name", name="uq_clinics_name"),
    )
    op.bulk_insert(clinics, [{
        "id": DEFAULT_CLINIC_ID, "name": "default", "phone": None, "time_zone": "UTC",
        "email": None, "webhook_url": None, "quiet_start": 21 * 60, "quiet_end": 8 * 60,
        "created_at": dt.datetime.now(dt.UTC),
    }])
    if op.get_bind().dialect.name == "postgresql":
        # The row above named its id; move the sequence past it so the next clinic gets 2.
        op.execute(sa.text("SELECT setval(pg_get_serial_sequence('clinics', 'id'), 1)"))
    op.create_table(
        "clinic_members",
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinics.id"], ondelete="CASCADE",
                                name="fk_clinic_members_clinic_id_clinics"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_clinic_members_user_id_users"),
        sa.PrimaryKeyConstraint("clinic_id", "user_id", name="pk_clinic_members"),
    )
    op.create_index("ix_clinic_members_user_id", "clinic_members", ["user_id"])
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("revoked_at", When, nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name="fk_api_tokens_user_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("name", name="uq_api_tokens_name"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )
    with op.batch_alter_table("handouts") as batch:
        batch.add_column(sa.Column("clinic_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("mrn", sa.String(64), nullable=True))
        batch.add_column(sa.Column("encounter_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("phone", sa.String(40), nullable=True))
        batch.add_column(sa.Column("email", sa.String(320), nullable=True))
        batch.add_column(sa.Column("contact_language", sa.String(16), nullable=True))
        batch.add_column(sa.Column("prompts_stopped_at", When, nullable=True))
        batch.create_index("ix_handouts_clinic_id", ["clinic_id"])
    op.execute(sa.text("UPDATE handouts SET clinic_id = :id").bindparams(id=DEFAULT_CLINIC_ID))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("handout_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_outbox_handout_id_handouts", "handouts", ["handout_id"],
                                 ["id"])
        batch.create_index("ix_outbox_handout_id", ["handout_id"])
        batch.create_unique_constraint("uq_outbox_idempotency_key", ["idempotency_key"])


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("uq_outbox_idempotency_key", type_="unique")
        batch.drop_index("ix_outbox_handout_id")
        batch.drop_constraint("fk_outbox_handout_id_handouts", type_="foreignkey")
        batch.drop_column("handout_id")
    with op.batch_alter_table("handouts") as batch:
        batch.drop_index("ix_handouts_clinic_id")
        for column in ("prompts_stopped_at", "contact_language", "email", "phone",
                       "encounter_id", "mrn", "clinic_id"):
            batch.drop_column(column)
    op.drop_table("api_tokens")
    op.drop_index("ix_clinic_members_user_id", table_name="clinic_members")
    op.drop_table("clinic_members")
    op.drop_table("clinics")
