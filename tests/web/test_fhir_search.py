"""FHIR search on a real server: searchset Bundles with paging, each resource valid per HL7's R4
schema; the CapabilityStatement lists the search parameters; bad parameters are 400."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from render.fhir_check import validate

SNOMED_LP = "http://snomed.info/sct|277762005"


def search(http: httpx.Client, path: str, **params: Any) -> dict[str, Any]:
    response = http.get(path, params=params) if params else http.get(path)  # keep path's query
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    bundle: dict[str, Any] = response.json()
    validate(bundle)
    assert bundle["type"] == "searchset"
    return bundle


def ids(bundle: dict[str, Any]) -> list[str]:
    return [e["resource"]["id"] for e in bundle["entry"]]


@pytest.mark.parametrize(("kind", "code_param"), [
    ("PlanDefinition", "topic"), ("PlanDefinition", "context"),
    ("Questionnaire", "context"), ("Questionnaire", "code"), ("DocumentReference", "event"),
])
def test_by_clinical_code(http: httpx.Client, kind: str, code_param: str) -> None:
    bundle = search(http, f"/fhir/{kind}", **{code_param: SNOMED_LP})
    assert sorted(ids(bundle)) == ["P586", "P586-es"]
    assert bundle["total"] == 2
    assert ids(search(http, f"/fhir/{kind}", **{code_param: "http://loinc.org|277762005"})) == []
    assert sorted(ids(search(http, f"/fhir/{kind}", **{code_param: "277762005"}))) == [
        "P586", "P586-es"]


@pytest.mark.parametrize("kind", ["PlanDefinition", "Questionnaire", "DocumentReference"])
def test_by_identifier(http: httpx.Client, kind: str) -> None:
    base = str(http.base_url).rstrip("/")
    bundle = search(http, f"/fhir/{kind}", identifier=f"{base}/fhir/sheet-code|CS101")
    assert ids(bundle) == ["CS101", "CS101-es"]  # the code names the sheet in every language
    entry = bundle["entry"][0]
    assert entry["fullUrl"] == f"{base}/fhir/{kind}/CS101"
    assert entry["search"] == {"mode": "match"}


def test_by_title_ignores_case_and_accents(http: httpx.Client) -> None:
    assert ids(search(http, "/fhir/PlanDefinition", title="spinal tap")) == ["P586"]
    spanish = search(http, "/fhir/Questionnaire", **{"title:contains": "PUNCION"})
    assert ids(spanish) == ["P586-es"]
    assert ids(search(http, "/fhir/DocumentReference", description="Spinal")) == ["P586"]


def test_by_last_updated(http: httpx.Client) -> None:
    everything = search(http, "/fhir/PlanDefinition", _count="100")
    assert everything["total"] >= 13
    stamp = everything["entry"][0]["resource"]["meta"]["lastUpdated"]
    day = stamp[:10]
    assert search(http, "/fhir/PlanDefinition", _lastUpdated=f"ge{day}")["total"] == (
        everything["total"])
    assert search(http, "/fhir/PlanDefinition", _lastUpdated=f"lt{day}")["total"] == 0
    assert search(http, "/fhir/PlanDefinition", _lastUpdated="gt2999")["total"] == 0


def test_paging_follows_next_links_to_every_match(http: httpx.Client) -> None:
    bundle = search(http, "/fhir/Questionnaire", _count="5")
    seen = ids(bundle)
    total = bundle["total"]
    while True:
        links = {link["relation"]: link["url"] for link in bundle["link"]}
        assert parse_qs(urlsplit(links["self"]).query)["_count"] == ["5"]
        if "next" not in links:
            break
        following = urlsplit(links["next"])
        bundle = search(http, f"{following.path}?{following.query}")
        assert "previous" in {link["relation"] for link in bundle["link"]}
        seen += ids(bundle)
    assert len(seen) == len(set(seen)) == total


@pytest.mark.parametrize("params", [
    {"colour": "blue"}, {"_count": "0"}, {"_count": "many"}, {"_lastUpdated": "yesterday"},
    {"_lastUpdated": "ge2026-13-40"}, {"title:below": "x"}, {"topic": ""},
])
def test_bad_parameters_are_operation_outcomes(http: httpx.Client,
                                               params: dict[str, str]) -> None:
    response = http.get("/fhir/PlanDefinition", params=params)
    assert response.status_code == 400
    outcome = response.json()
    validate(outcome)
    assert outcome["issue"][0]["code"] == "invalid"


def test_the_capability_statement_lists_search(http: httpx.Client) -> None:
    statement = http.get("/fhir/metadata").json()
    validate(statement)
    by_type = {r["type"]: r for r in statement["rest"][0]["resource"]}
    for kind in ("PlanDefinition", "Questionnaire", "DocumentReference", "QuestionnaireResponse"):
        assert {"code": "search-type"} in by_type[kind]["interaction"]
    names = {p["name"] for p in by_type["PlanDefinition"]["searchParam"]}
    assert names == {"identifier", "topic", "context", "title", "_lastUpdated"}


def test_check_ins_are_never_anonymous(http: httpx.Client) -> None:
    for path in ("/fhir/QuestionnaireResponse/1", "/fhir/QuestionnaireResponse?handout=1"):
        response = http.get(path)
        assert response.status_code == 401
        validate(response.json())
