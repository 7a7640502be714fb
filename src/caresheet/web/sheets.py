"""A sheet's public pages: ``/sheets/{code}`` (screen), ``.pdf`` and ``.txt``.

Personalization comes in the query string (``?lie_flat_hours=2&clinic_phone=555-0100``),
filled in by the form on the page itself, so it works without JavaScript and a printed QR
code brings the reader back to the same filled-in sheet. ``?lang=es`` picks the language
(falling back to English with a notice) and ``?large=1`` large print.

Every form comes from ``outputs.Cache`` (made once by any process, then served from the shared
table) with a strong ``ETag``; a matching ``If-None-Match`` gets a 304 and no body. These pages
hold no patient data (params are a clinician's choices, not a person), so a proxy may keep
them for a few minutes: ``Cache-Control: public, max-age=300``.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from caresheet import config, outputs
from caresheet.config import site_url
from caresheet.store.db import Store
from caresheet.web.deps import StoreDep, get_outputs, page_language

router = APIRouter()

# Query keys that are options, not the sheet's params.
OPTION_KEYS = {"lang", "large", "paper"}
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "A param, format or option is not valid (the message says which)."},
    404: {"description": "No sheet has this code."},
}
# A sheet's public forms change only with a new version; a proxy may keep them briefly.
PUBLIC_CACHE = "public, max-age=300"
Code = Annotated[str, Path(pattern=r"^[A-Za-z][A-Za-z0-9]{1,15}$", description="e.g. P586")]


def _params(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items() if k not in OPTION_KEYS}


def _large(request: Request) -> bool:
    return config.is_true(request.query_params.get("large"))


def public_url(request: Request, code: str, values: dict[str, str], lang: str) -> str:
    """The screen page's address with these params: what the QR code on paper opens."""
    filled = {name: value.strip() for name, value in values.items() if value.strip()}
    query = {**filled, **({"lang": lang} if lang != "en" else {})}
    suffix = f"?{urlencode(query)}" if query else ""
    return f"{site_url(str(request.base_url))}/sheets/{code.upper()}{suffix}"


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
    rendition: outputs.Rendition = "pdf" if fmt == "pdf" else "text"
    output = _output(request, code, rendition)
    headers = {}
    if fmt == "pdf":
        suffix = "-large" if _large(request) else ""
        headers["Content-Disposition"] = f'inline; filename="{output.code}{suffix}.pdf"'
    return cached_response(request, output, headers)


def _output(request: Request, code: str, rendition: outputs.Rendition) -> outputs.Output:
    """One rendition from the app's cache (made now, in the PDF pool for a PDF, if new)."""
    lang = page_language(request)
    raw = _params(request)
    wanted = outputs.Wanted(code, rendition, raw, _options(request, code, raw, lang))
    return get_outputs(request).get_or_render(wanted, lang)


def etag_matches(request: Request, etag: str) -> bool:
    """Whether If-None-Match names ``etag`` (weak comparison, as RFC 9110 says for it)."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in tags or etag in tags


def cached_response(request: Request, output: outputs.Output,
                    headers: dict[str, str] | None = None,
                    cache_control: str = PUBLIC_CACHE) -> Response:
    """The output with its validator, or 304 when the client already holds these bytes."""
    common = {
        "ETag": output.etag,
        "Cache-Control": cache_control,
        # Without ?lang= the language comes from Accept-Language: a shared cache must key by it.
        "Vary": "Accept-Language",
        "Content-Language": output.language,
    }
    if etag_matches(request, output.etag):
        return Response(status_code=304, headers=common)
    return Response(output.body, media_type=output.media_type,
                    headers={**common, **(headers or {})})


@router.get(
    "/sheets/{code}",
    response_class=HTMLResponse,
    responses=ERRORS,
    summary="A sheet's page, with a form to fill it in for a patient",
)
def sheet_html(request: Request, code: Code, store: StoreDep) -> Response:
    return cached_response(request, _output(request, code, "page"))
