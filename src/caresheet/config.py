"""Settings read from the environment, in one place so every entry point agrees."""

from __future__ import annotations

import os
from collections.abc import Mapping

from caresheet.errors import BadInputError

DATABASE_ENV = "CARESHEET_DATABASE_URL"
DEFAULT_DATABASE_URL = "sqlite:///./caresheet.db"

# psycopg 3 is the driver we install; SQLAlchemy reads a bare postgresql:// as psycopg2.
_POSTGRES_PREFIXES = ("postgresql://", "postgres://")
_PSYCOPG_PREFIX = "postgresql+psycopg://"


def database_url() -> str:
    """The database to use: ``CARESHEET_DATABASE_URL``, else ``./caresheet.db`` (SQLite)."""
    return normalize_url(os.environ.get(DATABASE_ENV, "").strip() or DEFAULT_DATABASE_URL)


def normalize_url(url: str) -> str:
    """Point a plain PostgreSQL URL at the psycopg 3 driver; leave every other URL alone."""
    for prefix in _POSTGRES_PREFIXES:
        if url.startswith(prefix):
            return _PSYCOPG_PREFIX + url.removeprefix(prefix)
    return url


BASE_URL_ENV = "CARESHEET_BASE_URL"
CDS_ANONYMOUS_ENV = "CARESHEET_CDS_ALLOW_ANONYMOUS"
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def is_true(value: object) -> bool:
    """Whether a setting or a query flag says yes (``1``, ``true``, ``yes``, ``on``, any case)."""
    return str(value or "").strip().lower() in _TRUE


def is_false(value: object) -> bool:
    """Whether a setting says no (``0``, ``false``, ``no``, ``off``, any case): for settings
    that are on unless turned off."""
    return str(value or "").strip().lower() in _FALSE


# Where ``caresheet serve`` listens by default: the base of links written outside any request
# when CARESHEET_BASE_URL is not set.
DEFAULT_BASE_URL = "http://127.0.0.1:8000"


def public_base_url(env: Mapping[str, str] | None = None) -> str | None:
    """The site's address as outsiders reach it (behind a proxy), from CARESHEET_BASE_URL.

    The one reader of that setting; ``env`` stands in for the process environment (a
    settings reader handed one, a test).
    """
    value = (os.environ if env is None else env).get(BASE_URL_ENV, "").strip().rstrip("/")
    return value or None


def link_base_url(env: Mapping[str, str] | None = None) -> str:
    """The base of links written outside any request (notifications, the CLI's handout
    links): CARESHEET_BASE_URL, else the address ``caresheet serve`` listens on by default."""
    return public_base_url(env) or DEFAULT_BASE_URL


def cds_allow_anonymous() -> bool:
    """Whether CDS Hooks calls without a JWT are served: for a test install only."""
    return is_true(os.environ.get(CDS_ANONYMOUS_ENV))


def site_url(request_base: str) -> str:
    """The one base of every absolute link the app writes (QR codes, FHIR, handout links).

    CARESHEET_BASE_URL wins: behind a reverse proxy the request's own host and scheme are the
    proxy's view, not the address a patient can open. Without it, the request's base is used.
    """
    return public_base_url() or request_base.rstrip("/")


# ---------------------------------------------------------------- serving capacity

CACHE_MB_ENV = "CARESHEET_CACHE_MB"
PDF_WORKERS_ENV = "CARESHEET_PDF_WORKERS"
PDF_QUEUE_ENV = "CARESHEET_PDF_QUEUE"
NOTIFY_LISTEN_ENV = "CARESHEET_NOTIFY_LISTEN"
PGBOUNCER_ENV = "CARESHEET_PGBOUNCER"
NOTIFY_POLL_ENV = "CARESHEET_NOTIFY_POLL"
DEFAULT_CACHE_MB = 256


def _number(name: str, default: float, *, least: float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = least - 1
    if value < least:
        raise BadInputError(f"{name} must be a number of at least {least:g} (got {text[:20]!r})")
    return value


def cache_bytes() -> int:
    """The size bound of the rendered-output cache (CARESHEET_CACHE_MB; 0 turns it off)."""
    return int(_number(CACHE_MB_ENV, DEFAULT_CACHE_MB, least=0) * 1024 * 1024)


def pdf_workers() -> int:
    """Worker processes for CPU work: PDFs, and checking an uploaded sheet
    (CARESHEET_PDF_WORKERS; default: one per CPU core)."""
    return int(_number(PDF_WORKERS_ENV, float(os.cpu_count() or 1), least=1))


def pdf_queue() -> int:
    """Jobs (PDFs, uploads) that may wait for a free worker before more are refused with a 503
    (CARESHEET_PDF_QUEUE; default: four per worker)."""
    return int(_number(PDF_QUEUE_ENV, 4.0 * pdf_workers(), least=0))


def behind_pgbouncer() -> bool:
    """Whether the database URL points at PgBouncer in transaction mode (CARESHEET_PGBOUNCER).

    There each transaction may run on another server connection, so psycopg's prepared
    statements (made on one connection, then used on whichever comes next) fail with
    "prepared statement does not exist", and a LISTEN ends with its transaction.
    """
    return is_true(os.environ.get(PGBOUNCER_ENV))


def notify_listen() -> bool:
    """Whether the notification worker waits on PostgreSQL LISTEN (CARESHEET_NOTIFY_LISTEN).

    Off behind PgBouncer in transaction mode (by default when CARESHEET_PGBOUNCER is on),
    where a LISTEN does not survive the transaction: the worker then polls every
    CARESHEET_NOTIFY_POLL seconds.
    """
    value = os.environ.get(NOTIFY_LISTEN_ENV, "").strip()
    return not is_false(value) if value else not behind_pgbouncer()


def notify_poll_seconds() -> float:
    """How often the notification worker looks for due messages without a wake-up (2 s)."""
    return _number(NOTIFY_POLL_ENV, 2.0, least=0.05)
