"""Security headers on every response, so no page depends on each route remembering them.

The pages need no script at all and load only their own styles, fonts and images, so the
Content-Security-Policy allows exactly that: even if some authored text or param escaped the
templates' escaping, a browser would refuse to run it, and no other site may frame a page (a
patient's guide inside someone else's frame could be overlaid). Routes that must say more
set their own values, which win.

A patient's private link is a secret in a URL, and its answers are health data: every response
under ``/h/`` and ``/api/handouts`` (pages, JSON, errors, the .ics file) says ``no-store`` (no
cache keeps it), ``no-referrer`` (no other site learns the link) and ``noindex``.

Over https (directly, or from a trusted proxy) every response also carries
``Strict-Transport-Security``, so a browser that has seen the site once never again sends a
login or a patient's link over plain HTTP.

FastAPI's own API explorer (``/docs``, ``/redoc``) loads its script from a CDN, so it gets no
policy; it shows no patient data.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'none'",
    "script-src 'none'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
))
DEFAULTS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
)
PATIENT_DEFAULTS: tuple[tuple[bytes, bytes], ...] = (
    (b"cache-control", b"no-store"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-robots-tag", b"noindex, nofollow"),
)
PATIENT_PREFIXES = ("/h/", "/api/handouts")
# Sent only on a request that came over https (ForwardedScheme has already read a trusted
# proxy's X-Forwarded-Proto): a browser then refuses plain HTTP to this name for a year.
HSTS = (b"strict-transport-security", b"max-age=31536000")
UNGUARDED_PREFIXES = ("/docs", "/redoc")


class SecurityHeaders:
    """ASGI middleware adding ``DEFAULTS`` to every HTTP response that does not set them.

    Plain ASGI rather than ``BaseHTTPMiddleware``: it only edits the start message, so it
    costs next to nothing on the check-in path.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or path.startswith(UNGUARDED_PREFIXES):
            await self.app(scope, receive, send)
            return
        # A patient's response gets its private headers whatever a route or handler set.
        forced = PATIENT_DEFAULTS if path.startswith(PATIENT_PREFIXES) else ()
        if scope.get("scheme") == "https":
            forced = (*forced, HSTS)
        replaced = {name for name, _ in forced}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(name, value) for name, value in message.get("headers", [])
                           if name.lower() not in replaced]
                headers.extend(forced)
                present = {name.lower() for name, _ in headers}
                headers.extend(item for item in DEFAULTS if item[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
