"""Refuse a NUL character in any text a request carries, before any route sees it.

PostgreSQL cannot store U+0000 in text, so a NUL in a close note, a login email or a sheet
code used to fail inside the database (a 500, and a log line with the statement). One ASGI
middleware checks every place a client puts text: the path, the query string, and the body
(a raw NUL, ``%00`` in a form, ``\\u0000`` in JSON); the answer is the ordinary 400 error in
the shape the route's audience expects. Bodies are buffered to be checked, so they are capped.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from caresheet.web.errors import error_response

MAX_BODY_BYTES = 2 * 1024 * 1024
NUL_MESSAGE = "the request holds a NUL character (\\0), which no text here may contain"
_JSON_NUL = re.compile(rb"\\u0000", re.IGNORECASE)


def has_nul(value: Any) -> bool:
    """Whether a decoded JSON value holds U+0000 in any string, key or value."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_nul(item) for item in value)
    return False


def body_has_nul(body: bytes, content_type: str) -> bool:
    """Whether a request body carries a NUL as the route will read it."""
    if b"\x00" in body:
        return True
    if content_type.startswith("application/x-www-form-urlencoded"):
        return b"%00" in body
    if "json" in content_type and _JSON_NUL.search(body):
        try:  # ``\\u0000`` is an escaped backslash, not a NUL: decide on the decoded value
            return has_nul(json.loads(body))
        except ValueError:
            return False  # malformed JSON: the route's own validation says so
    return False


class RefuseNul:
    """ASGI middleware: 400 for a NUL anywhere in the path, query or body; 413 past the cap."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"] or b"\x00" in unquote_to_bytes(scope["query_string"]):
            await self._refuse(scope, send, 400, "bad_input", NUL_MESSAGE)
            return
        messages: list[Message] = []
        body = bytearray()
        more = scope["method"] not in ("GET", "HEAD", "OPTIONS")
        while more:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if len(body) > MAX_BODY_BYTES:
                await self._refuse(scope, send, 413, "content_too_large",
                                   f"the request is too big: at most {MAX_BODY_BYTES // 1024} kB")
                return
            more = message.get("more_body", False)
        content_type = Request(scope).headers.get("content-type", "").lower()
        if body and body_has_nul(bytes(body), content_type):
            await self._refuse(scope, send, 400, "bad_input", NUL_MESSAGE)
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, send: Send, status: int, code: str,
                      message: str) -> None:
        async def nothing() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        request = Request(scope, nothing)
        response = error_response(request, status, code, message)
        await response(scope, nothing, send)
