"""The one place where an error becomes an HTTP response.

    BadInputError            -> 400
    AnswerError              -> 422 (answers a check cannot use, each finding named)
    NotFoundError            -> 404, HandoutGoneError -> 410; under /h/ the kind patient page
    AuthenticationError      -> 401 (with WWW-Authenticate: Bearer)
    PrefetchMissingError     -> 412 (CDS Hooks: the EHR must send the prefetch or a fhirServer)
    FhirServerError          -> 502 (the EHR's FHIR server failed us)
    StoreUnavailableError    -> 503 (the database is down: try again soon; never its details)
    RequestValidationError   -> 422 under /api/, a 400 page elsewhere (a person typed the URL)
    HTTPException            -> its own status (unknown route 404, wrong method 405, ...)
    anything else            -> 500, with no traceback and no exception text

Under ``/api/`` the body is always ``{"error": {"code": "...", "message": "..."}}``; elsewhere it
is the HTML error page, which keeps the 911 line like every page. Another prefix can ask for its
own body shape (FHIR's OperationOutcome) with ``register_renderer``; the status stays ours.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from caresheet.errors import (
    AnswerError,
    AuthenticationError,
    BadInputError,
    FhirServerError,
    HandoutGoneError,
    NotFoundError,
    PrefetchMissingError,
)
from caresheet.store.db import StoreUnavailableError
from caresheet.web.deps import page_context, page_language, templates
from caresheet.web.guide import link_ended_page

Renderer = Callable[[Request, int, str, str], Response]

API_PREFIX = "/api/"
PATIENT_PREFIX = "/h/"  # a patient's private link: an unknown or ended one gets the kind page
_RENDERERS: dict[str, Renderer] = {}

INTERNAL_MESSAGE = "Something went wrong on our side. Please try again in a moment."


def register_renderer(prefix: str, renderer: Renderer) -> None:
    """Render errors under ``prefix`` with ``renderer(request, status, code, message)``."""
    _RENDERERS[prefix] = renderer


def error_code(status: int) -> str:
    """A short snake_case code for a status: 404 -> ``not_found``."""
    special = {400: "bad_input", 422: "invalid_request", 500: "internal_error"}
    if status in special:
        return special[status]
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    """The JSON error shape used everywhere under /api/."""
    return {"error": {"code": code, "message": message}}


def error_response(request: Request, status: int, code: str, message: str) -> Response:
    """The response for an error: JSON under /api/, a registered shape, or the HTML page."""
    path = request.url.path
    for prefix, renderer in _RENDERERS.items():
        if path.startswith(prefix):
            return renderer(request, status, code, message)
    if path.startswith(API_PREFIX):
        return JSONResponse(error_body(code, message), status_code=status)
    language = page_language(request)
    return templates.TemplateResponse(
        request,
        "public/error.html",
        page_context(request, language, status=status, code=code, message=message),
        status_code=status,
    )


def validation_message(errors: Any) -> str:
    """The first problem of a validation error, as one line: ``query q: Field required``."""
    for error in errors:
        where = " ".join(str(part) for part in error.get("loc", ()))
        return f"{where}: {error.get('msg', 'is not valid')}".strip(": ")
    return "the request is not valid"


async def _bad_input(request: Request, exc: Exception) -> Response:
    return error_response(request, 400, "bad_input", str(exc))


async def _unauthenticated(request: Request, exc: Exception) -> Response:
    response = error_response(request, 401, "unauthorized", str(exc))
    response.headers["WWW-Authenticate"] = 'Bearer realm="caresheet"'
    return response


async def _precondition(request: Request, exc: Exception) -> Response:
    return error_response(request, 412, "precondition_failed", str(exc))


async def _bad_gateway(request: Request, exc: Exception) -> Response:
    return error_response(request, 502, "bad_gateway", str(exc))


async def _not_found(request: Request, exc: Exception) -> Response:
    status = 410 if isinstance(exc, HandoutGoneError) else 404
    if request.url.path.startswith(PATIENT_PREFIX):
        return link_ended_page(request, gone=status == 410)
    return error_response(request, status, error_code(status), str(exc) or "Not found.")


async def _bad_answers(request: Request, exc: Exception) -> Response:
    return error_response(request, 422, "bad_answer", str(exc))


async def _invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    message = validation_message(exc.errors())
    if request.url.path.startswith(API_PREFIX):
        return error_response(request, 422, "invalid_request", message)
    return error_response(request, 400, "bad_input", message)


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    default = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    message = exc.detail if isinstance(exc.detail, str) else default
    if status == 404 and message == "Not Found":
        message = "There is no page at this address."
    response = error_response(request, status, error_code(status), message)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


UNAVAILABLE_MESSAGE = (
    "This service is not working right now. Please try again in a few minutes. "
    "If you need care now, call your clinic."
)


async def _unavailable(request: Request, exc: Exception) -> Response:
    # The error's own text names the database; a patient needs only what to do now.
    response = error_response(request, 503, "service_unavailable", UNAVAILABLE_MESSAGE)
    response.headers["Retry-After"] = "60"
    return response


async def _internal(request: Request, exc: Exception) -> Response:
    # Starlette re-raises after this so the server logs the traceback; the person sees a plain page.
    return error_response(request, 500, "internal_error", INTERNAL_MESSAGE)


Handler = Callable[[Request, Exception], Awaitable[Response]]

HANDLERS: tuple[tuple[type[Exception] | int, Handler], ...] = (
    (AnswerError, _bad_answers),
    (BadInputError, _bad_input),
    (NotFoundError, _not_found),
    (AuthenticationError, _unauthenticated),
    (PrefetchMissingError, _precondition),
    (FhirServerError, _bad_gateway),
    (StoreUnavailableError, _unavailable),
    (RequestValidationError, _invalid),
    (StarletteHTTPException, _http),
    (Exception, _internal),
)


def install(app: FastAPI) -> None:
    """Register the handlers on the app (called once by ``create_app``)."""
    for kind, handler in HANDLERS:
        app.add_exception_handler(kind, handler)
