"""Settings read from the environment, in one place so every entry point agrees."""

from __future__ import annotations

import os

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
_TRUE = {"1", "true", "yes", "on"}


def public_base_url() -> str | None:
    """The site's address as outsiders reach it (behind a proxy), from CARESHEET_BASE_URL."""
    value = os.environ.get(BASE_URL_ENV, "").strip().rstrip("/")
    return value or None


def cds_allow_anonymous() -> bool:
    """Whether CDS Hooks calls without a JWT are served: for a test install only."""
    return os.environ.get(CDS_ANONYMOUS_ENV, "").strip().lower() in _TRUE
