"""The CDS Hooks 2.0 endpoints: discovery, one POST per service, and feedback on the cards.

Every call but discovery carries a JWT the EHR signed (see ``caresheet.ehr.clients``); its
``aud`` is the service's URL (the discovery URL is accepted too, as several EHRs send it).
With ``CARESHEET_CDS_ALLOW_ANONYMOUS=true`` a call without a token is served: a test install
only. Errors are ``{"error": {"code", "message"}}`` JSON, as under ``/api/``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Request
from fastapi.responses import JSONResponse, Response

from caresheet import config
from caresheet.ehr import cds_hooks, clients
from caresheet.ehr.jwks import KeySets
from caresheet.store.db import Store
from caresheet.web.deps import StoreDep
from caresheet.web.errors import error_body, register_renderer

router = APIRouter(prefix="/cds-services", tags=["cds-hooks"])
ServiceId = Annotated[str, Path(pattern=r"^[A-Za-z0-9\-]{1,64}$")]
# One cache of client key sets per process; keys are public, a restart only refetches them.
KEYS = KeySets()


def _error(request: Request, status: int, code: str, message: str) -> Response:
    return JSONResponse(error_body(code, message), status_code=status)


register_renderer("/cds-services", _error)


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    words = {400: "Not a CDS Hooks request", 401: "No valid signed JWT",
             404: "No such service or card", 412: "A needed prefetch is missing and there is "
             "no fhirServer", 502: "The EHR's FHIR server failed"}
    return {s: {"description": words[s]} for s in statuses}


def site_url(request: Request) -> str:
    """The address outsiders use: CARESHEET_BASE_URL behind a proxy, else the request's."""
    return config.site_url(str(request.base_url))


def caller(request: Request, store: Store, audiences: list[str]) -> clients.Caller:
    """Check the request's JWT (blocking: the routes are plain functions, run in a thread)."""
    return clients.authenticate(
        store, KEYS, request.headers.get("authorization"), audiences,
        dt.datetime.now(dt.UTC), allow_anonymous=config.cds_allow_anonymous(),
    )


@router.get("", summary="CDS Hooks discovery")
def discovery() -> dict[str, Any]:
    return cds_hooks.discovery()


@router.post("/{service_id}", summary="Call a CDS service", responses=_errors(400, 401, 404,
                                                                             412, 502))
def call_service(
    request: Request, service_id: ServiceId, store: StoreDep,
    body: Annotated[dict[str, Any], Body()],
) -> dict[str, Any]:
    base = site_url(request)
    # Who is calling first: an anonymous caller learns nothing, not even which ids exist.
    who = caller(request, store, [f"{base}/cds-services/{service_id}", f"{base}/cds-services"])
    svc = cds_hooks.service(service_id)
    hook_request = cds_hooks.parse_request(body)
    return cds_hooks.answer(store, svc, hook_request, base, who.iss, dt.datetime.now(dt.UTC))


@router.post("/{service_id}/feedback", summary="Feedback on a service's cards",
             responses=_errors(400, 401, 404))
def feedback(
    request: Request, service_id: ServiceId, store: StoreDep,
    body: Annotated[dict[str, Any], Body()],
) -> dict[str, Any]:
    base = site_url(request)
    service_url = f"{base}/cds-services/{service_id}"
    who = caller(request, store, [f"{service_url}/feedback", service_url, f"{base}/cds-services"])
    svc = cds_hooks.service(service_id)
    saved = cds_hooks.record_feedback(store, svc, body, who.iss, dt.datetime.now(dt.UTC))
    return {"recorded": saved}
