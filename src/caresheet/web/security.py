"""Logins on the web: the session cookie, CSRF tokens and the role check for routes.

- The cookie ``caresheet_session`` is HttpOnly, SameSite=Lax, and Secure unless the app is
  reached on 127.0.0.1/localhost over http (``CARESHEET_COOKIE_SECURE=true|false`` overrides);
  it holds a random token whose SHA-256 is the key of the ``staff_sessions`` row.
- Every form a logged-in person posts carries ``csrf_token`` (the session's token); JSON and
  script clients send it in ``X-CSRF-Token``, or post ``application/json``, which a page on
  another site cannot send without a CORS preflight that this app never grants. The login form
  itself uses a double-submit cookie, since there is no session yet.
- A system calls ``/api/`` with ``Authorization: Bearer <token>`` (``team.tokens``): no cookie,
  so no CSRF check; an unknown token is 401, a revoked one 403, and every such call is in the
  audit log under the token's name.
- ``require_role(*roles)`` is the dependency every care-team route takes: no login gives 401
  for the API and a redirect to the login page for pages; a wrong role gives 403.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import os
import re
import secrets
from urllib.parse import quote

from fastapi import HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool

from caresheet import config
from caresheet.team import accounts, audit, tokens
from caresheet.team.accounts import Login, Role
from caresheet.web.client import client_ip
from caresheet.web.deps import get_store

SESSION_COOKIE = "caresheet_session"
LOGIN_CSRF_COOKIE = "caresheet_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
LOGIN_PATH = "/team/login"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def cookie_secure(request: Request) -> bool:
    """Whether cookies get the Secure flag (see the module docstring)."""
    setting = os.environ.get(COOKIE_SECURE_ENV, "").strip().lower()
    if setting:
        return config.is_true(setting)
    if request.url.scheme == "https":
        return True
    return (request.url.hostname or "") not in LOCAL_HOSTS


COOKIE_SECURE_ENV = "CARESHEET_COOKIE_SECURE"


def cookie_cannot_stick(request: Request) -> str | None:
    """Why a browser will drop our log-in cookies on this request, or None when it keeps them.

    The cookies are Secure on any name but localhost, and a browser does not keep a Secure
    cookie sent over plain HTTP: log-in then fails as if the form had expired. A pilot on a
    VM reached as ``http://caresheet.clinic.lan`` hits exactly this, so the page names the fix.
    """
    if request.url.scheme != "http" or not cookie_secure(request):
        return None
    return (
        f"Log-in cannot work at {request.url.hostname or 'this address'} over plain HTTP: "
        "the browser drops the log-in cookie, which is marked Secure. Serve caresheet over "
        "HTTPS (behind a proxy, list it in CARESHEET_TRUSTED_PROXIES so the app sees https), "
        f"or, on a private test network only, set {COOKIE_SECURE_ENV}=false. "
        "See docs/deploy.md."
    )


def set_session_cookie(response: Response, request: Request, login: Login) -> None:
    max_age = int((login.expires_at - utcnow()).total_seconds())
    response.set_cookie(
        SESSION_COOKIE, login.token, max_age=max_age, path="/", httponly=True,
        secure=cookie_secure(request), samesite="lax",
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True,
                           secure=cookie_secure(request), samesite="lax")


def login_csrf(request: Request) -> str:
    """The login form's token: the cookie's value, or a new one (double submit)."""
    current = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    return current if 20 <= len(current) <= 100 else secrets.token_urlsafe(32)


def set_login_csrf_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, path=LOGIN_PATH, httponly=True,
                        secure=cookie_secure(request), samesite="strict")


def login_csrf_ok(request: Request, submitted: str | None) -> bool:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    return bool(expected and submitted) and hmac.compare_digest(expected or "", submitted or "")


async def current_login(request: Request) -> Login | None:
    """The logged-in staff member for this request, or None; looked up once per request."""
    if hasattr(request.state, "caresheet_login"):
        cached: Login | None = request.state.caresheet_login
        return cached
    bearer = _bearer(request)
    if bearer is not None:
        system = await _bearer_login(request, bearer)
        request.state.caresheet_login = system
        return system
    token = request.cookies.get(SESSION_COOKIE, "")
    login: Login | None = None
    if token:
        store = get_store(request)

        def look_up() -> Login | None:
            with store.session() as session:
                return accounts.resume_session(session, token, utcnow())

        login = await run_in_threadpool(look_up)
    request.state.caresheet_login = login
    return login


def _bearer(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header on an API route, else None."""
    if not request.url.path.startswith("/api/"):
        return None
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


async def _bearer_login(request: Request, token: str) -> Login | None:
    """The token's account as a Login (None: unknown token); the call is audited by name."""
    store = get_store(request)

    def look_up() -> Login | None:
        now = utcnow()
        with store.session() as session:
            user = tokens.resolve(session, token)
            if user is None:
                return None
            audit.record(session, user.actor, "api.call", request.url.path[:200],
                         client_ip(request), {"method": request.method}, now)
        return Login(token="", csrf_token="", user=user, expires_at=now, bearer=True)

    return await run_in_threadpool(look_up)


async def _submitted_csrf(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


async def check_csrf(request: Request, login: Login) -> None:
    """Refuse a state-changing request that does not prove it came from our own page."""
    if request.method in SAFE_METHODS or login.bearer:
        return
    if request.headers.get("content-type", "").startswith("application/json"):
        return  # cannot be sent cross-site without a CORS preflight, which we never allow
    submitted = await _submitted_csrf(request)
    if not submitted or not hmac.compare_digest(submitted, login.csrf_token):
        raise HTTPException(403, "The form has expired or did not come from this site. "
                                 "Go back, reload the page and try again.")


def _wants_page(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and request.method in SAFE_METHODS


class RoleRequirement:
    """A FastAPI dependency: the request's Login, if its role is one of ``roles``.

    ``roles`` is public so tests can walk the route table and find which roles a route allows.
    """

    def __init__(self, roles: tuple[Role, ...]) -> None:
        self.roles = roles

    async def __call__(self, request: Request) -> Login:
        login = await current_login(request)
        if login is None:
            if _wants_page(request):
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                raise HTTPException(
                    303, "Log in to see this page.",
                    headers={"Location": f"{LOGIN_PATH}?next={quote(target, safe='')}"},
                )
            raise HTTPException(401, "Log in first: this needs a care-team account.",
                                headers={"WWW-Authenticate": 'Cookie realm="caresheet"'})
        if login.user.role not in self.roles:
            allowed = " or ".join(r.value for r in self.roles)
            raise HTTPException(403, f"This needs the {allowed} role.")
        await check_csrf(request, login)
        return login

    def __repr__(self) -> str:
        return f"require_role({', '.join(r.value for r in self.roles)})"


def require_role(*roles: Role | str) -> RoleRequirement:
    """The dependency for a route only these roles may use, e.g. ``require_role("clinician")``."""
    if not roles:
        raise ValueError("name at least one role")
    return RoleRequirement(tuple(Role(r) for r in roles))


def safe_next(target: str | None) -> str:
    """Where to go after logging in: only a path on this site (no //evil.example)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/team"


# ---------------------------------------------------------------- the application log

# Everything in the token's segment goes, whatever it starts with: a token behind an
# invisible or encoded first character (``/h/%E2%80%8B<token>``) is still a token.
_TOKEN_PATH = re.compile(r"(/(?:api/handouts|h)/)[^/?#\s\"']+", re.IGNORECASE)
# A SMART callback's query holds the EHR's authorization code and our state: neither is logged.
_SMART_CALLBACK = re.compile(r"(/smart/callback)\?[^#\s\"']*", re.IGNORECASE)


def redact(text: str) -> str:
    """A log line's path with any handout token replaced (the token opens a patient's guide),
    and a SMART callback's code and state left out."""
    return _SMART_CALLBACK.sub(r"\1?<redacted>", _TOKEN_PATH.sub(r"\1<token>", text))


class RedactTokens(logging.Filter):
    """Takes handout tokens out of access-log lines (uvicorn logs each request's path)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install_log_redaction(logger_names: tuple[str, ...] = ("uvicorn.access",)) -> None:
    """Add the filter once per logger; ``serve`` may call it, and importing the team routes
    does, since uvicorn sets up its loggers before it builds the app."""
    for name in logger_names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
