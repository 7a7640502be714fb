"""Care-team pages for handouts: pick a sheet, fill its params, issue the private link with its
QR code and PDF; the clinician's list with status; revoke and extend.

The private link exists only in the answer to the issuing request (the database keeps its
hash), so the PDF with the link's QR code is made from a form on that page that posts the
token back, never from a URL that would put the token in a log.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, replace
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from caresheet import guide, search
from caresheet.care.timeline import parse_procedure_time
from caresheet.config import site_url
from caresheet.errors import BadInputError, NotFoundError
from caresheet.model.contact import checked
from caresheet.model.sheet import Sheet
from caresheet.render import qr
from caresheet.render.html import handout_facts, render_print, sheet_page
from caresheet.render.pool import render_pdf_html
from caresheet.store import handouts as handout_rows
from caresheet.store import sheets
from caresheet.team import audit, clinics, escalations
from caresheet.team import handouts as team_handouts
from caresheet.team.accounts import Login, Role, get_user
from caresheet.team.escalations import Escalation
from caresheet.team.notify import outbox
from caresheet.web.client import client_ip
from caresheet.web.deps import RowId, get_store
from caresheet.web.security import require_role, utcnow
from caresheet.web.team_pages import PRIVATE_HEADERS, back_to, page

router = APIRouter(include_in_schema=False)
CLINICAL = require_role(Role.CLINICIAN, Role.ADMIN)
PARAM_PREFIX = "param."
MAX_QUERY = 200
def default_zone() -> str:
    """The clinic's time zone for the procedure-time field (``CARESHEET_TIME_ZONE``)."""
    return os.environ.get("CARESHEET_TIME_ZONE", "").strip() or "UTC"


# ---------------------------------------------------------------- picking a sheet


@dataclass(frozen=True)
class SheetChoice:
    code: str
    language: str
    title: str
    status: str


def find_sheets(session: Session, query: str) -> list[SheetChoice]:
    """Sheets for the picker: the library's own search (codes, words, lay words, typos, clinical
    codes) for a query, else every sheet A to Z; both read the search index, not the sheets."""
    if query:
        return [SheetChoice(h.code, h.language, h.title, h.status)
                for h in search.search(session, query, limit=50).hits]
    return [SheetChoice(e.code, e.language, e.title, e.status) for e in search.browse(session)]


@dataclass(frozen=True)
class ParamField:
    name: str
    label: str
    input_type: str
    hint: str
    min: str | None
    max: str | None
    value: str


def param_fields(sheet: Sheet, values: dict[str, str]) -> list[ParamField]:
    types = {"integer": "number", "number": "number", "phone": "tel", "date": "date"}
    return [
        ParamField(
            name=name, label=param.label, input_type=types.get(param.type, "text"),
            hint=f"Allowed: {param.allowed()}. Left empty, the sheet says “{param.unset}”.",
            min=None if param.min is None else f"{param.min:g}",
            max=None if param.max is None else f"{param.max:g}",
            value=values.get(name, ""),
        )
        for name, param in sheet.params.items()
    ]


@router.get("/team/handouts/new", response_class=HTMLResponse)
def new_handout(
    request: Request, login: Annotated[Login, Depends(CLINICAL)], q: str = "", code: str = "",
    lang: str = "en",
) -> Response:
    with get_store(request).session(write=False) as session:
        if not code:
            query = q.strip()[:MAX_QUERY]
            choices = find_sheets(session, query)
            return page(request, "handout_pick.html", login, q=query, choices=choices)
        stored = sheets.current(session, code, lang)
    return _form(request, login, stored.sheet, {}, error=None)


CONTACT_FIELDS = ("mrn", "encounter_id", "phone", "email", "preferred_language")


def _form(request: Request, login: Login, sheet: Sheet, values: dict[str, str],
          error: str | None, status_code: int = 200, send: tuple[str, ...] = ()
          ) -> HTMLResponse:
    with get_store(request).session(write=False) as session:
        mine = clinics.member_of(session, login.user.id)
        if login.user.role is Role.ADMIN:
            mine = clinics.list_clinics(session)
    home = next((c for c in mine if c.name == values.get("clinic")), mine[0])
    contact = {k: values.get(k, "") for k in CONTACT_FIELDS}
    contact["language"] = contact.pop("preferred_language")
    return page(
        request, "handout_new.html", login, status_code, sheet=sheet,
        fields=param_fields(sheet, values), error=error,
        procedure_time=values.get("procedure_time", ""),
        zone=values.get("zone") or home.time_zone or default_zone(),
        display_name=values.get("display_name", ""),
        expires_days=values.get("expires_days", "30"), clinics=mine, clinic=home.name,
        contact=contact, send=send,
    )


# ---------------------------------------------------------------- issuing


@router.post("/team/handouts", response_class=HTMLResponse)
async def issue_handout(request: Request, login: Annotated[Login, Depends(CLINICAL)]) -> Response:
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    send = tuple(v for v in form.getlist("send") if isinstance(v, str))[:2]
    store = get_store(request)
    code, lang = fields.get("code", "")[:16], fields.get("language", "en")[:16]
    with store.session(write=False) as session:
        sheet = sheets.current(session, code, lang).sheet
    params = {k.removeprefix(PARAM_PREFIX): v for k, v in fields.items()
              if k.startswith(PARAM_PREFIX)}
    try:
        typed = fields.get("procedure_time", "").strip()
        when = parse_procedure_time(typed, fields.get("zone") or None) if typed else None
        lifetime = _days(fields.get("expires_days", "30"))
        reach = checked(mrn=fields.get("mrn"), encounter_id=fields.get("encounter_id"),
                        phone=fields.get("phone"), email=fields.get("email"),
                        language=fields.get("preferred_language"))
        now = utcnow()
        with store.session() as session:
            issued = guide.issue(
                session, login.user, code=sheet.code, language=sheet.language, params=params,
                procedure_time=when, display_name=fields.get("display_name"),
                expires_in=lifetime, ip=client_ip(request), now=now, contact=reach,
                clinic=fields.get("clinic") or None, send=send,
                base_url=site_url(str(request.base_url)),
            )
    except BadInputError as error:
        kept = {**{k: v[:200] for k, v in params.items()},
                **{k: fields.get(k, "")[:200] for k in
                   ("procedure_time", "zone", "display_name", "expires_days", "clinic",
                    *CONTACT_FIELDS)}}
        return _form(request, login, sheet, kept, str(error), status_code=400, send=send)
    link = guide.link(site_url(str(request.base_url)), issued.token)
    return page(request, "handout_issued.html", login, handout=issued.handout, sheet=sheet,
                 link=link, token=issued.token, qr_svg=qr.svg(link, scale=4),
                 sending=issued.sending, notices=issued.notices)


def _days(text: str) -> dt.timedelta:
    """The form's lifetime in whole days, under the one lifetime rule."""
    try:
        days = int(text.strip())
    except ValueError:
        raise BadInputError(
            f"the link's lifetime must be a number of days (got {text[:20]!r})"
        ) from None
    # Clamped first: a huge number must be refused by the rule, not overflow a timedelta.
    span = dt.timedelta(days=min(max(days, 0), 100_000))
    return team_handouts.check_lifetime(span, f"{text.strip()[:20]} days")


@router.post("/team/handouts/{handout_id}/pdf")
def handout_pdf(
    request: Request, handout_id: RowId, login: Annotated[Login, Depends(CLINICAL)],
    token: Annotated[str, Form()] = "", large: Annotated[str, Form()] = "",
) -> Response:
    """The personalized PDF with the QR code of the patient's link (posted back, not stored)."""
    store = get_store(request)
    with store.session() as session:
        handout = team_handouts.with_token(session, handout_id, token[:200])
        sheet = guide.pinned_sheet(store, session, handout)
        audit.handout_read(session, handout_id, login.user.actor, client_ip(request), "pdf")
    link = guide.link(site_url(str(request.base_url)), token)
    page = sheet_page(sheet, handout.params, qr_url=link, large=bool(large))
    facts = handout_facts(sheet, handout.params, handout.procedure_time, handout.display_name)
    # In the PDF pool, never in this process; a patient's PDF is never cached (its QR code is
    # the private link).
    pdf = render_pdf_html(render_print(replace(page, handout=facts)))
    headers = {**PRIVATE_HEADERS,
               "Content-Disposition": f'inline; filename="{sheet.code}-handout-{handout_id}.pdf"'}
    return Response(pdf, media_type="application/pdf", headers=headers)


# ---------------------------------------------------------------- the list and one handout


@router.get("/team/handouts", response_class=HTMLResponse)
def list_handouts(
    request: Request, login: Annotated[Login, Depends(CLINICAL)], all: str = "",
) -> Response:
    everyone = all.lower() in {"1", "true", "yes"}
    with get_store(request).session() as session:
        rows = team_handouts.statuses(session, login.user, utcnow(), everyone)
        audit.record(session, login.user.actor, "handouts.listed", "handouts",
                     client_ip(request), {"shown": len(rows)})
    return page(request, "handouts.html", login, rows=rows, everyone=everyone)


@router.get("/team/handouts/{handout_id}", response_class=HTMLResponse)
def show_handout(
    request: Request, handout_id: RowId, login: Annotated[Login, Depends(CLINICAL)],
) -> Response:
    now = utcnow()
    with get_store(request).session() as session:
        status = team_handouts.get(session, handout_id, login.user, client_ip(request), now)
        checkins = handout_rows.checkins(session, handout_id, limit=20)
        opened = escalations.for_handout(session, handout_id)
        zone = clinics.zone_of(session, status.handout)
    return page(request, "handout.html", login, status=status, checkins=checkins,
                 escalations=opened, zone=zone)


@router.post("/team/handouts/{handout_id}/revoke")
def revoke_handout(
    request: Request, handout_id: RowId, login: Annotated[Login, Depends(CLINICAL)],
) -> Response:
    with get_store(request).session() as session:
        team_handouts.revoke(session, handout_id, login.user, client_ip(request), utcnow())
    return back_to(f"/team/handouts/{handout_id}")


@router.post("/team/handouts/{handout_id}/extend")
def extend_handout(
    request: Request, handout_id: RowId, login: Annotated[Login, Depends(CLINICAL)],
    days: Annotated[str, Form()] = "",
) -> Response:
    with get_store(request).session() as session:
        team_handouts.extend(
            session, handout_id, _days(days).days, login.user, client_ip(request), utcnow()
        )
    return back_to(f"/team/handouts/{handout_id}")


# ---------------------------------------------------------------- for the inbox


@dataclass(frozen=True)
class InboxItem:
    escalation: Escalation
    patient: str
    handout_link: str | None
    acknowledged_by: str | None
    closed_by: str | None
    notices: list[outbox.OutboxMessage]


def inbox_items(session: Session, found: list[Escalation]) -> list[InboxItem]:
    """The inbox's lines with the patient's display name and who acted, by email."""
    emails: dict[int, str] = {}

    def email(user_id: int | None) -> str | None:
        if user_id is None:
            return None
        if user_id not in emails:
            try:
                emails[user_id] = get_user(session, user_id).email
            except NotFoundError:
                emails[user_id] = f"user {user_id}"
        return emails[user_id]

    items = []
    for e in found:
        # A foreign key: the handout is always there.
        handout = handout_rows.get(session, e.handout_id)
        patient = handout.display_name or f"Handout #{e.handout_id}"
        link = f"/team/handouts/{handout.id}"
        items.append(InboxItem(e, patient, link, email(e.acknowledged_by), email(e.closed_by),
                               outbox.messages(session, e.id)))
    return items
