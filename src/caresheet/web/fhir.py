"""FHIR R4 endpoints, JSON as ``application/fhir+json``; errors as OperationOutcome.

Sheets: read by id (the sheet code, or code-language for a translation: ``P586``,
``P586-es``); ``/fhir/Bundle/{id}`` returns all three resources of a sheet; PlanDefinition,
Questionnaire and DocumentReference are searchable (``caresheet.render.fhir_search``).

Check-ins: ``QuestionnaireResponse`` (read, and search by ``handout``) carry what a patient
reported, so they need a credential, never anonymous: one of ``READERS`` must name the caller.
Today a care-team login (clinician or admin) or a bearer JWT signed by a registered CDS client
with ``aud`` the FHIR base; the API tokens of issue 13 join as one more reader.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from caresheet import guide, outputs
from caresheet.ehr import clients, smart
from caresheet.errors import (
    AuthenticationError,
    BadInputError,
    SmartLaunchError,
)
from caresheet.render import fhir, fhir_search
from caresheet.store import sheets as stored_sheets
from caresheet.store.db import Store
from caresheet.store.handouts import Checkin, Handout
from caresheet.store.sheets import StoredSheet
from caresheet.team import handouts as team_handouts
from caresheet.team import tokens
from caresheet.team.accounts import Role, User
from caresheet.web.cds_hooks import KEYS, site_url
from caresheet.web.client import client_ip
from caresheet.web.deps import StoreDep, get_outputs
from caresheet.web.errors import register_renderer
from caresheet.web.security import current_login
from caresheet.web.sheets import cached_response
from caresheet.web.smart import COOKIE as SMART_COOKIE

router = APIRouter(prefix="/fhir", tags=["fhir"])
MEDIA_TYPE = "application/fhir+json"
ISSUE_CODES = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found",
               405: "not-supported", 410: "deleted", 422: "invalid", 429: "throttled",
               503: "transient"}
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The id is not valid (OperationOutcome)", "content": {MEDIA_TYPE: {}}},
    404: {"description": "No sheet with this id (OperationOutcome)", "content": {MEDIA_TYPE: {}}},
}
ResourceId = Annotated[
    str, Path(pattern=r"^[A-Za-z0-9\-\.]{1,64}$", description="P586, or P586-es for Spanish")
]


class FhirResponse(Response):
    media_type = MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, indent=2).encode("utf-8")


def _outcome(request: Request, status: int, code: str, message: str) -> Response:
    issue = ISSUE_CODES.get(status, "exception")
    return FhirResponse(fhir.operation_outcome(issue, message), status_code=status)


register_renderer("/fhir/", _outcome)
register_renderer("/fhir", _outcome)


def base_url(request: Request) -> str:
    return f"{site_url(request)}/fhir"


def _resource(request: Request, resource_id: str, rendition: outputs.Rendition) -> Response:
    """One sheet resource from the rendered-output cache, with its validator (304 when held).

    The id names one language exactly (``P586``, ``P586-es``): no fallback to English.
    """
    code, _, lang = resource_id.partition("-")
    lang = lang or "en"
    public = f"{site_url(request)}/sheets/{code.upper()}"
    if lang != "en":
        public += f"?lang={lang}"
    options = outputs.Options(qr_url=public, fhir_base=base_url(request))
    wanted = outputs.Wanted(code, rendition, {}, options, fallback=False)
    output = get_outputs(request).get_or_render(wanted, lang)
    return cached_response(request, output)


@router.get("/metadata", response_class=FhirResponse, summary="CapabilityStatement")
def metadata(request: Request) -> FhirResponse:
    return FhirResponse(fhir.capability_statement(base_url(request)))


@router.get("/PlanDefinition/{resource_id}", response_class=FhirResponse, responses=ERRORS)
def plan_definition(request: Request, resource_id: ResourceId) -> Response:
    return _resource(request, resource_id, "fhir-plan")


@router.get("/Questionnaire/{resource_id}", response_class=FhirResponse, responses=ERRORS)
def questionnaire(request: Request, resource_id: ResourceId) -> Response:
    return _resource(request, resource_id, "fhir-questionnaire")


@router.get("/DocumentReference/{resource_id}", response_class=FhirResponse, responses=ERRORS)
def document_reference(request: Request, resource_id: ResourceId) -> Response:
    return _resource(request, resource_id, "fhir-document")


@router.get("/Bundle/{resource_id}", response_class=FhirResponse, responses=ERRORS)
def bundle(request: Request, resource_id: ResourceId) -> Response:
    """PlanDefinition, Questionnaire and DocumentReference of one sheet (type collection)."""
    return _resource(request, resource_id.removesuffix("-bundle"), "fhir-bundle")


# ---------------------------------------------------------------- search

SEARCH_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "An unknown or malformed search parameter (OperationOutcome)",
          "content": {MEDIA_TYPE: {}}},
}


def _current(store: Store) -> list[StoredSheet]:
    with store.session(write=False) as session:
        return stored_sheets.list_current(session)


def _sheet_pages(request: Request, stored: StoredSheet) -> tuple[str, str]:
    page = f"{site_url(request)}/sheets/{stored.code}"
    language = "" if stored.language == "en" else f"?lang={stored.language}"
    return f"{page}.pdf{language}", f"{page}{language}"


def _resource_of(request: Request, kind: str, stored: StoredSheet) -> fhir.Resource:
    base = base_url(request)
    if kind == "PlanDefinition":
        resource = fhir.plan_definition(stored.sheet, base=base)
    elif kind == "Questionnaire":
        resource = fhir.questionnaire(stored.sheet, base=base)
    else:
        pdf, html = _sheet_pages(request, stored)
        resource = fhir.document_reference_by_url(stored.sheet, pdf, html, base)
    return fhir.stamped(resource, stored.imported_at)


def _search(request: Request, store: Store, kind: str) -> FhirResponse:
    query = fhir_search.parse(kind, request.query_params.multi_items())
    resources = [_resource_of(request, kind, s) for s in _current(store)]
    matched = sorted((r for r in resources if query.matches(r)), key=lambda r: str(r["id"]))
    return FhirResponse(fhir_search.searchset(query, matched, base_url(request)))


@router.get("/PlanDefinition", response_class=FhirResponse, responses=SEARCH_ERRORS,
            summary="Search PlanDefinitions (identifier, topic, context, title, _lastUpdated)")
def search_plan_definitions(request: Request, store: StoreDep) -> FhirResponse:
    return _search(request, store, "PlanDefinition")


@router.get("/Questionnaire", response_class=FhirResponse, responses=SEARCH_ERRORS,
            summary="Search Questionnaires (identifier, code, context, title, _lastUpdated)")
def search_questionnaires(request: Request, store: StoreDep) -> FhirResponse:
    return _search(request, store, "Questionnaire")


@router.get("/DocumentReference", response_class=FhirResponse, responses=SEARCH_ERRORS,
            summary="Search DocumentReferences (identifier, event, description, _lastUpdated)")
def search_document_references(request: Request, store: StoreDep) -> FhirResponse:
    return _search(request, store, "DocumentReference")


# ---------------------------------------------------------------- check-ins

Reader = Callable[[Request, Store], Awaitable[str | None]]
_JWT = re.compile(r"^[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+$")


async def _smart_bearer(request: Request, store: Store) -> str | None:
    """An access token from a registered SMART EHR's authorization server, for this FHIR
    base; None when the bearer is not a JWT or not a SMART EHR's (the CDS reader is next)."""
    header = request.headers.get("authorization", "")
    token = header.partition(" ")[2].strip()
    if not header.lower().startswith("bearer ") or not _JWT.match(token):
        return None
    return await run_in_threadpool(smart.bearer_reader, store, token, base_url(request))


async def _signed_jwt(request: Request, store: Store) -> str | None:
    """A CDS client's JWT (as CDS Hooks signs it) with ``aud`` the FHIR base; None if absent.

    A bearer that is not a JWT is left for another reader (an API token)."""
    header = request.headers.get("authorization", "")
    token = header.partition(" ")[2].strip()
    if not header.lower().startswith("bearer ") or not _JWT.match(token):
        return None
    caller = await run_in_threadpool(
        clients.authenticate, store, KEYS, header, [base_url(request)], dt.datetime.now(dt.UTC)
    )
    return caller.actor


async def _api_token(request: Request, store: Store) -> str | None:
    """A system's API token (``caresheet token add``): a bearer that is not a JWT. None when it
    names no token; a revoked token is refused (403), as on every ``/api/`` route."""
    header = request.headers.get("authorization", "")
    token = header.partition(" ")[2].strip()
    if not header.lower().startswith("bearer ") or _JWT.match(token):
        return None

    def look_up() -> User | None:
        with store.session(write=False) as session:
            return tokens.resolve(session, token)

    user = await run_in_threadpool(look_up)
    if user is None:
        return None
    if user.role not in (Role.CLINICIAN, Role.ADMIN):
        raise HTTPException(403, "Reading check-ins needs a clinician or admin token.")
    return user.actor


async def _care_team(request: Request, store: Store) -> str | None:
    """A logged-in clinician or admin (the session cookie); None when nobody is logged in."""
    login = await current_login(request)
    if login is None:
        return None
    if login.user.role not in (Role.CLINICIAN, Role.ADMIN):
        raise HTTPException(403, "Reading check-ins needs the clinician or admin role.")
    return login.user.actor


async def _smart_launch(request: Request, store: Store) -> str | None:
    """A clinician inside an EHR: the SMART launch's server-side session (its cookie); None
    when there is no live, authorized launch."""
    cookie = request.cookies.get(SMART_COOKIE)
    if not cookie:
        return None
    try:
        _launch, ehr, user = await run_in_threadpool(
            smart.current, store, cookie, dt.datetime.now(dt.UTC))
    except SmartLaunchError:
        return None
    return f"{user.actor} (smart:{ehr.name})"


# The ways a caller may prove who they are, tried in order; the first that names one wins.
READERS: tuple[Reader, ...] = (
    _smart_bearer, _signed_jwt, _api_token, _care_team, _smart_launch)


async def check_in_reader(request: Request, store: StoreDep) -> str:
    """The actor reading check-ins (for the audit log); 401 without a credential."""
    for reader in READERS:
        actor = await reader(request, store)
        if actor is not None:
            return actor
    raise AuthenticationError(
        "check-ins need a credential: a care-team login, a SMART launch, an API token or a "
        "signed bearer JWT"
    )


ReaderDep = Annotated[str, Depends(check_in_reader)]
READ_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS, 401: {"description": "No credential (OperationOutcome)",
                    "content": {MEDIA_TYPE: {}}},
    403: {"description": "A role that may not read check-ins", "content": {MEDIA_TYPE: {}}},
}


def _response(request: Request, store: Store, handout: Handout, checkin: Checkin) -> fhir.Resource:
    with store.session(write=False) as session:
        sheet = guide.pinned_sheet(store, session, handout)
    return fhir.questionnaire_response(
        sheet, checkin.answers, response_id=str(checkin.id), authored=checkin.created_at,
        elapsed_hours=checkin.elapsed_hours, handout_id=handout.id, base=base_url(request),
    )


@router.get("/QuestionnaireResponse/{response_id}", response_class=FhirResponse,
            responses=READ_ERRORS, summary="A check-in (needs a credential)")
def read_checkin(
    request: Request, response_id: Annotated[str, Path(pattern=r"^[0-9]{1,18}$")],
    store: StoreDep, actor: ReaderDep,
) -> FhirResponse:
    now = dt.datetime.now(dt.UTC)
    with store.session() as session:
        handout, checkin = team_handouts.checkin_read_by(
            session, int(response_id), actor, client_ip(request), now)
    return FhirResponse(_response(request, store, handout, checkin))


@router.get("/QuestionnaireResponse", response_class=FhirResponse, responses=READ_ERRORS,
            summary="A handout's check-ins, newest first (needs a credential)")
def search_checkins(request: Request, store: StoreDep, actor: ReaderDep) -> FhirResponse:
    pairs = [(k, v) for k, v in request.query_params.multi_items() if k not in ("_format",)]
    handout_ids = [v for k, v in pairs if k == "handout"]
    unknown = sorted({k for k, _ in pairs} - {"handout", "_count", "_offset"})
    if unknown or len(handout_ids) != 1 or not re.fullmatch(r"[0-9]{1,18}", handout_ids[0]):
        raise BadInputError("search check-ins with exactly one handout=<number> "
                            "(and _count, _offset)")
    paging = fhir_search.parse("PlanDefinition", [(k, v) for k, v in pairs if k != "handout"])
    query = fhir_search.Query("QuestionnaireResponse", (), paging.count, paging.offset, ())
    with store.session() as session:
        handout, checkins, _total = team_handouts.checkins_read_by(
            session, int(handout_ids[0]), actor, client_ip(request), dt.datetime.now(dt.UTC),
            limit=10_000, offset=0)
    resources = [_response(request, store, handout, c) for c in checkins]
    return FhirResponse(fhir_search.searchset(query, resources, base_url(request),
                                              extra=[("handout", handout_ids[0])]))
