"""SMART App Launch end to end on 127.0.0.1, against a test EHR made of real parts
(``smart_ehr.mjs``: npm oauth2-mock-server as the authorization server, signing real JWTs from
its JWKS and checking PKCE and single-use codes, plus a small FHIR server), with a real
``caresheet serve`` and Chromium.

The good launch runs in the browser: discovery, authorize, callback, the one screen (banner,
sheets suggested from the chart's codes, the chart's prefill), issuing, and the
DocumentReference written back (valid per HL7's R4 schema). Each bad flow gives a clear page
and a ``smart.refused`` audit event naming the check.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import text

from caresheet.store.db import Store
from caresheet.team import audit
from ehr.conftest import caresheet
from helpers import REPO_ROOT, LiveServer, axe_violations, require
from render.fhir_check import validate

SCRIPT = Path(__file__).with_name("smart_ehr.mjs")
CLIENT_ID = "caresheet-test"
NURSE = "nurse@clinic.example"
NURSE_BY_EMAIL = "charge@clinic.example"
AUTHOR = "author@clinic.example"
PRACTITIONER = "https://ehr.test/Practitioner/n1"
PASSWORD = "a long password 1"

PATIENTS = {
    "p1": {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1970-04-02",
           "name": [{"use": "official", "family": "Ruiz", "given": ["Ana"]}],
           "identifier": [{"type": {"coding": [{
               "system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
               "system": "urn:oid:1.2.3", "value": "MRN-1234"},
               {"system": "urn:oid:9.9", "value": "not-the-mrn"}],
           "telecom": [{"system": "phone", "value": "555 010 2000", "use": "mobile"},
                       {"system": "email", "value": "ana@example.org"}],
           "communication": [{"language": {"coding": [{"code": "en"}]}},
                             {"language": {"coding": [{"code": "es-MX"}]}, "preferred": True}]},
    "p2": {"resourceType": "Patient", "id": "p2", "name": [{"text": "Bo Lee"}]},
}


def order(rid: str, patient: str, system: str, code: str, status: str = "active") -> dict[str, Any]:
    return {"resourceType": "ServiceRequest", "id": rid, "status": status, "intent": "order",
            "subject": {"reference": f"Patient/{patient}"},
            "code": {"coding": [{"system": system, "code": code}]}}


CHART = {
    "patients": PATIENTS,
    "orders": [
        order("sr1", "p1", "http://www.cms.gov/Medicare/Coding/ICD10", "009U3ZX"),  # P586
        order("sr2", "p1", "http://snomed.info/sct", "73761001", "completed"),  # CS101, done
        order("sr3", "p2", "http://www.ama-assn.org/go/cpt", "62270"),
    ],
    "procedures": [{"resourceType": "Procedure", "id": "pr1", "status": "completed",
                    "subject": {"reference": "Patient/p1"},
                    "code": {"coding": [{"system": "http://www.ama-assn.org/go/cpt",
                                         "code": "45378"}]}}],  # CS101
    "refuseWritesFor": ["Patient/p2"],
}
GOOD = {"patient": "p1", "encounter": "e1", "fhirUser": PRACTITIONER}
LAUNCHES = {
    "L-ok": GOOD,
    "L-ok2": GOOD,
    "L-ok3": GOOD,
    "L-card": {**GOOD, "appContext": "CS101"},
    "L-email": {"patient": "p1", "fhirUser": "https://ehr.test/Practitioner/n9",
                "email": NURSE_BY_EMAIL, "banner": False},
    "L-stranger": {"patient": "p1", "fhirUser": "https://ehr.test/Practitioner/x"},
    "L-unverified": {"patient": "p1", "fhirUser": "https://ehr.test/Practitioner/n8",
                     "email": NURSE_BY_EMAIL, "emailVerified": False},
    "L-author": {"patient": "p1", "fhirUser": "https://ehr.test/Practitioner/a", "email": AUTHOR},
    "L-other-key": {**GOOD, "mode": "other_key"},
    "L-other-aud": {**GOOD, "mode": "other_aud"},
    "L-expired": {**GOOD, "mode": "expired"},
    "L-no-patient": {**GOOD, "mode": "no_patient"},
    "L-refuse": {"patient": "p2", "encounter": "e2", "fhirUser": PRACTITIONER},
    "L-state": GOOD,
    "L-code-a": GOOD,
    "L-code-b": GOOD,
}


@dataclass
class EhrPeer:
    auth: str
    fhir: str
    process: subprocess.Popen[str]

    def documents(self) -> list[dict[str, Any]]:
        return list(httpx.get(f"{self.fhir}/_test/documents", timeout=10).json())


@dataclass
class Setup:
    server: LiveServer
    ehr: EhrPeer

    def launch_url(self, launch: str | None) -> str:
        query = f"iss={self.ehr.fhir}" + (f"&launch={launch}" if launch else "")
        return f"{self.server.url}/smart/launch?{query}"

    def events(self, action: str) -> list[audit.AuditEvent]:
        store = Store.open(self.server.db_url, migrate=False)
        try:
            with store.session(write=False) as session:
                return audit.events(session, action=action)
        finally:
            store.close()

    def sql(self, query: str) -> list[Any]:
        store = Store.open(self.server.db_url, migrate=False)
        try:
            with store.session(write=False) as session:
                return list(session.execute(text(query)))
        finally:
            store.close()


def start_ehr(alg: str) -> EhrPeer:
    node = shutil.which("node")
    require(node and (REPO_ROOT / "node_modules" / "oauth2-mock-server").is_dir(),
            "Node.js and oauth2-mock-server (npm ci)")
    assert node is not None
    env = {**os.environ, "EHR_ALG": alg, "EHR_LAUNCHES": json.dumps(LAUNCHES),
           "EHR_STANDALONE": json.dumps(GOOD), "EHR_CHART": json.dumps(CHART)}
    process = subprocess.Popen([node, str(SCRIPT)], cwd=REPO_ROOT, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.kill()
        errors = process.stderr.read() if process.stderr else ""
        pytest.fail(f"the test EHR did not start: {errors}")
    addresses = json.loads(line)
    return EhrPeer(addresses["auth"], addresses["fhir"], process)


def add_user(server: LiveServer, email: str, role: str) -> None:
    done = subprocess.run([*server.command, "user", "add", email, "--role", role,
                           "--clinic", "North"],
                          cwd=server.workdir, env={**server.env, "CARESHEET_PASSWORD": PASSWORD},
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    ehr = start_ehr("RS256")
    try:
        folder = Path(tmp_path_factory.mktemp("smart"))
        with LiveServer(f"sqlite:///{folder}/caresheet.db", workdir=folder) as server:
            for args in (
                ["clinic", "add", "North", "--phone", "555-0100", "--time-zone",
                 "America/New_York"],
                ["ehr", "add", "test-ehr", "--iss", ehr.fhir, "--client-id", CLIENT_ID,
                 "--clinic", "North"],
            ):
                done = caresheet(server, *args)
                assert done.returncode == 0, done.stderr
            add_user(server, NURSE, "clinician")
            add_user(server, NURSE_BY_EMAIL, "clinician")
            add_user(server, AUTHOR, "author")
            done = caresheet(server, "user", "link-ehr", NURSE, "--ehr", "test-ehr",
                             "--fhir-user", PRACTITIONER)
            assert done.returncode == 0, done.stderr
            yield Setup(server, ehr)
    finally:
        ehr.process.terminate()
        ehr.process.wait(10)


@contextmanager
def launched(setup: Setup, launch: str | None) -> Iterator[httpx.Client]:
    """A client (its own cookie jar) that went through the whole launch."""
    with httpx.Client(timeout=30, follow_redirects=True) as client:
        response = client.get(setup.launch_url(launch))
        assert response.status_code == 200, response.text
        assert str(response.url) == f"{setup.server.url}/smart/app"
        yield client


def refused(setup: Setup, launch: str, check: str, status: int, words: str) -> None:
    before = len([e for e in setup.events("smart.refused") if e.detail.get("check") == check])
    with httpx.Client(timeout=30, follow_redirects=True) as client:
        response = client.get(setup.launch_url(launch))
    assert response.status_code == status, response.text
    assert words in response.text
    assert "911" in response.text
    after = [e for e in setup.events("smart.refused") if e.detail.get("check") == check]
    assert len(after) == before + 1


# ---------------------------------------------------------------- the good launch, in Chromium


def test_ehr_launch_issue_and_write_back_in_the_browser(setup: Setup, page: Any) -> None:
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    page.goto(setup.launch_url("L-ok"))
    assert page.url == f"{setup.server.url}/smart/app"
    banner = page.locator("#patient-banner").inner_text()
    assert "Ana Ruiz" in banner and "MRN-1234" in banner and "1970-04-02" in banner
    suggested = page.locator("#suggested").inner_text()
    assert "P586" in suggested and "CS101" in suggested  # the open order and the procedure
    assert page.locator("#mrn").input_value() == "MRN-1234"
    assert page.locator("#phone").input_value() == "555 010 2000"
    assert page.locator("#email").input_value() == "ana@example.org"
    assert page.locator("#patient_language").input_value() == "es"
    # The first suggestion is chosen, in the patient's language (P586 has a Spanish version).
    assert page.locator("#issue-form input[name=code]").input_value() == "P586"
    assert page.locator("#issue-form input[name=language]").input_value() == "es"
    assert axe_violations(page) == []
    page.fill("#phone", "555 010 3000")  # the clinician may change what the chart said
    page.fill("#param-lie_flat_hours", "2")
    page.fill("#procedure_time", "2026-11-30T09:30")
    page.fill("#zone", "America/New_York")
    page.click("#issue-form button[type=submit]")
    assert "is ready" in page.locator("h1").inner_text()
    assert axe_violations(page) == []
    notice = page.locator("#writeback").inner_text()
    assert "Saved to the chart" in notice
    link = page.locator("#private-link").inner_text().strip()

    [document] = [d for d in setup.ehr.documents()
                  if d["content"][1]["attachment"].get("url") == link]
    validate(document)
    assert document["status"] == "current"
    assert document["type"]["coding"][0]["code"] == "69730-0"
    assert document["subject"] == {"reference": "Patient/p1"}
    assert document["context"]["encounter"] == [{"reference": "Encounter/e1"}]
    pdf, page_link = document["content"][0]["attachment"], document["content"][1]["attachment"]
    assert pdf["contentType"] == "application/pdf"
    assert base64.b64decode(pdf["data"]).startswith(b"%PDF")
    assert page_link["url"] == link
    assert notice.rstrip(".").endswith(document["id"])

    handout_id = int(document["masterIdentifier"]["value"])
    [(doc_id, error)] = setup.sql(
        f"SELECT document_id, error FROM smart_writebacks WHERE handout_id = {handout_id}")
    assert (doc_id, error) == (document["id"], None)
    # The chart's record number and encounter, and the phone as the clinician changed it,
    # are kept on the handout for the care team.
    [contact] = setup.sql("SELECT mrn, encounter_id, phone, email, contact_language "
                          f"FROM handouts WHERE id = {handout_id}")
    assert tuple(contact) == ("MRN-1234", "e1", "555 010 3000", "ana@example.org", "es")
    issued = [e for e in setup.events("handout.issued") if e.target == f"handout:{handout_id}"]
    assert issued and NURSE in issued[0].actor
    assert any(e.target == f"handout:{handout_id}" for e in setup.events("smart.writeback"))
    assert httpx.get(link, timeout=30).status_code == 200  # the patient's link works

    # The EHR's tokens never reached the browser: not a URL, not the page, not a cookie.
    [(token,)] = setup.sql("SELECT access_token FROM smart_launches "
                           "WHERE access_token IS NOT NULL ORDER BY created_at DESC LIMIT 1")
    assert token and all(token not in u for u in urls)
    assert token not in page.content()
    cookies = page.context.cookies()
    assert all(token not in c["value"] for c in cookies)
    [smart_cookie] = [c for c in cookies if c["name"] == "caresheet_smart"]
    assert smart_cookie["httpOnly"] and smart_cookie["sameSite"] == "Lax"
    assert token not in setup.server.output()
    [callback] = [u for u in urls if "/smart/callback?" in u]
    code = parse_qs(urlsplit(callback).query)["code"][0]
    assert "/smart/callback?<redacted>" in setup.server.output()
    assert code not in setup.server.output()


def test_the_authorize_request_is_what_smart_asks(setup: Setup) -> None:
    with httpx.Client(timeout=30) as client:
        response = client.get(setup.launch_url("L-ok2"))
    assert response.status_code == 302
    target = urlsplit(response.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{setup.ehr.auth}/authorize"
    query = {k: v[0] for k, v in parse_qs(target.query).items()}
    assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == f"{setup.server.url}/smart/callback"
    assert query["launch"] == "L-ok2" and query["aud"] == setup.ehr.fhir
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["scope"].split() == ["launch", "openid", "fhirUser", "patient/Patient.rs",
                                      "patient/ServiceRequest.rs", "patient/Procedure.rs",
                                      "patient/DocumentReference.cu"]
    assert len(query["state"]) >= 22 and len(query["nonce"]) >= 22
    assert "caresheet_smart" in response.cookies


def test_an_ehr_signing_with_es384_and_a_confidential_client_launch_too(setup: Setup) -> None:
    """ES384 id_tokens; and a client secret sent as HTTP Basic (the test EHR takes the client id
    from it for the id_token's aud, so a launch that verifies proves it was sent)."""
    other = start_ehr("ES384")
    try:
        done = caresheet(setup.server, "ehr", "add", "es-ehr", "--iss", other.fhir,
                         "--client-id", CLIENT_ID, "--client-secret", "s3cret-value")
        assert done.returncode == 0, done.stderr
        done = caresheet(setup.server, "user", "link-ehr", NURSE, "--ehr", "es-ehr",
                         "--fhir-user", PRACTITIONER)
        assert done.returncode == 0, done.stderr
        with launched(Setup(setup.server, other), "L-ok") as client:
            assert "Ana Ruiz" in client.get(f"{setup.server.url}/smart/app").text
        with httpx.Client(timeout=30, follow_redirects=True) as client:
            wrong = client.get(Setup(setup.server, other).launch_url("L-other-key"))
        assert wrong.status_code == 400 and "id_token was refused" in wrong.text
    finally:
        other.process.terminate()
        other.process.wait(10)


def test_standalone_launch_asks_for_a_patient(setup: Setup) -> None:
    with httpx.Client(timeout=30) as client:
        first = client.get(setup.launch_url(None))
        scope = parse_qs(urlsplit(first.headers["location"]).query)["scope"][0].split()
        assert "launch/patient" in scope and "launch" not in scope
    with launched(setup, None) as client:
        assert "Ana Ruiz" in client.get(f"{setup.server.url}/smart/app").text


def test_a_card_s_sheet_is_chosen_and_email_maps_the_account(setup: Setup) -> None:
    with launched(setup, "L-card") as client:
        screen = client.get(f"{setup.server.url}/smart/app").text
        assert 'name="code" value="CS101"' in screen
    with launched(setup, "L-email") as client:
        screen = client.get(f"{setup.server.url}/smart/app").text
        assert NURSE_BY_EMAIL in screen
        assert 'id="patient-banner"' not in screen  # the EHR shows its own banner


def test_a_refused_write_back_leaves_the_handout_standing(setup: Setup) -> None:
    with launched(setup, "L-refuse") as client:
        screen = client.get(f"{setup.server.url}/smart/app")
        csrf = screen.text.split('name="csrf_token" value="')[1].split('"')[0]
        answer = client.post(f"{setup.server.url}/smart/handouts", data={
            "csrf_token": csrf, "code": "P586", "language": "en",
            "procedure_time": "2026-11-30T09:30", "zone": "UTC", "expires_days": "30"})
    assert answer.status_code == 200, answer.text
    assert "was not saved to the chart" in answer.text
    assert "locked for new documents" in answer.text
    link = answer.text.split('id="private-link">')[1].split("<")[0].strip()
    assert httpx.get(link, timeout=30).status_code == 200
    assert setup.events("smart.writeback_failed")


def test_a_form_without_the_launch_s_csrf_token_is_refused(setup: Setup) -> None:
    with launched(setup, "L-ok3") as client:
        answer = client.post(f"{setup.server.url}/smart/handouts", data={
            "csrf_token": "forged", "code": "P586", "language": "en",
            "procedure_time": "2026-11-30T09:30", "zone": "UTC"})
    assert answer.status_code == 400
    assert "did not come from this screen" in answer.text


def issue_and_check_in(setup: Setup, client: httpx.Client) -> str:
    """Issue P586 on the launched screen, check in as the patient; the handout's id."""
    screen = client.get(f"{setup.server.url}/smart/app")
    csrf = screen.text.split('name="csrf_token" value="')[1].split('"')[0]
    answer = client.post(f"{setup.server.url}/smart/handouts", data={
        "csrf_token": csrf, "code": "P586", "language": "en",
        "procedure_time": "2026-11-30T09:30", "zone": "UTC", "expires_days": "30"})
    link = answer.text.split('id="private-link">')[1].split("<")[0].strip()
    token = link.rsplit("/", 1)[1]
    saved = httpx.post(f"{setup.server.url}/api/handouts/{token}/checkins",
                       json={"answers": {"fever": "yes"}}, timeout=30)
    assert saved.status_code == 201, saved.text
    return answer.text.split("Handout #")[1].split(" ")[0]


def test_check_ins_are_readable_in_a_smart_session(setup: Setup) -> None:
    with launched(setup, "L-ok3") as client:
        handout = issue_and_check_in(setup, client)
        read = client.get(f"{setup.server.url}/fhir/QuestionnaireResponse",
                          params={"handout": handout})
        assert read.status_code == 200, read.text
        validate(read.json())
    anonymous = httpx.get(f"{setup.server.url}/fhir/QuestionnaireResponse",
                          params={"handout": handout}, timeout=30)
    assert anonymous.status_code == 401


def test_check_ins_are_readable_with_the_ehr_s_access_token(setup: Setup) -> None:
    """A token from the EHR's authorization server (here by its client-credentials grant), for
    caresheet's FHIR base and with a user or system read scope."""
    with launched(setup, "L-ok3") as client:  # the launch taught caresheet the EHR's issuer
        handout = issue_and_check_in(setup, client)
    ours = f"{setup.server.url}/fhir"

    def token(scope: str, aud: str = ours) -> dict[str, str]:
        answer = httpx.post(f"{setup.ehr.auth}/token", timeout=30, data={
            "grant_type": "client_credentials", "scope": scope, "aud": aud})
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    path = f"{ours}/QuestionnaireResponse?handout={handout}"
    good = token("system/QuestionnaireResponse.rs")
    for _ in range(2):  # an access token is good until it expires, unlike a CDS Hooks JWT
        read = httpx.get(path, headers=good, timeout=30)
        assert read.status_code == 200, read.text
    validate(read.json())
    assert httpx.get(path, headers=token("system/QuestionnaireResponse.rs", setup.ehr.fhir),
                     timeout=30).status_code == 401  # for the EHR's own server, not ours
    assert httpx.get(path, headers=token("patient/QuestionnaireResponse.rs"),
                     timeout=30).status_code == 401
    reads = [e for e in setup.events("handout.read") if e.target == f"handout:{handout}"]
    assert any(e.actor.startswith("smart-ehr:test-ehr") for e in reads)


# ---------------------------------------------------------------- bad flows


def test_an_unknown_iss_is_refused(setup: Setup) -> None:
    response = httpx.get(f"{setup.server.url}/smart/launch",
                         params={"iss": "https://nobody.example/fhir", "launch": "x"}, timeout=30)
    assert response.status_code == 400
    assert "not registered" in response.text and "911" in response.text
    assert any(e.detail.get("check") == "unknown_iss" for e in setup.events("smart.refused"))


def test_an_id_token_signed_by_another_key_is_refused(setup: Setup) -> None:
    refused(setup, "L-other-key", "id_token", 400, "id_token was refused")


def test_an_id_token_for_another_audience_is_refused(setup: Setup) -> None:
    refused(setup, "L-other-aud", "id_token", 400, "aud is not this service")


def test_an_expired_id_token_is_refused(setup: Setup) -> None:
    refused(setup, "L-expired", "id_token", 400, "expired")


def test_no_patient_in_context_is_refused(setup: Setup) -> None:
    refused(setup, "L-no-patient", "patient", 400, "which patient")


def test_an_ehr_user_without_an_account_is_refused(setup: Setup) -> None:
    refused(setup, "L-stranger", "account", 403, "not linked to a caresheet account")
    refused(setup, "L-author", "account", 403, "cannot issue handouts")
    refused(setup, "L-unverified", "account", 403, "not linked to a caresheet account")


def _to_callback(client: httpx.Client, setup: Setup, launch: str) -> dict[str, str]:
    """Launch and authorize, stopping before the callback: its query (code and state)."""
    authorize = client.get(setup.launch_url(launch)).headers["location"]
    callback = client.get(authorize).headers["location"]
    assert callback.startswith(f"{setup.server.url}/smart/callback")
    return {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}


def test_a_wrong_or_missing_state_is_refused_and_the_state_is_good_once(setup: Setup) -> None:
    callback = f"{setup.server.url}/smart/callback"
    with httpx.Client(timeout=30) as client:
        query = _to_callback(client, setup, "L-state")
        forged = client.get(callback, params={**query, "state": "forged"})
        assert forged.status_code == 400 and "wrong state" in forged.text
        again = client.get(callback, params=query)  # the right state, too late
        assert again.status_code == 400 and "no open login" in again.text
    with httpx.Client(timeout=30) as stranger:  # no cookie at all
        assert stranger.get(callback, params=query).status_code == 400
    checks = [e.detail.get("check") for e in setup.events("smart.refused")]
    assert checks.count("state") >= 3


def test_a_reused_code_is_refused(setup: Setup) -> None:
    callback = f"{setup.server.url}/smart/callback"
    with httpx.Client(timeout=30) as first:
        used = _to_callback(first, setup, "L-code-a")
        assert first.get(callback, params=used).status_code == 303
    with httpx.Client(timeout=30) as second:
        query = _to_callback(second, setup, "L-code-b")
        replay = second.get(callback, params={**query, "code": used["code"]})
    assert replay.status_code == 400 and "refused to finish the login" in replay.text
    assert any(e.detail.get("check") == "code" for e in setup.events("smart.refused"))


def test_an_ehr_that_is_down_is_refused(setup: Setup) -> None:
    from ehr.peers import closed_port_url

    down = closed_port_url().removesuffix("/jwks.json") + "/fhir"
    if "down-ehr" not in caresheet(setup.server, "ehr", "list").stdout:
        done = caresheet(setup.server, "ehr", "add", "down-ehr", "--iss", down,
                         "--client-id", CLIENT_ID)
        assert done.returncode == 0, done.stderr
    response = httpx.get(f"{setup.server.url}/smart/launch",
                         params={"iss": down, "launch": "x"}, timeout=30)
    assert response.status_code == 400 and "may be down" in response.text
    assert any(e.detail.get("check") == "discovery" for e in setup.events("smart.refused"))


def test_the_screen_needs_a_launch(setup: Setup) -> None:
    response = httpx.get(f"{setup.server.url}/smart/app", timeout=30)
    assert response.status_code == 401 and "needs a launch from the EHR" in response.text


def test_the_test_ehr_launches_a_reference_smart_client(setup: Setup, page: Any) -> None:
    """The peer itself: npm fhirclient (client-js) does an EHR launch against the test EHR and
    reads the patient in context; were the peer not SMART, the tests above would prove little."""
    page.goto(f"{setup.ehr.fhir}/_test/app.html?iss={setup.ehr.fhir}&launch=L-ok")
    # The client redirects (authorize, then back with a code): between two documents there is
    # no body yet, so the wait must not read one that is not there.
    page.wait_for_function(
        "document.body && (document.body.dataset.family || document.body.dataset.error)",
        timeout=20_000)
    assert page.evaluate("document.body.dataset.error") is None
    assert page.evaluate("document.body.dataset.family") == "Ruiz"
    assert page.evaluate("document.body.dataset.encounter") == "e1"


def test_the_test_ehr_refuses_reads_without_a_valid_token(setup: Setup) -> None:
    """The peer checks what a real EHR checks, so a launch that reads the chart had a token."""
    patient = f"{setup.ehr.fhir}/Patient/p1"
    assert httpx.get(patient, timeout=30).status_code == 401
    forged = "e30.eyJpc3MiOiJ4In0.c2ln"
    assert httpx.get(patient, headers={"Authorization": f"Bearer {forged}"},
                     timeout=30).status_code == 401
    answer = httpx.post(f"{setup.ehr.auth}/token", timeout=30, data={
        "grant_type": "client_credentials", "scope": "x", "aud": setup.ehr.fhir})
    good = {"Authorization": f"Bearer {answer.json()['access_token']}"}
    assert httpx.get(patient, headers=good, timeout=30).status_code == 200
