"""The whole care-team loop in a real Chromium on a fresh server, with real mail and webhook
servers: a clinician issues a P586 handout, the patient (another browser context) reports a
very bad headache, the clinician sees it in the inbox, acknowledges and closes it; the email
and the signed webhook arrive (the webhook receiver is down at first: a retry delivers it);
axe-core finds no WCAG 2.1 A/AA violation on any team page."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from caresheet.team.notify.senders import verify_signature
from helpers import LiveServer, axe_violations, caresheet_command, sideways_overflow

from .receivers import SmtpSink, WebhookSink, wait_for
from .staff import PASSWORD, add_staff, csrf_of, email_for
from .staff import log_in as log_in_http

SECRET = "clinic-shared-secret"
STAGES = [  # the P586 check, stage by stage, ending urgent (a very bad headache)
    {"Did you pass out or faint?": "No"},
    {"Do you have a new fever, or is your fever going up?": "No",
     "Do you have a very bad headache?": "Yes",
     "Is fluid or blood coming out where the needle went in?": "No",
     "Are your legs or the area below the needle spot numb or weak?": "No"},
    # "Do you have a headache?" is not asked: the very bad headache implies it (implied_by)
    {"Is your back sore where the needle went in?": "No"},
    {"Is anything else worrying you about your recovery?": "No"},  # the safety net, last
]


@pytest.fixture
def sinks() -> Iterator[tuple[SmtpSink, WebhookSink]]:
    smtp = SmtpSink().start()
    webhook = WebhookSink()  # down at first
    yield smtp, webhook
    smtp.stop()
    webhook.stop()


@pytest.fixture
def clinic(live_server: Callable[..., LiveServer], db_url: str,
           sinks: tuple[SmtpSink, WebhookSink]) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    smtp, webhook = sinks
    env = {
        "CARESHEET_SMTP_HOST": "127.0.0.1", "CARESHEET_SMTP_PORT": str(smtp.port),
        "CARESHEET_SMTP_FROM": "caresheet@clinic.example",
        "CARESHEET_NOTIFY_EMAIL": "nurses@clinic.example",
        "CARESHEET_WEBHOOK_URL": webhook.url, "CARESHEET_WEBHOOK_SECRET": SECRET,
        "CARESHEET_NOTIFY_BACKOFF": "1", "CARESHEET_NOTIFY_BACKOFF_MAX": "2",
        "CARESHEET_TIME_ZONE": "UTC",
    }
    server = live_server(db_url, env=env)
    add_staff(server)
    worker = subprocess.Popen(
        [*caresheet_command(), "worker", "--interval", "0.3"],
        env={**os.environ, **env, "CARESHEET_DATABASE_URL": db_url}, cwd=server.workdir,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    yield server, env
    worker.terminate()
    try:
        worker.wait(timeout=10)
    except subprocess.TimeoutExpired:
        worker.kill()


def log_in(page: Any, base: str, role: str) -> None:
    page.goto(f"{base}/team/login")
    assert axe_violations(page) == []
    page.get_by_label("Email").fill(email_for(role))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("load")  # the click returns before the next page has loaded


def answer(page: Any, stage: dict[str, str]) -> None:
    for question, choice in stage.items():
        page.get_by_role("group", name=question).get_by_label(choice, exact=True).check()
    page.get_by_role("button", name="Next").click()


@pytest.mark.slow
def test_clinician_issues_patient_reports_team_closes(
    clinic: tuple[LiveServer, dict[str, str]], sinks: tuple[SmtpSink, WebhookSink],
    make_page: Callable[..., Any],
) -> None:
    server, _ = clinic
    smtp, webhook = sinks
    nurse = make_page()
    log_in(nurse, server.url, "clinician")
    assert nurse.url.endswith("/team")
    assert axe_violations(nurse) == []

    # Pick the sheet with the search box, fill its values, issue.
    nurse.get_by_role("link", name="New handout").click()
    nurse.wait_for_url("**/team/handouts/new")
    assert axe_violations(nurse) == []
    nurse.get_by_label("Find a sheet by code or words").fill("spinal tap")
    nurse.get_by_role("button", name="Find").click()
    nurse.wait_for_url("**q=spinal*")
    nurse.get_by_role("link", name="P586 · Spinal Tap").click()
    nurse.wait_for_url("**code=P586*")
    assert axe_violations(nurse) == []
    nurse.get_by_label("Hours to lie flat after the test").fill("2")
    nurse.get_by_label("Clinic phone number").fill("555-0100")
    start = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M")
    nurse.get_by_label("Procedure date and time").fill(start)
    nurse.get_by_label("Name to greet the patient (optional)").fill("Sam")
    nurse.get_by_role("button", name="Create the handout").click()
    link = nurse.locator("#private-link").inner_text().strip()
    assert link.startswith(f"{server.url}/h/")
    assert nurse.locator(".qr-code svg").count() == 1
    assert axe_violations(nurse) == []
    with nurse.expect_popup() as popup:
        nurse.get_by_role("button", name="Open the PDF to print").click()
    assert popup.value is not None

    # The patient, on their own phone: open the link and check symptoms.
    patient = make_page(width=390, height=844)
    patient.goto(link)
    patient.get_by_role("link", name="Check my symptoms").click()
    for stage in STAGES:
        answer(patient, stage)
    assert patient.locator(".result").get_attribute("data-tier") == "urgent"

    # The inbox shows it; acknowledge, then close with a note.
    nurse.goto(f"{server.url}/team/inbox")
    group = nurse.locator(".handout-group").first
    assert "Sam" in group.locator("h2").inner_text()
    item = group.locator(".escalation").first
    assert "You have a very bad headache." in item.inner_text()
    assert "min ago" in item.inner_text() or "just now" in item.inner_text()
    assert item.locator(".tier-badge").inner_text().lower() == "urgent"
    assert axe_violations(nurse) == []
    item.get_by_role("button", name="Acknowledge").click()
    item = nurse.locator(".escalation").first
    assert f"Acknowledged by {email_for('clinician')}" in item.inner_text()
    item.get_by_label("Note").fill("Called Sam: headache easing; told to lie flat and drink.")
    item.get_by_role("button", name="Close").click()
    assert nurse.locator(".escalation").count() == 0
    nurse.get_by_role("link", name="Show closed too").click()
    nurse.wait_for_url("**closed=1")
    closed = nurse.locator(".escalation.status-closed").first
    assert "Called Sam: headache easing" in closed.inner_text()
    assert axe_violations(nurse) == []

    # The handout list shows it was opened, with the last check-in.
    nurse.get_by_role("link", name="Handouts", exact=True).click()
    nurse.wait_for_url("**/team/handouts")
    row = nurse.locator("table.handouts tbody tr").first
    assert "Sam" in row.inner_text() and "urgent" in row.inner_text().lower()
    assert axe_violations(nurse) == []
    nurse.get_by_role("link", name="Sam").click()
    nurse.wait_for_url(re.compile(r".*/team/handouts/\d+$"))
    assert axe_violations(nurse) == []

    # The email arrived; the webhook was down, comes up, and a retry gets it there, signed.
    wait_for(lambda: smtp.messages, what="the email")
    assert "urgent" in smtp.messages[0]["Subject"]
    webhook.start()
    wait_for(lambda: webhook.received, timeout=30, what="the webhook after a retry")
    hook = webhook.received[0]
    assert verify_signature(hook.body, SECRET, hook.headers["x-caresheet-signature"])
    assert json.loads(hook.body)["escalation"]["tier"] == "urgent"
    assert len(smtp.messages) == 1 and len(webhook.received) == 1
    nurse.goto(f"{server.url}/team/inbox?closed=1")
    told = nurse.locator(".escalation .notices").first.inner_text()
    assert "email sent" in told and "webhook sent" in told


@pytest.mark.parametrize("role,paths", [
    ("admin", ["/team", "/team/audit", "/team/users", "/team/library"]),
    ("author", ["/team/library", "/team/library/P586/en", "/team/password"]),
])
def test_other_team_pages_pass_axe(live_server: Callable[..., LiveServer], sqlite_url: str,
                                   make_page: Callable[..., Any], role: str,
                                   paths: list[str]) -> None:
    server = live_server(sqlite_url)
    add_staff(server)
    page = make_page()
    log_in(page, server.url, role)
    for path in paths:
        page.goto(server.url + path)
        assert axe_violations(page) == [], path
    # And at 320 px, nothing scrolls sideways but the tables' own scroll regions.
    narrow = make_page(width=320, height=640)
    log_in(narrow, server.url, role)
    for path in paths:
        narrow.goto(server.url + path)
        overflow = sideways_overflow(narrow)
        assert overflow <= 0, f"{path} is {overflow}px too wide at 320px"


def test_inbox_by_handout_and_dashboard_pass_axe_at_320_and_desktop(
    live_server: Callable[..., LiveServer], sqlite_url: str, make_page: Callable[..., Any],
) -> None:
    """With something in each chart and a handout group in the inbox."""
    server = live_server(sqlite_url)
    add_staff(server)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        log_in_http(client, email_for("clinician"))
        page = client.get("/team/handouts/new", params={"code": "P586", "lang": "en"}).text
        issued = client.post("/team/handouts", data={
            "csrf_token": csrf_of(page), "code": "P586", "language": "en",
            "param.lie_flat_hours": "2", "param.clinic_phone": "555-0100",
            "procedure_time": "2026-11-24T09:00", "zone": "America/Chicago",
            "display_name": "Hal", "expires_days": "30"})
        link = re.search(r'id="private-link">([^<]+)<', issued.text)
        assert link
        token = link.group(1).rsplit("/", 1)[1]
        for answers in ({"headache": "yes"}, {"passed_out": "unsure"}):
            httpx.post(f"{server.url}/api/handouts/{token}/checkins", json={"answers": answers})
    for width, height in ((1280, 900), (320, 640)):
        browser_page = make_page(width=width, height=height)
        log_in(browser_page, server.url, "clinician")
        for path in ("/team/inbox", "/team/dashboard?days=7"):
            browser_page.goto(server.url + path)
            assert axe_violations(browser_page) == [], (width, path)
            overflow = sideways_overflow(browser_page)
            assert overflow <= 0, f"{path} is {overflow}px too wide at {width}px"
        assert browser_page.locator("svg[role=img]").count() >= 2
