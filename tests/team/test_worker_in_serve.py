"""`caresheet serve` delivers notifications itself: no separate `caresheet worker` needed."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import sqlalchemy as sa

from helpers import LiveServer
from team.receivers import SmtpSink, wait_for
from team.staff import Clinicians


def _report_severe_headache(server: LiveServer, clinicians: Clinicians) -> None:
    issued = clinicians.client(server).post("/api/handouts", json={
        "code": "P586", "procedure_time": "2026-11-24T09:00-05:00",
        "params": {"clinic_phone": "555-0100"},
    })
    assert issued.status_code == 201, issued.text
    answer = httpx.post(
        f"{server.url}/api/handouts/{issued.json()['token']}/checkins",
        json={"answers": {"severe_headache": "yes"}}, timeout=30,
    )
    assert answer.status_code == 201 and answer.json()["tier"] == "urgent"


def _mail_env(smtp: SmtpSink) -> dict[str, str]:
    return {
        "CARESHEET_SMTP_HOST": "127.0.0.1", "CARESHEET_SMTP_PORT": str(smtp.port),
        "CARESHEET_SMTP_FROM": "caresheet@clinic.example",
        "CARESHEET_NOTIFY_EMAIL": "nurses@clinic.example",
    }


def test_serve_sends_the_escalation_email(
    live_server: Callable[..., LiveServer], sqlite_url: str, clinicians: Clinicians
) -> None:
    smtp = SmtpSink().start()
    try:
        server = live_server(sqlite_url, env=_mail_env(smtp))
        _report_severe_headache(server, clinicians)
        wait_for(lambda: smtp.messages, timeout=30, what="the escalation email")
        assert smtp.messages[0]["X-Envelope-To"] == "nurses@clinic.example"
    finally:
        smtp.stop()


def test_the_worker_can_be_turned_off(
    live_server: Callable[..., LiveServer], sqlite_url: str, clinicians: Clinicians
) -> None:
    """With CARESHEET_WORKER=off the message waits in the outbox for `caresheet worker`."""
    smtp = SmtpSink().start()
    try:
        server = live_server(sqlite_url, env={**_mail_env(smtp), "CARESHEET_WORKER": "off"})
        _report_severe_headache(server, clinicians)
        time.sleep(4)  # the in-process worker would have sent it within a pass or two
        assert smtp.messages == []
        engine = sa.create_engine(server.db_url)
        with engine.connect() as connection:
            waiting = connection.execute(sa.text(
                "SELECT count(*) FROM outbox WHERE channel = 'email' AND delivered_at IS NULL"
            )).scalar()
        engine.dispose()
        assert waiting == 1
    finally:
        smtp.stop()
