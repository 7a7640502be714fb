"""Clinics, who works in each, and the API tokens systems use: the rows and their queries.

The migration ``0010_clinics`` creates the embedded default clinic (id 1): an installation
with one clinic never sets one up, and every handout from before clinics belongs to it.
Quiet hours are minutes after local midnight (21:00 is 1260), in the clinic's own zone.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

# The users table must be known for the foreign keys to it.
import caresheet.store.team  # noqa: F401
from caresheet.store.tables import Base, UtcDateTime

DEFAULT_CLINIC_ID = 1


class ClinicRow(Base):
    __tablename__ = "clinics"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    time_zone: Mapped[str] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    webhook_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    quiet_start: Mapped[int] = mapped_column(Integer)
    quiet_end: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class ClinicMemberRow(Base):
    __tablename__ = "clinic_members"

    clinic_id: Mapped[int] = mapped_column(
        ForeignKey("clinics.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)


class ApiTokenRow(Base):
    """A system's bearer token: only its SHA-256 is kept, like a staff session's cookie.

    It acts as its own account (``user_id``: a ``users`` row that has no usable password), so
    its role, its clinics and every row that names who did something work as for a person.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
