"""Escalations point at their handout with an integer foreign key; outbox messages carry an
idempotency key and the token of the claim that holds their lease.

``escalations.handout_id`` was text so the table would not depend on the handouts' key type;
every caller then had to check ``isdigit()``. Existing rows are converted in place; a row that
names no handout stops the upgrade with its escalation ids (nothing is dropped or guessed).
Existing outbox messages get a fresh random key.

SQLite cannot change a column's type or add a foreign key in place, and rebuilding
``escalations`` by dropping it would trip the outbox's foreign key to it; so on SQLite both
tables are rebuilt, the outbox (the child) set aside first. PostgreSQL alters them in place.

Revision ID: 0005_team_keys
Revises: 0004_team
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_team_keys"
down_revision: str | None = "0004_team"
branch_labels: str | None = None
depends_on: str | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)
HANDOUT_FK = "fk_escalations_handout_id_handouts"


def upgrade() -> None:
    _refuse_orphans()
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE escalations ALTER COLUMN handout_id TYPE INTEGER "
                   "USING handout_id::integer")
        op.create_foreign_key(HANDOUT_FK, "escalations", "handouts", ["handout_id"], ["id"])
        op.add_column("outbox", sa.Column("idempotency_key", sa.String(64), nullable=True))
        op.add_column("outbox", sa.Column("claim_token", sa.String(32), nullable=True))
        op.execute("UPDATE outbox SET idempotency_key = replace(gen_random_uuid()::text, '-', '')")
        op.alter_column("outbox", "idempotency_key", nullable=False)
    else:
        _rebuild_sqlite(integer_handout=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_column("outbox", "claim_token")
        op.drop_column("outbox", "idempotency_key")
        op.drop_constraint(HANDOUT_FK, "escalations", type_="foreignkey")
        op.execute("ALTER TABLE escalations ALTER COLUMN handout_id TYPE VARCHAR(64) "
                   "USING handout_id::text")
    else:
        _rebuild_sqlite(integer_handout=False)


def _refuse_orphans() -> None:
    bind = op.get_bind()
    handouts = set(bind.execute(sa.text("SELECT id FROM handouts")).scalars())
    orphans = [
        escalation_id
        for escalation_id, handout_id in bind.execute(
            sa.text("SELECT id, handout_id FROM escalations ORDER BY id")
        )
        if not (str(handout_id).strip().isdigit() and int(handout_id) in handouts)
    ]
    if orphans:
        from caresheet.errors import StoreUnavailableError

        shown = ", ".join(str(i) for i in orphans[:20]) + (" …" if len(orphans) > 20 else "")
        raise StoreUnavailableError(
            f"cannot link escalations to their handouts: escalation(s) {shown} name no "
            "handout in this database; correct or remove them, then start caresheet again"
        )


def _escalations_table(name: str, integer_handout: bool) -> None:
    handout = [
        sa.Column("handout_id", sa.Integer() if integer_handout else sa.String(64),
                  nullable=False),
    ]
    keys = [sa.ForeignKeyConstraint(["handout_id"], ["handouts.id"], name=HANDOUT_FK)]
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        *handout,
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
        *(keys if integer_handout else []),
    )


def _outbox_table(name: str, with_keys: bool) -> None:
    extra = [
        sa.Column("idempotency_key", sa.String(64), nullable=False),
        sa.Column("claim_token", sa.String(32), nullable=True),
    ]
    op.create_table(
        name,
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
        *(extra if with_keys else []),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.ForeignKeyConstraint(["escalation_id"], ["escalations.id"],
                                name="fk_outbox_escalation_id_escalations"),
    )


_OUTBOX_COLUMNS = ("id, channel, payload, escalation_id, created_at, attempts, next_attempt_at, "
                   "claimed_until, delivered_at, last_error")
_ESCALATION_COLUMNS = ("source, source_id, tier, tier_rank, sheet_code, reasons, created_at, "
                       "status, acknowledged_by, acknowledged_at, closed_by, closed_at, close_note")


def _rebuild_sqlite(integer_handout: bool) -> None:
    """Rebuild escalations (and the outbox that points at it) with the new handout_id type."""
    op.execute(f"CREATE TABLE _outbox_kept AS SELECT {_OUTBOX_COLUMNS} FROM outbox")
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.drop_table("outbox")

    _escalations_table("_escalations_new", integer_handout)
    handout = "CAST(handout_id AS INTEGER)" if integer_handout else "CAST(handout_id AS TEXT)"
    op.execute(f"INSERT INTO _escalations_new (id, handout_id, {_ESCALATION_COLUMNS}) "
               f"SELECT id, {handout}, {_ESCALATION_COLUMNS} FROM escalations")
    op.drop_index("ix_escalations_handout_id", table_name="escalations")
    op.drop_index("ix_escalations_inbox", table_name="escalations")
    op.drop_table("escalations")
    op.rename_table("_escalations_new", "escalations")
    op.create_index("ix_escalations_handout_id", "escalations", ["handout_id"])
    op.create_index("ix_escalations_inbox", "escalations", ["status", "tier_rank", "created_at"])

    _outbox_table("outbox", with_keys=integer_handout)
    if integer_handout:  # each message kept gets a fresh random key (32 hex digits)
        op.execute(f"INSERT INTO outbox ({_OUTBOX_COLUMNS}, idempotency_key) SELECT "
                   f"{_OUTBOX_COLUMNS}, lower(hex(randomblob(16))) FROM _outbox_kept")
    else:
        op.execute(f"INSERT INTO outbox ({_OUTBOX_COLUMNS}) SELECT {_OUTBOX_COLUMNS} "
                   "FROM _outbox_kept")
    op.drop_table("_outbox_kept")
    op.create_index("ix_outbox_due", "outbox", ["delivered_at", "next_attempt_at"])
