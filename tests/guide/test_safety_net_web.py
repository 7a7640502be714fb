"""The safety net, honest "not sure" and Back over real HTTP (HTML form and JSON API).

A real ``caresheet serve`` on SQLite; the note a patient writes must reach the care team's
page and nothing else: not the patient's result, not the API's result, not the server log.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers import LiveServer
from team.staff import Clinicians

Issue = Callable[..., dict[str, Any]]
NOTE = "Zanzibar tingle in my left toe"
ALL_NO = {"a.passed_out": "no", "a.fever": "no", "a.severe_headache": "no",
          "a.site_drainage": "no", "a.numb_or_weak": "no", "a.headache": "no",
          "a.sore_back": "no"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server for the read-mostly tests (each issues its own handout)."""
    folder: Path = tmp_path_factory.mktemp("safety-net-web")
    with LiveServer(f"sqlite:///{folder}/caresheet.db", workdir=folder) as running:
        yield running


def post(url: str, data: dict[str, Any]) -> httpx.Response:
    return httpx.post(url, data=data, timeout=30, follow_redirects=True)


def checked(html: str) -> dict[str, str]:
    """The radio answers a page shows already chosen, by finding."""
    return dict(re.findall(r'name="a\.([a-z_]+)" value="([a-z]+)"(?: required)? checked', html))


def test_the_html_check_ends_with_the_safety_net_and_the_note_reaches_only_the_team(
        live_server: Callable[..., LiveServer], sqlite_url: str, clinicians: Clinicians,
        issue_handout: Issue) -> None:
    server = live_server(sqlite_url)
    token = issue_handout(server)["token"]
    url = f"{server.url}/h/{token}/check"
    last = post(url, ALL_NO)
    assert last.status_code == 200
    assert "Is anything else worrying you about your recovery?" in last.text
    assert 'name="a.other_concern_note"' in last.text and 'maxlength="500"' in last.text
    assert re.findall(r'type="radio" name="a\.([a-z_]+)" value="yes"', last.text) == [
        "other_concern"]

    result = post(url, {**ALL_NO, "a.other_concern": "yes", "a.other_concern_note": NOTE})
    assert 'data-tier="contact"' in result.text
    assert "Call your clinic at 555-0100 and tell them what worries you." in result.text
    assert "You told us something else worries you about your recovery." in result.text
    assert NOTE not in result.text
    api = httpx.get(f"{server.url}/api/handouts/{token}", timeout=30).json()
    assert api["checkins"][0]["tier"] == "contact" and NOTE not in str(api)

    team = clinicians.client(server)
    inbox = team.get("/team/inbox").text
    assert "You told us something else worries you about your recovery." in inbox
    handout_page = team.get(f"/team/handouts/{api['id']}")
    assert NOTE in handout_page.text  # staff read it on the handout's page
    server.stop()
    assert NOTE not in server.output() and "Zanzibar" not in server.output()


def test_a_note_too_long_is_asked_again_and_not_repeated(
        server: LiveServer, issue_handout: Issue) -> None:
    token = issue_handout(server)["token"]
    long_note = "pain " * 120
    again = post(f"{server.url}/h/{token}/check",
                 {**ALL_NO, "a.other_concern": "yes", "a.other_concern_note": long_note})
    assert again.status_code == 400
    assert "Please keep your note to 500 characters or fewer" in again.text
    assert 'name="a.other_concern"' in again.text and long_note.strip() not in again.text


def test_back_goes_one_step_back_and_keeps_every_answer(
        server: LiveServer, issue_handout: Issue) -> None:
    token = issue_handout(server)["token"]
    url = f"{server.url}/h/{token}/check"
    stage_two = {"a.passed_out": "no", "a.fever": "yes", "a.severe_headache": "no",
                 "a.site_drainage": "no", "a.numb_or_weak": "unsure"}
    # On the step that asks about a stiff neck (fever: yes), the patient answers and goes back.
    follow_up = post(url, {**stage_two, "a.numb_or_weak": "no"})
    assert 'name="a.stiff_neck"' in follow_up.text and 'name="back"' in follow_up.text
    back = post(url, {**stage_two, "a.stiff_neck": "no", "shown": "stiff_neck", "back": "1"})
    assert back.status_code == 200
    assert checked(back.text) == {"fever": "yes", "severe_headache": "no", "site_drainage": "no",
                                  "numb_or_weak": "unsure"}
    assert 'type="hidden" name="a.passed_out" value="no"' in back.text
    assert 'type="hidden" name="k.stiff_neck" value="no"' in back.text  # kept for later
    # Going on again shows the later answer already chosen.
    on = post(url, {"a.passed_out": "no", **{k: v for k, v in stage_two.items()},
                    "k.stiff_neck": "no"})
    assert checked(on.text) == {"stiff_neck": "no"}


def test_the_api_takes_the_safety_net_and_says_not_sure_honestly(
        server: LiveServer, issue_handout: Issue) -> None:
    token = issue_handout(server)["token"]
    url = f"{server.url}/api/handouts/{token}/checkins"
    net = httpx.post(url, json={"answers": {"other_concern": "unsure"},
                                "other_concern_note": NOTE}, timeout=30)
    assert net.status_code == 201, net.text
    body = net.json()
    assert body["tier"] == "contact" and body["matched"] == ["other_concern"]
    assert body["why"] == [
        "You were not sure whether something else worries you about your recovery."]
    assert NOTE not in net.text

    unsure = httpx.post(url, json={"answers": {"passed_out": "unsure"}}, timeout=30).json()
    assert unsure["tier"] == "emergency"
    assert unsure["why"] == ["You were not sure how to answer: Did you pass out or faint?"]
    assert "You passed out." not in str(unsure)
    assert unsure["unsure_note"].startswith("We say to call 911 only because")

    too_long = httpx.post(url, json={"answers": {"other_concern": "yes"},
                                     "other_concern_note": "x" * 501}, timeout=30)
    assert too_long.status_code == 422 and "x" * 501 not in too_long.text
