"""The declarative base every table sits on, and the table of sheet versions.

Other parts of caresheet add their tables in their own modules on this ``Base`` (each with its
own Alembic revision); the naming convention gives every constraint a stable name, so
migrations written by hand and ``alembic`` autogenerate agree on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The one declarative base: shared metadata with named constraints."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A moment in UTC, stored the same on both databases and always read back aware.

    SQLite has no time zones and returns naive values; PostgreSQL returns aware ones.
    Naive values are refused on the way in, so a local time can never be stored by mistake.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("store aware datetimes only (e.g. datetime.now(UTC))")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class SheetVersion(Base):
    """One imported version of one sheet in one language; rows are never rewritten but for
    their review status, so a handout pinned to a version reads the same words forever."""

    __tablename__ = "sheet_versions"
    __table_args__ = (
        UniqueConstraint("code", "language", "version"),
        Index("ix_sheet_versions_code_language", "code", "language"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    source_text: Mapped[str] = mapped_column(Text)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    imported_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    reviewer: Mapped[str | None] = mapped_column(Text, nullable=True)
    reviewed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # Who brought these words in (an uploading user's email, or "file import"): the one person
    # who may not review them.
    author: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Shipped example content, installed published by ``caresheet init``: every page says so.
    sample: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    # For a translation: the version of the sheet it translates that its words were written
    # against; behind that sheet's latest version means the translation is stale.
    base_version: Mapped[int | None] = mapped_column(Integer, nullable=True)


class SheetReview(Base):
    """One step of a version through review: who moved it, from what to what, when and why.
    Append-only; the four-eyes rules read it (who reviewed a version before it was published)."""

    __tablename__ = "sheet_reviews"
    __table_args__ = (Index("ix_sheet_reviews_sheet_version_id", "sheet_version_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sheet_version_id: Mapped[int] = mapped_column(ForeignKey("sheet_versions.id"))
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    reviewer: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class LibrarySetting(Base):
    """An admin's choice for the library's review workflow (``second_reviewer``: "1"/"0")."""

    __tablename__ = "library_settings"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


def table_of(model: type[Base]) -> Table:
    """A model's Core table, typed: Core statements on a hot path skip the ORM's machinery
    (its ORM-enabled insert costs about a third more per statement)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table
