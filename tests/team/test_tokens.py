"""API tokens over real HTTP: ``caresheet token add`` prints one token; ``Authorization:
Bearer`` works on the API without CSRF; an unknown token is 401, a wrong role 403, a revoked
one 403; issuing takes the patient's contact and ``send``; every call is audited by name."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import httpx
import pytest

from caresheet.store.db import Store
from caresheet.team import audit
from helpers import LiveServer, caresheet_command

from .staff import add_staff, client_for


def cli(server: LiveServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*caresheet_command(), *args], cwd=server.workdir, capture_output=True, text=True,
        env={**os.environ, "CARESHEET_DATABASE_URL": server.db_url}, timeout=120, check=False)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("tokens")
    live = LiveServer(f"sqlite:///{folder}/caresheet.db", workdir=folder).start()
    add_staff(live)
    yield live
    live.stop()


def test_a_token_works_on_the_api_and_is_audited_by_name(server: LiveServer) -> None:
    added = cli(server, "clinic", "add", "North Clinic", "--phone", "555-0100",
                "--time-zone", "America/Chicago")
    assert added.returncode == 0, added.stderr
    made = cli(server, "token", "add", "ehr-north", "--role", "clinician",
               "--clinic", "North Clinic")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("cst_") and "\n" not in token
    listed = cli(server, "token", "list")
    assert "ehr-north\tclinician\tNorth Clinic\tactive" in listed.stdout
    assert token not in listed.stdout
    bearer = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.url, headers=bearer, timeout=30) as system:
        assert system.get("/api/team/escalations").status_code == 200
        # A JSON post without a CSRF token or cookie: the bearer token is the proof.
        issued = system.post("/api/handouts", json={
            "code": "P586", "mrn": "MRN-1", "phone": "555-0199",
            "email": "pat@example.org", "preferred_language": "es", "send": ["sms"]})
        assert issued.status_code == 201, issued.text
        body = issued.json()
        assert body["clinic"] == "North Clinic"
        assert body["contact"]["mrn"] == "MRN-1" and body["handout"]["sheet"]["language"] == "es"
        assert body["handout"]["params"]["clinic_phone"] == "555-0100"
        assert body["sending"] == [{"channel": "sms", "queued": False, "reason": (
            "text messages are not set up (CARESHEET_SMS_URL, CARESHEET_SMS_ACCOUNT, "
            "CARESHEET_SMS_TOKEN, CARESHEET_SMS_FROM)")}]
        bad = system.post("/api/handouts", json={"code": "P586", "phone": "call me"})
        assert bad.status_code == 400 and "phone" in bad.json()["error"]["message"]
    assert httpx.get(f"{server.url}/api/team/escalations",
                     headers={"Authorization": "Bearer cst_nope"}).status_code == 401
    store = Store.open(server.db_url)
    try:
        with store.session(write=False) as session:
            calls = audit.events(session, action="api.call", actor="token:ehr-north")
            issues = audit.events(session, action="handout.issued", actor="token:ehr-north")
    finally:
        store.close()
    assert len(calls) >= 3 and len(issues) == 1
    assert cli(server, "token", "revoke", "ehr-north").returncode == 0
    revoked = httpx.get(f"{server.url}/api/team/escalations", headers=bearer)
    assert revoked.status_code == 403 and "revoked" in revoked.text


def test_a_token_of_the_wrong_role_is_refused(server: LiveServer) -> None:
    made = cli(server, "token", "add", "library-bot", "--role", "author")
    assert made.returncode == 0, made.stderr
    bearer = {"Authorization": f"Bearer {made.stdout.strip()}"}
    assert httpx.get(f"{server.url}/api/team/escalations", headers=bearer).status_code == 403
    assert httpx.post(f"{server.url}/api/handouts", json={"code": "P586"},
                      headers=bearer).status_code == 403
    # A bearer header does nothing on the staff pages: they still need a login.
    page = httpx.get(f"{server.url}/team/inbox", headers=bearer)
    assert page.status_code == 303


def test_cookies_still_need_csrf_for_forms(server: LiveServer) -> None:
    with client_for(server, "clinician") as client:
        forged = client.post("/api/handouts", data={"code": "P586"})
        assert forged.status_code in (403, 422)


def test_an_admin_adds_a_clinic_on_the_web(server: LiveServer) -> None:
    from .staff import csrf_for

    with client_for(server, "admin") as admin:
        csrf = csrf_for(admin)
        bad = admin.post("/team/clinics", data={
            "csrf_token": csrf, "name": "West", "phone": "555-0103", "time_zone": "Mars/Base"})
        assert bad.status_code == 400 and "unknown time zone" in bad.text
        added = admin.post("/team/clinics", data={
            "csrf_token": csrf, "name": "West", "phone": "555-0103",
            "time_zone": "America/Denver", "quiet_hours": "22:00-07:00"})
        assert added.status_code == 303
        listed = admin.get("/team/clinics").text
        assert "West" in listed and "America/Denver" in listed and "22:00-07:00" in listed
    with client_for(server, "clinician") as nurse:
        assert nurse.get("/team/clinics").status_code == 403
