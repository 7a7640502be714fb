"""The check of a CDS client's JWT on SQLite and PostgreSQL: anonymous only when the operator
allows it, and a jti seen by one process refused by another; the 0008 tables match the models."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from caresheet.ehr import clients
from caresheet.ehr.jwks import KeySets
from caresheet.errors import AuthenticationError, BadInputError, NotFoundError
from caresheet.store.db import Store
from caresheet.store.tables import Base
from ehr.peers import SigningKey, serving

ISS = "https://ehr.unit.example"
AUD = "http://127.0.0.1/cds-services/caresheet-order-select"
EHR_TABLES = {"cds_clients", "cds_seen_jti", "cds_cards", "cds_feedback"}


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    opened = Store.open(db_url)
    try:
        yield opened
    finally:
        opened.close()


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def test_anonymous_calls_only_when_the_operator_allows(store: Store) -> None:
    with pytest.raises(AuthenticationError, match="needs a signed JWT"):
        clients.authenticate(store, KeySets(), None, [AUD], now())
    caller = clients.authenticate(store, KeySets(), None, [AUD], now(), allow_anonymous=True)
    assert caller.iss is None and caller.actor == "cds-client:anonymous"


def test_a_token_given_is_checked_even_when_anonymous_is_allowed(store: Store) -> None:
    with pytest.raises(AuthenticationError, match="not a JWT"):
        clients.authenticate(store, KeySets(), "Bearer nonsense", [AUD], now(),
                             allow_anonymous=True)


def test_two_processes_agree_on_a_replay(store: Store, db_url: str) -> None:
    key = SigningKey("ES384")
    with serving({"/jwks.json": key.jwks()}) as jwks:
        clients.register(store, ISS, f"{jwks.url}/jwks.json", now())
        token = f"Bearer {key.token(ISS, AUD)}"
        other = Store.open(db_url)  # another app process: its own engine and key cache
        try:
            assert clients.authenticate(store, KeySets(), token, [AUD], now()).iss == ISS
            with pytest.raises(AuthenticationError, match="already used"):
                clients.authenticate(other, KeySets(), token, [AUD], now())
        finally:
            other.close()


def test_a_rotated_key_is_found_by_refetching(store: Store) -> None:
    old, new = SigningKey("ES384"), SigningKey("ES384")
    with serving({"/jwks.json": old.jwks()}) as jwks:
        clients.register(store, ISS, f"{jwks.url}/jwks.json", now())
        keys = KeySets(refetch_after=0)  # production waits 30 s between refetches
        clients.authenticate(store, keys, f"Bearer {old.token(ISS, AUD)}", [AUD], now())
        jwks.routes["/jwks.json"] = {"keys": old.jwks()["keys"] + new.jwks()["keys"]}
        assert clients.authenticate(store, keys, f"Bearer {new.token(ISS, AUD)}", [AUD],
                                    now()).iss == ISS


def test_registration_refuses_bad_urls_and_duplicates(store: Store) -> None:
    with pytest.raises(BadInputError, match="http or https"):
        clients.register(store, ISS, "file:///etc/keys.json", now())
    clients.register(store, ISS, "https://ehr.unit.example/jwks.json", now())
    with pytest.raises(BadInputError, match="already registered"):
        clients.register(store, ISS, "https://ehr.unit.example/jwks.json", now())
    assert [c.iss for c in clients.registered(store)] == [ISS]
    clients.unregister(store, ISS)
    with pytest.raises(NotFoundError):
        clients.unregister(store, ISS)


def _tables_in(diff: Any) -> set[str]:
    found: set[str] = set()
    for item in diff if isinstance(diff, list) else [diff]:
        for part in item if isinstance(item, tuple) else (item,):
            table = getattr(part, "table", None)
            for name in (getattr(part, "name", None), getattr(table, "name", None), part):
                if isinstance(name, str) and name in EHR_TABLES:
                    found.add(name)
    return found


def test_the_0008_migration_matches_the_models(store: Store) -> None:
    import caresheet.store.ehr  # noqa: F401  (registers the tables on Base)

    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    assert [d for d in diffs if _tables_in(d)] == []
