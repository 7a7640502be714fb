"""Real servers at the edge of the world, on 127.0.0.1: an SMTP server and a webhook receiver.

``SmtpSink`` runs aiosmtpd's Controller and keeps every message it accepts. ``WebhookSink`` is
an ``http.server`` in a thread that keeps each POST (headers and exact body bytes), answering
after ``delay`` seconds; it can be
created on a port without listening yet (``start()`` later) to stand for a receiver that is
down at first.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class SmtpSink:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.messages: list[Message] = []
        self._controller: Any = None

    def start(self) -> SmtpSink:
        from aiosmtpd.controller import Controller

        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                message = message_from_bytes(envelope.content)
                message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
                sink.messages.append(message)
                return "250 OK"

        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class WebhookSink:
    """``delay`` seconds before each answer stands for a slow receiver."""

    def __init__(self, port: int | None = None, status: int = 204, delay: float = 0.0) -> None:
        self.port = port or free_port()
        self.status = status
        self.delay = delay
        self.received: list[Received] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/caresheet"

    def start(self) -> WebhookSink:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                sink.received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                time.sleep(sink.delay)
                self.send_response(sink.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def wait_for(condition: Callable[[], object], timeout: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")


@dataclass
class Texted:
    to: str
    sender: str
    body: str
    key: str | None


class SmsGateway:
    """A small fake of a Twilio-compatible SMS gateway at the edge, on 127.0.0.1: it accepts
    ``POST /2010-04-01/Accounts/{account}/Messages.json`` with that account's basic auth and
    the form fields To, From, Body, answers 201 with a message sid, and 401 otherwise."""

    def __init__(self, account: str = "AC-test", token: str = "sms-secret") -> None:
        self.port = free_port()
        self.account = account
        self.token = token
        self.texts: list[Texted] = []
        self.refused = 0
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> SmsGateway:
        import base64
        import json
        from urllib.parse import parse_qs

        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                expected = "Basic " + base64.b64encode(
                    f"{gateway.account}:{gateway.token}".encode()).decode()
                path_ok = self.path == f"/2010-04-01/Accounts/{gateway.account}/Messages.json"
                if not path_ok or self.headers.get("Authorization") != expected:
                    gateway.refused += 1
                    self.send_response(401)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                gateway.texts.append(Texted(form["To"], form["From"], form["Body"],
                                            self.headers.get("Idempotency-Key")))
                answer = json.dumps({"sid": f"SM{len(gateway.texts)}", "status": "queued"})
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer.encode())

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
