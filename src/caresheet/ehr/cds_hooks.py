"""The CDS Hooks 2.0 services: at an order or at discharge, suggest the matching care sheet.

Three services, one per hook: ``order-select`` and ``order-sign`` read the procedure codes of
the draft orders (``context.draftOrders``, a Bundle of ServiceRequests); ``encounter-discharge``
reads the codes of the encounter's Procedures, from the prefetch or, when the EHR sent none,
from its ``fhirServer`` with the token of ``fhirAuthorization`` (neither: a 412). Codes in
SNOMED CT, CPT or ICD-10-PCS find sheets through the clinical-code search; each sheet found is
one ``info`` card naming it, with its warning signs, a link to its page and a SMART link that
opens caresheet with the sheet chosen. No match: no cards. The patient's language, when the
record says it, picks the translation.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from caresheet import search
from caresheet.codes import system_named
from caresheet.ehr import fhir_fetch
from caresheet.errors import (
    BadInputError,
    FhirServerError,
    NotFoundError,
    PrefetchMissingError,
)
from caresheet.render.common import call_for_help
from caresheet.store import ehr as rows
from caresheet.store import sheets as stored_sheets
from caresheet.store.db import Store
from caresheet.store.sheets import StoredSheet

PROCEDURE_SYSTEMS = frozenset({"snomed", "cpt", "icd10pcs"})
SUMMARY_LIMIT = 140  # the spec: "less than 140 characters"
MAX_CARDS = 5
PATIENT = "Patient/{{context.patientId}}"
PROCEDURES = "Procedure?patient={{context.patientId}}&encounter={{context.encounterId}}"

Fetch = Callable[[str, str, str | None], dict[str, Any]]
Code = tuple[str, str]  # (system URI, code)


@dataclass(frozen=True, slots=True)
class Service:
    id: str
    hook: str
    title: str
    description: str
    prefetch: dict[str, str]
    reads: Literal["draft_orders", "procedures"]

    def discovery(self) -> dict[str, Any]:
        return {"hook": self.hook, "id": self.id, "title": self.title,
                "description": self.description, "prefetch": dict(self.prefetch)}


SERVICES = (
    Service(
        "caresheet-order-select", "order-select", "caresheet: education for this order",
        "Suggests the patient-education care sheet for the procedure being ordered.",
        {"patient": PATIENT}, "draft_orders",
    ),
    Service(
        "caresheet-order-sign", "order-sign", "caresheet: education for signed orders",
        "Suggests the patient-education care sheets for the procedures about to be signed.",
        {"patient": PATIENT}, "draft_orders",
    ),
    Service(
        "caresheet-discharge", "encounter-discharge", "caresheet: discharge education",
        "Suggests the home-care sheets for the procedures done in this encounter.",
        {"patient": PATIENT, "procedures": PROCEDURES}, "procedures",
    ),
)
BY_ID = {s.id: s for s in SERVICES}


def discovery() -> dict[str, Any]:
    """The body of ``GET /cds-services``."""
    return {"services": [s.discovery() for s in SERVICES]}


def service(service_id: str) -> Service:
    found = BY_ID.get(service_id)
    if found is None:
        raise NotFoundError(
            f"no CDS service {service_id!r}; services: {', '.join(sorted(BY_ID))}"
        )
    return found


# ---------------------------------------------------------------- the request


class FhirAuthorization(BaseModel):
    model_config = ConfigDict(extra="allow")

    access_token: str = Field(min_length=1, max_length=8000)
    token_type: str = "Bearer"
    scope: str | None = None
    subject: str | None = None


class HookRequest(BaseModel):
    """A CDS Hooks 2.0 request; fields we do not read are allowed and left alone."""

    model_config = ConfigDict(extra="allow")

    hook: str = Field(min_length=1, max_length=100)
    hookInstance: str = Field(min_length=1, max_length=200)
    fhirServer: str | None = Field(default=None, max_length=2000)
    fhirAuthorization: FhirAuthorization | None = None
    context: dict[str, Any]
    prefetch: dict[str, Any] | None = None


def parse_request(body: Any) -> HookRequest:
    try:
        return HookRequest.model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise BadInputError(f"not a CDS Hooks request: {where}: {first['msg']}") from None


def _token(request: HookRequest) -> str | None:
    return request.fhirAuthorization.access_token if request.fhirAuthorization else None


def _prefetched(
    request: HookRequest, key: str, query: str, fetch: Fetch, *, required: bool
) -> dict[str, Any] | None:
    """A prefetch entry, else fetched from the EHR; missing with no fhirServer: 412 if needed."""
    found = (request.prefetch or {}).get(key)
    if isinstance(found, dict):
        return found
    if request.fhirServer:
        try:
            return fetch(request.fhirServer, query, _token(request))
        except FhirServerError:
            if required:
                raise
            return None
    if required:
        raise PrefetchMissingError(key)
    return None


def _context_text(request: HookRequest, name: str) -> str:
    value = request.context.get(name)
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", value):
        raise BadInputError(f"context.{name} must be a FHIR id")
    return value


def _resources(bundle: Any, kind: str) -> Iterator[dict[str, Any]]:
    if not isinstance(bundle, dict):
        return
    for entry in bundle.get("entry") or []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and resource.get("resourceType") == kind:
            yield resource


def _codings(resource: dict[str, Any]) -> Iterator[Code]:
    code = resource.get("code")
    for coding in (code.get("coding") or []) if isinstance(code, dict) else []:
        if isinstance(coding, dict):
            system, value = coding.get("system"), coding.get("code")
            if isinstance(system, str) and isinstance(value, str) and value.strip():
                yield system, value.strip()


def procedure_codes(svc: Service, request: HookRequest, fetch: Fetch) -> list[Code]:
    """The codes to look up, in the order the EHR gave them."""
    if svc.reads == "draft_orders":
        orders = list(_resources(request.context.get("draftOrders"), "ServiceRequest"))
        selected = request.context.get("selections")
        if isinstance(selected, list) and selected:
            chosen = [o for o in orders if f"ServiceRequest/{o.get('id')}" in selected]
            orders = chosen or orders
        return [c for order in orders for c in _codings(order)]
    patient = _context_text(request, "patientId")
    encounter = _context_text(request, "encounterId")
    query = f"Procedure?patient={patient}&encounter={encounter}"
    bundle = _prefetched(request, "procedures", query, fetch, required=True)
    done = [p for p in _resources(bundle, "Procedure")
            if p.get("status") not in ("entered-in-error", "not-done")]
    return [c for procedure in done for c in _codings(procedure)]


def patient_language(request: HookRequest, fetch: Fetch) -> str | None:
    """The patient's preferred language from ``Patient.communication``, when the EHR says it."""
    patient_id = request.context.get("patientId")
    if not isinstance(patient_id, str) or not re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", patient_id):
        return None
    patient = _prefetched(request, "patient", f"Patient/{patient_id}", fetch, required=False)
    communication = (patient or {}).get("communication") or []
    ranked = sorted(
        (c for c in communication if isinstance(c, dict)),
        key=lambda c: not c.get("preferred", False),
    )
    for item in ranked:
        language = item.get("language") or {}
        for coding in language.get("coding") or [] if isinstance(language, dict) else []:
            code = coding.get("code") if isinstance(coding, dict) else None
            if isinstance(code, str) and code.strip():
                return code.strip().split("-")[0].lower()
    return None


# ---------------------------------------------------------------- cards


def matching_sheets(store: Store, codes: Iterable[Code], language: str | None) -> list[StoredSheet]:
    """The current sheets carrying any of the procedure codes, once each, in code order."""
    found: dict[str, StoredSheet] = {}
    with store.session(write=False) as session:
        for system, code in codes:
            named = system_named(system)
            if named is None or named.name not in PROCEDURE_SYSTEMS:
                continue
            for stored in search.by_clinical_code(session, named.name, code, "en"):
                if stored.code not in found:
                    found[stored.code] = _in_language(session, stored, language)
    return list(found.values())[:MAX_CARDS]


def _in_language(session: Any, english: StoredSheet, language: str | None) -> StoredSheet:
    if not language or language == "en":
        return english
    try:
        return stored_sheets.current(session, english.code, language)
    except NotFoundError:  # no translation, or it is retired: the English sheet
        return english


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|])")


def _md(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def summary(stored: StoredSheet) -> str:
    """"Patient education: <title>", cut to fit under 140 characters."""
    prefix = "Patient education: " if stored.language == "en" else (
        f"Patient education ({stored.language}): ")
    text = prefix + stored.sheet.title
    if len(text) < SUMMARY_LIMIT:
        return text
    return text[: SUMMARY_LIMIT - 2].rstrip() + "…"


def detail(stored: StoredSheet) -> str:
    """The sheet's warning signs, tier by tier, as the card's Markdown detail."""
    section = call_for_help(stored.sheet)
    lines = [f"**{_md(section.emergency_line)}**", ""]
    for block in section.tiers:
        lines.append(f"**{_md(block.heading)}** {_md(block.action)}")
        lines += [f"- {_md(sign)}" for sign in block.signs]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def sheet_url(base: str, stored: StoredSheet) -> str:
    url = f"{base}/sheets/{stored.code}"
    return url if stored.language == "en" else f"{url}?lang={stored.language}"


def card(stored: StoredSheet, base: str) -> dict[str, Any]:
    """One ``info`` card for one sheet (its own uuid, so feedback can name it)."""
    return {
        "uuid": str(uuid.uuid4()),
        "summary": summary(stored),
        "indicator": "info",
        "detail": detail(stored),
        "source": {"label": "caresheet", "url": f"{base}/"},
        "links": [
            {"label": "Read the care sheet", "url": sheet_url(base, stored), "type": "absolute"},
            {"label": "Give it to the patient in caresheet", "url": f"{base}/smart/launch",
             "type": "smart", "appContext": stored.code},
        ],
    }


def answer(
    store: Store,
    svc: Service,
    request: HookRequest,
    base: str,
    caller_iss: str | None,
    now: dt.datetime,
    fetch: Fetch = fhir_fetch.read,
) -> dict[str, Any]:
    """The cards for one hook call (blocking: it may call the EHR's FHIR server)."""
    if request.hook != svc.hook:
        raise BadInputError(f"the service {svc.id} answers the hook {svc.hook!r}, "
                            f"not {request.hook!r}")
    codes = procedure_codes(svc, request, fetch)
    if not codes:
        return {"cards": []}
    found = matching_sheets(store, codes, patient_language(request, fetch))
    cards = [card(stored, base) for stored in found]
    issued = [rows.IssuedCard(c["uuid"], svc.id, caller_iss, s.code, s.language)
              for c, s in zip(cards, found, strict=True)]
    with store.session() as session:
        rows.add_cards(session, issued, now)
    return {"cards": cards}


# ---------------------------------------------------------------- feedback


class OverrideReason(BaseModel):
    model_config = ConfigDict(extra="allow")

    reason: dict[str, Any] | None = None
    userComment: str | None = Field(default=None, max_length=2000)


class CardFeedback(BaseModel):
    model_config = ConfigDict(extra="allow")

    card: str = Field(min_length=1, max_length=36)
    outcome: Literal["accepted", "overridden"]
    outcomeTimestamp: dt.datetime
    overrideReason: OverrideReason | None = None


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    feedback: list[CardFeedback] = Field(min_length=1, max_length=100)


def record_feedback(
    store: Store, svc: Service, body: Any, caller_iss: str | None, now: dt.datetime
) -> int:
    """Save what the clinician did with our cards; a card we did not issue is not found."""
    try:
        parsed = FeedbackRequest.model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise BadInputError(f"not CDS Hooks feedback: {where}: {first['msg']}") from None
    with store.session() as session:
        for item in parsed.feedback:
            issued = rows.card(session, item.card)
            if issued is None or issued.service_id != svc.id:
                raise NotFoundError(f"the service {svc.id} issued no card {item.card!r}")
            reason = item.overrideReason
            coding = reason.reason if reason and reason.reason else None
            at = item.outcomeTimestamp
            rows.add_feedback(session, rows.Feedback(
                card_uuid=item.card, service_id=svc.id, sheet_code=issued.sheet_code,
                client_iss=caller_iss, outcome=item.outcome,
                override_reason=str(coding.get("code") or coding.get("display"))[:200]
                if coding else None,
                user_comment=reason.userComment if reason else None,
                outcome_at=at if at.tzinfo else at.replace(tzinfo=dt.UTC),
            ), now)
    return len(parsed.feedback)
