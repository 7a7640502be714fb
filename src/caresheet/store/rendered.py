"""The rows of the rendered-output cache: one finished page, PDF, text or FHIR body per key.

Every process of a site shares this table, so a PDF made once is served by all of them. A key
names everything the bytes depend on (``caresheet.outputs`` builds it: the sheet version's row
id and status, the format, the params, the language and the options), so a row is never
updated in place and never stale: a new or retired version simply asks for another key. The
table is bounded in bytes; when a write pushes it past the bound, the rows used longest ago go
first. Reads touch ``used_at`` at most once a minute per row, so a popular page does not turn
every read into a write.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Integer, LargeBinary, String, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from caresheet.store.tables import Base, UtcDateTime, table_of

TOUCH_AFTER = dt.timedelta(minutes=1)
# Evict down to this share of the bound, so the next few writes do not each evict again.
EVICT_TO = 0.9


class RenderedOutput(Base):
    """One rendered body under its key (a SHA-256 of what it was made from)."""

    __tablename__ = "rendered_outputs"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    sheet_version_id: Mapped[int] = mapped_column(Integer, index=True)
    media_type: Mapped[str] = mapped_column(String(100))
    etag: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), index=True)


@dataclass(frozen=True, slots=True)
class Cached:
    """A body as stored: its media type and strong validator."""

    key: str
    media_type: str
    etag: str
    body: bytes
    stale: bool = False  # last marked used over TOUCH_AFTER ago: ``touch`` it


def get(session: Session, key: str, now: dt.datetime) -> Cached | None:
    """The body stored under ``key``, or None; read only (``stale`` says to ``touch`` it)."""
    table = table_of(RenderedOutput)
    row = session.execute(
        select(table.c.media_type, table.c.etag, table.c.body, table.c.used_at)
        .where(table.c.key == key)
    ).first()
    if row is None:
        return None
    return Cached(key, row.media_type, row.etag, bytes(row.body),
                  stale=now - row.used_at >= TOUCH_AFTER)


def touch(session: Session, key: str, now: dt.datetime) -> None:
    """Mark a row used now, so eviction takes the rows nobody asked for first."""
    table = table_of(RenderedOutput)
    session.execute(update(table).where(table.c.key == key).values(used_at=now))


def put(session: Session, cached: Cached, sheet_version_id: int, now: dt.datetime,
        max_bytes: int) -> None:
    """Store a body unless another process stored the same key first; then keep the bound."""
    table = table_of(RenderedOutput)
    values = {
        "key": cached.key, "sheet_version_id": sheet_version_id,
        "media_type": cached.media_type, "etag": cached.etag, "size": len(cached.body),
        "body": cached.body, "created_at": now, "used_at": now,
    }
    if session.get_bind().dialect.name == "postgresql":
        session.execute(postgresql.insert(table).values(values).on_conflict_do_nothing())
    else:
        session.execute(sqlite.insert(table).values(values).on_conflict_do_nothing())
    evict(session, max_bytes)


def evict(session: Session, max_bytes: int) -> int:
    """Delete the rows used longest ago until the table holds at most ``max_bytes``."""
    table = table_of(RenderedOutput)
    total = session.execute(select(func.coalesce(func.sum(table.c.size), 0))).scalar_one()
    if total <= max_bytes:
        return 0
    target = int(max_bytes * EVICT_TO)
    doomed: list[str] = []
    for key, size in session.execute(
        select(table.c.key, table.c.size).order_by(table.c.used_at, table.c.key)
    ):
        if total <= target:
            break
        doomed.append(key)
        total -= size
    for start in range(0, len(doomed), 500):
        session.execute(delete(table).where(table.c.key.in_(doomed[start:start + 500])))
    return len(doomed)


def total_bytes(session: Session) -> int:
    """The bytes of every stored body (for tests and the deployment guide's checks)."""
    table = table_of(RenderedOutput)
    return int(session.execute(select(func.coalesce(func.sum(table.c.size), 0))).scalar_one())


def keys(session: Session) -> list[str]:
    """Every stored key, least recently used first."""
    table = table_of(RenderedOutput)
    return list(session.scalars(select(table.c.key).order_by(table.c.used_at, table.c.key)))
