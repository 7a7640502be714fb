"""CDS clients: who may call the CDS Hooks service, and the check of each signed request.

CDS Hooks 2.0 ("Trusting CDS Clients"): the EHR sends ``Authorization: Bearer <JWT>``, signed
with a key from its JWKS (ES384 or RS384), with ``iss`` (the EHR), ``aud`` (the service URL),
``exp``, ``iat`` and a unique ``jti``. A registered ``iss`` names the JWKS URL to trust; a
``jku`` header in the token is ignored, so a token cannot point at keys of its own choosing.
Each ``jti`` is kept in the database until the token expires, so a replay is refused by every
process. Other faces (the FHIR check-ins) take the same bearer with their own audience.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from caresheet.ehr.jwks import LEEWAY_SECONDS, KeySets, unverified_claims, verify
from caresheet.errors import AuthenticationError, BadInputError
from caresheet.store import ehr as rows
from caresheet.store.db import Store
from caresheet.store.ehr import CdsClient

ALGORITHMS = ("ES384", "RS384")
# The spec: "exp ... SHOULD be no more than 5 minutes in the future"; held strictly, it also
# bounds how long each jti must be remembered.
MAX_LIFETIME = dt.timedelta(minutes=5)
SCHEME = "bearer"


@dataclass(frozen=True, slots=True)
class Caller:
    """Who made a request: a registered client's ``iss``, or None when anonymous is allowed."""

    iss: str | None
    claims: dict[str, Any]

    @property
    def actor(self) -> str:
        """How the audit log names this caller."""
        return f"cds-client:{self.iss}" if self.iss else "cds-client:anonymous"


def check_url(url: str, what: str) -> str:
    """An http(s) URL with a host, for a client's iss or JWKS; refuse anything else."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadInputError(f"the {what} must be an http or https URL, not {url!r}")
    return url.strip()


def register(store: Store, iss: str, jwks_url: str, now: dt.datetime) -> CdsClient:
    """Trust tokens from ``iss`` signed by a key published at ``jwks_url``."""
    if not iss.strip():
        raise BadInputError("the iss must not be empty")
    with store.session() as session:
        return rows.add_client(session, iss.strip(), check_url(jwks_url, "JWKS URL"), now)


def registered(store: Store) -> list[CdsClient]:
    with store.session(write=False) as session:
        return rows.list_clients(session)


def unregister(store: Store, iss: str) -> None:
    with store.session() as session:
        rows.remove_client(session, iss.strip())


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer …`` header; None when there is no header."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != SCHEME or not token.strip():
        raise AuthenticationError("send the JWT as 'Authorization: Bearer <token>'")
    return token.strip()


def authenticate(
    store: Store,
    keys: KeySets,
    authorization: str | None,
    audiences: list[str],
    now: dt.datetime,
    *,
    allow_anonymous: bool = False,
) -> Caller:
    """The caller of a signed request; AuthenticationError says which check failed.

    Blocking (it may fetch a JWKS and writes the jti): call it from a worker thread.
    """
    token = bearer_token(authorization)
    if token is None:
        if allow_anonymous:
            return Caller(None, {})
        raise AuthenticationError("this service needs a signed JWT in 'Authorization: Bearer'")
    iss = unverified_claims(token).get("iss")
    if not isinstance(iss, str) or not iss:
        raise AuthenticationError("the token has no 'iss' claim")
    with store.session(write=False) as session:
        client = rows.client_by_iss(session, iss)
    if client is None:
        raise AuthenticationError(f"no CDS client is registered with iss {iss!r}")
    claims = verify(
        token, keys=keys, jwks_url=client.jwks_url, algorithms=ALGORITHMS, issuer=iss,
        audiences=audiences, required=("iss", "aud", "exp", "iat", "jti"),
    )
    expires = dt.datetime.fromtimestamp(int(claims["exp"]), dt.UTC)
    if expires - now > MAX_LIFETIME + dt.timedelta(seconds=LEEWAY_SECONDS):
        raise AuthenticationError("the token lives too long: exp may be at most 5 minutes ahead")
    jti = claims["jti"]
    if not isinstance(jti, str) or not 1 <= len(jti) <= 200:
        raise AuthenticationError("the token's jti must be a string of 1 to 200 characters")
    with store.session() as session:
        fresh = rows.remember_jti(
            session, iss, jti, expires + dt.timedelta(seconds=LEEWAY_SECONDS), now
        )
    if not fresh:
        raise AuthenticationError("the token was already used (its jti was seen before)")
    return Caller(iss, claims)
