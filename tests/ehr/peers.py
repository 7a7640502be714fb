"""The EHR's side of the wire, made of real parts on 127.0.0.1 for the EHR tests.

- ``SigningKey``: an EC P-384 (ES384) or RSA (RS384) key pair, its public JWKS, and JWTs
  signed with it as a CDS client signs them (iss, aud, exp, iat, jti).
- ``JsonServer``: a tiny HTTP server in a thread answering fixed JSON by path (a client's JWKS,
  or the EHR's FHIR server), recording each request's path and Authorization header.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa


@dataclass
class SigningKey:
    alg: str = "ES384"
    kid: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    def __post_init__(self) -> None:
        if self.alg.startswith("ES"):
            self.private: Any = ec.generate_private_key(ec.SECP384R1())
        else:
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwks(self) -> dict[str, Any]:
        algorithm = jwt.get_algorithm_by_name(self.alg)
        public = json.loads(algorithm.to_jwk(self.private.public_key()))
        return {"keys": [{**public, "kid": self.kid, "alg": self.alg, "use": "sig"}]}

    def pem(self) -> str:
        return self.private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    def token(self, iss: str, aud: str, *, lifetime: int = 120, **overrides: Any) -> str:
        now = int(time.time())
        claims = {"iss": iss, "aud": aud, "iat": now, "exp": now + lifetime,
                  "jti": uuid.uuid4().hex, **overrides}
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, self.private, algorithm=self.alg, headers={"kid": self.kid})


@dataclass
class Seen:
    path: str
    authorization: str | None


class JsonServer:
    """Serves ``routes[path-without-query]`` as JSON (404 otherwise); ``seen`` lists requests."""

    def __init__(self, routes: Mapping[str, Any]) -> None:
        self.routes = dict(routes)
        self.seen: list[Seen] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.seen.append(Seen(self.path, self.headers.get("Authorization")))
                body = outer.routes.get(self.path.split("?")[0])
                data = json.dumps(body).encode() if body is not None else b"{}"
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> JsonServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@contextmanager
def serving(routes: Mapping[str, Any]) -> Iterator[JsonServer]:
    server = JsonServer(routes).start()
    try:
        yield server
    finally:
        server.stop()


def closed_port_url() -> str:
    """An address where nothing listens: a JWKS host that is down."""
    from helpers import free_port

    return f"http://127.0.0.1:{free_port()}/jwks.json"


def service_request(code: str, system: str = "http://snomed.info/sct",
                    rid: str = "sr1") -> dict[str, Any]:
    return {"resourceType": "ServiceRequest", "id": rid, "status": "draft", "intent": "order",
            "subject": {"reference": "Patient/p1"},
            "code": {"coding": [{"system": system, "code": code}]}}


def bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"resource": r} for r in resources]}


def procedure(code: str, system: str = "http://www.ama-assn.org/go/cpt",
              status: str = "completed") -> dict[str, Any]:
    return {"resourceType": "Procedure", "id": f"proc-{code}", "status": status,
            "subject": {"reference": "Patient/p1"}, "encounter": {"reference": "Encounter/e1"},
            "code": {"coding": [{"system": system, "code": code}]}}
