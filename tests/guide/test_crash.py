"""A check-in is never lost: SIGKILL the server in the middle of a burst, restart it, and
every check-in whose answer (JSON 201 or the HTML result page) came back is in the database."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from helpers import LiveServer

Issue = Callable[..., dict[str, Any]]
CHECKIN_ID = re.compile(r'data-checkin="(\d+)"')
WORKERS = 8


def send_until_dead(url: str, token: str, worker: int, stop: threading.Event,
                    acknowledged: list[int], lost: list[str]) -> None:
    """Post check-ins (JSON and HTML form, alternating) until the server stops answering.

    The form's answer is a 303 to the saved check-in: it is acknowledged once that page is
    shown (following the redirect), as a patient's browser would show it."""
    with httpx.Client(timeout=10, follow_redirects=True) as client:
        number = 0
        while not stop.is_set():
            number += 1
            try:
                if (worker + number) % 2:
                    response = client.post(f"{url}/api/handouts/{token}/checkins",
                                           json={"answers": {"headache": "yes"}})
                    if response.status_code == 201 and response.json()["saved"]:
                        acknowledged.append(response.json()["id"])
                else:
                    response = client.post(f"{url}/h/{token}/check",
                                           data={"a.passed_out": "yes"})
                    found = CHECKIN_ID.search(response.text)
                    if response.status_code == 200 and found:
                        acknowledged.append(int(found.group(1)))
            except httpx.HTTPError as error:
                lost.append(type(error).__name__)
                if lost.count(type(error).__name__) > 3:
                    return


@pytest.mark.slow
def test_no_acknowledged_checkin_is_lost_after_sigkill(
    live_server: Callable[..., LiveServer], db_url: str, issue_handout: Issue
) -> None:
    server = live_server(db_url)
    token = issue_handout(server)["token"]
    acknowledged: list[int] = []
    failures: list[str] = []
    stop = threading.Event()
    with ThreadPoolExecutor(WORKERS) as pool:
        for worker in range(WORKERS):
            pool.submit(send_until_dead, server.url, token, worker, stop, acknowledged, failures)
        deadline = time.monotonic() + 30
        while len(acknowledged) < 150 and time.monotonic() < deadline:
            time.sleep(0.01)
        server.kill()  # SIGKILL, mid-burst: requests are in flight right now
        time.sleep(1)
        stop.set()
    assert len(acknowledged) >= 150, "the burst never got going"
    assert failures, "the kill should have cut some requests off"

    server.start()  # the same database, opened again after the crash
    assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
    engine = sa.create_engine(server.db_url)
    try:
        with engine.connect() as connection:
            stored = set(connection.execute(sa.text("SELECT id FROM checkins")).scalars())
    finally:
        engine.dispose()
    missing = sorted(set(acknowledged) - stored)
    assert missing == [], f"{len(missing)} acknowledged check-ins lost: {missing[:10]}"
    assert len(set(acknowledged)) == len(acknowledged)


def test_a_failed_save_still_shows_the_result_and_logs_nothing_personal(
    live_server: Callable[..., LiveServer], sqlite_url: str, issue_handout: Issue
) -> None:
    server = live_server(sqlite_url)
    issued = issue_handout(server, display_name="Samantha")
    token = issued["token"]
    engine = sa.create_engine(server.db_url)
    with engine.begin() as connection:  # the database loses the table under the server
        connection.execute(sa.text("ALTER TABLE checkins RENAME TO checkins_gone"))
    engine.dispose()
    page = httpx.post(f"{server.url}/h/{token}/check", data={"a.passed_out": "yes"}, timeout=30)
    assert page.status_code == 200
    assert "Call 911 now." in page.text
    assert "We could not save this. Please call your clinic." in page.text
    api = httpx.post(f"{server.url}/api/handouts/{token}/checkins",
                     json={"answers": {"severe_headache": "yes"}}, timeout=30)
    assert api.status_code == 200
    assert api.json()["saved"] is False and api.json()["tier"] == "urgent"
    log = server.output()
    assert "could not save a check-in" in log
    for private in (token, "Samantha", "severe_headache", "passed_out"):
        assert private not in log.split("could not save", 1)[1]
