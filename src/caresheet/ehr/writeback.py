"""Issue a handout from a SMART launch and write it back to the patient's chart.

The handout is issued through the guide's one issue path (who issued it, audited), exactly as
from the team pages. Then a DocumentReference (LOINC 69730-0 "Instructions", status current,
the patient in context, the launch's encounter, the personalized PDF and the handout's page)
is created on the EHR's FHIR server with the launch's access token. The handout stands
whatever the EHR answers: a refusal is kept on the handout and shown, never raised.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from caresheet import guide
from caresheet.errors import ServerBusyError
from caresheet.guide import Issued
from caresheet.model.contact import PatientContact
from caresheet.model.sheet import Sheet
from caresheet.render import fhir
from caresheet.render.html import render_print, sheet_page
from caresheet.render.pool import render_pdf_html
from caresheet.store import smart as rows
from caresheet.store.db import Store
from caresheet.store.smart import Launch, SmartEhr, Writeback
from caresheet.team import audit
from caresheet.team.accounts import User

TIMEOUT_SECONDS = 20.0
MEDIA_TYPE = "application/fhir+json"


@dataclass(frozen=True)
class IssuedInEhr:
    issued: Issued
    sheet: Sheet
    link: str
    writeback: Writeback
    contact: PatientContact


def _refusal(response: httpx.Response) -> str:
    """What the EHR said when it refused: its OperationOutcome's words, if any, kept short."""
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    words = ""
    if isinstance(body, dict):
        for issue in body.get("issue") or []:
            if isinstance(issue, dict):
                words = str(issue.get("diagnostics") or (issue.get("details") or {}).get("text")
                            or issue.get("code") or "")
                if words:
                    break
    text = f"the EHR refused the document (HTTP {response.status_code})"
    return f"{text}: {words[:200]}" if words else text


def post_document(base: str, access_token: str, document: dict[str, Any]) -> str:
    """Create the DocumentReference; its id on the EHR, or a RuntimeError saying what failed."""
    url = f"{base.rstrip('/')}/DocumentReference"
    headers = {"Authorization": f"Bearer {access_token}", "Content-Type": MEDIA_TYPE,
               "Accept": MEDIA_TYPE, "Prefer": "return=representation"}
    try:
        response = httpx.post(url, json=document, headers=headers, timeout=TIMEOUT_SECONDS)
    except httpx.HTTPError as error:
        raise RuntimeError(f"the EHR could not be reached ({type(error).__name__})") from None
    if response.status_code not in (200, 201):
        raise RuntimeError(_refusal(response))
    try:
        created = response.json()
    except ValueError:
        created = None
    if isinstance(created, dict) and isinstance(created.get("id"), str) and created["id"]:
        return str(created["id"])
    location = response.headers.get("location", "")
    parts = location.split("/DocumentReference/", 1)
    if len(parts) == 2 and parts[1]:
        return str(parts[1].split("/")[0])
    raise RuntimeError("the EHR accepted the document but did not say its id")


def issue(
    store: Store, launch: Launch, ehr: SmartEhr, user: User, *, code: str, language: str,
    params: Mapping[str, str], procedure_time: dt.datetime, display_name: str | None,
    expires_in: dt.timedelta, contact: PatientContact, base_url: str, ip: str | None,
    now: dt.datetime,
) -> IssuedInEhr:
    """Issue the handout (BadInputError on a bad form, nothing saved), then write it back."""
    with store.session() as session:
        issued = guide.issue(
            session, user, code=code, language=language, params=params,
            procedure_time=procedure_time, display_name=display_name, expires_in=expires_in,
            contact=contact, clinic=ehr.clinic, ip=ip, now=now, base_url=base_url)
        audit.record(session, user.actor, "smart.issued", f"handout:{issued.handout.id}", ip,
                     {"ehr": ehr.name}, now)
    with store.session(write=False) as session:
        sheet = guide.pinned_sheet(store, session, issued.handout)
    link = guide.link(base_url, issued.token)
    document_id: str | None = None
    failure: str | None = None
    try:
        if launch.access_token is None or launch.patient is None:
            raise RuntimeError("the launch has no access token or patient")
        # In the worker-process pool: this runs in a web request's thread.
        pdf = render_pdf_html(render_print(sheet_page(sheet, issued.handout.params, qr_url=link)))
        document = fhir.handout_document_reference(
            sheet, pdf, link, patient=launch.patient, encounter=launch.encounter,
            handout_id=issued.handout.id, created=now, base=base_url)
        document_id = post_document(ehr.iss, launch.access_token, document)
    except (RuntimeError, ServerBusyError) as error:
        failure = str(error)
    with store.session() as session:
        saved = rows.record_writeback(session, issued.handout.id, ehr.id, document_id, failure,
                                      now)
        audit.record(session, user.actor,
                     "smart.writeback" if failure is None else "smart.writeback_failed",
                     f"handout:{issued.handout.id}", ip,
                     # Our words only: the EHR's own message may quote the chart.
                     {"ehr": ehr.name, "document": document_id,
                      "reason": failure.split(":")[0] if failure else None}, now)
    return IssuedInEhr(issued, sheet, link, saved, contact)
