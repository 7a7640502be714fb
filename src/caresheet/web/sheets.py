"""A sheet's public pages: ``/sheets/{code}`` (screen), ``.pdf`` and ``.txt``.

Personalization comes in the query string (``?lie_flat_hours=2&clinic_phone=555-0100``),
filled in by the form on the page itself, so it works without JavaScript and a printed QR
code brings the reader back to the same filled-in sheet. ``?lang=es`` picks the language
(falling back to English with a notice) and ``?large=1`` large print.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, Response

from caresheet import outputs
from caresheet.model import personalize
from caresheet.render.html import render_page, sheet_links, sheet_page
from caresheet.store.db import Store
from caresheet.web.deps import chrome_for, get_store, page_language

router = APIRouter()

# Query keys that are options, not the sheet's params.
OPTION_KEYS = {"lang", "large", "paper"}
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "A param, format or option is not valid (the message says which)."},
    404: {"description": "No sheet has this code."},
}
StoreDep = Annotated[Store, Depends(get_store)]
Code = Annotated[str, Path(pattern=r"^[A-Za-z][A-Za-z0-9]{1,15}$", description="e.g. P586")]


def _params(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items() if k not in OPTION_KEYS}


def _large(request: Request) -> bool:
    return request.query_params.get("large", "").lower() in {"1", "true", "yes", "on"}


def public_url(request: Request, code: str, values: dict[str, str], lang: str) -> str:
    """The screen page's address with these params: what the QR code on paper opens."""
    query = {**values, **({"lang": lang} if lang != "en" else {})}
    suffix = f"?{urlencode(query)}" if query else ""
    return f"{str(request.base_url).rstrip('/')}/sheets/{code.upper()}{suffix}"


def _options(request: Request, code: str, values: dict[str, str], lang: str) -> outputs.Options:
    return outputs.Options(
        lang=lang,
        large=_large(request),
        paper=request.query_params.get("paper", "letter"),
        qr_url=public_url(request, code, values, lang),
    )


@router.get(
    "/sheets/{code}.pdf",
    response_class=Response,
    responses=ERRORS,
    summary="A sheet as PDF (Letter; ?paper=a4, ?large=1, params in the query)",
)
def sheet_pdf(request: Request, code: Code, store: StoreDep) -> Response:
    return _render(request, code, store, "pdf")


@router.get(
    "/sheets/{code}.txt",
    response_class=Response,
    responses=ERRORS,
    summary="A sheet as plain text, 72 columns",
)
def sheet_text(request: Request, code: Code, store: StoreDep) -> Response:
    return _render(request, code, store, "text")


def _render(request: Request, code: str, store: Store, fmt: outputs.Format) -> Response:
    lang = page_language(request)
    raw = _params(request)
    with store.session(write=False) as session:
        found = outputs.find(session, code, lang)
        values = personalize.check(found.sheet, raw)
        body = outputs.render(found, fmt, values, _options(request, code, values, lang))
    headers = {"Content-Language": found.sheet.language}
    if fmt == "pdf":
        suffix = "-large" if _large(request) else ""
        headers["Content-Disposition"] = f'inline; filename="{found.sheet.code}{suffix}.pdf"'
    return Response(body, media_type=outputs.MEDIA_TYPES[fmt], headers=headers)


@router.get(
    "/sheets/{code}",
    response_class=HTMLResponse,
    responses=ERRORS,
    summary="A sheet's page, with a form to fill it in for a patient",
)
def sheet_html(request: Request, code: Code, store: StoreDep) -> HTMLResponse:
    lang = page_language(request)
    raw = _params(request)
    large = _large(request)
    with store.session(write=False) as session:
        found = outputs.find(session, code, lang)
        values = personalize.check(found.sheet, raw)
    sheet = found.sheet
    page = sheet_page(
        sheet,
        values,
        lang=lang,
        large=large,
        notice=found.notice,
        qr_url=public_url(request, sheet.code, values, lang),
        links=sheet_links(sheet.code, values, lang, large),
    )
    html = render_page(page, {"chrome_for": chrome_for})
    return HTMLResponse(html, headers={"Content-Language": lang})
