"""Fixtures for the care-team tests: an open store, staff users, and a fixed clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from caresheet.store.db import Store
from caresheet.team import accounts
from caresheet.team.accounts import Role, User

NOW = dt.datetime(2025, 1, 15, 9, 0, tzinfo=dt.UTC)  # in the past: queued mail is due
PASSWORD = "correct horse battery staple"


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A migrated store on SQLite and on PostgreSQL."""
    opened = Store.open(db_url)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def sqlite_store(sqlite_url: str) -> Iterator[Store]:
    opened = Store.open(sqlite_url)
    try:
        yield opened
    finally:
        opened.close()


def add(store: Store, email: str, role: Role, password: str = PASSWORD) -> User:
    with store.session() as session:
        return accounts.add_user(session, email, password, role, NOW)
