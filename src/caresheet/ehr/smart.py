"""SMART App Launch 2.x: caresheet opened from inside an EHR, for one patient.

The flow (EHR launch; a standalone launch is the same without ``launch``):

1. ``begin``: the EHR opens ``/smart/launch?iss=…&launch=…``. The iss must be a registered
   EHR. Its endpoints come from ``{iss}/.well-known/smart-configuration`` (else the OAuth URIs
   extension of ``{iss}/metadata``). A new server-side launch keeps state, the PKCE verifier
   and a nonce, keyed by a random cookie; the browser goes to the EHR's authorize endpoint.
2. ``complete``: the EHR sends the browser back with ``code`` and ``state``. The state must be
   this launch's (and is good once); the code is exchanged with the verifier; the id_token must
   verify against the EHR's ``jwks_uri`` (RS256 or ES384), with its issuer, our client id as
   ``aud``, a live ``exp`` and our nonce. The EHR user (``fhirUser``, else the ``email``
   claim) must map to a caresheet account; a patient must be in context. The access token is
   then kept in the launch row only.

Every refusal is audited (``smart.refused`` with the check that failed) in its own transaction
before the SmartLaunchError that tells the person what happened.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from caresheet.ehr.jwks import ASYMMETRIC, KeySets, unverified_claims, verify
from caresheet.errors import (
    AuthenticationError,
    BadInputError,
    NotFoundError,
    SmartAccessError,
    SmartLaunchError,
    SmartSessionError,
)
from caresheet.store import smart as rows
from caresheet.store.db import Store
from caresheet.store.smart import Launch, SmartEhr
from caresheet.team import audit, clinics
from caresheet.team.accounts import Role, User, get_user, user_by_email

DEFAULT_SCOPE = ("launch openid fhirUser patient/Patient.rs patient/ServiceRequest.rs "
                 "patient/Procedure.rs patient/DocumentReference.cu")
STANDALONE_SCOPE_EXTRA = "launch/patient"
ID_TOKEN_ALGORITHMS = ("RS256", "ES384")
LAUNCH_MINUTES = 10  # from the redirect to the callback
SESSION_HOURS = 8  # a launched screen stays usable for a shift at most (and the token's life)
TIMEOUT_SECONDS = 10.0
OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
ACTOR = "smart"
# One cache of EHR key sets per process: the keys are public.
KEYS = KeySets()


@dataclass(frozen=True, slots=True)
class Endpoints:
    """What discovery tells us: where to send the person and where to trade the code."""

    authorize: str
    token: str
    jwks_uri: str | None
    issuer: str | None


@dataclass(frozen=True, slots=True)
class Started:
    cookie: str  # the browser's key to its launch: an HttpOnly cookie, never a URL
    redirect: str


def check_url(url: str, what: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadInputError(f"the {what} must be an http or https URL, not {url!r}")
    return url.strip().rstrip("/")


# ---------------------------------------------------------------- registration


def register(store: Store, *, name: str, iss: str, client_id: str, client_secret: str | None,
             scope: str | None, clinic: str | None, now: dt.datetime) -> SmartEhr:
    """Let caresheet be launched from the EHR whose FHIR base is ``iss``."""
    name = name.strip()
    if not name or len(name) > 100:
        raise BadInputError("the EHR's name must be 1 to 100 characters")
    if not client_id.strip():
        raise BadInputError("the client id must not be empty")
    with store.session() as session:
        # An unknown clinic is refused now, not at the first launch's issue.
        home = clinics.clinic_named(session, clinic.strip()).name if clinic and clinic.strip() \
            else None
        return rows.add_ehr(
            session, name=name, iss=check_url(iss, "iss"), client_id=client_id.strip(),
            client_secret=(client_secret or "").strip() or None,
            scope=" ".join((scope or DEFAULT_SCOPE).split()), clinic=home, now=now)


def registered(store: Store) -> list[SmartEhr]:
    with store.session(write=False) as session:
        return rows.list_ehrs(session)


def unregister(store: Store, name: str) -> None:
    with store.session() as session:
        rows.remove_ehr(session, name.strip())


def link_user(store: Store, *, email: str, ehr_name: str, fhir_user: str) -> User:
    """Say which caresheet account an EHR user (their ``fhirUser`` URL) is."""
    if not fhir_user.strip() or len(fhir_user) > 400:
        raise BadInputError("the fhirUser must be 1 to 400 characters")
    with store.session() as session:
        ehr = rows.ehr_by_name(session, ehr_name.strip())
        user = user_by_email(session, email)
        rows.link_user(session, ehr.id, fhir_user.strip(), user.id)
        return user


# ---------------------------------------------------------------- discovery


def _get_json(url: str) -> dict[str, Any] | None:
    try:
        response = httpx.get(url, headers={"Accept": "application/json"},
                             timeout=TIMEOUT_SECONDS, follow_redirects=False)
    except httpx.HTTPError:
        raise SmartLaunchError(
            "the EHR did not answer: it may be down. Try again, or ask the EHR team."
        ) from None
    if response.status_code != 200:
        return None
    try:
        document = response.json()
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def discover(iss: str) -> Endpoints:
    """The EHR's OAuth endpoints: smart-configuration first, then the CapabilityStatement."""
    config = _get_json(f"{iss}/.well-known/smart-configuration")
    if config and isinstance(config.get("authorization_endpoint"), str) \
            and isinstance(config.get("token_endpoint"), str):
        return Endpoints(config["authorization_endpoint"], config["token_endpoint"],
                         config.get("jwks_uri") if isinstance(config.get("jwks_uri"), str)
                         else None,
                         config.get("issuer") if isinstance(config.get("issuer"), str) else None)
    capability = _get_json(f"{iss}/metadata") or {}
    uris: dict[str, str] = {}
    for rest in capability.get("rest") or []:
        for ext in ((rest.get("security") or {}).get("extension") or []):
            if ext.get("url") != OAUTH_URIS:
                continue
            for inner in ext.get("extension") or []:
                if isinstance(inner.get("valueUri"), str):
                    uris[str(inner.get("url"))] = inner["valueUri"]
    if "authorize" in uris and "token" in uris:
        return Endpoints(uris["authorize"], uris["token"], None, None)
    raise SmartLaunchError("the EHR does not say where to log in: neither "
                           ".well-known/smart-configuration nor metadata names its endpoints")


# ---------------------------------------------------------------- step 1: the launch


def refuse(store: Store, ehr: str | None, ip: str | None, now: dt.datetime,
           error: SmartLaunchError) -> SmartLaunchError:
    """Audit a refused launch (the check that failed, and our own words for it) in its own
    transaction, and give the error to raise."""
    with store.session() as session:
        audit.record(session, ACTOR, "smart.refused", f"ehr:{ehr or 'unknown'}", ip,
                     {"check": error.check, "reason": str(error)[:200]}, now)
    return error


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def begin(store: Store, *, iss: str, launch: str | None, redirect_uri: str,
          app_context: str | None, ip: str | None, now: dt.datetime) -> Started:
    """Start a launch from a registered EHR; the redirect is to its authorize endpoint."""
    with store.session(write=False) as session:
        ehr = rows.ehr_by_iss(session, iss.strip()) if iss.strip() else None
    if ehr is None:
        raise refuse(store, None, ip, now, SmartLaunchError(
            "This EHR is not registered with caresheet, so it cannot open it. Ask your "
            "caresheet administrator to add it (caresheet ehr add).", "unknown_iss"))
    if launch is not None and not 1 <= len(launch) <= 500:
        raise refuse(store, ehr.name, ip, now, SmartLaunchError(
            "the launch value from the EHR is empty or too long", "bad_launch"))
    try:
        endpoints = discover(ehr.iss)
    except SmartLaunchError as error:
        error.check = "discovery"
        raise refuse(store, ehr.name, ip, now, error) from None
    cookie, state = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(24)
    scope = ehr.scope
    if launch is None:  # standalone: no EHR context, so ask for a patient to be picked
        scope = " ".join(s for s in scope.split() if s != "launch")
        if STANDALONE_SCOPE_EXTRA not in scope.split():
            scope = f"{STANDALONE_SCOPE_EXTRA} {scope}"
    query = {"response_type": "code", "client_id": ehr.client_id, "redirect_uri": redirect_uri,
             "scope": scope, "state": state, "aud": ehr.iss, "nonce": nonce,
             "code_challenge": _challenge(verifier), "code_challenge_method": "S256"}
    if launch is not None:
        query["launch"] = launch
    with store.session() as session:
        rows.remember_endpoints(session, ehr.id, endpoints.issuer, endpoints.jwks_uri)
        rows.start_launch(
            session, cookie=cookie, ehr_id=ehr.id, state=state, code_verifier=verifier,
            nonce=nonce, token_endpoint=endpoints.token, jwks_uri=endpoints.jwks_uri,
            issuer=endpoints.issuer, app_context=(app_context or "")[:200] or None, now=now,
            expires_at=now + dt.timedelta(minutes=LAUNCH_MINUTES))
        audit.record(session, ACTOR, "smart.launch", f"ehr:{ehr.name}", ip,
                     {"standalone": launch is None}, now)
    separator = "&" if "?" in endpoints.authorize else "?"
    return Started(cookie, f"{endpoints.authorize}{separator}{urlencode(query)}")


# ---------------------------------------------------------------- step 2: the callback


def _exchange(ehr: SmartEhr, launch: Launch, code: str, redirect_uri: str) -> dict[str, Any]:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "code_verifier": launch.code_verifier or ""}
    auth: tuple[str, str] | None = None
    if ehr.client_secret:
        auth = (ehr.client_id, ehr.client_secret)  # a confidential client: HTTP Basic
    else:
        form["client_id"] = ehr.client_id
    try:
        response = httpx.post(launch.token_endpoint, data=form, auth=auth,
                              headers={"Accept": "application/json"}, timeout=TIMEOUT_SECONDS)
    except httpx.HTTPError:
        raise SmartLaunchError(
            "the EHR's login server did not answer: it may be down. Launch again later.",
            "ehr_down") from None
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or not isinstance(body, dict):
        reason = body.get("error") if isinstance(body, dict) else None
        raise SmartLaunchError(
            "the EHR refused to finish the login"
            + (f" ({str(reason)[:60]})" if reason else f" (HTTP {response.status_code})")
            + ": the code may have been used already. Launch caresheet again from the EHR.",
            "code")
    if not isinstance(body.get("access_token"), str) or not body["access_token"]:
        raise SmartLaunchError("the EHR's answer has no access token", "code")
    return body


def verify_id_token(ehr: SmartEhr, launch: Launch, id_token: str,
                    keys: KeySets = KEYS) -> dict[str, Any]:
    """The id_token's claims, if signed by the EHR's key for us, live, and with our nonce."""
    if not launch.jwks_uri:
        raise SmartLaunchError(
            "the EHR publishes no jwks_uri, so its id_token cannot be checked", "id_token")
    try:
        claims = verify(
            id_token, keys=keys, jwks_url=launch.jwks_uri,
            algorithms=[a for a in ID_TOKEN_ALGORITHMS if a in ASYMMETRIC],
            issuer=launch.issuer or ehr.iss, audiences=[ehr.client_id],
            required=("iss", "aud", "exp", "iat", "sub"))
    except AuthenticationError as error:
        raise SmartLaunchError(f"the EHR's id_token was refused: {error}", "id_token") from None
    if not secrets.compare_digest(str(claims.get("nonce", "")), launch.nonce):
        raise SmartLaunchError(
            "the EHR's id_token was refused: its nonce is not this launch's", "id_token")
    return claims


def _account(session: Any, ehr: SmartEhr, claims: dict[str, Any]) -> User:
    fhir_user = claims.get("fhirUser") or claims.get("profile")
    user: User | None = None
    if isinstance(fhir_user, str) and fhir_user:
        linked = rows.linked_user(session, ehr.id, fhir_user)
        if linked is not None:
            user = get_user(session, linked)
    email = claims.get("email")
    # An address the EHR itself says it has not verified names no one.
    if user is None and isinstance(email, str) and email \
            and claims.get("email_verified") is not False:
        try:
            user = user_by_email(session, email)
        except (NotFoundError, BadInputError):
            user = None
    if user is None:
        raise SmartAccessError(
            "Your EHR login is not linked to a caresheet account. Ask your caresheet "
            "administrator to link it (caresheet user link-ehr).", "account")
    if not user.active or user.role not in (Role.CLINICIAN, Role.ADMIN):
        raise SmartAccessError(
            f"The caresheet account {user.email} cannot issue handouts: it needs to be an "
            "active clinician or admin.", "account")
    return user


def complete(store: Store, *, cookie: str, state: str | None, code: str | None,
             error: str | None, redirect_uri: str, ip: str | None,
             now: dt.datetime) -> Launch:
    """Finish the launch: every check of the module docstring, then keep the context."""
    with store.session() as session:
        launch = rows.launch(session, cookie, now)
        if launch is not None:
            rows.take_state(session, cookie)  # one callback per launch, right or wrong
    ehr_name = None
    if launch is not None:
        with store.session(write=False) as session:
            ehr = rows.ehr_by_id(session, launch.ehr_id)
        ehr_name = ehr.name
    if launch is None or launch.state is None:
        raise refuse(store, ehr_name, ip, now, SmartLaunchError(
            "This launch has no open login (it ended, was already used, or the cookie is "
            "missing). Launch caresheet again from the EHR.", "state"))
    if not state or not secrets.compare_digest(state, launch.state):
        raise refuse(store, ehr_name, ip, now, SmartLaunchError(
            "The login came back with the wrong state, so it may not be yours. Launch "
            "caresheet again from the EHR.", "state"))
    if error or not code:
        raise refuse(store, ehr_name, ip, now, SmartLaunchError(
            f"The EHR did not authorize caresheet ({(error or 'no code')[:60]}).", "authorize"))
    try:
        tokens = _exchange(ehr, launch, code, redirect_uri)
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise SmartLaunchError(
                "the EHR sent no id_token, so we cannot tell who you are", "id_token")
        claims = verify_id_token(ehr, launch, id_token)
        patient = tokens.get("patient")
        if not isinstance(patient, str) or not patient.strip():
            raise SmartLaunchError(
                "The EHR did not say which patient this is. Open caresheet from a "
                "patient's chart.", "patient")
        with store.session(write=False) as session:
            user = _account(session, ehr, claims)
    except SmartLaunchError as failure:
        raise refuse(store, ehr_name, ip, now, failure) from None
    encounter = tokens.get("encounter")
    lifetime = tokens.get("expires_in")
    hours = dt.timedelta(hours=SESSION_HOURS)
    span = min(dt.timedelta(seconds=int(lifetime)), hours) \
        if isinstance(lifetime, int) and lifetime > 0 else hours
    app_context = tokens.get("appContext") if isinstance(tokens.get("appContext"), str) else None
    with store.session() as session:
        rows.authorize(
            session, cookie, user_id=user.id, access_token=tokens["access_token"],
            patient=patient.strip()[:200],
            encounter=encounter.strip()[:200] if isinstance(encounter, str) else None,
            need_patient_banner=bool(tokens.get("need_patient_banner", False)),
            app_context=app_context, csrf_token=secrets.token_urlsafe(32),
            expires_at=now + span)
        audit.record(session, user.actor, "smart.authorized", f"ehr:{ehr.name}", ip,
                     {"encounter": bool(encounter)}, now)
        authorized = rows.launch(session, cookie, now)
    assert authorized is not None
    return authorized


READ_SCOPE = re.compile(r"^(user|system)/(QuestionnaireResponse|\*)\.(read|\*|c?r[uds]*)$")


def bearer_reader(store: Store, token: str, audience: str, keys: KeySets = KEYS) -> str | None:
    """The actor of an access token a registered EHR's authorization server signed for our
    FHIR base (``aud``), with a user- or system-level read scope for QuestionnaireResponse;
    None when the token's issuer is no SMART EHR's (another reader may know it).

    A patient-level scope is refused: a check-in's handout is not tied to the EHR's patient id.
    Blocking (it may fetch the EHR's keys): call it from a worker thread.
    """
    issuer = unverified_claims(token).get("iss")
    if not isinstance(issuer, str) or not issuer:
        return None
    with store.session(write=False) as session:
        ehr = rows.ehr_by_auth_issuer(session, issuer)
    if ehr is None or not ehr.jwks_uri:
        return None
    claims = verify(token, keys=keys, jwks_url=ehr.jwks_uri, algorithms=sorted(ASYMMETRIC),
                    issuer=issuer, audiences=[audience], required=("iss", "aud", "exp"))
    scopes = str(claims.get("scope", "")).split()
    if not any(READ_SCOPE.match(s) for s in scopes):
        raise AuthenticationError(
            "the token's scope does not allow reading check-ins (ask for "
            "user/QuestionnaireResponse.rs or system/QuestionnaireResponse.rs)")
    return f"smart-ehr:{ehr.name}:{str(claims.get('sub') or claims.get('client_id') or '')[:60]}"


def current(store: Store, cookie: str | None, now: dt.datetime) -> tuple[Launch, SmartEhr, User]:
    """The authorized launch behind the browser's cookie, its EHR and its user."""
    with store.session(write=False) as session:
        launch = rows.launch(session, cookie or "", now)
        if launch is None or not launch.authorized or launch.user_id is None:
            raise SmartSessionError(
                "This screen needs a launch from the EHR, and there is none (or it has "
                "ended). Open caresheet again from the chart.", "session")
        return launch, rows.ehr_by_id(session, launch.ehr_id), get_user(session, launch.user_id)
