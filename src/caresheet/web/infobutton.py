"""``GET /infobutton``: a drop-in for MedlinePlus Connect (see DESIGN.md and the README).

A code in a known system finds the sheets that carry it; words in
``mainSearchCriteria.v.dn`` are a fallback, through the search module. Spanish asked and not
written yet: the English sheet is listed, with ``hreflang="en"``. Errors are 400 in the
format asked for, never a 500.
"""

from __future__ import annotations

import datetime as dt
import json

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from caresheet import outputs, search
from caresheet.config import site_url
from caresheet.errors import NotFoundError
from caresheet.render import infobutton as ib
from caresheet.store.sheets import StoredSheet
from caresheet.web.deps import StoreDep
from caresheet.web.errors import register_renderer

router = APIRouter(tags=["infobutton"])
XML = "application/atom+xml; charset=utf-8"
JSON = "application/json"
TEXT_LIMIT = 5


def _error(request: Request, status: int, code: str, message: str) -> Response:
    if ib.response_kind(request.query_params) == "json":
        body = json.dumps({"error": {"code": code, "message": message}}).encode()
        return Response(body, status_code=status, media_type=JSON)
    return Response(ib.error_xml(code, message), status_code=status, media_type="application/xml")


register_renderer("/infobutton", _error)


@router.get(
    "/infobutton",
    response_class=Response,
    summary="HL7 Infobutton knowledge request (MedlinePlus Connect parameters)",
    responses={
        200: {"content": {"application/atom+xml": {}, JSON: {}}},
        400: {"description": "Missing code, unknown code system or option (in the asked format)"},
    },
)
def knowledge_request(request: Request, store: StoreDep) -> Response:
    asked = ib.parse_request(request.query_params)
    base = site_url(str(request.base_url))
    with store.session(write=False) as session:
        matches = [_match(s, base) for s in find_sheets(session, asked)]
    document = ib.feed(asked, matches, base, dt.datetime.now(dt.UTC))
    if asked.response == "json":
        return Response(json.dumps(document, ensure_ascii=False).encode(), media_type=JSON)
    return Response(ib.to_xml(document), media_type=XML)


def _match(stored: StoredSheet, base: str) -> ib.Match:
    url = f"{base}/sheets/{stored.code}"
    if stored.language != "en":
        url += f"?lang={stored.language}"
    return ib.Match(stored.sheet, url, stored.imported_at)


def find_sheets(session: Session, asked: ib.KnowledgeRequest) -> list[StoredSheet]:
    """Sheets with the code (from the search index), else those the words find; each in the
    asked language where we have it, else in English (``outputs.find``'s one fallback)."""
    codes: list[str] = []
    if asked.system is not None and asked.code is not None:
        codes = [s.code for s in search.by_clinical_code(session, asked.system.name, asked.code)]
    if not codes and asked.display:
        hits = search.search(session, asked.display, asked.language, limit=TEXT_LIMIT).hits
        codes = list(dict.fromkeys(hit.code for hit in hits))
    found: list[StoredSheet] = []
    for code in codes:
        try:
            found.append(outputs.find(session, code, asked.language).stored)
        except NotFoundError:  # indexed in another language only, or retired since
            continue
    return found
