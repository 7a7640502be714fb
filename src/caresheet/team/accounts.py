"""Staff accounts, their roles, logins and the login rate limit.

Passwords are hashed with argon2 (argon2-cffi); a login session is a random cookie value of
which only the SHA-256 is stored, so a copy of the database cannot be used to log in. The
rate limit counts failed logins per account and address in the database, so it holds across
every app process behind a load balancer.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from caresheet.errors import BadInputError, NotFoundError, TooManyAttemptsError
from caresheet.store.team import (
    LoginAttemptRow,
    StaffSessionRow,
    UserRow,
    lock_login_attempts,
)

MIN_PASSWORD_LENGTH = 12
SESSION_LIFETIME = dt.timedelta(hours=12)
SESSION_IDLE = dt.timedelta(hours=2)
RATE_LIMIT_FAILURES = 5
RATE_LIMIT_WINDOW = dt.timedelta(minutes=15)
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{1,63}$")

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified when the account does not exist, so a wrong email costs as long as a wrong
    password. Made on first use: hashing at import slowed every CLI command by ~0.15 s."""
    return _hasher.hash("caresheet-no-such-user")


class Role(StrEnum):
    """What a staff member may do: admins manage accounts and read the audit log; authors
    write sheets; reviewers (and admins) move someone else's sheet to reviewed and published."""

    ADMIN = "admin"
    CLINICIAN = "clinician"
    AUTHOR = "author"
    REVIEWER = "reviewer"


@dataclass(frozen=True)
class User:
    id: int
    email: str
    role: Role
    active: bool
    # Set when a system calls with an API token (``team.tokens``): the audit names the token.
    token_name: str | None = None

    @property
    def actor(self) -> str:
        """How the audit log names this person (or system)."""
        if self.token_name is not None:
            return f"token:{self.token_name}"
        return f"user:{self.id}:{self.email}"


@dataclass(frozen=True)
class Login:
    """A logged-in session: ``token`` goes in the cookie and is never stored."""

    token: str
    csrf_token: str
    user: User
    expires_at: dt.datetime
    # A bearer token's call: no cookie, so no CSRF check (a page cannot send the header).
    bearer: bool = False


LOGIN_FAILED = "wrong email or password"


def _user(row: UserRow) -> User:
    return User(id=row.id, email=row.email, role=Role(row.role), active=row.active)


def normalize_email(email: str) -> str:
    """The one spelling of an address we store and compare; refuses what is not an address."""
    cleaned = email.strip().lower()
    if not _EMAIL.match(cleaned):
        raise BadInputError(f"not an email address: {email.strip()[:80]!r}")
    return cleaned


def parse_role(text: str) -> Role:
    try:
        return Role(text.strip().lower())
    except ValueError:
        raise BadInputError(
            f"unknown role {text!r}; use one of: {', '.join(r.value for r in Role)}"
        ) from None


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadInputError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")


def add_user(session: Session, email: str, password: str, role: Role, now: dt.datetime) -> User:
    """Create a staff account; refuses a taken email or a short password."""
    address = normalize_email(email)
    check_password(password)
    if session.scalar(select(UserRow.id).where(UserRow.email == address)) is not None:
        raise BadInputError(f"a user with email {address} already exists")
    row = UserRow(
        email=address, password_hash=_hasher.hash(password), role=role.value, active=True,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return _user(row)


def get_user(session: Session, user_id: int) -> User:
    row = session.get(UserRow, user_id)
    if row is None:
        raise NotFoundError(f"no user with id {user_id}")
    return _user(row)


def user_by_email(session: Session, email: str) -> User:
    """The account with this email (any case); NotFoundError when there is none."""
    address = normalize_email(email)
    row = session.scalar(select(UserRow).where(UserRow.email == address))
    if row is None:
        raise NotFoundError(f"no user with email {address}")
    return _user(row)


def list_users(session: Session) -> list[User]:
    return [_user(r) for r in session.scalars(select(UserRow).order_by(UserRow.email))]


def set_role(session: Session, user_id: int, role: Role) -> User:
    row = session.get(UserRow, user_id)
    if row is None:
        raise NotFoundError(f"no user with id {user_id}")
    row.role = role.value
    return _user(row)


def set_active(session: Session, user_id: int, active: bool) -> User:
    """Disable or enable an account; disabling also ends its sessions."""
    row = session.get(UserRow, user_id)
    if row is None:
        raise NotFoundError(f"no user with id {user_id}")
    row.active = active
    if not active:
        session.execute(delete(StaffSessionRow).where(StaffSessionRow.user_id == user_id))
    return _user(row)


def set_password(session: Session, user_id: int, password: str) -> None:
    """A new password; every session of the account ends, so a thief's cookie dies with it."""
    check_password(password)
    row = session.get(UserRow, user_id)
    if row is None:
        raise NotFoundError(f"no user with id {user_id}")
    row.password_hash = _hasher.hash(password)
    session.execute(delete(StaffSessionRow).where(StaffSessionRow.user_id == user_id))


def failures_in_window(session: Session, email: str, ip: str, now: dt.datetime) -> int:
    """Failed logins for this account from this address since the window opened.

    A success resets the count: only failures after the last success count.
    """
    since = now - RATE_LIMIT_WINDOW
    last_ok = session.scalar(
        select(func.max(LoginAttemptRow.at)).where(
            LoginAttemptRow.email == email, LoginAttemptRow.ip == ip,
            LoginAttemptRow.succeeded.is_(True),
        )
    )
    if last_ok is not None and last_ok > since:
        since = last_ok
    count = session.scalar(
        select(func.count()).select_from(LoginAttemptRow).where(
            LoginAttemptRow.email == email, LoginAttemptRow.ip == ip,
            LoginAttemptRow.succeeded.is_(False), LoginAttemptRow.at > since,
        )
    )
    return int(count or 0)


def authenticate(
    session: Session, email: str, password: str, ip: str, now: dt.datetime
) -> User | None:
    """The user for these credentials, or None; the attempt is recorded either way.

    Returns rather than raises on a wrong password so the caller's transaction commits the
    failed attempt (the rate limit counts it). Raises TooManyAttemptsError when locked out.
    Counting, checking and recording happen under a lock on the account and address, so
    parallel attempts cannot all slip under the limit: call it in a write session.
    """
    try:
        address = normalize_email(email)
    except BadInputError:
        address = email.strip().lower()[:320]
    lock_login_attempts(session, address, ip[:64])
    if failures_in_window(session, address, ip, now) >= RATE_LIMIT_FAILURES:
        raise TooManyAttemptsError(
            "too many failed logins; wait 15 minutes and try again, or ask an admin"
        )
    row = session.scalar(select(UserRow).where(UserRow.email == address))
    ok = _verify(row.password_hash if row else _dummy_hash(), password)
    ok = ok and row is not None and row.active
    session.add(LoginAttemptRow(email=address, ip=ip[:64], at=now, succeeded=ok))
    session.flush()
    if not ok or row is None:
        return None
    if _hasher.check_needs_rehash(row.password_hash):
        row.password_hash = _hasher.hash(password)
    return _user(row)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, user: User, ip: str, now: dt.datetime) -> Login:
    """A new login for ``user``; the returned token is the only copy of the cookie value."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    expires = now + SESSION_LIFETIME
    session.add(
        StaffSessionRow(
            token_hash=token_hash(token), user_id=user.id, csrf_token=csrf, created_at=now,
            last_seen_at=now, expires_at=expires, ip=ip[:64],
        )
    )
    session.flush()
    return Login(token=token, csrf_token=csrf, user=user, expires_at=expires)


def resume_session(session: Session, token: str, now: dt.datetime) -> Login | None:
    """The login this cookie value belongs to, or None when unknown, expired or idle too long."""
    if not token or len(token) > 200:
        return None
    row = session.get(StaffSessionRow, token_hash(token))
    if row is None:
        return None
    user_row = session.get(UserRow, row.user_id)
    idle_limit = row.last_seen_at + SESSION_IDLE
    if user_row is None or not user_row.active or now >= row.expires_at or now >= idle_limit:
        session.delete(row)
        return None
    # Touch at most once a minute: a page view should not always be a write.
    if now - row.last_seen_at > dt.timedelta(minutes=1):
        row.last_seen_at = now
    return Login(token=token, csrf_token=row.csrf_token, user=_user(user_row),
                 expires_at=row.expires_at)


def end_session(session: Session, token: str) -> None:
    session.execute(delete(StaffSessionRow).where(StaffSessionRow.token_hash == token_hash(token)))
