"""Nothing personal in the application log: a whole patient flow on a live server, and the
server's output never holds the patient's display name, record number, phone or email, or the
private link's token; the care team's escalation email and webhook body carry none of the
patient's contact either (only the handout id and a link to the inbox item)."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx

from helpers import LiveServer

from .receivers import SmtpSink, WebhookSink, wait_for
from .staff import add_staff, client_for, csrf_for

NAME = "Zelda Quixote"
MRN = "MRN-77123"
ENCOUNTER = "ENC-99001"
PHONE = "555-0177"
EMAIL = "zelda.q@patients.example"
ANSWERS = {"a.passed_out": "no", "a.fever": "no", "a.severe_headache": "yes",
           "a.site_drainage": "no", "a.numb_or_weak": "no", "a.headache": "yes",
           "a.sore_back": "no", "a.other_concern": "no"}


def test_patient_flow_leaves_no_name_or_token_in_the_log(
        live_server: Callable[..., LiveServer], sqlite_url: str) -> None:
    smtp, webhook = SmtpSink().start(), WebhookSink().start()
    try:
        _flow(live_server, sqlite_url, smtp, webhook)
    finally:
        smtp.stop()
        webhook.stop()


def _flow(live_server: Callable[..., LiveServer], sqlite_url: str, smtp: SmtpSink,
          webhook: WebhookSink) -> None:
    server = live_server(sqlite_url, env={
        "CARESHEET_SMTP_HOST": "127.0.0.1", "CARESHEET_SMTP_PORT": str(smtp.port),
        "CARESHEET_NOTIFY_EMAIL": "nurses@clinic.example", "CARESHEET_WEBHOOK_URL": webhook.url})
    add_staff(server)
    with client_for(server, "clinician") as nurse:
        issued = nurse.post("/team/handouts", data={
            "csrf_token": csrf_for(nurse), "code": "P586", "language": "en",
            "param.lie_flat_hours": "2", "param.clinic_phone": "555-0100",
            "procedure_time": "2026-11-24T09:00", "zone": "UTC", "display_name": NAME,
            "expires_days": "30", "mrn": MRN, "encounter_id": ENCOUNTER, "phone": PHONE,
            "email": EMAIL})
        assert issued.status_code == 200
        found = re.search(r'id="private-link">[^<]*/h/([^<]+)<', issued.text)
        assert found
        token = found.group(1)
        with httpx.Client(base_url=server.url, timeout=30, follow_redirects=True) as patient:
            assert patient.get(f"/h/{token}").status_code == 200
            assert patient.get(f"/h/{token}/check").status_code == 200
            result = patient.post(f"/h/{token}/check", data=ANSWERS)
            assert result.status_code == 200
            assert patient.get(f"/h/{token}/teachback").status_code == 200
            assert patient.get(f"/h/{token}/calendar.ics").status_code == 200
            assert patient.get(f"/api/handouts/{token}").status_code == 200
            assert patient.get(f"/h/{token}x").status_code == 404  # a wrong link is logged too
        inbox = nurse.get("/team/inbox").text
        assert NAME in inbox  # the flow reached the care team
        handout_id = re.search(r"Handout #(\d+) is ready", issued.text)
        assert handout_id
        page = nurse.get(f"/team/handouts/{handout_id.group(1)}")
        assert page.status_code == 200
        assert MRN in page.text and PHONE in page.text  # shown to the clinic's staff
        wait_for(lambda: smtp.messages and webhook.received, what="the escalation notices")
    server.stop()
    log = server.output()
    assert "GET /h/<token>" in log  # the access log is on, with the token taken out
    assert token not in log and token[:16] not in log
    notices = [m.as_string() for m in smtp.messages] + [r.body.decode() for r in webhook.received]
    for private in (NAME, "Zelda", MRN, ENCOUNTER, PHONE, EMAIL, token):
        assert private not in log, private
        for notice in notices:
            assert private not in notice, private
    assert any("/team/inbox#escalation-" in n for n in notices)
