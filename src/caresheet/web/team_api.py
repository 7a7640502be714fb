"""The care team's JSON API: the escalation inbox for a clinic's own system.

``GET /api/team/escalations`` lists them in the inbox's order, grouped by handout as the page
shows them: each handout's lead (``lead: true``: open, highest tier, newest) and then its
history, with the patient's local time, the age, the findings ("not sure: …") and the
teach-back misses; every such read is audited like the page; ``POST .../acknowledge`` and
``POST .../close`` (with a note) act on one. Each needs a clinician or admin login (the session
cookie; a JSON body is CSRF-safe, see ``security``). Every error the routes really return is
declared in the OpenAPI document: 400, 401, 403, 404 and 422.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from caresheet.model.sheet import Tier
from caresheet.team import audit, escalations
from caresheet.team.accounts import Login, Role
from caresheet.team.escalations import Escalation
from caresheet.web.client import client_ip
from caresheet.web.deps import RowId, get_store
from caresheet.web.errors import ErrorBody
from caresheet.web.security import require_role, utcnow

CLINICAL = require_role(Role.CLINICIAN, Role.ADMIN)


_WORDS = {400: "Bad input", 401: "Not logged in", 403: "Not allowed for this role",
          404: "No such escalation", 422: "The request is malformed"}


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: {"model": ErrorBody, "description": _WORDS[s]} for s in statuses}


router = APIRouter(prefix="/api/team", tags=["care team"], responses=_errors(401, 403, 422))


class EscalationOut(BaseModel):
    id: int
    handout_id: int
    source: str
    tier: Tier
    sheet_code: str | None
    reasons: list[str]
    created_at: dt.datetime
    status: str
    acknowledged_by: int | None
    acknowledged_at: dt.datetime | None
    closed_by: int | None
    closed_at: dt.datetime | None
    close_note: str | None


class InboxEscalationOut(EscalationOut):
    """An escalation as the inbox lists it: grouped by handout, in the patient's clock."""

    lead: bool = Field(description="the first of its handout's group: act on this one first")
    local_time: dt.datetime = Field(description="created_at in its handout's clinic's zone")
    time_zone: str
    age: str = Field(examples=["12 min ago"])
    age_minutes: int
    findings: list[str] = Field(examples=[["severe headache", "not sure: passed out"]])
    teach_back_missed: list[str]
    record_number: str | None = Field(description="the patient's record number, when given")
    phone: str | None = Field(description="the patient's callback phone, when given")


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(max_length=4000, examples=["Called the patient; headache easing."])


def _out(e: Escalation) -> EscalationOut:
    return EscalationOut(
        id=e.id, handout_id=e.handout_id, source=e.source, tier=e.tier,
        sheet_code=e.sheet_code, reasons=list(e.reasons), created_at=e.created_at,
        status=e.status.value, acknowledged_by=e.acknowledged_by,
        acknowledged_at=e.acknowledged_at, closed_by=e.closed_by, closed_at=e.closed_at,
        close_note=e.close_note,
    )


@router.get("/escalations", response_model=list[InboxEscalationOut])
def list_escalations(
    request: Request, login: Annotated[Login, Depends(CLINICAL)], closed: bool = False,
) -> list[InboxEscalationOut]:
    """By handout, the most urgent first: each handout's lead, then its history (closed ones
    too with ``closed=true``)."""
    now = utcnow()
    with get_store(request).session() as session:
        groups = escalations.grouped_inbox(session, login.user, now, include_closed=closed)
        listed = [
            InboxEscalationOut(
                **_out(entry.escalation).model_dump(), lead=position == 0,
                local_time=entry.local_time, time_zone=group.time_zone, age=entry.age,
                age_minutes=max(0, int((now - entry.escalation.created_at).total_seconds()
                                       // 60)),
                findings=list(entry.findings), teach_back_missed=list(entry.missed),
                record_number=group.record_number, phone=group.phone,
            )
            for group in groups
            for position, entry in enumerate(group.entries)
        ]
        audit.record(session, login.user.actor, "inbox.viewed", "inbox", client_ip(request),
                     {"shown": len(listed), "via": "api"}, now)
        return listed


@router.post("/escalations/{escalation_id}/acknowledge", response_model=EscalationOut,
             responses=_errors(404))
def acknowledge(
    request: Request, escalation_id: RowId, login: Annotated[Login, Depends(CLINICAL)],
) -> EscalationOut:
    with get_store(request).session() as session:
        return _out(escalations.acknowledge(session, escalation_id, login.user,
                                            client_ip(request), utcnow()))


@router.post("/escalations/{escalation_id}/close", response_model=EscalationOut,
             responses=_errors(400, 404))
def close(
    request: Request, escalation_id: RowId, login: Annotated[Login, Depends(CLINICAL)],
    body: Annotated[CloseIn, Body()],
) -> EscalationOut:
    with get_store(request).session() as session:
        return _out(escalations.close(session, escalation_id, login.user, body.note,
                                      client_ip(request), utcnow()))
