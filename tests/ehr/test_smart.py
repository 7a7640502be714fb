"""The SMART side on SQLite and PostgreSQL without a browser: registering EHRs and linking
their users, discovery (and its fallback to /metadata), a launch's state kept server-side and
good once, and the 0012 tables matching the models."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from caresheet.ehr import smart
from caresheet.errors import BadInputError, NotFoundError, SmartLaunchError
from caresheet.store import smart as rows
from caresheet.store.db import Store
from caresheet.store.tables import Base
from caresheet.team import accounts, audit, clinics
from caresheet.team.accounts import Role
from ehr.peers import closed_port_url, serving

SMART_TABLES = {"smart_ehrs", "smart_user_links", "smart_launches", "smart_writebacks"}
OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    opened = Store.open(db_url)
    try:
        yield opened
    finally:
        opened.close()


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def register(store: Store, iss: str, **kwargs: Any) -> rows.SmartEhr:
    return smart.register(store, name=kwargs.pop("name", "main"), iss=iss,
                          client_id=kwargs.pop("client_id", "cs"),
                          client_secret=kwargs.pop("client_secret", None),
                          scope=kwargs.pop("scope", None), clinic=kwargs.pop("clinic", None),
                          now=now())


def test_registration_checks_and_hides_the_secret(store: Store) -> None:
    with pytest.raises(BadInputError, match="http or https"):
        register(store, "ftp://ehr.example/fhir")
    with pytest.raises(BadInputError, match="client id"):
        register(store, "https://ehr.example/fhir", client_id=" ")
    with pytest.raises(BadInputError, match="unknown clinic 'North'"):
        register(store, "https://ehr.example/fhir/", clinic="North")
    with store.session() as session:
        clinics.add_clinic(session, "North", phone="555-0100", time_zone="America/Chicago",
                           now=now())
    ehr = register(store, "https://ehr.example/fhir/", client_secret="s3cret", clinic="North",
                   scope="launch  openid   patient/Patient.rs")
    assert ehr.clinic == "North"
    assert ehr.iss == "https://ehr.example/fhir" and ehr.scope == "launch openid patient/Patient.rs"
    assert "s3cret" not in repr(ehr) and "s3cret" not in repr(smart.registered(store))
    with pytest.raises(BadInputError, match="already registered"):
        register(store, "https://other.example/fhir")
    with pytest.raises(BadInputError, match="already registered"):
        register(store, "https://ehr.example/fhir", name="again")
    smart.unregister(store, "main")
    with pytest.raises(NotFoundError):
        smart.unregister(store, "main")


def test_linking_an_ehr_user_to_an_account(store: Store) -> None:
    register(store, "https://ehr.example/fhir")
    with store.session() as session:
        user = accounts.add_user(session, "nurse@clinic.example", "a long password 1",
                                 Role.CLINICIAN, now())
    with pytest.raises(NotFoundError):
        smart.link_user(store, email="nurse@clinic.example", ehr_name="nope",
                        fhir_user="Practitioner/1")
    smart.link_user(store, email="nurse@clinic.example", ehr_name="main",
                    fhir_user="https://ehr.example/fhir/Practitioner/1")
    with store.session(write=False) as session:
        ehr = rows.ehr_by_name(session, "main")
        assert rows.linked_user(session, ehr.id, "https://ehr.example/fhir/Practitioner/1") \
            == user.id
        assert rows.linked_user(session, ehr.id, "https://ehr.example/fhir/Practitioner/2") \
            is None


def test_discovery_falls_back_to_the_capability_statement() -> None:
    capability = {"resourceType": "CapabilityStatement", "rest": [{"mode": "server", "security": {
        "extension": [{"url": OAUTH_URIS, "extension": [
            {"url": "authorize", "valueUri": "https://auth.example/authorize"},
            {"url": "token", "valueUri": "https://auth.example/token"}]}]}}]}
    with serving({"/fhir/metadata": capability}) as ehr:
        found = smart.discover(f"{ehr.url}/fhir")
    assert (found.authorize, found.token) == ("https://auth.example/authorize",
                                              "https://auth.example/token")
    with serving({}) as ehr, pytest.raises(SmartLaunchError, match="where to log in"):
        smart.discover(f"{ehr.url}/fhir")
    with pytest.raises(SmartLaunchError, match="may be down"):
        smart.discover(closed_port_url())


def test_a_launch_keeps_its_secrets_on_the_server_and_its_state_once(store: Store) -> None:
    config = {"issuer": "https://auth.example", "jwks_uri": "https://auth.example/jwks",
              "authorization_endpoint": "https://auth.example/authorize",
              "token_endpoint": "https://auth.example/token"}
    with serving({"/fhir/.well-known/smart-configuration": config}) as ehr:
        register(store, f"{ehr.url}/fhir", scope="launch openid patient/Patient.rs")
        started = smart.begin(store, iss=f"{ehr.url}/fhir", launch="abc",
                              redirect_uri="https://cs.example/smart/callback", app_context=None,
                              ip="127.0.0.1", now=now())
    query = {k: v[0] for k, v in parse_qs(urlsplit(started.redirect).query).items()}
    with store.session(write=False) as session:
        launch = rows.launch(session, started.cookie, now())
    assert launch is not None and launch.state == query["state"]
    assert launch.code_verifier and launch.code_verifier not in started.redirect
    assert started.cookie not in started.redirect and launch.nonce == query["nonce"]
    assert launch.jwks_uri == config["jwks_uri"] and launch.issuer == config["issuer"]
    assert started.cookie not in repr(launch) and launch.state not in repr(launch)
    # A wrong state ends the launch's login: the right one cannot be tried after it.
    for state in ("wrong", query["state"]):
        with pytest.raises(SmartLaunchError, match=r"state|no open login"):
            smart.complete(store, cookie=started.cookie, state=state, code="c", error=None,
                           redirect_uri="https://cs.example/smart/callback", ip=None,
                           now=now())
    with store.session(write=False) as session:
        checks = [e.detail["check"] for e in audit.events(session, action="smart.refused")]
        assert rows.launch(session, started.cookie, now() + dt.timedelta(minutes=11)) is None
    assert checks == ["state", "state"]


def test_a_token_endpoint_that_is_down_is_named(store: Store) -> None:
    config = {"issuer": "https://auth.example", "jwks_uri": "https://auth.example/jwks",
              "authorization_endpoint": "https://auth.example/authorize",
              "token_endpoint": closed_port_url()}
    with serving({"/fhir/.well-known/smart-configuration": config}) as ehr:
        register(store, f"{ehr.url}/fhir")
        started = smart.begin(store, iss=f"{ehr.url}/fhir", launch="abc",
                              redirect_uri="https://cs.example/smart/callback", app_context=None,
                              ip=None, now=now())
    state = parse_qs(urlsplit(started.redirect).query)["state"][0]
    with pytest.raises(SmartLaunchError, match="may be down") as refused:
        smart.complete(store, cookie=started.cookie, state=state, code="c", error=None,
                       redirect_uri="https://cs.example/smart/callback", ip=None, now=now())
    assert refused.value.check == "ehr_down"
    # Removing the EHR ends its launches (and would keep its write-backs).
    smart.unregister(store, "main")
    with store.session(write=False) as session:
        assert rows.launch(session, started.cookie, now()) is None


def test_an_unknown_iss_is_refused_and_audited(store: Store) -> None:
    with pytest.raises(SmartLaunchError, match="not registered"):
        smart.begin(store, iss="https://nobody.example/fhir", launch="x",
                    redirect_uri="https://cs.example/smart/callback", app_context=None,
                    ip=None, now=now())
    with store.session(write=False) as session:
        [event] = audit.events(session, action="smart.refused")
    assert event.detail["check"] == "unknown_iss"


def _tables_in(diff: Any) -> set[str]:
    found: set[str] = set()
    for item in diff if isinstance(diff, list) else [diff]:
        for part in item if isinstance(item, tuple) else (item,):
            table = getattr(part, "table", None)
            for name in (getattr(part, "name", None), getattr(table, "name", None), part):
                if isinstance(name, str) and name in SMART_TABLES:
                    found.add(name)
    return found


def test_the_0012_migration_matches_the_models(store: Store) -> None:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    assert [d for d in diffs if _tables_in(d)] == []
