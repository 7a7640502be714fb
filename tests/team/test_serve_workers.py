"""Issue 15.3: `caresheet serve --workers 2` on one PostgreSQL database.

Two app processes share the port; a login made in one is honoured by the other (sessions are
rows), and each process's notification worker claims from the same outbox: every escalation's
email arrives exactly once, and it arrives at once because the workers LISTEN for the NOTIFY a
new message sends (their polling is set to five minutes here, so only a wake-up can explain it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from helpers import LiveServer
from team.receivers import SmtpSink, wait_for
from team.staff import Clinicians

pytestmark = pytest.mark.postgres
CHECKINS = 6


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(child) for child in text]
    return found


def _report(server: LiveServer, staff: httpx.Client, n: int) -> None:
    issued = staff.post("/api/handouts", json={
        "code": "P586", "procedure_time": "2026-11-24T09:00-05:00",
        "params": {"clinic_phone": "555-0100"},
    })
    assert issued.status_code == 201, issued.text  # the session row is read by either process
    answer = httpx.post(
        f"{server.url}/api/handouts/{issued.json()['token']}/checkins",
        json={"answers": {"severe_headache": "yes"}}, timeout=60,
    )
    assert answer.status_code == 201 and answer.json()["tier"] == "urgent", answer.text


def test_two_processes_deliver_every_message_once_and_wake_on_notify(
    live_server: Callable[..., LiveServer], postgres_url: str, clinicians: Clinicians
) -> None:
    smtp = SmtpSink().start()
    try:
        server = live_server(postgres_url, serve_args=["--workers", "2"],
                             env={
            "CARESHEET_SMTP_HOST": "127.0.0.1", "CARESHEET_SMTP_PORT": str(smtp.port),
            "CARESHEET_SMTP_FROM": "caresheet@clinic.example",
            "CARESHEET_NOTIFY_EMAIL": "nurses@clinic.example",
            "CARESHEET_NOTIFY_POLL": "300",
        })
        assert server.process is not None
        wait_for(lambda: len(_children(server.process.pid)) >= 2, timeout=60,  # type: ignore[union-attr]
                 what="two app processes")
        staff = clinicians.client(server)
        started = time.monotonic()
        with ThreadPoolExecutor(3) as pool:
            list(pool.map(lambda n: _report(server, staff, n), range(CHECKINS)))
        wait_for(lambda: len(smtp.messages) >= CHECKINS, timeout=60,
                 what="one email per escalation")
        # Polling every 300 s could not have sent these: the NOTIFY woke a worker.
        assert time.monotonic() - started < 60
        time.sleep(3)  # a duplicate would arrive now
        assert len(smtp.messages) == CHECKINS
        engine = sa.create_engine(postgres_url)
        try:
            with engine.connect() as connection:
                rows = connection.execute(sa.text(
                    "SELECT attempts, delivered_at IS NOT NULL FROM outbox")).all()
        finally:
            engine.dispose()
        assert sorted(rows) == [(1, True)] * CHECKINS
    finally:
        smtp.stop()
