"""SMART App Launch rows: the EHRs registered for launch, who a launching EHR user is here,
each launch in flight, and what was written back to the EHR for a handout.

- ``smart_ehrs``: an EHR by name, its FHIR base (the ``iss`` of a launch), our client id there
  (and secret for a confidential client), the scopes asked for, and its clinic.
- ``smart_user_links``: an EHR user (``fhirUser``) → a caresheet account.
- ``smart_launches``: one launch, the server side of its session: keyed by the SHA-256 of the
  browser's cookie, it keeps state, PKCE verifier and nonce until the callback, then the access
  token and the launch context. The tokens live here and nowhere else (not in a URL, a log or
  the browser); a row past its expiry is deleted by the next launch.
- ``smart_writebacks``: the DocumentReference made in the EHR for a handout, or why it failed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

# Known for the foreign keys to handouts and users.
import caresheet.store.handouts
import caresheet.store.team  # noqa: F401
from caresheet.errors import BadInputError, NotFoundError
from caresheet.store.tables import Base, UtcDateTime


class SmartEhrRow(Base):
    __tablename__ = "smart_ehrs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    iss: Mapped[str] = mapped_column(String(400), unique=True)
    client_id: Mapped[str] = mapped_column(String(200))
    client_secret: Mapped[str | None] = mapped_column(Text, nullable=True)
    scope: Mapped[str] = mapped_column(Text)
    clinic: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    # Learned from discovery at each launch: whose signed tokens are this EHR's.
    auth_issuer: Mapped[str | None] = mapped_column(String(400), nullable=True, index=True)
    jwks_uri: Mapped[str | None] = mapped_column(Text, nullable=True)


class SmartUserLinkRow(Base):
    __tablename__ = "smart_user_links"

    ehr_id: Mapped[int] = mapped_column(
        ForeignKey("smart_ehrs.id", ondelete="CASCADE"), primary_key=True)
    fhir_user: Mapped[str] = mapped_column(String(400), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)


class SmartLaunchRow(Base):
    __tablename__ = "smart_launches"

    session_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    ehr_id: Mapped[int] = mapped_column(ForeignKey("smart_ehrs.id", ondelete="CASCADE"))
    state: Mapped[str | None] = mapped_column(String(100), nullable=True)
    code_verifier: Mapped[str | None] = mapped_column(String(200), nullable=True)
    nonce: Mapped[str] = mapped_column(String(100))
    token_endpoint: Mapped[str] = mapped_column(Text)
    jwks_uri: Mapped[str | None] = mapped_column(Text, nullable=True)
    issuer: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=True)
    access_token: Mapped[str | None] = mapped_column(Text, nullable=True)
    patient: Mapped[str | None] = mapped_column(String(200), nullable=True)
    encounter: Mapped[str | None] = mapped_column(String(200), nullable=True)
    need_patient_banner: Mapped[bool] = mapped_column(Boolean, default=False)
    app_context: Mapped[str | None] = mapped_column(String(200), nullable=True)
    csrf_token: Mapped[str | None] = mapped_column(String(64), nullable=True)


class SmartWritebackRow(Base):
    __tablename__ = "smart_writebacks"

    handout_id: Mapped[int] = mapped_column(ForeignKey("handouts.id"), primary_key=True)
    # Kept when the EHR is removed: the handout's history outlives the registration.
    ehr_id: Mapped[int | None] = mapped_column(
        ForeignKey("smart_ehrs.id", ondelete="SET NULL"), nullable=True)
    document_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


# ---------------------------------------------------------------- EHRs


@dataclass(frozen=True, slots=True)
class SmartEhr:
    id: int
    name: str
    iss: str
    client_id: str
    client_secret: str | None
    scope: str
    clinic: str | None
    created_at: dt.datetime
    auth_issuer: str | None = None
    jwks_uri: str | None = None

    def __repr__(self) -> str:  # the secret never reaches a log line
        return f"SmartEhr(name={self.name!r}, iss={self.iss!r}, client_id={self.client_id!r})"


def _ehr(row: SmartEhrRow) -> SmartEhr:
    return SmartEhr(row.id, row.name, row.iss, row.client_id, row.client_secret, row.scope,
                    row.clinic, row.created_at, row.auth_issuer, row.jwks_uri)


def add_ehr(session: Session, *, name: str, iss: str, client_id: str, client_secret: str | None,
            scope: str, clinic: str | None, now: dt.datetime) -> SmartEhr:
    if session.scalars(select(SmartEhrRow).where(SmartEhrRow.name == name)).first() is not None:
        raise BadInputError(f"an EHR named {name!r} is already registered")
    if ehr_by_iss(session, iss) is not None:
        raise BadInputError(f"an EHR with iss {iss!r} is already registered")
    row = SmartEhrRow(name=name, iss=iss, client_id=client_id, client_secret=client_secret,
                      scope=scope, clinic=clinic, created_at=now)
    session.add(row)
    session.flush()
    return _ehr(row)


def ehr_by_iss(session: Session, iss: str) -> SmartEhr | None:
    row = session.scalars(
        select(SmartEhrRow).where(SmartEhrRow.iss.in_({iss, iss.rstrip("/")}))
    ).first()
    return None if row is None else _ehr(row)


def ehr_by_name(session: Session, name: str) -> SmartEhr:
    row = session.scalars(select(SmartEhrRow).where(SmartEhrRow.name == name)).first()
    if row is None:
        raise NotFoundError(f"no EHR is registered as {name!r}")
    return _ehr(row)


def ehr_by_id(session: Session, ehr_id: int) -> SmartEhr:
    row = session.get(SmartEhrRow, ehr_id)
    if row is None:
        raise NotFoundError(f"no EHR with id {ehr_id}")
    return _ehr(row)


def remember_endpoints(session: Session, ehr_id: int, auth_issuer: str | None,
                       jwks_uri: str | None) -> None:
    row = session.get(SmartEhrRow, ehr_id)
    if row is not None and auth_issuer and jwks_uri:
        row.auth_issuer, row.jwks_uri = auth_issuer[:400], jwks_uri


def ehr_by_auth_issuer(session: Session, auth_issuer: str) -> SmartEhr | None:
    row = session.scalars(
        select(SmartEhrRow).where(SmartEhrRow.auth_issuer == auth_issuer)).first()
    return None if row is None else _ehr(row)


def list_ehrs(session: Session) -> list[SmartEhr]:
    return [_ehr(r) for r in session.scalars(select(SmartEhrRow).order_by(SmartEhrRow.name))]


def remove_ehr(session: Session, name: str) -> None:
    """Forget an EHR, its user links and its launches in flight (said here, not left to each
    dialect's cascade); write-backs stay, without the EHR."""
    ehr = ehr_by_name(session, name)
    session.execute(delete(SmartLaunchRow).where(SmartLaunchRow.ehr_id == ehr.id))
    session.execute(delete(SmartUserLinkRow).where(SmartUserLinkRow.ehr_id == ehr.id))
    session.execute(update(SmartWritebackRow).where(SmartWritebackRow.ehr_id == ehr.id)
                    .values(ehr_id=None))
    session.execute(delete(SmartEhrRow).where(SmartEhrRow.id == ehr.id))


# ---------------------------------------------------------------- EHR users


def link_user(session: Session, ehr_id: int, fhir_user: str, user_id: int) -> None:
    """Map an EHR user to an account (a new link for the same fhirUser replaces the old)."""
    row = session.get(SmartUserLinkRow, (ehr_id, fhir_user))
    if row is None:
        session.add(SmartUserLinkRow(ehr_id=ehr_id, fhir_user=fhir_user, user_id=user_id))
    else:
        row.user_id = user_id
    session.flush()


def linked_user(session: Session, ehr_id: int, fhir_user: str) -> int | None:
    row = session.get(SmartUserLinkRow, (ehr_id, fhir_user))
    return None if row is None else row.user_id


# ---------------------------------------------------------------- launches


def session_hash(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


@dataclass(frozen=True)
class Launch:
    """A launch's server-side session; ``repr`` leaves out the tokens."""

    session_hash: str
    ehr_id: int
    state: str | None
    code_verifier: str | None
    nonce: str
    token_endpoint: str
    jwks_uri: str | None
    issuer: str | None
    created_at: dt.datetime
    expires_at: dt.datetime
    user_id: int | None
    access_token: str | None
    patient: str | None
    encounter: str | None
    need_patient_banner: bool
    app_context: str | None
    csrf_token: str | None

    def __repr__(self) -> str:
        return f"Launch(ehr_id={self.ehr_id}, user_id={self.user_id})"

    @property
    def authorized(self) -> bool:
        return self.access_token is not None and self.user_id is not None


def _launch(row: SmartLaunchRow) -> Launch:
    return Launch(
        row.session_hash, row.ehr_id, row.state, row.code_verifier, row.nonce,
        row.token_endpoint, row.jwks_uri, row.issuer, row.created_at, row.expires_at,
        row.user_id, row.access_token, row.patient, row.encounter, row.need_patient_banner,
        row.app_context, row.csrf_token,
    )


def start_launch(session: Session, *, cookie: str, ehr_id: int, state: str, code_verifier: str,
                 nonce: str, token_endpoint: str, jwks_uri: str | None, issuer: str | None,
                 app_context: str | None, now: dt.datetime, expires_at: dt.datetime) -> None:
    session.execute(delete(SmartLaunchRow).where(SmartLaunchRow.expires_at < now))
    session.add(SmartLaunchRow(
        session_hash=session_hash(cookie), ehr_id=ehr_id, state=state,
        code_verifier=code_verifier, nonce=nonce, token_endpoint=token_endpoint,
        jwks_uri=jwks_uri, issuer=issuer, created_at=now, expires_at=expires_at,
        need_patient_banner=False, app_context=app_context,
    ))
    session.flush()


def launch(session: Session, cookie: str, now: dt.datetime) -> Launch | None:
    """The live launch behind a cookie; None when there is none or it has expired."""
    if not 20 <= len(cookie) <= 200:
        return None
    row = session.get(SmartLaunchRow, session_hash(cookie))
    if row is None or row.expires_at <= now:
        return None
    return _launch(row)


def take_state(session: Session, cookie: str) -> None:
    """The state and verifier are good for one callback: forget them at the first."""
    row = session.get(SmartLaunchRow, session_hash(cookie))
    if row is not None:
        row.state = None
        row.code_verifier = None


def authorize(session: Session, cookie: str, *, user_id: int, access_token: str,
              patient: str, encounter: str | None, need_patient_banner: bool,
              app_context: str | None, csrf_token: str, expires_at: dt.datetime) -> None:
    row = session.get(SmartLaunchRow, session_hash(cookie))
    if row is None:
        raise NotFoundError("the launch has ended: launch caresheet again from the EHR")
    row.user_id = user_id
    row.access_token = access_token
    row.patient = patient
    row.encounter = encounter
    row.need_patient_banner = need_patient_banner
    if app_context:
        row.app_context = app_context
    row.csrf_token = csrf_token
    row.expires_at = expires_at


# ---------------------------------------------------------------- write-back


@dataclass(frozen=True, slots=True)
class Writeback:
    handout_id: int
    ehr_id: int | None
    document_id: str | None
    error: str | None
    at: dt.datetime


def record_writeback(session: Session, handout_id: int, ehr_id: int, document_id: str | None,
                     error: str | None, now: dt.datetime) -> Writeback:
    row = session.get(SmartWritebackRow, handout_id)
    if row is None:
        row = SmartWritebackRow(handout_id=handout_id)
        session.add(row)
    row.ehr_id, row.document_id, row.error, row.at = ehr_id, document_id, error, now
    session.flush()
    return Writeback(handout_id, ehr_id, document_id, error, now)


def writeback(session: Session, handout_id: int) -> Writeback | None:
    row = session.get(SmartWritebackRow, handout_id)
    if row is None:
        return None
    return Writeback(row.handout_id, row.ehr_id, row.document_id, row.error, row.at)
