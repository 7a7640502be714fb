"""``GET /infobutton``: a drop-in for MedlinePlus Connect (see DESIGN.md and the README).

A code in a known system finds the sheets that carry it; words in
``mainSearchCriteria.v.dn`` are a fallback, through the search module. Spanish asked and not
written yet: the English sheet is listed, with ``hreflang="en"``. Errors are 400 in the
format asked for, never a 500.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from caresheet.errors import NotFoundError
from caresheet.render import infobutton as ib
from caresheet.store import sheets as stored_sheets
from caresheet.store.db import Store
from caresheet.store.sheets import StoredSheet
from caresheet.web.deps import get_store
from caresheet.web.errors import register_renderer

router = APIRouter(tags=["infobutton"])
XML = "application/atom+xml; charset=utf-8"
JSON = "application/json"
TEXT_LIMIT = 5
StoreDep = Annotated[Store, Depends(get_store)]


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
    base = str(request.base_url).rstrip("/")
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
    """Sheets with the code, else those the words find; in the asked language where we can."""
    found: list[StoredSheet] = []
    if asked.system is not None and asked.code is not None:
        system, code = asked.system, asked.code
        english = [
            s
            for s in stored_sheets.list_current(session, "en")
            if ib.has_code(s.sheet, system, code)
        ]
        found = [_in_language(session, s, asked.language) for s in english]
    if not found and asked.display:
        found = _by_words(session, asked.display, asked.language)
    return found


def _in_language(session: Session, english: StoredSheet, language: str) -> StoredSheet:
    if language == "en":
        return english
    try:
        return stored_sheets.current(session, english.code, language)
    except NotFoundError:  # no translation yet, or it is retired: show English
        return english


def _by_words(session: Session, words: str, language: str) -> list[StoredSheet]:
    try:
        from caresheet import search
    except ImportError:  # pragma: no cover - the search module ships with caresheet
        return _by_title(session, words, language)
    results: Any = search.search(session, words, language, limit=TEXT_LIMIT)
    seen: set[str] = set()
    found: list[StoredSheet] = []
    for hit in results.hits:
        if hit.code in seen:
            continue
        seen.add(hit.code)
        found.append(
            _in_language(session, stored_sheets.current(session, hit.code, "en"), language)
        )
    return found


def _by_title(session: Session, words: str, language: str) -> list[StoredSheet]:
    wanted = words.casefold()
    return [
        _in_language(session, s, language)
        for s in stored_sheets.list_current(session, "en")
        if wanted in {s.sheet.title.casefold(), *(a.casefold() for a in s.sheet.aliases)}
    ]
