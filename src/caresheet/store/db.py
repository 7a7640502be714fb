"""Open the database, bring its schema up to date, and hand out sessions.

One ``Store`` per process: ``Store.open(url)`` makes the engine, tunes SQLite (WAL, foreign
keys, a busy timeout), and runs Alembic ``upgrade heads`` under a lock, so several processes
starting at once on a fresh database do not race; a database already at heads is left alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    InterfaceError,
    NoSuchModuleError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from caresheet.config import behind_pgbouncer
from caresheet.errors import BadInputError, StoreUnavailableError

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_SECONDS = 30
CONNECT_TIMEOUT_SECONDS = 10
# Any fixed number: every caresheet process takes the same PostgreSQL advisory lock to migrate.
MIGRATION_LOCK_KEY = 5_860_001
_BEGIN_OPTION = "caresheet_sqlite_begin"
SUPPORTED_BACKENDS = ("sqlite", "postgresql")
SQLITE_POOL_SIZE = 20


class Store:
    """The database behind caresheet: an engine and the sessions made from it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # The same pool; only how SQLite begins a transaction differs (ignored elsewhere).
        self._writer = engine.execution_options(**{_BEGIN_OPTION: "BEGIN IMMEDIATE"})
        self._reader = engine.execution_options(**{_BEGIN_OPTION: "BEGIN"})

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> Store:
        """Connect to ``url`` and run any migration not yet applied; safe to call again."""
        parsed = _parse_url(url)
        engine = _create_engine(parsed)
        store = cls(engine)
        try:
            if migrate:
                _migrate(engine)
            else:
                with engine.connect():
                    pass
        except DBAPIError as error:
            engine.dispose()
            raise StoreUnavailableError(
                f"cannot use the database {store.display_url}: {_first_line(error.orig)}"
            ) from None
        except BaseException:
            engine.dispose()
            raise
        return store

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``: for the few places whose SQL differs."""
        return self.engine.dialect.name

    @property
    def display_url(self) -> str:
        """The URL with any password hidden, for messages and logs."""
        shown: str = self.engine.url.render_as_string(hide_password=True)
        return shown

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """A session in one transaction: committed when the block ends, rolled back on error.

        On SQLite a ``write`` session takes the write lock when it begins (BEGIN IMMEDIATE), so
        a read-then-write transaction cannot fail halfway when another process writes; pass
        ``write=False`` for a read-only block, which then never waits for writers.
        """
        bind = self._writer if write else self._reader
        with Session(bind, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except (OperationalError, InterfaceError) as error:
                _rollback_quietly(session)
                raise self._unavailable(error) from error
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A Core connection in one read-only transaction, for the hot read paths that need
        no ORM (a cached page's look-up): it costs a third of what a session does."""
        try:
            with self._reader.connect() as connection, connection.begin():
                yield connection
        except (OperationalError, InterfaceError) as error:
            raise self._unavailable(error) from error

    def _unavailable(self, error: OperationalError | InterfaceError) -> StoreUnavailableError:
        """A lost connection or a lock held too long: one line, not a driver traceback."""
        return StoreUnavailableError(
            f"the database {self.display_url} failed: {_first_line(error.orig)}")

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


# ---------------------------------------------------------------- engine


def _parse_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise BadInputError(
            f"cannot read the database URL {url!r}; use e.g. sqlite:///./caresheet.db or "
            "postgresql://user@host/dbname"
        ) from None
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        raise BadInputError(
            f"caresheet keeps its data in SQLite or PostgreSQL, not {backend!r}; "
            "use e.g. sqlite:///./caresheet.db or postgresql://user@host/dbname"
        )
    if backend == "sqlite":
        _check_sqlite_path(parsed.database)
    return parsed


def _check_sqlite_path(database: str | None) -> None:
    """A SQLite file can be created, but not the folder it goes in: say so plainly."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database).expanduser()
    if path.is_dir():
        raise BadInputError(f"the database path {database} is a folder; name a file in it")
    if not path.parent.is_dir():
        raise BadInputError(
            f"cannot create the database {database}: the folder {path.parent} does not exist"
        )


def _create_engine(url: URL) -> Engine:
    # A failed statement's parameters can hold a patient's words: keep them out of every
    # exception text and log line.
    options: dict[str, Any] = {"hide_parameters": True}
    backend = url.get_backend_name()
    if backend == "sqlite":
        options["connect_args"] = {"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False}
        if not url.database or url.database == ":memory:":
            options["poolclass"] = StaticPool  # one in-memory database, shared
        else:
            # Connections past the pool's size are opened and closed for each use; a
            # SQLite connection is cheap to keep, one per thread that may read at once.
            options["pool_size"] = SQLITE_POOL_SIZE
    elif backend == "postgresql":
        options["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
        if behind_pgbouncer():
            options["connect_args"]["prepare_threshold"] = None  # see behind_pgbouncer
        options["pool_pre_ping"] = True
    try:
        engine = create_engine(url, **options)
    except (NoSuchModuleError, ArgumentError, ImportError) as error:
        raise BadInputError(f"cannot use the database URL {url!r}: {error}") from None
    if backend == "sqlite":
        _tune_sqlite(engine)
    return engine


def _tune_sqlite(engine: Engine) -> None:
    """WAL for readers beside a writer, enforced foreign keys, and transactions we begin."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own transaction handling would leave DDL outside transactions.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql(connection.get_execution_options().get(_BEGIN_OPTION, "BEGIN"))


# ---------------------------------------------------------------- migrations


def _migrate(engine: Engine) -> None:
    """Alembic ``upgrade heads``, once, under a lock that every caresheet process shares."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads())
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    if current == heads:
        return
    locked = engine.execution_options(**{_BEGIN_OPTION: "BEGIN IMMEDIATE"})
    with locked.connect() as connection, connection.begin():
        if engine.dialect.name == "postgresql":
            # Released at commit; PostgreSQL runs the whole upgrade in this transaction.
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
        _upgrade(connection)


def alembic_config(connection: Connection | None = None) -> AlembicConfig:
    """Alembic's config for the shipped migrations, without an ini file.

    For writing a revision by hand: ``alembic.command.revision(alembic_config(), "message",
    rev_id="0005_name", head="0001_sheets")``; without ``connection``, env.py connects to
    ``caresheet.config.database_url()``.
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    from alembic import command
    from alembic.util import CommandError

    try:
        command.upgrade(alembic_config(connection), "heads")
    except CommandError as error:
        raise StoreUnavailableError(
            f"cannot bring the database schema up to date: {error} "
            "(was it made by a newer caresheet?)"
        ) from None


def _rollback_quietly(session: Session) -> None:
    """Roll back after a database failure; the connection may already be gone."""
    with suppress(SQLAlchemyError):
        session.rollback()


def _first_line(error: object) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
