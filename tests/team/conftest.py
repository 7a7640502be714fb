"""Fixtures for the care-team tests: an open store, staff users, and a fixed clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from caresheet import guide
from caresheet.errors import NotFoundError
from caresheet.store.db import Store
from caresheet.team import accounts
from caresheet.team.accounts import Role, User
from helpers import import_published

NOW = dt.datetime(2025, 1, 15, 9, 0, tzinfo=dt.UTC)  # in the past: queued mail is due
PASSWORD = "correct horse battery staple"
P586 = Path(__file__).resolve().parents[2] / "src" / "caresheet" / "library" / "P586.en.md"


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


def issue_handout(store: Store) -> int:
    """A real handout's id: an escalation points at its handout by foreign key."""
    return issue_link(store).handout.id


def issue_link(store: Store) -> guide.Issued:
    """A P586 handout and its link's token, issued through the guide's one issue path by a
    clinician of its own."""
    with store.session() as session:
        import_published(session, [P586])
        try:
            issuer = accounts.user_by_email(session, "issuer@team.example")
        except NotFoundError:
            issuer = accounts.add_user(session, "issuer@team.example", PASSWORD, Role.CLINICIAN,
                                       NOW)
        issued = guide.issue(session, issuer, code="P586", language="en",
                             params={"lie_flat_hours": "2"}, procedure_time=NOW, now=NOW)
    return issued


@pytest.fixture
def handout_id(store: Store) -> int:
    return issue_handout(store)
