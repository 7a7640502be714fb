"""Escalations: check-ins at ``contact`` or above, and teach-back misses on warning signs.

Each one waits in the care team's inbox until a clinician acknowledges it (who, when) and
closes it with a note. Opening one queues its notifications in the same transaction
(``outbox.enqueue_escalation``), so there is never an escalation nobody was told about.
Where they go is the notification ``Settings`` the face read at start: pass them as
``settings=``; a caller that has none gets the process's (``notify.settings.configured``).

Hooks for the guide (call in the session that saves the check-in or the teach-back result):
``on_checkin(session, handout_id=, checkin_id=, tier=, reasons=, sheet_code=, ip=)`` and
``on_teach_back(session, handout_id=, result_id=, missed=, sheet_code=, ip=)`` (both also take
``settings=``). Both are idempotent per source record and return the escalation or None.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Row, bindparam, case, insert, select
from sqlalchemy.orm import Session

from caresheet.errors import BadInputError, NotFoundError
from caresheet.model.sheet import Tier
from caresheet.store import handouts as handout_rows
from caresheet.store.handouts import HandoutRow
from caresheet.store.tables import table_of
from caresheet.store.team import EscalationRow
from caresheet.team import audit, clinics
from caresheet.team.accounts import User
from caresheet.team.notify import outbox
from caresheet.team.notify.settings import Settings, configured
from caresheet.zones import zone_named

ESCALATE_AT = Tier.CONTACT
MAX_NOTE = 4000


class EscalationStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"


@dataclass(frozen=True)
class Escalation:
    id: int
    handout_id: int
    source: str
    source_id: str
    tier: Tier
    sheet_code: str | None
    reasons: tuple[str, ...]
    created_at: dt.datetime
    status: EscalationStatus
    acknowledged_by: int | None
    acknowledged_at: dt.datetime | None
    closed_by: int | None
    closed_at: dt.datetime | None
    close_note: str | None


def _escalation(row: EscalationRow | Row[Any]) -> Escalation:
    return Escalation(
        id=row.id, handout_id=row.handout_id, source=row.source, source_id=row.source_id,
        tier=Tier(row.tier), sheet_code=row.sheet_code, reasons=tuple(json.loads(row.reasons)),
        created_at=row.created_at, status=EscalationStatus(row.status),
        acknowledged_by=row.acknowledged_by, acknowledged_at=row.acknowledged_at,
        closed_by=row.closed_by, closed_at=row.closed_at, close_note=row.close_note,
    )


def needs_team(tier: Tier | str) -> bool:
    return Tier(tier).rank >= ESCALATE_AT.rank


_TABLE = table_of(EscalationRow)
# Built once: opening one runs inside a patient's check-in.
_BY_SOURCE = select(_TABLE).where(_TABLE.c.source == bindparam("source"),
                                  _TABLE.c.source_id == bindparam("source_id"))
_INSERT = insert(_TABLE).returning(*_TABLE.c)  # the new row, read as ``_escalation`` reads


def open_escalation(
    session: Session,
    *,
    handout_id: int,
    source: str,
    source_id: object,
    tier: Tier,
    reasons: Sequence[str],
    sheet_code: str | None = None,
    now: dt.datetime | None = None,
    settings: Settings | None = None,
) -> Escalation:
    """Open an escalation (or return the one already open for this source) and queue notices.

    Core statements on the session's connection: a check-in that needs the team runs this in
    the check-in's own transaction, and the ORM's unit of work doubled its cost.
    """
    connection = session.connection()
    existing = connection.execute(
        _BY_SOURCE, {"source": source, "source_id": str(source_id)}).first()
    if existing is not None:
        return _escalation(existing)
    moment = now or dt.datetime.now(dt.UTC)
    escalation = _escalation(connection.execute(_INSERT, {
        "handout_id": handout_id, "source": source, "source_id": str(source_id),
        "tier": tier.value, "tier_rank": tier.rank, "sheet_code": sheet_code,
        "reasons": json.dumps(list(reasons)), "created_at": moment,
        "status": EscalationStatus.OPEN.value,
    }).one())
    new_id = escalation.id
    notice = outbox.EscalationNotice(
        escalation_id=new_id, tier=tier.value, sheet_code=sheet_code, reasons=tuple(reasons),
        source=source, created_at=moment,
    )
    outbox.enqueue_escalation(session, notice, settings or configured(), moment)
    audit.record(session, audit.SYSTEM, "escalation.opened", f"escalation:{new_id}", None,
                 {"handout": str(handout_id), "tier": tier.value, "source": source}, moment)
    return escalation


def on_checkin(
    session: Session,
    *,
    handout_id: int,
    checkin_id: object,
    tier: Tier | str,
    reasons: Sequence[str] = (),
    sheet_code: str | None = None,
    ip: str | None = None,
    now: dt.datetime | None = None,
    settings: Settings | None = None,
) -> Escalation | None:
    """Record the check-in in the audit log and open an escalation when it needs the team."""
    level = Tier(tier)
    audit.checkin_saved(session, handout_id, checkin_id, level.value, ip, now)
    if not needs_team(level):
        return None
    return open_escalation(
        session, handout_id=handout_id, source="checkin", source_id=checkin_id, tier=level,
        reasons=reasons, sheet_code=sheet_code, now=now, settings=settings,
    )


def on_teach_back(
    session: Session,
    *,
    handout_id: int,
    result_id: object,
    missed: Sequence[str],
    sheet_code: str | None = None,
    tier: Tier | str = Tier.CONTACT,
    ip: str | None = None,
    now: dt.datetime | None = None,
    settings: Settings | None = None,
) -> Escalation | None:
    """Flag a teach-back in which the patient missed warning-sign questions (``missed``).

    ``tier`` is the tier the team sees it at: ``contact`` unless the guide knows better.
    """
    audit.record(session, audit.PATIENT, "teach_back.saved", f"handout:{handout_id}", ip,
                 {"result": str(result_id), "missed": len(missed)}, now)
    if not missed:
        return None
    level = max(Tier(tier), Tier.CONTACT, key=lambda t: t.rank)
    return open_escalation(
        session, handout_id=handout_id, source="teach_back", source_id=result_id, tier=level,
        reasons=[f"{TEACH_BACK_PREFIX}{question}" for question in missed],
        sheet_code=sheet_code, now=now, settings=settings,
    )


_STATUS_ORDER = case(
    (EscalationRow.status == EscalationStatus.OPEN.value, 0),
    (EscalationRow.status == EscalationStatus.ACKNOWLEDGED.value, 1),
    else_=2,
)


def inbox(session: Session, include_closed: bool = False, limit: int = 200,
          clinic_ids: frozenset[int] | None = None) -> list[Escalation]:
    """Open first, then acknowledged; within each the highest tier, then the newest (of the
    handouts of ``clinic_ids`` only, when given)."""
    query = select(EscalationRow).order_by(
        _STATUS_ORDER, EscalationRow.tier_rank.desc(), EscalationRow.created_at.desc(),
        EscalationRow.id.desc(),
    ).limit(limit)
    if clinic_ids is not None:
        query = query.join(HandoutRow, HandoutRow.id == EscalationRow.handout_id).where(
            HandoutRow.clinic_id.in_(sorted(clinic_ids)))
    if not include_closed:
        query = query.where(EscalationRow.status != EscalationStatus.CLOSED.value)
    return [_escalation(r) for r in session.scalars(query)]


def inbox_for(session: Session, viewer: User, include_closed: bool = False,
              limit: int = 200) -> list[Escalation]:
    """The inbox as ``viewer`` may see it: their clinics' escalations (an admin sees all)."""
    return inbox(session, include_closed, limit, clinics.visible_clinics(session, viewer))


def _check_visible(session: Session, row: EscalationRow, user: User) -> None:
    """An escalation of another clinic's handout is "not found" for this staff member."""
    if not clinics.can_see(session, user, handout_rows.get(session, row.handout_id)):
        raise NotFoundError(f"no escalation {row.id}")


def raised_for_checkin(session: Session, checkin_id: int) -> bool:
    """True when a check-in reached the care team's inbox (what its result page tells the
    patient: the team was told, or was not)."""
    query = select(EscalationRow.id).where(EscalationRow.source == "checkin",
                                           EscalationRow.source_id == str(checkin_id))
    return session.scalars(query.limit(1)).first() is not None


def for_handout(session: Session, handout_id: int) -> list[Escalation]:
    query = select(EscalationRow).where(EscalationRow.handout_id == handout_id)
    return [_escalation(r) for r in session.scalars(query.order_by(EscalationRow.id.desc()))]


def get(session: Session, escalation_id: int) -> Escalation:
    row = session.get(EscalationRow, escalation_id)
    if row is None:
        raise NotFoundError(f"no escalation {escalation_id}")
    return _escalation(row)


def acknowledge(
    session: Session, escalation_id: int, user: User, ip: str | None, now: dt.datetime
) -> Escalation:
    """Mark that ``user`` has seen it; acknowledging twice keeps the first who and when."""
    row = session.get(EscalationRow, escalation_id)
    if row is None:
        raise NotFoundError(f"no escalation {escalation_id}")
    _check_visible(session, row, user)
    if row.status == EscalationStatus.OPEN.value:
        row.status = EscalationStatus.ACKNOWLEDGED.value
        row.acknowledged_by = user.id
        row.acknowledged_at = now
        audit.record(session, user.actor, "escalation.acknowledged",
                     f"escalation:{escalation_id}", ip, None, now)
    return _escalation(row)


def close(
    session: Session, escalation_id: int, user: User, note: str, ip: str | None,
    now: dt.datetime,
) -> Escalation:
    """Close with a note saying what was done; an open one is acknowledged on the way."""
    text = note.strip()
    if not text:
        raise BadInputError("write a note that says what was done before closing")
    if len(text) > MAX_NOTE:
        raise BadInputError(f"the note is too long: at most {MAX_NOTE} characters")
    row = session.get(EscalationRow, escalation_id)
    if row is None:
        raise NotFoundError(f"no escalation {escalation_id}")
    _check_visible(session, row, user)
    if row.status == EscalationStatus.CLOSED.value:
        raise BadInputError(f"escalation {escalation_id} is already closed")
    if row.status == EscalationStatus.OPEN.value:
        acknowledge(session, escalation_id, user, ip, now)
    row.status = EscalationStatus.CLOSED.value
    row.closed_by = user.id
    row.closed_at = now
    row.close_note = text
    audit.record(session, user.actor, "escalation.closed", f"escalation:{escalation_id}", ip,
                 None, now)
    return _escalation(row)


# ---------------------------------------------------------------- the inbox, by handout

ANSWER_WORDS = {"yes": "", "unsure": "not sure: "}  # how a finding is shown, by the answer
TEACH_BACK_PREFIX = "Missed in teach-back: "


@dataclass(frozen=True)
class InboxEntry:
    """One escalation as a nurse reads it: its time in the clinic's clock, its age, the
    findings the patient reported ("not sure" kept as such) and the teach-back misses."""

    escalation: Escalation
    local_time: dt.datetime  # created_at in the handout's clinic's zone
    age: str  # "12 min ago"
    findings: tuple[str, ...]  # "severe headache", "not sure: passed out"
    missed: tuple[str, ...]  # teach-back questions answered wrong


@dataclass(frozen=True)
class InboxGroup:
    """A handout's escalations: the one to act on first (``lead``), then its history."""

    handout_id: int
    patient: str | None  # the display name the clinician gave, if any
    sheet_code: str
    time_zone: str
    # The patient's record number and callback phone come with the clinic's patient fields
    # (issue 13 point 2); until the handout carries them these stay None.
    record_number: str | None
    phone: str | None
    entries: tuple[InboxEntry, ...]

    @property
    def lead(self) -> InboxEntry:
        return self.entries[0]

    @property
    def history(self) -> tuple[InboxEntry, ...]:
        return self.entries[1:]


def age_words(then: dt.datetime, now: dt.datetime) -> str:
    """How long ago, in the words a busy nurse scans: "just now", "12 min ago", "3 h ago",
    "2 days ago"."""
    minutes = max(0, int((now - then).total_seconds() // 60))
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min ago"
    if minutes < 48 * 60:
        return f"{minutes // 60} h ago"
    return f"{minutes // (24 * 60)} days ago"


def finding_words(answers: dict[str, str]) -> tuple[str, ...]:
    """The findings a patient reported, by id in words; an unsure answer says "not sure"
    (triage counted it as yes, but the nurse must not read it as a fact)."""
    return tuple(
        ANSWER_WORDS[answer] + finding.replace("_", " ")
        for finding, answer in answers.items()
        if answer in ANSWER_WORDS
    )


def _sort_key(e: Escalation) -> tuple[int, int, float, int]:
    order = {EscalationStatus.OPEN: 0, EscalationStatus.ACKNOWLEDGED: 1}
    return (order.get(e.status, 2), -e.tier.rank, -e.created_at.timestamp(), -e.id)


def grouped_inbox(
    session: Session, viewer: User, now: dt.datetime, include_closed: bool = False,
    limit: int = 200,
) -> list[InboxGroup]:
    """The inbox by handout, as ``viewer`` may see it (their clinics): the handout whose open,
    highest-tier, newest escalation comes first leads; within a handout that escalation
    first, then the rest, newest first."""
    found = inbox_for(session, viewer, include_closed, limit)
    by_handout: dict[int, list[Escalation]] = {}
    for e in sorted(found, key=_sort_key):
        by_handout.setdefault(e.handout_id, []).append(e)
    groups = []
    for handout_id, items in by_handout.items():  # dicts keep the order of the leads
        handout = handout_rows.get(session, handout_id)
        zone_text = clinics.zone_of(session, handout)
        zone = zone_named(zone_text)
        lead, rest = items[0], sorted(items[1:], key=lambda e: (-e.created_at.timestamp(),
                                                                 -e.id))
        groups.append(InboxGroup(
            handout_id=handout_id, patient=handout.display_name, sheet_code=handout.sheet_code,
            time_zone=zone_text,
            record_number=handout.contact.mrn, phone=handout.contact.phone,
            entries=tuple(_entry(session, e, zone, now) for e in [lead, *rest]),
        ))
    return groups


def _entry(session: Session, e: Escalation, zone: dt.tzinfo, now: dt.datetime) -> InboxEntry:
    findings: tuple[str, ...] = ()
    missed: tuple[str, ...] = ()
    if e.source == "checkin" and e.source_id.isdigit():
        try:
            findings = finding_words(handout_rows.checkin_by_id(session, int(e.source_id)).answers)
        except NotFoundError:
            findings = ()
    if e.source == "teach_back":
        missed = tuple(r.removeprefix(TEACH_BACK_PREFIX) for r in e.reasons
                       if r.startswith(TEACH_BACK_PREFIX))
    return InboxEntry(e, e.created_at.astimezone(zone), age_words(e.created_at, now),
                      findings, missed)
