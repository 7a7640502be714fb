"""The EHR side's tables: registered CDS clients, the JWT ids already seen, cards and feedback.

- ``cds_clients``: an EHR allowed to call the CDS Hooks service, by its JWT ``iss``, with
  the URL of the JWKS its signing keys are published at.
- ``cds_seen_jti``: every accepted JWT id until it expires, so a replayed token is refused
  by every app process, not only the one that saw it first (an INSERT that conflicts).
- ``cds_cards``: the cards handed out (uuid → sheet), so feedback can name the sheet.
- ``cds_feedback``: what the clinician did with a card (accepted or overridden, and why).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Integer, String, Text, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from caresheet.errors import BadInputError, NotFoundError
from caresheet.store.tables import Base, UtcDateTime, table_of


class CdsClientRow(Base):
    __tablename__ = "cds_clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    iss: Mapped[str] = mapped_column(String(400), unique=True)
    jwks_url: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class CdsSeenJtiRow(Base):
    __tablename__ = "cds_seen_jti"

    iss: Mapped[str] = mapped_column(String(400), primary_key=True)
    jti: Mapped[str] = mapped_column(String(200), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), index=True)


class CdsCardRow(Base):
    __tablename__ = "cds_cards"

    uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    service_id: Mapped[str] = mapped_column(String(64))
    client_iss: Mapped[str | None] = mapped_column(String(400), nullable=True)
    sheet_code: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class CdsFeedbackRow(Base):
    __tablename__ = "cds_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    card_uuid: Mapped[str] = mapped_column(String(36), index=True)
    service_id: Mapped[str] = mapped_column(String(64))
    sheet_code: Mapped[str] = mapped_column(String(16))
    client_iss: Mapped[str | None] = mapped_column(String(400), nullable=True)
    outcome: Mapped[str] = mapped_column(String(16))
    override_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    user_comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    outcome_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


# ---------------------------------------------------------------- clients


@dataclass(frozen=True, slots=True)
class CdsClient:
    id: int
    iss: str
    jwks_url: str
    created_at: dt.datetime


def _client(row: CdsClientRow) -> CdsClient:
    return CdsClient(row.id, row.iss, row.jwks_url, row.created_at)


def add_client(session: Session, iss: str, jwks_url: str, now: dt.datetime) -> CdsClient:
    if client_by_iss(session, iss) is not None:
        raise BadInputError(f"a CDS client with iss {iss!r} is already registered")
    row = CdsClientRow(iss=iss, jwks_url=jwks_url, created_at=now)
    session.add(row)
    session.flush()
    return _client(row)


def client_by_iss(session: Session, iss: str) -> CdsClient | None:
    row = session.scalars(select(CdsClientRow).where(CdsClientRow.iss == iss)).one_or_none()
    return None if row is None else _client(row)


def list_clients(session: Session) -> list[CdsClient]:
    return [_client(r) for r in session.scalars(select(CdsClientRow).order_by(CdsClientRow.iss))]


def remove_client(session: Session, iss: str) -> None:
    found = session.execute(delete(CdsClientRow).where(CdsClientRow.iss == iss))
    if getattr(found, "rowcount", 0) == 0:
        raise NotFoundError(f"no CDS client with iss {iss!r}")


# ---------------------------------------------------------------- JWT ids


def remember_jti(
    session: Session, iss: str, jti: str, expires_at: dt.datetime, now: dt.datetime
) -> bool:
    """Record a token id; False when it was already there (a replay). Expired ids go first."""
    table = table_of(CdsSeenJtiRow)
    session.execute(delete(table).where(table.c.expires_at < now))
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(table).values(iss=iss, jti=jti, expires_at=expires_at)
        .on_conflict_do_nothing(index_elements=["iss", "jti"])
        .returning(table.c.jti)  # rowcount is -1 here with psycopg; a returned row is certain
    )
    return session.execute(statement).first() is not None


# ---------------------------------------------------------------- cards and feedback


@dataclass(frozen=True, slots=True)
class IssuedCard:
    uuid: str
    service_id: str
    client_iss: str | None
    sheet_code: str
    language: str


def add_cards(session: Session, cards: list[IssuedCard], now: dt.datetime) -> None:
    if cards:
        session.execute(
            table_of(CdsCardRow).insert(),
            [{"uuid": c.uuid, "service_id": c.service_id, "client_iss": c.client_iss,
              "sheet_code": c.sheet_code, "language": c.language, "issued_at": now}
             for c in cards],
        )


def card(session: Session, uuid: str) -> IssuedCard | None:
    row = session.get(CdsCardRow, uuid)
    if row is None:
        return None
    return IssuedCard(row.uuid, row.service_id, row.client_iss, row.sheet_code, row.language)


@dataclass(frozen=True, slots=True)
class Feedback:
    card_uuid: str
    service_id: str
    sheet_code: str
    client_iss: str | None
    outcome: str
    override_reason: str | None
    user_comment: str | None
    outcome_at: dt.datetime


def add_feedback(session: Session, feedback: Feedback, now: dt.datetime) -> None:
    session.add(CdsFeedbackRow(
        card_uuid=feedback.card_uuid, service_id=feedback.service_id,
        sheet_code=feedback.sheet_code, client_iss=feedback.client_iss, outcome=feedback.outcome,
        override_reason=feedback.override_reason, user_comment=feedback.user_comment,
        outcome_at=feedback.outcome_at, received_at=now,
    ))
    session.flush()


def feedback_counts(session: Session) -> dict[tuple[str, str], int]:
    """(sheet code, outcome) → how many: what the dashboard will show."""
    rows = session.execute(
        select(CdsFeedbackRow.sheet_code, CdsFeedbackRow.outcome, func.count())
        .group_by(CdsFeedbackRow.sheet_code, CdsFeedbackRow.outcome)
    )
    return {(code, outcome): int(n) for code, outcome, n in rows}
