"""The issue form with sending, in a real Chromium at 320 px and at desktop width: a clinician
issues a P586 handout with the patient's email and phone and both "send" boxes ticked; the
page says what was queued; after ``caresheet worker --once`` a real SMTP sink and a fake
Twilio-shaped SMS gateway on 127.0.0.1 have each received exactly one message with the link,
and a second run sends nothing more. axe-core finds no violation on the form or the result."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from email.message import Message
from typing import Any

import pytest

from helpers import LiveServer, axe_violations, caresheet_command, sideways_overflow

from .receivers import SmsGateway, SmtpSink, free_port
from .staff import PASSWORD, add_user, email_for

PHONE = "(555) 010-4242"


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[LiveServer, dict[str, str], SmtpSink, SmsGateway]]:
    smtp = SmtpSink().start()
    gateway = SmsGateway().start()
    folder = tmp_path_factory.mktemp("issue-send")
    port = free_port()
    env = {
        # No CARESHEET_BASE_URL: the messages' link is the address the form was reached at,
        # the same link the page shows.
        "CARESHEET_SMTP_HOST": "127.0.0.1", "CARESHEET_SMTP_PORT": str(smtp.port),
        "CARESHEET_SMTP_FROM": "caresheet@clinic.example",
        "CARESHEET_SMS_URL": gateway.url, "CARESHEET_SMS_ACCOUNT": gateway.account,
        "CARESHEET_SMS_TOKEN": gateway.token, "CARESHEET_SMS_FROM": "+15550001111",
        "CARESHEET_WORKER": "off",  # the test runs the worker itself, once
        "CARESHEET_TIME_ZONE": "UTC",
    }
    server = LiveServer(f"sqlite:///{folder}/caresheet.db", workdir=folder, env=env,
                        port=port).start()
    add_user(server.db_url, email_for("clinician"), "clinician", server.workdir)
    yield server, env, smtp, gateway
    server.stop()
    gateway.stop()
    smtp.stop()


def run_worker_once(server: LiveServer, env: dict[str, str]) -> str:
    done = subprocess.run(
        [*caresheet_command(), "worker", "--once"],
        env={**os.environ, **env, "CARESHEET_DATABASE_URL": server.db_url}, cwd=server.workdir,
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def plain_text(mail: Message) -> str:
    """The text/plain part of a received email, decoded."""
    for part in mail.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("the email has no text/plain part")


def log_in(page: Any, base: str) -> None:
    page.goto(f"{base}/team/login")
    page.get_by_label("Email").fill(email_for("clinician"))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("load")


@pytest.mark.slow
@pytest.mark.parametrize("width", [320, 1280])
def test_issue_with_email_and_text_sends_each_once(
    clinic: tuple[LiveServer, dict[str, str], SmtpSink, SmsGateway], make_page: Any,
    width: int,
) -> None:
    server, env, smtp, gateway = clinic
    run_worker_once(server, env)  # nothing of an earlier width is left waiting
    mails, texts = len(smtp.messages), len(gateway.texts)
    patient_email = f"pat{width}@example.org"
    nurse = make_page(width=width, height=800)
    log_in(nurse, server.url)
    nurse.goto(f"{server.url}/team/handouts/new?code=P586")
    nurse.get_by_label("Hours to lie flat after the test").fill("2")
    nurse.get_by_label("Clinic phone number").fill("555-0100")
    nurse.get_by_label("Patient's phone").fill(PHONE)
    nurse.get_by_label("Patient's email").fill(patient_email)
    nurse.get_by_label("By email").check()
    nurse.get_by_label("By text message").check()
    assert axe_violations(nurse) == []
    assert sideways_overflow(nurse) == 0
    nurse.get_by_role("button", name="Create the handout").click()
    nurse.wait_for_load_state("load")
    status = nurse.get_by_role("status")
    assert "The link is queued to go by email." in status.all_inner_texts()
    assert "The link is queued to go by text message." in status.all_inner_texts()
    link = nurse.locator("#private-link").inner_text().strip()
    assert link.startswith(f"{server.url}/h/")
    assert axe_violations(nurse) == []
    assert sideways_overflow(nurse) == 0

    assert "delivered 2, failed 0" in run_worker_once(server, env)
    assert len(smtp.messages) == mails + 1 and len(gateway.texts) == texts + 1
    mail, text = smtp.messages[-1], gateway.texts[-1]
    assert mail["To"] == patient_email
    assert link in plain_text(mail)
    assert "".join(c for c in text.to if c.isdigit()).endswith("5550104242")
    assert text.sender == "+15550001111"
    assert link in text.body
    assert len(text.body) <= 160
    # Sent exactly once: another run of the worker finds nothing more to send.
    assert "delivered 0, failed 0" in run_worker_once(server, env)
    assert len(smtp.messages) == mails + 1 and len(gateway.texts) == texts + 1
