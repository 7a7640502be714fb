"""FHIR R4 read endpoints for sheets, JSON as ``application/fhir+json``; errors as
OperationOutcome. A resource id is the sheet code, or code-language for a translation
(``P586``, ``P586-es``). ``/fhir/Bundle/{id}`` returns all three resources of a sheet.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from caresheet import outputs
from caresheet.errors import NotFoundError
from caresheet.render import fhir
from caresheet.store import sheets as stored_sheets
from caresheet.store.db import Store
from caresheet.web.deps import get_store
from caresheet.web.errors import register_renderer

router = APIRouter(prefix="/fhir", tags=["fhir"])
MEDIA_TYPE = "application/fhir+json"
ISSUE_CODES = {400: "invalid", 404: "not-found", 405: "not-supported", 410: "deleted",
               422: "invalid", 429: "throttled", 503: "transient"}
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The id is not valid (OperationOutcome)", "content": {MEDIA_TYPE: {}}},
    404: {"description": "No sheet with this id (OperationOutcome)", "content": {MEDIA_TYPE: {}}},
}
StoreDep = Annotated[Store, Depends(get_store)]
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
    return f"{str(request.base_url).rstrip('/')}/fhir"


def _sheet(store: Store, resource_id: str) -> outputs.Found:
    code, _, lang = resource_id.partition("-")
    with store.session(write=False) as session:
        stored = stored_sheets.current(session, code, lang or "en")
    if not lang and stored.language != "en":  # pragma: no cover - current() keeps the language
        raise NotFoundError(f"no sheet {resource_id}")
    return outputs.Found(stored, stored.language, None)


@router.get("/metadata", response_class=FhirResponse, summary="CapabilityStatement")
def metadata(request: Request) -> FhirResponse:
    return FhirResponse(fhir.capability_statement(base_url(request)))


@router.get("/PlanDefinition/{resource_id}", response_class=FhirResponse, responses=ERRORS)
def plan_definition(request: Request, resource_id: ResourceId, store: StoreDep) -> FhirResponse:
    found = _sheet(store, resource_id)
    return FhirResponse(fhir.plan_definition(found.sheet, base=base_url(request)))


@router.get("/Questionnaire/{resource_id}", response_class=FhirResponse, responses=ERRORS)
def questionnaire(request: Request, resource_id: ResourceId, store: StoreDep) -> FhirResponse:
    found = _sheet(store, resource_id)
    return FhirResponse(fhir.questionnaire(found.sheet, base=base_url(request)))


def _rendered(request: Request, found: outputs.Found) -> tuple[str, bytes]:
    from caresheet.render.pdf import html_to_pdf

    public = f"{str(request.base_url).rstrip('/')}/sheets/{found.sheet.code}"
    if found.sheet.language != "en":
        public += f"?lang={found.sheet.language}"
    html = outputs.print_html(found, {}, outputs.Options(qr_url=public))
    return html, html_to_pdf(html)


@router.get("/DocumentReference/{resource_id}", response_class=FhirResponse, responses=ERRORS)
def document_reference(request: Request, resource_id: ResourceId, store: StoreDep) -> FhirResponse:
    found = _sheet(store, resource_id)
    html, pdf = _rendered(request, found)
    return FhirResponse(fhir.document_reference(found.sheet, html, pdf, base_url(request)))


@router.get("/Bundle/{resource_id}", response_class=FhirResponse, responses=ERRORS)
def bundle(request: Request, resource_id: ResourceId, store: StoreDep) -> FhirResponse:
    """PlanDefinition, Questionnaire and DocumentReference of one sheet (type collection)."""
    lookup = resource_id.removesuffix("-bundle")
    found = _sheet(store, lookup)
    html, pdf = _rendered(request, found)
    return FhirResponse(fhir.bundle(found.sheet, html, pdf, None, base_url(request)))
