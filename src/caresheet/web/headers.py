"""Security headers on every response, so no page depends on each route remembering them.

The pages need no script at all and load only their own styles, fonts and images, so the
Content-Security-Policy allows exactly that: even if some authored text or param escaped the
templates' escaping, a browser would refuse to run it, and no other site may frame a page (a
patient's guide inside someone else's frame could be overlaid). Routes that must say more
(``no-referrer`` and ``no-store`` on a patient's private link) set their own values, which win.

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
UNGUARDED_PREFIXES = ("/docs", "/redoc")


class SecurityHeaders:
    """ASGI middleware adding ``DEFAULTS`` to every HTTP response that does not set them.

    Plain ASGI rather than ``BaseHTTPMiddleware``: it only edits the start message, so it
    costs next to nothing on the check-in path.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope["path"]).startswith(UNGUARDED_PREFIXES):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(item for item in DEFAULTS if item[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
