"""The one place where an error becomes an HTTP response.

    CaresheetError           -> its class's ``status`` and ``code`` (see ``caresheet.errors``):
                                bad input 400, not found 404, gone 410, too many attempts 429,
                                store unavailable 503 (with Retry-After; never its details),
                                server busy 503 (Retry-After: a few seconds),
                                unauthorized 401 (with WWW-Authenticate: Bearer); a 404 or
                                410 under /h/ is the kind patient page
    DBAPIError               -> 503: a save that failed is "try again", never a 500; the log
                                gets one line with no SQL parameters
    RequestValidationError   -> 422 under /api/, a 400 page elsewhere (a person typed the URL)
    HTTPException            -> its own status (unknown route 404, wrong method 405, ...)
    anything else            -> 500, with no traceback and no exception text

Under ``/api/`` the body is always ``ErrorBody``: ``{"error": {"code": "...", "message": "..."}}``;
under ``/fhir`` an OperationOutcome (registered by ``web.fhir``); elsewhere the HTML error page,
which keeps the 911 line like every page. Another prefix can ask for its own body shape with
``register_renderer``; the status stays ours.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from caresheet.errors import CaresheetError, NotFoundError, StoreUnavailableError
from caresheet.web.deps import page_context, page_language, templates
from caresheet.web.guide import link_ended_page

Renderer = Callable[[Request, int, str, str], Response]

API_PREFIX = "/api/"
PATIENT_PREFIX = "/h/"  # a patient's private link: an unknown or ended one gets the kind page
_RENDERERS: dict[str, Renderer] = {}
RETRY_AFTER_SECONDS = "60"

INTERNAL_MESSAGE = "Something went wrong on our side. Please try again in a moment."
UNAVAILABLE_MESSAGE = StoreUnavailableError.public_message
log = logging.getLogger("caresheet.web")


class ErrorDetail(BaseModel):
    """What went wrong: a short snake_case code and one line a person can act on."""

    code: str
    message: str


class ErrorBody(BaseModel):
    """The JSON error shape of every route under /api/ (declare it in ``responses=``)."""

    error: ErrorDetail


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


def error_body(code: str, message: str) -> dict[str, Any]:
    """The JSON error shape used everywhere under /api/."""
    return ErrorBody(error=ErrorDetail(code=code, message=message)).model_dump()


def error_response(request: Request, status: int, code: str, message: str) -> Response:
    """The response for an error: a registered shape, JSON under /api/, or the HTML page."""
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


async def _caresheet(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CaresheetError)
    if isinstance(exc, NotFoundError) and request.url.path.startswith(PATIENT_PREFIX):
        return link_ended_page(request, gone=exc.status == HTTPStatus.GONE)
    message = (str(exc) if exc.public else exc.public_message) or HTTPStatus(exc.status).phrase
    response = error_response(request, exc.status, exc.code, message)
    if exc.status == HTTPStatus.SERVICE_UNAVAILABLE:
        response.headers["Retry-After"] = str(getattr(exc, "retry_after", RETRY_AFTER_SECONDS))
    if exc.status == HTTPStatus.UNAUTHORIZED:
        response.headers["WWW-Authenticate"] = 'Bearer realm="caresheet"'
    return response


async def _database(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DBAPIError)
    # Neither the statement's parameters nor the driver's message (PostgreSQL's DETAIL quotes
    # the row) may reach the log: they can hold a patient's words.
    route = getattr(request.scope.get("route"), "path", "?")  # the template: no token in it
    log.error("database error %s on %s %s", type(exc.orig).__name__, request.method, route)
    return await _caresheet(request, StoreUnavailableError())


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


async def _internal(request: Request, exc: Exception) -> Response:
    # Starlette re-raises after this so the server logs the traceback; the person sees a plain page.
    return error_response(request, 500, "internal_error", INTERNAL_MESSAGE)


Handler = Callable[[Request, Exception], Awaitable[Response]]

HANDLERS: tuple[tuple[type[Exception] | int, Handler], ...] = (
    (CaresheetError, _caresheet),
    (DBAPIError, _database),
    (RequestValidationError, _invalid),
    (StarletteHTTPException, _http),
    (Exception, _internal),
)


def install(app: FastAPI) -> None:
    """Register the handlers on the app (called once by ``create_app``)."""
    for kind, handler in HANDLERS:
        app.add_exception_handler(kind, handler)
