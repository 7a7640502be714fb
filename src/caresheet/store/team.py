"""The care team's tables and the few queries on them that more than one module needs.

Tables: ``users`` (staff accounts), ``staff_sessions`` (logins; only a hash of the cookie is
kept), ``login_attempts`` (the rate limit lives in the database so it holds across processes),
``audit_events`` (append-only: this module offers no update or delete for it),
``escalations`` (check-ins at ``contact`` or above for the team), ``handout_issuers``
(which clinician issued which handout) and ``outbox`` (notifications
waiting to be delivered, so none is lost while the mail server or webhook is down).

Times are ``UtcDateTime``: stored in UTC and always read back aware, on both databases.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

# The handouts table must be known for the foreign keys to it (0004 follows 0003).
import caresheet.store.handouts  # noqa: F401
from caresheet.store.tables import Base, UtcDateTime

# A 64-bit key on PostgreSQL, SQLite's rowid alias on SQLite (only INTEGER autoincrements there).
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class StaffSessionRow(Base):
    __tablename__ = "staff_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    last_seen_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)


class LoginAttemptRow(Base):
    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_email_ip_at", "email", "ip", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(320))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    succeeded: Mapped[bool] = mapped_column(Boolean)


def lock_login_attempts(session: Session, email: str, ip: str) -> None:
    """Hold the login attempts of one account from one address until the transaction ends.

    The rate limit counts failures, checks a password, then records the attempt; without a
    lock, parallel attempts all count the same few failures and all get their password
    checked. PostgreSQL takes a transaction-scoped advisory lock on a hash of the pair; SQLite
    needs none, since a write session begins with BEGIN IMMEDIATE and so runs alone.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.sha256(f"login\0{email}\0{ip}".encode()).digest()
    session.execute(select(func.pg_advisory_xact_lock(
        int.from_bytes(digest[:8], "big", signed=True))))


class AuditEventRow(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(64), index=True)
    # Indexed: the clinician's list counts each handout's reads by target.
    target: Mapped[str] = mapped_column(String(200), index=True)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)


class EscalationRow(Base):
    __tablename__ = "escalations"
    __table_args__ = (
        UniqueConstraint("source", "source_id", name="uq_escalations_source"),
        Index("ix_escalations_inbox", "status", "tier_rank", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handout_id: Mapped[int] = mapped_column(ForeignKey("handouts.id"), index=True)
    source: Mapped[str] = mapped_column(String(16))  # "checkin" | "teach_back"
    # A check-in's or a teach-back result's id, as text: the two live in different tables.
    source_id: Mapped[str] = mapped_column(String(64))
    tier: Mapped[str] = mapped_column(String(16))
    tier_rank: Mapped[int] = mapped_column(Integer)
    sheet_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    reasons: Mapped[str] = mapped_column(Text)  # JSON list of the matched rules' words
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    status: Mapped[str] = mapped_column(String(16))  # open | acknowledged | closed
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(
        UtcDateTime(), nullable=True
    )
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    close_note: Mapped[str | None] = mapped_column(Text, nullable=True)


class OutboxRow(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "delivered_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))  # email | webhook
    payload: Mapped[str] = mapped_column(Text)  # JSON
    escalation_id: Mapped[int | None] = mapped_column(
        ForeignKey("escalations.id"), nullable=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    # The same on every attempt, so a receiver can drop a duplicate (Idempotency-Key); unique,
    # so a message scheduled twice under one key (a follow-up prompt) is one row.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    # The handout a message to a patient is about (its link's end stops the message).
    handout_id: Mapped[int | None] = mapped_column(
        ForeignKey("handouts.id"), nullable=True, index=True)
    # A worker that takes a message holds it until this time; a crashed worker's lease runs out.
    claimed_until: Mapped[dt.datetime | None] = mapped_column(
        UtcDateTime(), nullable=True
    )
    # Which claim holds the lease: only its holder may renew it or record a failure.
    claim_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(
        UtcDateTime(), nullable=True
    )
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class HandoutIssuerRow(Base):
    """Who issued a handout (the guide's ``handouts`` table does not know staff)."""

    __tablename__ = "handout_issuers"

    handout_id: Mapped[int] = mapped_column(
        ForeignKey("handouts.id", ondelete="CASCADE"), primary_key=True
    )
    issued_by: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    issued_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
