"""Verify a signed JWT against the JSON Web Key Set its issuer publishes.

Only asymmetric algorithms are accepted (a JWKS holds public keys; an HMAC "key" from it would
let anyone sign). Key sets are fetched with a short timeout and kept for a few minutes; an
unknown ``kid`` refetches once, so a client that rotates its key is not locked out.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

from caresheet.errors import AuthenticationError

ASYMMETRIC = frozenset({"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384"})
CACHE_SECONDS = 300.0
REFETCH_AFTER_SECONDS = 30.0  # an unknown kid refetches at most this often per URL
TIMEOUT_SECONDS = 5.0
LEEWAY_SECONDS = 30

Fetch = Callable[[str], Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class Key:
    """One public key of a set: its JWK fields (kid, kty, alg) and the key PyJWT verifies with."""

    data: Mapping[str, Any]
    jwk: jwt.PyJWK


def fetch_over_http(url: str) -> Mapping[str, Any]:
    """GET a JWKS document; any failure is an AuthenticationError naming the URL."""
    try:
        response = httpx.get(url, timeout=TIMEOUT_SECONDS, follow_redirects=False)
        response.raise_for_status()
        document = response.json()
    except (httpx.HTTPError, ValueError) as error:
        raise AuthenticationError(
            f"cannot read the client's key set at {url}: {type(error).__name__}"
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise AuthenticationError(f"the key set at {url} is not a JWKS (no 'keys' list)")
    return document


class KeySets:
    """JWKS documents by URL, cached per process (keys are public; nothing here is secret)."""

    def __init__(
        self,
        fetch: Fetch = fetch_over_http,
        ttl: float = CACHE_SECONDS,
        refetch_after: float = REFETCH_AFTER_SECONDS,
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl
        self._refetch_after = refetch_after
        self._cache: dict[str, tuple[float, list[Key]]] = {}
        self._lock = threading.Lock()

    def keys(self, url: str, *, refresh: bool = False) -> list[Key]:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(url)
        if cached is not None:
            fetched_at, keys = cached
            fresh = now - fetched_at < self._ttl
            if fresh and not (refresh and now - fetched_at >= self._refetch_after):
                return keys
        keys = _usable_keys(self._fetch(url))
        with self._lock:
            self._cache[url] = (now, keys)
        return keys

    def key_for(self, url: str, kid: str | None, alg: str) -> jwt.PyJWK:
        """The key that should have signed a token with this ``kid`` and ``alg``."""
        for refresh in (False, True):
            found = _pick(self.keys(url, refresh=refresh), kid, alg)
            if found is not None:
                return found
        raise AuthenticationError(
            f"no key in the client's key set matches kid {kid!r} and alg {alg}"
        )


def _usable_keys(document: Mapping[str, Any]) -> list[Key]:
    keys = []
    for entry in document.get("keys", []):
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        try:
            keys.append(Key(entry, jwt.PyJWK(entry)))
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError, KeyError):
            continue  # a key we cannot use (another kty or curve) must not hide the others
    return keys


def _pick(keys: Iterable[Key], kid: str | None, alg: str) -> jwt.PyJWK | None:
    family = alg[:2]
    for key in keys:
        if kid is not None and key.data.get("kid") != kid:
            continue
        if key.data.get("alg") not in (None, alg):
            continue
        kty = key.data.get("kty")
        if (family == "ES" and kty == "EC") or (family in ("RS", "PS") and kty == "RSA"):
            return key.jwk
    return None


def unverified_header(token: str) -> dict[str, Any]:
    try:
        return dict(jwt.get_unverified_header(token))
    except jwt.PyJWTError:
        raise AuthenticationError("the bearer token is not a JWT") from None


def unverified_claims(token: str) -> dict[str, Any]:
    """The claims before any check: only to learn who claims to have signed it."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise AuthenticationError("the bearer token is not a JWT") from None
    return dict(claims)


def verify(
    token: str,
    *,
    keys: KeySets,
    jwks_url: str,
    algorithms: Iterable[str],
    issuer: str,
    audiences: Iterable[str],
    required: Iterable[str] = ("iss", "aud", "exp", "iat"),
) -> dict[str, Any]:
    """The token's claims if it is signed by a key of ``jwks_url`` with an allowed algorithm,
    comes from ``issuer``, is meant for one of ``audiences`` and has not expired."""
    allowed = [a for a in algorithms if a in ASYMMETRIC]
    audiences = list(audiences)
    header = unverified_header(token)
    alg = header.get("alg")
    if alg not in allowed:
        raise AuthenticationError(
            f"the token is signed with {alg!r}; this service accepts {', '.join(allowed)}"
        )
    key = keys.key_for(jwks_url, header.get("kid"), alg)
    try:
        claims = jwt.decode(
            token, key.key, algorithms=[alg], audience=audiences, issuer=issuer,
            leeway=LEEWAY_SECONDS, options={"require": list(required)},
        )
    except jwt.ExpiredSignatureError:
        raise AuthenticationError("the token has expired") from None
    except jwt.InvalidAudienceError:
        raise AuthenticationError(
            f"the token's aud is not this service (expected {' or '.join(audiences)})"
        ) from None
    except jwt.InvalidIssuerError:
        raise AuthenticationError("the token's iss is not its signer's") from None
    except jwt.MissingRequiredClaimError as error:
        raise AuthenticationError(f"the token has no {error.claim!r} claim") from None
    except jwt.InvalidSignatureError:
        raise AuthenticationError("the token's signature does not verify") from None
    except jwt.PyJWTError as error:
        raise AuthenticationError(f"the token is not valid: {error}") from None
    return dict(claims)
