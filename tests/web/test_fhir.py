"""FHIR routes on a real server: JSON as application/fhir+json, each resource validated by
the R4B models and HL7's R4 schema; errors as OperationOutcome."""

from __future__ import annotations

import base64

import httpx
import pytest

from render.fhir_check import validate


def fhir_json(response: httpx.Response) -> dict[str, object]:
    assert response.headers["content-type"].startswith("application/fhir+json")
    body: dict[str, object] = response.json()
    return body


def test_metadata_is_a_capability_statement(http: httpx.Client) -> None:
    statement = fhir_json(http.get("/fhir/metadata"))
    validate(statement)
    assert statement["fhirVersion"] == "4.0.1"
    kinds = {r["type"] for r in statement["rest"][0]["resource"]}  # type: ignore[index]
    assert kinds == {"PlanDefinition", "Questionnaire", "DocumentReference", "Bundle",
                     "QuestionnaireResponse"}


@pytest.mark.parametrize(
    "path",
    [
        "/fhir/PlanDefinition/P586",
        "/fhir/PlanDefinition/P586-es",
        "/fhir/Questionnaire/P586",
        "/fhir/Questionnaire/P586-es",
        "/fhir/PlanDefinition/CS101",
    ],
)
def test_resources_validate(http: httpx.Client, path: str) -> None:
    response = http.get(path)
    assert response.status_code == 200
    resource = fhir_json(response)
    validate(resource)
    assert resource["url"] == str(http.base_url).rstrip("/") + path
    # The shipped sheets are published samples: active, and marked experimental (not for
    # real use) as FHIR's own flag for test content says.
    assert resource["status"] == "active" and resource["experimental"] is True


def test_document_reference_carries_the_pdf_and_html(http: httpx.Client) -> None:
    doc = fhir_json(http.get("/fhir/DocumentReference/P586"))
    validate(doc)
    pdf, html = (c["attachment"] for c in doc["content"])  # type: ignore[attr-defined]
    assert base64.b64decode(pdf["data"]).startswith(b"%PDF")
    assert "Spinal Tap" in base64.b64decode(html["data"]).decode()


def test_bundle_holds_all_three(http: httpx.Client) -> None:
    bundle = fhir_json(http.get("/fhir/Bundle/P586-es"))
    validate(bundle)
    assert bundle["type"] == "collection"
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]  # type: ignore[attr-defined]
    assert kinds == ["PlanDefinition", "Questionnaire", "DocumentReference"]


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/fhir/PlanDefinition/P999", 404, "not-found"),
        ("/fhir/Questionnaire/P586-fr", 404, "not-found"),
        ("/fhir/PlanDefinition/bad%20id", 400, "invalid"),
        ("/fhir/Patient/1", 404, "not-found"),
    ],
)
def test_errors_are_operation_outcomes(
    http: httpx.Client, path: str, status: int, code: str
) -> None:
    response = http.get(path)
    assert response.status_code == status
    outcome = fhir_json(response)
    validate(outcome)
    assert outcome["issue"][0]["code"] == code  # type: ignore[index]
