"""Schemathesis over the app's OpenAPI document, against a real server on 127.0.0.1: no
generated request, anonymous or from a logged-in clinician, gets a server error (5xx).

Bounded for CI: a few examples per operation (``CARESHEET_SCHEMATHESIS_EXAMPLES``, 10)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error

from helpers import LiveServer

from .receivers import WebhookSink
from .staff import add_staff, client_for

EXAMPLES = int(os.environ.get("CARESHEET_SCHEMATHESIS_EXAMPLES", "10"))
BOUNDED = settings(
    max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("schemathesis")
    live = LiveServer(f"sqlite:///{folder}/caresheet.db", workdir=folder).start()
    add_staff(live)
    yield live
    live.stop()


@pytest.fixture(scope="module")
def api_schema(server: LiveServer) -> Any:
    return schemathesis.openapi.from_url(f"{server.url}/openapi.json")


@pytest.fixture(scope="module")
def clinician(server: LiveServer) -> Iterator[requests.Session]:
    with client_for(server, "clinician") as client:
        cookie = client.cookies.get("caresheet_session")
    session = requests.Session()
    session.cookies.set("caresheet_session", cookie or "")
    yield session
    session.close()


def failures_over(schema: Any, base_url: str, session: requests.Session | None) -> list[str]:
    """Run every operation's bounded examples; one line per operation that failed."""
    found = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @BOUNDED
        def run(case: Any) -> None:
            case.call_and_validate(base_url=base_url, session=session,
                                   checks=[not_a_server_error])

        try:
            run()
        except (Exception, BaseExceptionGroup) as error:  # collect all, fail once with all
            found.append(f"{operation.label}: {str(error).splitlines()[0][:300]}")
    return found


def test_no_server_error_for_anyone(api_schema: Any, server: LiveServer) -> None:
    assert failures_over(api_schema, server.url, None) == []


def test_no_server_error_for_a_clinician(api_schema: Any, server: LiveServer,
                                        clinician: requests.Session) -> None:
    assert failures_over(api_schema, server.url, clinician) == []


def test_the_schema_has_operations(api_schema: Any) -> None:
    labels = [r.ok().label for r in api_schema.get_all_operations()]
    assert "POST /api/handouts" in labels and len(labels) >= 5


def test_the_run_reports_a_server_error() -> None:
    """The control: a server that answers 500 is caught (a receiver stands in for one)."""
    broken = WebhookSink(status=500).start()
    try:
        schema = schemathesis.openapi.from_dict({
            "openapi": "3.0.3", "info": {"title": "broken", "version": "1"},
            "paths": {"/hooks/caresheet": {"post": {
                "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
                "responses": {"200": {"description": "ok"}}}}},
        })
        found = failures_over(schema, f"http://127.0.0.1:{broken.port}", None)
    finally:
        broken.stop()
    assert len(found) == 1 and found[0].startswith("POST /hooks/caresheet")
