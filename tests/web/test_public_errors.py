"""The one error shape: status codes, the JSON body under /api/, the HTML page elsewhere.

In-process (the app object, no server) because two routes here exist only for the test: one
raising a core error, one raising an unexpected exception.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError

from asgi_client import AppClient
from caresheet.errors import (
    BadInputError,
    GoneError,
    NotFoundError,
    StoreUnavailableError,
    TooManyAttemptsError,
)
from caresheet.web.app import create_app

EMERGENCY_LINE = "If you think it could be an emergency, call 911 at any time."
SECRET = "Zebrafinch-close-note"


def _add_failing_routes(app: FastAPI) -> None:
    def raiser(kind: str) -> None:
        if kind == "bad":
            raise BadInputError("bad elapsed time 'soon'; write it like 90m")
        if kind == "missing":
            raise NotFoundError("no care sheet with code X999")
        if kind == "gone":
            raise GoneError("this link has ended")
        if kind == "busy":
            raise TooManyAttemptsError("too many failed logins; try again in 15 minutes")
        if kind == "down":
            raise StoreUnavailableError("the database postgresql://db/caresheet_t_1 failed")
        if kind == "unsaved":  # what a driver raises, with the row it could not save
            raise IntegrityError("INSERT INTO notes (note) VALUES (%(note)s)", {"note": SECRET},
                                 Exception(f"DETAIL: Failing row contains ({SECRET})."))
        raise RuntimeError("secret internal detail: password=hunter2")

    for prefix in ("/api/test-fail", "/test-fail", "/fhir/test-fail"):
        app.add_api_route(prefix + "/{kind}", raiser, methods=["GET"])

    def needs_int(n: int) -> dict[str, int]:
        return {"n": n}

    app.add_api_route("/api/test-int", needs_int, methods=["GET"])
    app.add_api_route("/test-int", needs_int, methods=["GET"])


@pytest.fixture
def client(sqlite_url: str) -> Iterator[AppClient]:
    app = create_app(sqlite_url)
    _add_failing_routes(app)
    with AppClient(app) as test_client:
        yield test_client


ERROR_CASES = [
    # path, status, code
    pytest.param("/api/test-fail/bad", 400, "bad_input", id="api-bad-input"),
    pytest.param("/api/test-fail/missing", 404, "not_found", id="api-not-found"),
    pytest.param("/api/test-fail/gone", 410, "gone", id="api-gone"),
    pytest.param("/api/test-fail/busy", 429, "too_many_requests", id="api-too-many"),
    pytest.param("/api/test-fail/down", 503, "service_unavailable", id="api-unavailable"),
    pytest.param("/api/test-fail/unsaved", 503, "service_unavailable", id="api-save-failed"),
    pytest.param("/api/test-fail/boom", 500, "internal_error", id="api-internal"),
    pytest.param("/api/test-int?n=abc", 422, "invalid_request", id="api-validation"),
    pytest.param("/api/no-such-route", 404, "not_found", id="api-unknown-route"),
]


@pytest.mark.parametrize(("path", "status", "code"), ERROR_CASES)
def test_api_errors_have_one_json_shape(
    client: AppClient, path: str, status: int, code: str
) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


def test_api_error_messages_are_the_core_message(client: AppClient) -> None:
    assert client.get("/api/test-fail/bad").json()["error"]["message"] == (
        "bad elapsed time 'soon'; write it like 90m"
    )
    assert "X999" in client.get("/api/test-fail/missing").json()["error"]["message"]
    invalid = client.get("/api/test-int?n=abc").json()["error"]["message"]
    assert invalid.startswith("query n: ") and "integer" in invalid  # where, then what is wrong


PAGE_CASES = [
    pytest.param("/test-fail/bad", 400, id="page-bad-input"),
    pytest.param("/test-fail/missing", 404, id="page-not-found"),
    pytest.param("/test-fail/gone", 410, id="page-gone"),
    pytest.param("/test-fail/unsaved", 503, id="page-save-failed"),
    pytest.param("/test-fail/boom", 500, id="page-internal"),
    pytest.param("/test-int?n=abc", 400, id="page-validation-is-400"),
    pytest.param("/no-such-page", 404, id="page-unknown-route"),
]


@pytest.mark.parametrize(("path", "status"), PAGE_CASES)
def test_pages_get_the_html_error_page_with_the_911_line(
    client: AppClient, path: str, status: int
) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert EMERGENCY_LINE in response.text
    assert '<html lang="en">' in response.text
    assert 'href="#main"' in response.text


def test_a_500_never_shows_the_exception(client: AppClient) -> None:
    for path in ("/test-fail/boom", "/api/test-fail/boom"):
        response = client.get(path)
        assert response.status_code == 500
        assert "hunter2" not in response.text
        assert "RuntimeError" not in response.text
        assert "Traceback" not in response.text


def test_a_failed_save_is_503_and_logs_no_row_or_parameters(
    client: AppClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        for path in ("/test-fail/unsaved", "/api/test-fail/unsaved"):
            response = client.get(path)
            assert response.status_code == 503 and response.headers["retry-after"] == "60"
            assert SECRET not in response.text and "INSERT" not in response.text
    assert "IntegrityError" in caplog.text or "Exception" in caplog.text
    assert SECRET not in caplog.text


def test_the_store_error_text_is_never_shown(client: AppClient) -> None:
    body = client.get("/api/test-fail/down").json()
    assert body["error"]["message"] == StoreUnavailableError.public_message
    assert "caresheet_t_1" not in client.get("/test-fail/down").text


@pytest.mark.parametrize(("kind", "status", "issue"), [
    ("bad", 400, "invalid"), ("missing", 404, "not-found"), ("gone", 410, "deleted"),
])
def test_fhir_errors_are_operation_outcomes(
    client: AppClient, kind: str, status: int, issue: str
) -> None:
    response = client.get(f"/fhir/test-fail/{kind}")
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/fhir+json")
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == issue and body["issue"][0]["severity"] == "error"


def test_error_page_escapes_the_message(client: AppClient) -> None:
    response = client.get("/test-int?n=<script>alert(1)</script>")
    assert response.status_code == 400
    assert "<script>alert(1)" not in response.text


def test_error_page_speaks_spanish_when_asked(client: AppClient) -> None:
    response = client.get("/no-such-page?lang=es")
    assert response.status_code == 404
    assert '<html lang="es">' in response.text
    assert "llame al 911 en cualquier momento" in response.text


@pytest.mark.postgres
def test_a_database_that_goes_away_gives_503_not_500() -> None:
    """Drop the app's PostgreSQL database under it: pages and the API say 'try again' (503)."""
    from helpers import (
        create_postgres_database,
        drop_postgres_database,
        postgres_admin_url,
        require,
    )

    admin = postgres_admin_url()
    require(admin, "PostgreSQL (set CARESHEET_TEST_POSTGRES_URL)")
    assert admin is not None
    url = create_postgres_database(admin)
    try:
        with AppClient(create_app(url)) as client:
            assert client.get("/search", params={"q": "P586"}).status_code in (200, 303)
            drop_postgres_database(admin, url)
            page = client.get("/search", params={"q": "spinal tap"})
            api = client.get("/api/search", params={"q": "spinal tap"})
    finally:
        drop_postgres_database(admin, url)
    assert page.status_code == 503 and api.status_code == 503
    assert page.headers["retry-after"] == "60"
    assert "try again in a few minutes" in page.text and "911" in page.text
    assert api.json()["error"]["code"] == "service_unavailable"
    assert "caresheet_t_" not in page.text + api.text  # no database details
