"""The audit log: who did what to which record, when, and from where.

Append-only from the application: this module can add and read events and has no function
that changes or removes one (on PostgreSQL the 0004 migration also makes the table refuse
UPDATE and DELETE). The audit log is the place for who-read-what; the application log never
carries names, tokens or answers.

Actors are plain strings: ``user:<id>:<email>`` for staff (see ``accounts.User.actor``),
``patient`` for a request made with a handout's private link, ``system`` for the worker.
Targets name a record, e.g. ``handout:12``, ``escalation:3``, ``sheet:P586/en/2``.

Hooks for other modules (call them in the same session as the change they record):
``record(...)`` for anything; ``handout_read(...)`` for every read of a handout's page, PDF
or API by a patient or staff member; ``checkin_saved(...)`` for every check-in.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from caresheet.store.tables import table_of
from caresheet.store.team import AuditEventRow

PATIENT = "patient"
SYSTEM = "system"


@dataclass(frozen=True)
class AuditEvent:
    id: int
    at: dt.datetime
    actor: str
    action: str
    target: str
    ip: str | None
    detail: dict[str, Any]


_INSERT = insert(table_of(AuditEventRow))  # built once: every guide read appends a row


def record(
    session: Session,
    actor: str,
    action: str,
    target: str,
    ip: str | None = None,
    detail: Mapping[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Append one event; it is committed with the session's other work, or not at all.

    A Core INSERT on the session's connection rather than ``session.add``: every guide read and
    check-in appends one, and an append-only row gains nothing from the ORM but its cost.
    """
    session.connection().execute(_INSERT, {
        "at": now or dt.datetime.now(dt.UTC),
        "actor": actor[:120],
        "action": action[:64],
        "target": target[:200],
        "ip": ip[:64] if ip else None,
        "detail": json.dumps(dict(detail), sort_keys=True, default=str) if detail else None,
    })


def handout_read(
    session: Session, handout_id: object, actor: str, ip: str | None, what: str = "page",
    now: dt.datetime | None = None,
) -> None:
    """A patient or staff member read a handout (``what``: page, pdf, api, ics, check...)."""
    record(session, actor, "handout.read", f"handout:{handout_id}", ip, {"what": what}, now)


def checkin_saved(
    session: Session, handout_id: object, checkin_id: object, tier: str, ip: str | None,
    now: dt.datetime | None = None,
) -> None:
    """A patient saved a check-in; the answers stay in the check-in, not in the log."""
    record(session, PATIENT, "checkin.saved", f"handout:{handout_id}", ip,
           {"checkin": str(checkin_id), "tier": tier}, now)


def _event(row: AuditEventRow) -> AuditEvent:
    return AuditEvent(
        id=row.id, at=row.at, actor=row.actor, action=row.action, target=row.target,
        ip=row.ip, detail=json.loads(row.detail) if row.detail else {},
    )


def events(
    session: Session,
    *,
    action: str | None = None,
    actor: str | None = None,
    target: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[AuditEvent]:
    """The newest events first, optionally filtered; page with ``before_id``."""
    query = select(AuditEventRow).order_by(AuditEventRow.id.desc()).limit(max(1, min(limit, 1000)))
    if action:
        query = query.where(AuditEventRow.action == action)
    if actor:
        query = query.where(AuditEventRow.actor.startswith(actor, autoescape=True))
    if target:
        query = query.where(AuditEventRow.target == target)
    if before_id is not None:
        query = query.where(AuditEventRow.id < before_id)
    return [_event(r) for r in session.scalars(query)]


def count(session: Session, action: str | None = None) -> int:
    query = select(func.count()).select_from(AuditEventRow)
    if action:
        query = query.where(AuditEventRow.action == action)
    return int(session.scalar(query) or 0)


def patient_reads(session: Session, handout_id: object) -> int:
    """How many times the patient opened their handout (for the clinician's list)."""
    query = select(func.count()).select_from(AuditEventRow).where(
        AuditEventRow.action == "handout.read", AuditEventRow.actor == PATIENT,
        AuditEventRow.target == f"handout:{handout_id}",
    )
    return int(session.scalar(query) or 0)
