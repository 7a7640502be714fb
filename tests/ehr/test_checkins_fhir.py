"""A handout's check-ins as QuestionnaireResponse on a real server: read with a signed bearer
JWT (never anonymously), valid per HL7's R4 schema, audited, and evaluated by fhirpathpy with
the served PlanDefinition to the tier the patient was told."""

from __future__ import annotations

import datetime as dt
import re
import subprocess

import httpx
import pytest

from caresheet.store.db import Store
from caresheet.team import audit
from ehr.conftest import EHR_ISS, Ehr, caresheet
from render.fhir_check import validate
from render.test_fhirpath_agreement import rule_expressions

fhirpathpy = pytest.importorskip("fhirpathpy")
from fhirpathpy.models import models  # noqa: E402

ISSUER = "nurse@ehr.example"


def issuer(ehr: Ehr) -> str:
    """A clinician account to issue handouts as (the one issue path records who issued)."""
    if ISSUER not in caresheet(ehr.server, "user", "list").stdout:
        added = subprocess.run(
            [*ehr.server.command, "user", "add", ISSUER, "--role", "clinician"],
            cwd=ehr.server.workdir,
            env={**ehr.server.env, "CARESHEET_PASSWORD": "a long password 1"},
            capture_output=True, text=True, timeout=60, check=False)
        assert added.returncode == 0, added.stderr
    return ISSUER


def issue_and_check_in(ehr: Ehr, http: httpx.Client, answers: dict[str, str]) -> int:
    when = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=50)).isoformat(timespec="minutes")
    done = caresheet(ehr.server, "handout", "P586", "--by", issuer(ehr), "--procedure-time",
                     when, "--base-url", ehr.server.url)
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip().rsplit("/", 1)[1]
    handout_id = int(re.search(r"handout (\d+)", done.stderr).group(1))  # type: ignore[union-attr]
    saved = http.post(f"/api/handouts/{token}/checkins", json={"answers": answers})
    assert saved.status_code == 201, saved.text
    return handout_id


def bearer(ehr: Ehr, aud: str | None = None) -> dict[str, str]:
    token = ehr.key.token(EHR_ISS, aud or f"{ehr.server.url}/fhir")
    return {"Authorization": f"Bearer {token}"}


def test_check_ins_read_as_questionnaire_responses(ehr: Ehr, http: httpx.Client) -> None:
    handout = issue_and_check_in(ehr, http, {"headache": "unsure", "fever": "no"})
    response = http.get("/fhir/QuestionnaireResponse", params={"handout": handout},
                        headers=bearer(ehr))
    assert response.status_code == 200, response.text
    bundle = response.json()
    validate(bundle)
    [entry] = bundle["entry"]
    answer = entry["resource"]
    assert answer["basedOn"][0]["identifier"]["value"] == str(handout)
    one = http.get(f"/fhir/QuestionnaireResponse/{answer['id']}", headers=bearer(ehr))
    assert one.status_code == 200
    validate(one.json())
    assert one.json()["item"] == answer["item"]

    # The served rules over the served answers give the tier the patient was shown.
    plan = http.get("/fhir/PlanDefinition/P586").json()
    elapsed = answer["extension"][0]["valueDecimal"]
    matched = [tier for tier, expression in rule_expressions(plan)
               if fhirpathpy.evaluate(answer, expression, {"elapsedHours": elapsed},
                                      model=models["r4"]) != [False]]
    assert matched == ["contact"]

    store = Store.open(ehr.server.db_url, migrate=False)
    try:
        with store.session(write=False) as session:
            reads = audit.events(session, action="handout.read", target=f"handout:{handout}")
    finally:
        store.close()
    assert {e.actor for e in reads} >= {f"cds-client:{EHR_ISS}"}


def test_check_ins_need_a_valid_credential(ehr: Ehr, http: httpx.Client) -> None:
    handout = issue_and_check_in(ehr, http, {"passed_out": "yes"})
    path = f"/fhir/QuestionnaireResponse?handout={handout}"
    assert http.get(path).status_code == 401
    assert http.get(path, headers=bearer(ehr, aud=f"{ehr.server.url}/cds-services")
                    ).status_code == 401
    headers = bearer(ehr)
    assert http.get(path, headers=headers).status_code == 200
    assert http.get(path, headers=headers).status_code == 401  # a JWT is good for one request
    assert http.get("/fhir/QuestionnaireResponse?handout=999999",
                    headers=bearer(ehr)).status_code == 404


def test_check_ins_read_with_an_api_token(ehr: Ehr, http: httpx.Client) -> None:
    """A clinic's own system reads check-ins with its API token; the read is audited with the
    token's name; an author's token or a revoked one is refused."""
    handout = issue_and_check_in(ehr, http, {"fever": "yes"})
    path = f"/fhir/QuestionnaireResponse?handout={handout}"
    made = {}
    for name, role in (("chart-sync", "clinician"), ("writer-bot", "author")):
        done = caresheet(ehr.server, "token", "add", name, "--role", role)
        assert done.returncode == 0, done.stderr
        made[name] = done.stdout.strip().split()[-1]
    nurse_system = {"Authorization": f"Bearer {made['chart-sync']}"}
    response = http.get(path, headers=nurse_system)
    assert response.status_code == 200, response.text
    validate(response.json())
    assert http.get(path, headers={"Authorization": f"Bearer {made['writer-bot']}"}
                    ).status_code == 403
    assert http.get(path, headers={"Authorization": "Bearer cs_not-a-token"}).status_code == 401
    store = Store.open(ehr.server.db_url, migrate=False)
    try:
        with store.session(write=False) as session:
            reads = audit.events(session, action="handout.read", target=f"handout:{handout}")
    finally:
        store.close()
    assert "token:chart-sync" in {e.actor for e in reads}
    revoked = caresheet(ehr.server, "token", "revoke", "chart-sync")
    assert revoked.returncode == 0, revoked.stderr
    assert http.get(path, headers=nurse_system).status_code == 403
