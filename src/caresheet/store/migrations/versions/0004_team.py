"""The care team: staff users and their sessions, login attempts, the audit log, escalations
the notification outbox, and who issued which handout.

On PostgreSQL the audit log also refuses UPDATE and DELETE with a trigger, so "append-only"
holds even for code that bypasses the app's functions.

Revision ID: 0004_team
Revises: 0003_handouts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_team"
down_revision: str | None = "0003_handouts"
branch_labels: str | None = None
depends_on: str | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("email", name="uq_users_email"),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("last_seen_at", When, nullable=False),
        sa.Column("expires_at", When, nullable=False),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name="pk_staff_sessions"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_staff_sessions_user_id_users"),
    )
    op.create_index("ix_staff_sessions_user_id", "staff_sessions", ["user_id"])
    op.create_table(
        "login_attempts",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("ip", sa.String(64), nullable=False),
        sa.Column("at", When, nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_login_attempts"),
    )
    op.create_index("ix_login_attempts_email_ip_at", "login_attempts", ["email", "ip", "at"])
    op.create_table(
        "audit_events",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("at", When, nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_action", "audit_events", ["action"])
    op.create_index("ix_audit_events_target", "audit_events", ["target"])
    op.create_table(
        "escalations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handout_id", sa.String(64), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("source_id", sa.String(64), nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("tier_rank", sa.Integer(), nullable=False),
        sa.Column("sheet_code", sa.String(16), nullable=True),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("acknowledged_by", sa.Integer(), nullable=True),
        sa.Column("acknowledged_at", When, nullable=True),
        sa.Column("closed_by", sa.Integer(), nullable=True),
        sa.Column("closed_at", When, nullable=True),
        sa.Column("close_note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_escalations"),
        sa.UniqueConstraint("source", "source_id", name="uq_escalations_source"),
        sa.ForeignKeyConstraint(["acknowledged_by"], ["users.id"],
                                name="fk_escalations_acknowledged_by_users"),
        sa.ForeignKeyConstraint(["closed_by"], ["users.id"], name="fk_escalations_closed_by_users"),
    )
    op.create_index("ix_escalations_handout_id", "escalations", ["handout_id"])
    op.create_index("ix_escalations_inbox", "escalations", ["status", "tier_rank", "created_at"])
    op.create_table(
        "outbox",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=True),
        sa.Column("created_at", When, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", When, nullable=False),
        sa.Column("claimed_until", When, nullable=True),
        sa.Column("delivered_at", When, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.ForeignKeyConstraint(["escalation_id"], ["escalations.id"],
                                name="fk_outbox_escalation_id_escalations"),
    )
    op.create_index("ix_outbox_due", "outbox", ["delivered_at", "next_attempt_at"])
    op.create_table(
        "handout_issuers",
        sa.Column("handout_id", sa.Integer(), nullable=False),
        sa.Column("issued_by", sa.Integer(), nullable=False),
        sa.Column("issued_at", When, nullable=False),
        sa.PrimaryKeyConstraint("handout_id", name="pk_handout_issuers"),
        sa.ForeignKeyConstraint(["handout_id"], ["handouts.id"], ondelete="CASCADE",
                                name="fk_handout_issuers_handout_id_handouts"),
        sa.ForeignKeyConstraint(["issued_by"], ["users.id"],
                                name="fk_handout_issuers_issued_by_users"),
    )
    op.create_index("ix_handout_issuers_issued_by", "handout_issuers", ["issued_by"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION caresheet_audit_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'audit_events is append-only';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION caresheet_audit_append_only()"
        )
    else:
        # SQLite has triggers too: RAISE(ABORT) refuses the change.
        op.execute(
            "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
            "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
        )
        op.execute(
            "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
            "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS caresheet_audit_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
    op.drop_table("handout_issuers")
    op.drop_table("outbox")
    op.drop_table("escalations")
    op.drop_table("audit_events")
    op.drop_table("login_attempts")
    op.drop_table("staff_sessions")
    op.drop_table("users")
