"""The guide's JSON API under ``/api/handouts``: issue, read, check in, teach-back, events.

Each route parses, calls one function of ``caresheet.guide`` and shapes the answer; errors
are raised and become the one JSON error shape in ``web.errors`` (404 unknown link, 410 ended
link, 422 an answer a check cannot use, naming the finding). Every route declares the errors
it really returns in the OpenAPI document. Creating a handout needs a clinician's login.
A check-in or teach-back that could not be saved is answered 200 with ``saved: false`` and
the result anyway: the patient must still learn what to do.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from caresheet import guide
from caresheet.care.safety_net import MAX_NOTE, NOTE
from caresheet.care.teachback import Question
from caresheet.care.timeline import Event, parse_procedure_time
from caresheet.care.triage import Disposition
from caresheet.config import site_url
from caresheet.model.contact import checked
from caresheet.model.sheet import Tier
from caresheet.store.handouts import Checkin, Handout
from caresheet.team.accounts import Login, Role
from caresheet.web.client import client_ip
from caresheet.web.deps import StoreDep
from caresheet.web.errors import ErrorBody
from caresheet.web.guide import RECENT_CHECKINS, now
from caresheet.web.security import require_role

router = APIRouter(prefix="/api/handouts", tags=["handouts"])


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    words = {400: "Bad input", 401: "Log in first", 403: "This needs another role",
             404: "No handout at this link", 410: "The link has ended",
             422: "The request is malformed, or an answer cannot be used (named in the message)",
             503: "The database is not working; try again soon"}
    return {s: {"model": ErrorBody, "description": words[s]} for s in statuses}


CLINICAL = require_role(Role.CLINICIAN, Role.ADMIN)

FindingName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
AnswerText = Annotated[str, Field(max_length=32, description="yes, no, unsure, or a number")]


class HandoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(examples=["P586"], max_length=16)
    language: str = Field(default="en", max_length=16)
    version: int | None = Field(default=None, ge=1, description="pin this version; default current")
    params: dict[FindingName, Annotated[str, Field(max_length=200)]] = Field(
        default_factory=dict, max_length=50, examples=[{"lie_flat_hours": "2"}])
    procedure_time: str | None = Field(
        default=None, examples=["2026-11-25T09:00-05:00[America/New_York]"], max_length=80,
        description="with an offset or a [zone]; default now, in the clinic's zone")
    zone: str | None = Field(default=None, max_length=64, examples=["America/New_York"])
    display_name: str | None = Field(default=None, max_length=200)
    expires: str | None = Field(default=None, max_length=16, examples=["30d"])
    clinic: str | None = Field(default=None, max_length=120,
                               description="default: the caller's only clinic")
    mrn: str | None = Field(default=None, max_length=64, examples=["MRN-000123"])
    encounter_id: str | None = Field(default=None, max_length=64)
    phone: str | None = Field(default=None, max_length=40, examples=["+1 555 0199"])
    email: str | None = Field(default=None, max_length=320)
    preferred_language: str | None = Field(default=None, max_length=16, examples=["es"])
    send: list[Literal["email", "sms"]] = Field(
        default_factory=list, max_length=2, description="send the link to the patient")


class SheetRef(BaseModel):
    code: str
    language: str
    version: int
    title: str


class EventOut(BaseModel):
    id: str
    kind: str
    at: dt.datetime
    all_day: bool
    when: str
    text: str
    tier: Tier | None
    past: bool


class CheckinOut(BaseModel):
    id: int | None = Field(description="null when it could not be saved")
    saved: bool
    notice: str | None = None
    created_at: dt.datetime
    elapsed_hours: float
    tier: Tier
    action: str
    matched: list[str]
    why: list[str] = Field(description="one line per reason; an unsure answer is never "
                                       "stated as fact")
    unsure_note: str | None = Field(default=None, description="set when 911 rests on one "
                                    "unsure answer alone")
    normal: list[str]
    emergency_line: str


class HandoutOut(BaseModel):
    id: int
    sheet: SheetRef
    params: dict[str, str]
    procedure_time: dt.datetime
    procedure_zone: str
    display_name: str | None
    expires_at: dt.datetime
    elapsed_hours: float
    events: list[EventOut]
    normal: list[str]
    checkins: list[CheckinOut]


class ContactOut(BaseModel):
    """The patient's contact: in the issuer's answer only, never on the patient's pages."""

    mrn: str | None
    encounter_id: str | None
    phone: str | None
    email: str | None
    language: str | None


class SendingOut(BaseModel):
    channel: str
    queued: bool
    reason: str | None = Field(description="why it could not be queued")


class IssuedOut(BaseModel):
    token: str = Field(description="shown once; only its hash is stored")
    url: str
    handout: HandoutOut
    clinic: str
    contact: ContactOut
    sending: list[SendingOut]
    prompts: int = Field(description="follow-up prompts scheduled")
    notices: list[str]


class EventsOut(BaseModel):
    events: list[EventOut]


class CheckinIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answers: dict[FindingName, AnswerText] = Field(
        max_length=100, examples=[{"headache": "yes", "passed_out": "no",
                                   "other_concern": "yes"}],
        description="the sheet's findings, and the safety net every check ends with: "
                    "other_concern (is anything else worrying you?)")
    other_concern_note: str | None = Field(
        default=None, max_length=MAX_NOTE,
        description="what else worries the patient, in their words; for the care team only")

    def all_answers(self) -> dict[str, str]:
        """The answers with the safety net's note, as the guide service reads them."""
        note = {NOTE: self.other_concern_note} if self.other_concern_note is not None else {}
        return {**self.answers, **note}


class ChoiceOut(BaseModel):
    id: str
    text: str


class QuestionOut(BaseModel):
    id: str
    kind: str
    prompt: str
    choices: list[ChoiceOut]
    warning_sign: bool


class TeachbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answers: dict[Annotated[str, Field(max_length=80)], Annotated[str, Field(max_length=80)]] = (
        Field(max_length=200, examples=[{"rule-passed_out": "emergency"}]))


class ResultOut(BaseModel):
    question_id: str
    chosen: str | None
    correct: bool
    warning_sign: bool
    feedback: str


class TeachbackOut(BaseModel):
    attempt: str | None = Field(description="null when it could not be saved")
    saved: bool
    notice: str | None = None
    right: int
    results: list[ResultOut]


def _event(event: Event) -> EventOut:
    return EventOut(id=event.id, kind=event.kind.value, at=event.at, all_day=event.all_day,
                    when=event.when, text=event.text, tier=event.tier, past=event.past)


def _checkin(saved: Checkin) -> CheckinOut:
    d = saved.disposition
    return CheckinOut(
        id=saved.id, saved=True, created_at=saved.created_at, elapsed_hours=saved.elapsed_hours,
        tier=Tier(saved.tier), action=d.get("action", ""), matched=saved.matched,
        why=[m.get("why") or m.get("text", "") for m in d.get("matched", [])],
        unsure_note=d.get("unsure_note"), normal=list(d.get("normal", [])),
        emergency_line=d.get("emergency_line", ""),
    )


def _handout(handout: Handout, title: str, events: list[EventOut], normal: list[str],
             elapsed: float, checkins: list[CheckinOut]) -> HandoutOut:
    return HandoutOut(
        id=handout.id, sheet=SheetRef(code=handout.sheet_code, language=handout.language,
                                      version=handout.version, title=title),
        params=handout.params, procedure_time=handout.procedure_time,
        procedure_zone=handout.procedure_zone, display_name=handout.display_name,
        expires_at=handout.expires_at, elapsed_hours=elapsed, events=events, normal=normal,
        checkins=checkins,
    )


@router.post("", status_code=201, response_model=IssuedOut,
             responses=_errors(400, 401, 403, 404, 422))
def create_handout(request: Request, body: Annotated[HandoutIn, Body()],
                   store: StoreDep, login: Annotated[Login, Depends(CLINICAL)]) -> IssuedOut:
    """Issue a sheet to one patient (clinicians and admins); the answer holds the private
    link, shown only once. The issuer is recorded and the issue is audited."""
    moment = now()
    procedure = (parse_procedure_time(body.procedure_time, body.zone)
                 if body.procedure_time else None)
    reach = checked(mrn=body.mrn, encounter_id=body.encounter_id, phone=body.phone,
                    email=body.email, language=body.preferred_language)
    with store.session() as session:
        issued = guide.issue(
            session, login.user, code=body.code, language=body.language, version=body.version,
            params=body.params, procedure_time=procedure, now=moment,
            display_name=body.display_name, expires_in=guide.parse_expiry(body.expires),
            ip=client_ip(request), contact=reach, clinic=body.clinic, send=body.send,
            base_url=site_url(str(request.base_url)))
    url = guide.link(site_url(str(request.base_url)), issued.token)
    contact = issued.handout.contact
    return IssuedOut(
        token=issued.token, url=url, handout=read_handout(request, issued.token, store),
        clinic=issued.clinic.name if issued.clinic else "default",
        contact=ContactOut(mrn=contact.mrn, encounter_id=contact.encounter_id,
                           phone=contact.phone, email=contact.email, language=contact.language),
        sending=[SendingOut(channel=s.channel, queued=s.queued, reason=s.reason)
                 for s in issued.sending],
        prompts=issued.prompts, notices=list(issued.notices))


@router.get("/{token}", response_model=HandoutOut, responses=_errors(404, 410))
def read_handout(request: Request, token: str, store: StoreDep) -> HandoutOut:
    """The handout: pinned sheet, params, timeline events, what is normal, last check-ins."""
    opened = guide.open_handout(store, token, now(), "api", client_ip(request),
                                recent_checkins=RECENT_CHECKINS)
    line = opened.timeline
    return _handout(opened.handout, opened.sheet.title, [_event(e) for e in line.events],
                    [n.text for n in line.normal], line.elapsed_hours,
                    [_checkin(c) for c in opened.checkins])


@router.get("/{token}/events", response_model=EventsOut, responses=_errors(404, 410))
def handout_events(request: Request, token: str, store: StoreDep) -> EventsOut:
    """The reminder events (the same as the .ics file)."""
    opened = guide.open_handout(store, token, now(), "events", client_ip(request))
    return EventsOut(events=[_event(e) for e in opened.timeline.reminders()])


@router.post("/{token}/checkins", status_code=201, response_model=CheckinOut,
             responses={**_errors(400, 404, 410, 422, 503),
                        200: {"model": CheckinOut, "description": "not saved: call the clinic"}})
async def post_checkin(request: Request, token: str, body: Annotated[CheckinIn, Body()],
                       store: StoreDep) -> CheckinOut | JSONResponse:
    """Triage the answers and save the check-in before answering (201 means it is saved).

    The database work runs in the store's group-commit writer; this request waits for it
    without holding a thread.
    """
    moment = now()
    saving = guide.submit_check_in(store, token, body.all_answers(), moment, client_ip(request))
    outcome = await asyncio.wait_for(asyncio.wrap_future(saving), guide.SAVE_TIMEOUT_SECONDS)
    if outcome.checkin is not None:
        return _checkin(outcome.checkin)
    return JSONResponse(_unsaved(outcome.disposition, moment).model_dump(mode="json"),
                        status_code=200)


def _unsaved(disposition: Disposition, moment: dt.datetime) -> CheckinOut:
    return CheckinOut(
        id=None, saved=False, notice=guide.NOT_SAVED, created_at=moment,
        elapsed_hours=disposition.elapsed_hours or 0.0, tier=disposition.tier,
        action=disposition.action, matched=[m.id for m in disposition.matched],
        why=[m.said for m in disposition.matched], unsure_note=disposition.unsure_note,
        normal=list(disposition.normal),
        emergency_line=disposition.emergency_line,
    )


@router.get("/{token}/teachback", response_model=list[QuestionOut], responses=_errors(404, 410))
def teachback_questions(request: Request, token: str, store: StoreDep) -> list[QuestionOut]:
    """The teach-back questions, choices in a stable shuffled order."""
    opened = guide.open_handout(store, token, now(), "teachback", client_ip(request))
    return [_question(q) for q in guide.teach_back_questions(opened)]


def _question(q: Question) -> QuestionOut:
    return QuestionOut(id=q.id, kind=q.kind.value, prompt=q.prompt, warning_sign=q.warning_sign,
                       choices=[ChoiceOut(id=c.id, text=c.text) for c in q.choices])


@router.post("/{token}/teachback", status_code=201, response_model=TeachbackOut,
             responses={**_errors(400, 404, 410, 422),
                        200: {"model": TeachbackOut, "description": "not saved: tell the clinic"}})
def post_teachback(request: Request, token: str, body: Annotated[TeachbackIn, Body()],
                   store: StoreDep) -> TeachbackOut | JSONResponse:
    """Grade and save one teach-back attempt; feedback teaches each right answer."""
    _opened, outcome = guide.teach_back(store, token, body.answers, now(), client_ip(request))
    answer = TeachbackOut(
        attempt=outcome.attempt, saved=outcome.attempt is not None, right=outcome.right,
        notice=None if outcome.attempt else NOT_SAVED_TEACHBACK,
        results=[ResultOut(question_id=r.question_id, chosen=r.chosen, correct=r.correct,
                           warning_sign=r.warning_sign, feedback=r.feedback)
                 for r in outcome.results])
    if outcome.attempt is None:
        return JSONResponse(answer.model_dump(mode="json"), status_code=200)
    return answer


NOT_SAVED_TEACHBACK = "We could not save your answers. Please tell your clinic."
