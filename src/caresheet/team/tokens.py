"""API tokens: how a system (an EHR, a clinic's own software) calls ``/api/`` without a
person's browser session.

``add_token`` prints nothing and stores only the token's SHA-256; the caller shows the token
once. Each token acts as its own account (a ``users`` row with no usable password, named
``<token>@api-token.invalid``) so its role and clinic apply through the same checks as a
person's, and every row that records who acted names it. Revoking disables that account.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from caresheet.errors import BadInputError, ForbiddenError, NotFoundError
from caresheet.store.clinics import ApiTokenRow
from caresheet.store.team import UserRow
from caresheet.team import clinics
from caresheet.team.accounts import Role, User, token_hash
from caresheet.team.clinics import Clinic

PREFIX = "cst_"
TOKEN_DOMAIN = "api-token.invalid"
# Argon2 never verifies this, so a token's account cannot log in with a password.
NO_PASSWORD = "!api-token"
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class ApiToken:
    id: int
    name: str
    role: Role
    clinics: tuple[str, ...]
    created_at: dt.datetime
    revoked_at: dt.datetime | None


def _checked_name(name: str) -> str:
    cleaned = name.strip().lower()
    if not _NAME.match(cleaned):
        raise BadInputError(
            f"a token's name must be 1 to 64 lowercase letters, digits or . _ - (got {name!r})")
    return cleaned


def add_token(session: Session, name: str, role: Role, clinic: Clinic | None,
              now: dt.datetime) -> tuple[str, ApiToken]:
    """A new token and its record; the token is returned once and never stored."""
    cleaned = _checked_name(name)
    if session.scalar(select(ApiTokenRow.id).where(ApiTokenRow.name == cleaned)):
        raise BadInputError(f"a token named {cleaned!r} already exists")
    email = f"{cleaned}@{TOKEN_DOMAIN}"
    if session.scalar(select(UserRow.id).where(UserRow.email == email)):
        raise BadInputError(f"the account {email} already exists")
    user = UserRow(email=email, password_hash=NO_PASSWORD, role=role.value, active=True,
                   created_at=now)
    session.add(user)
    session.flush()
    if clinic is not None:
        clinics.join(session, user.id, clinic.id)
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiTokenRow(name=cleaned, token_hash=token_hash(token), user_id=user.id,
                      created_at=now, revoked_at=None)
    session.add(row)
    session.flush()
    return token, _token(session, row)


def _token(session: Session, row: ApiTokenRow) -> ApiToken:
    user = session.get(UserRow, row.user_id)
    assert user is not None
    names = tuple(c.name for c in clinics.member_of(session, user.id))
    return ApiToken(id=row.id, name=row.name, role=Role(user.role), clinics=names,
                    created_at=row.created_at, revoked_at=row.revoked_at)


def list_tokens(session: Session) -> list[ApiToken]:
    return [_token(session, r) for r in session.scalars(select(ApiTokenRow)
                                                         .order_by(ApiTokenRow.name))]


def revoke_token(session: Session, name: str, now: dt.datetime) -> ApiToken:
    """End a token at once (the first revocation time is kept); its account is disabled."""
    row = session.scalar(select(ApiTokenRow).where(ApiTokenRow.name == name.strip().lower()))
    if row is None:
        raise NotFoundError(f"no token named {name!r}")
    if row.revoked_at is None:
        row.revoked_at = now
    user = session.get(UserRow, row.user_id)
    if user is not None:
        user.active = False
    session.flush()
    return _token(session, row)


def resolve(session: Session, token: str) -> User | None:
    """The account a bearer token acts as; None when no token matches (401), ForbiddenError
    when it was revoked (403: the caller is known and refused)."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    row = session.scalar(select(ApiTokenRow).where(ApiTokenRow.token_hash == token_hash(token)))
    if row is None:
        return None
    user = session.get(UserRow, row.user_id)
    if row.revoked_at is not None or user is None or not user.active:
        raise ForbiddenError(f"the API token {row.name!r} was revoked")
    return User(id=user.id, email=user.email, role=Role(user.role), active=True,
                token_name=row.name)
