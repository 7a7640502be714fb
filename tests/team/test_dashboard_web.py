"""The inbox by handout and the dashboard over real HTTP: what a nurse reads, the JSON a
clinic's system reads, who may see them, and that every read is in the audit log."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from caresheet.store.db import Store
from caresheet.team import clinics
from helpers import LiveServer

from .staff import add_staff, client_for, csrf_for, email_for


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("dashweb")
    live = LiveServer(f"sqlite:///{folder}/caresheet.db", workdir=folder).start()
    add_staff(live)
    store = Store.open(live.db_url)
    try:  # the team reads times in the clinic's zone, whatever zone a procedure was typed in
        with store.session() as session:
            clinics.update_default(session, time_zone="America/Chicago")
    finally:
        store.close()
    yield live
    live.stop()


def _issue_and_check_in(server: LiveServer, client: httpx.Client, name: str,
                        answers: dict[str, str]) -> None:
    form = {"csrf_token": csrf_for(client), "code": "P586", "language": "en",
            "param.lie_flat_hours": "2", "param.clinic_phone": "555-0100",
            "procedure_time": "2026-11-24T09:00", "zone": "America/New_York",
            "display_name": name, "expires_days": "30"}
    issued = client.post("/team/handouts", data=form)
    link = re.search(r'id="private-link">([^<]+)<', issued.text)
    assert link, issued.text[:300]
    token = link.group(1).rsplit("/", 1)[1]
    answer = httpx.post(f"{server.url}/api/handouts/{token}/checkins", json={"answers": answers})
    assert answer.status_code in (200, 201), answer.text


def test_inbox_page_and_json_group_by_handout(server: LiveServer) -> None:
    with client_for(server, "clinician") as client:
        _issue_and_check_in(server, client, "Flo", {"passed_out": "unsure"})
        page = client.get("/team/inbox").text
        listed = client.get("/api/team/escalations").json()
    group = page.split('class="handout-group"')[1]
    assert "Flo" in group and "not sure: passed out" in group
    assert "America/Chicago" in group and re.search(r"(just now|\d+ min ago)", group)
    mine = [e for e in listed if "not sure: passed out" in e["findings"]]
    assert len(mine) == 1 and mine[0]["lead"] is True
    item = mine[0]
    assert item["time_zone"] == "America/Chicago" and item["local_time"].endswith("-06:00")
    assert item["age_minutes"] >= 0 and item["teach_back_missed"] == []
    assert item["record_number"] is None and item["phone"] is None
    assert listed[0]["lead"] is True  # the list starts with a group's lead
    with client_for(server, "admin") as admin:
        trail = admin.get("/team/audit", params={"action": "inbox.viewed"}).text
    assert "api" in trail


def test_dashboard_draws_each_chart_with_its_table(server: LiveServer) -> None:
    with client_for(server, "clinician") as client:
        _issue_and_check_in(server, client, "Gus", {"severe_headache": "yes"})
        answer = client.get("/team/dashboard", params={"days": "7"})
        inbox = client.get("/team/inbox")
        assert client.get("/team/dashboard", params={"days": "5"}).status_code == 400
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["content-security-policy"] == inbox.headers["content-security-policy"]
    html = answer.text
    assert "<script" not in html
    for title in ("Check-ins by tier per day", "Escalations by time waited for acknowledgement",
                  "Handouts issued per sheet"):
        section = html.split(f">{title}</h2>")[1].split("</section>")[0]
        assert '<svg' in section and 'role="img"' in section, title
        assert '<table class="chart-data">' in section, title
    handouts = html.split(">Handouts issued per sheet</h2>")[1].split("</section>")[0]
    assert re.search(r'<th scope="row">P586</th><td>\d+</td>', handouts)
    assert '<option value="7" selected>' in html
    with client_for(server, "admin") as admin:
        trail = admin.get("/team/audit", params={"action": "dashboard.viewed"}).text
    assert "dashboard" in trail and email_for("clinician") in trail


def test_dashboard_needs_a_clinical_role(server: LiveServer) -> None:
    with client_for(server, "author") as author:
        assert author.get("/team/dashboard").status_code == 403
    with client_for(server) as anonymous:
        assert anonymous.get("/team/dashboard").status_code in (303, 401)
