"""Handouts, check-ins and teach-back results: tables and the queries on them.

A handout pins one row of ``sheet_versions`` so the patient reads the same words forever; it
keeps only a SHA-256 hash of its access token. Check-ins and teach-back results hang off
a handout and are only ever added. Functions take a session and return plain values; the
caller's ``store.session()`` decides the transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from caresheet.errors import NotFoundError
from caresheet.model.contact import PatientContact, phone_key, same_phone
from caresheet.store.tables import Base, UtcDateTime, table_of
from caresheet.zones import zone_named


class HandoutRow(Base):
    __tablename__ = "handouts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    sheet_version_id: Mapped[int] = mapped_column(ForeignKey("sheet_versions.id"))
    sheet_code: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    params: Mapped[dict[str, str]] = mapped_column(JSON)
    procedure_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    procedure_zone: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # The clinic's id (``store.clinics``; 1 is the embedded default). No foreign key: the
    # handouts table comes first and must not know the team's tables; ``team.clinics`` checks it.
    clinic_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    # The patient's contact (``model.contact.PatientContact``): the least that works, all optional.
    mrn: Mapped[str | None] = mapped_column(String(64), nullable=True)
    encounter_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # ``model.contact.phone_key(phone)``: finds the handouts of a number an SMS gateway reports.
    phone_key: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    contact_language: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # When the patient tapped "stop these messages": no follow-up prompt is sent after it.
    prompts_stopped_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class CheckinRow(Base):
    __tablename__ = "checkins"
    __table_args__ = (Index("ix_checkins_handout_id_id", "handout_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handout_id: Mapped[int] = mapped_column(ForeignKey("handouts.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    elapsed_hours: Mapped[float] = mapped_column(Float)
    answers: Mapped[dict[str, str]] = mapped_column(JSON)
    tier: Mapped[str] = mapped_column(String(16))
    matched: Mapped[list[str]] = mapped_column(JSON)
    disposition: Mapped[dict[str, Any]] = mapped_column(JSON)


class TeachbackResultRow(Base):
    __tablename__ = "teachback_results"
    __table_args__ = (Index("ix_teachback_results_handout_id_id", "handout_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handout_id: Mapped[int] = mapped_column(ForeignKey("handouts.id"))
    attempt: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    question_id: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16))
    chosen: Mapped[str | None] = mapped_column(String(80), nullable=True)
    correct: Mapped[bool] = mapped_column(Boolean)
    warning_sign: Mapped[bool] = mapped_column(Boolean)


# ---------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class Handout:
    id: int
    token_hash: str
    sheet_version_id: int
    sheet_code: str
    language: str
    version: int
    params: dict[str, str]
    procedure_time: dt.datetime  # aware, in the procedure's own zone
    procedure_zone: str
    display_name: str | None
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    clinic_id: int | None = None
    # Shown only to the clinic's staff; its repr hides every value, so a logged Handout is safe.
    contact: PatientContact = field(default_factory=PatientContact)
    prompts_stopped_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Checkin:
    id: int
    handout_id: int
    created_at: dt.datetime
    elapsed_hours: float
    answers: dict[str, str]
    tier: str
    matched: list[str]
    disposition: dict[str, Any]


@dataclass(frozen=True, slots=True)
class TeachbackResult:
    id: int
    handout_id: int
    attempt: str
    created_at: dt.datetime
    question_id: str
    kind: str
    chosen: str | None
    correct: bool
    warning_sign: bool


def _handout(row: HandoutRow) -> Handout:
    zone = zone_named(row.procedure_zone)
    return Handout(
        id=row.id, token_hash=row.token_hash, sheet_version_id=row.sheet_version_id,
        sheet_code=row.sheet_code, language=row.language, version=row.version,
        params=dict(row.params), procedure_time=row.procedure_at.astimezone(zone),
        procedure_zone=row.procedure_zone, display_name=row.display_name,
        created_at=row.created_at, expires_at=row.expires_at, revoked_at=row.revoked_at,
        clinic_id=row.clinic_id,
        contact=PatientContact(mrn=row.mrn, encounter_id=row.encounter_id, phone=row.phone,
                               email=row.email, language=row.contact_language),
        prompts_stopped_at=row.prompts_stopped_at,
    )


def _checkin(row: CheckinRow) -> Checkin:
    return Checkin(
        id=row.id, handout_id=row.handout_id, created_at=row.created_at,
        elapsed_hours=row.elapsed_hours, answers=dict(row.answers), tier=row.tier,
        matched=list(row.matched), disposition=dict(row.disposition),
    )


def _result(row: TeachbackResultRow) -> TeachbackResult:
    return TeachbackResult(
        id=row.id, handout_id=row.handout_id, attempt=row.attempt, created_at=row.created_at,
        question_id=row.question_id, kind=row.kind, chosen=row.chosen, correct=row.correct,
        warning_sign=row.warning_sign,
    )


# ---------------------------------------------------------------- handouts


def add(
    session: Session,
    *,
    token_hash: str,
    sheet_version_id: int,
    sheet_code: str,
    language: str,
    version: int,
    params: dict[str, str],
    procedure_time: dt.datetime,
    procedure_zone: str,
    display_name: str | None,
    created_at: dt.datetime,
    expires_at: dt.datetime,
    clinic_id: int | None = None,
    contact: PatientContact | None = None,
) -> Handout:
    """Insert a handout; the id is known when this returns."""
    reach = contact or PatientContact()
    row = HandoutRow(
        token_hash=token_hash, sheet_version_id=sheet_version_id, sheet_code=sheet_code,
        language=language, version=version, params=params, procedure_at=procedure_time,
        procedure_zone=procedure_zone, display_name=display_name, created_at=created_at,
        expires_at=expires_at, revoked_at=None, clinic_id=clinic_id, mrn=reach.mrn,
        encounter_id=reach.encounter_id, phone=reach.phone, phone_key=phone_key(reach.phone),
        email=reach.email, contact_language=reach.language,
    )
    session.add(row)
    session.flush()
    return _handout(row)


def hash_token(token: str) -> str:
    """The only form of a link's token the database keeps. SHA-256 is enough: the token is
    random, not a password, so no salt or stretching."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


_HANDOUTS = table_of(HandoutRow)
# Built once: building a statement costs about what running it does.
_BY_TOKEN_HASH = select(_HANDOUTS).where(_HANDOUTS.c.token_hash == bindparam("hash"))


def by_token_hash(session: Session, token_hash: str) -> Handout:
    """The handout for a link; a Core select on the session's connection (same transaction,
    without the ORM's statement machinery), since every guide request starts here."""
    row = session.connection().execute(_BY_TOKEN_HASH, {"hash": token_hash}).first()
    if row is None:
        raise NotFoundError("there is no handout at this link")
    values = row._mapping
    zone = zone_named(values["procedure_zone"])
    return Handout(
        id=values["id"], token_hash=values["token_hash"],
        sheet_version_id=values["sheet_version_id"], sheet_code=values["sheet_code"],
        language=values["language"], version=values["version"], params=dict(values["params"]),
        procedure_time=_aware(values["procedure_at"]).astimezone(zone),
        procedure_zone=values["procedure_zone"], display_name=values["display_name"],
        created_at=_aware(values["created_at"]), expires_at=_aware(values["expires_at"]),
        revoked_at=None if values["revoked_at"] is None else _aware(values["revoked_at"]),
        clinic_id=values["clinic_id"],
        contact=PatientContact(
            mrn=values["mrn"], encounter_id=values["encounter_id"], phone=values["phone"],
            email=values["email"], language=values["contact_language"]),
        prompts_stopped_at=(None if values["prompts_stopped_at"] is None
                            else _aware(values["prompts_stopped_at"])),
    )


def _aware(value: dt.datetime) -> dt.datetime:
    # The table's UtcDateTime already returns aware UTC; this guards a naive value anyway.
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def get(session: Session, handout_id: int) -> Handout:
    row = session.get(HandoutRow, handout_id)
    if row is None:
        raise NotFoundError(f"there is no handout {handout_id}")
    return _handout(row)


def revoke(session: Session, handout_id: int, now: dt.datetime) -> None:
    """Mark a handout revoked (the first revocation time is kept)."""
    found = session.execute(
        update(HandoutRow).where(HandoutRow.id == handout_id, HandoutRow.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    if getattr(found, "rowcount", 0) == 0:
        get(session, handout_id)  # raises NotFoundError when it does not exist


def open_ids_by_phone(session: Session, phone: str, now: dt.datetime) -> list[int]:
    """The open handouts (neither revoked nor expired at ``now``) reachable at ``phone``.

    The indexed key narrows the rows; ``same_phone`` drops a number that only shares its
    last digits with ``phone``. No contact is decoded beyond the candidates' phone column.
    """
    key = phone_key(phone)
    if key is None:
        return []
    found = session.execute(
        select(HandoutRow.id, HandoutRow.phone)
        .where(HandoutRow.phone_key == key, HandoutRow.revoked_at.is_(None),
               HandoutRow.expires_at > now)
        .order_by(HandoutRow.id)
    )
    return [handout_id for handout_id, stored in found if stored and same_phone(stored, phone)]


def set_prompts_stopped(session: Session, handout_ids: list[int], now: dt.datetime | None) -> int:
    """Stop (``now``) or resume (None) the prompts of ``handout_ids``; how many changed.

    Stopping keeps the first stop time; resuming clears it, so the outbox sends again.
    """
    if not handout_ids:
        return 0
    waiting = (HandoutRow.prompts_stopped_at.is_(None) if now is not None
               else HandoutRow.prompts_stopped_at.is_not(None))
    changed = session.execute(
        update(HandoutRow).where(HandoutRow.id.in_(handout_ids), waiting)
        .values(prompts_stopped_at=now)
    )
    return int(getattr(changed, "rowcount", 0))


# ---------------------------------------------------------------- check-ins


def add_checkin(
    session: Session,
    *,
    handout_id: int,
    created_at: dt.datetime,
    elapsed_hours: float,
    answers: dict[str, str],
    tier: str,
    matched: list[str],
    disposition: dict[str, Any],
) -> Checkin:
    # A Core INSERT ... RETURNING on the session's connection: the hot path of the guide,
    # without the unit of work or the ORM's statement machinery.
    table = table_of(CheckinRow)
    new_id = session.connection().execute(
        insert(table).values(
            handout_id=handout_id, created_at=created_at, elapsed_hours=elapsed_hours,
            answers=answers, tier=tier, matched=matched, disposition=disposition,
        ).returning(table.c.id)
    ).scalar_one()
    return Checkin(
        id=new_id, handout_id=handout_id, created_at=created_at, elapsed_hours=elapsed_hours,
        answers=answers, tier=tier, matched=matched, disposition=disposition,
    )


def checkins(session: Session, handout_id: int, limit: int = 5, offset: int = 0) -> list[Checkin]:
    """The newest check-ins of a handout first (``offset`` skips that many, for paging)."""
    query = (select(CheckinRow).where(CheckinRow.handout_id == handout_id)
             .order_by(CheckinRow.id.desc()).limit(limit).offset(offset))
    return [_checkin(r) for r in session.scalars(query)]


def checkin_count(session: Session, handout_id: int) -> int:
    query = select(func.count()).select_from(CheckinRow).where(CheckinRow.handout_id == handout_id)
    return int(session.scalar(query) or 0)


def checkin_by_id(session: Session, checkin_id: int) -> Checkin:
    """One check-in by its id alone (an EHR reading a QuestionnaireResponse)."""
    row = session.get(CheckinRow, checkin_id)
    if row is None:
        raise NotFoundError(f"there is no check-in {checkin_id}")
    return _checkin(row)


def checkin(session: Session, handout_id: int, checkin_id: int) -> Checkin:
    """One check-in of one handout; NotFoundError when it is not this handout's."""
    row = session.get(CheckinRow, checkin_id)
    if row is None or row.handout_id != handout_id:
        raise NotFoundError("there is no such check-in for this handout")
    return _checkin(row)


def checkin_ids(session: Session, handout_id: int | None = None) -> set[int]:
    """Every check-in id (of one handout): for crash and durability checks."""
    query = select(CheckinRow.id)
    if handout_id is not None:
        query = query.where(CheckinRow.handout_id == handout_id)
    return set(session.scalars(query))


# ---------------------------------------------------------------- teach-back


def add_teachback(
    session: Session,
    *,
    handout_id: int,
    attempt: str,
    created_at: dt.datetime,
    results: list[tuple[str, str, str | None, bool, bool]],
) -> list[TeachbackResult]:
    """Save one attempt: (question id, kind, chosen, correct, warning sign) per question."""
    rows = [
        TeachbackResultRow(
            handout_id=handout_id, attempt=attempt, created_at=created_at, question_id=qid,
            kind=kind, chosen=chosen, correct=correct, warning_sign=warning,
        )
        for qid, kind, chosen, correct, warning in results
    ]
    session.add_all(rows)
    session.flush()
    return [_result(r) for r in rows]


def teachback_results(session: Session, handout_id: int) -> list[TeachbackResult]:
    query = (select(TeachbackResultRow).where(TeachbackResultRow.handout_id == handout_id)
             .order_by(TeachbackResultRow.id))
    return [_result(r) for r in session.scalars(query)]
