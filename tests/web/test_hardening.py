"""Attacks from the issue-11 attack run, against a real server on SQLite and PostgreSQL.

- an id past the database's integer range in any team route: refused (400/404/422), never 500;
- a NUL character in any text a request carries: 400/422, and nothing in the server log;
- a YAML alias bomb or ``[`` x 3000 uploaded as a sheet: a 400 page naming the line, at once.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import httpx
import pytest

from helpers import LiveServer
from render.live import KINDS, running
from team.staff import add_staff, client_for, csrf_for
from team.test_routes_guarded import guarded_routes

HUGE_IDS = [2**31, 2**63]
SECRET = "Zebrafinch-headache-note"


@pytest.fixture(scope="module", params=KINDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    with running(request.param, tmp_path_factory.mktemp("hardening")) as started:
        add_staff(started)
        yield started


def id_routes() -> list[tuple[str, str, str]]:
    """(method, path, a role it allows) for every team route with an id in its path."""
    found = []
    for method, path, req in guarded_routes():
        if req is not None and re.search(r"\{(\w+_id|version)\}", path):
            found.append((method, path, req.roles[0].value))
    return found


def test_the_id_routes_are_found() -> None:
    paths = {path for _, path, _ in id_routes()}
    assert {"/api/team/escalations/{escalation_id}/close",
            "/team/library/{code}/{language}/{version}/status"} <= paths
    assert len(paths) >= 8


@pytest.mark.parametrize("huge", HUGE_IDS, ids=["2^31", "2^63"])
def test_ids_past_the_integer_range_never_give_500(server: LiveServer, huge: int) -> None:
    answers = []
    for method, path, role in id_routes():
        concrete = re.sub(r"\{(\w+_id|version)\}", str(huge), path)
        concrete = concrete.replace("{code}", "P586").replace("{language}", "en")
        with client_for(server, role) as client:
            if method == "GET":
                answer = client.get(concrete)
            elif path.startswith("/api/"):
                answer = client.post(concrete, json={"note": "done"})
            else:
                answer = client.post(concrete, data={"csrf_token": csrf_for(client),
                                                     "note": "done", "status": "reviewed"})
        answers.append((method, path, answer.status_code))
    assert [a for a in answers if a[2] not in (400, 404, 422)] == []
    assert "Traceback" not in server.output()


def test_nul_in_a_login_email_is_refused(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        form = client.get("/team/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert csrf
        answer = client.post("/team/login", data={
            "email": f"nurse\x00{SECRET}@clinic.example", "password": "x" * 12,
            "csrf_token": csrf.group(1), "next": "/team"})
    assert answer.status_code == 400
    assert SECRET not in server.output()


@pytest.mark.parametrize("path", [
    "/sheets/P586%00", "/search?q=spinal%00tap", "/api/sheets/P586%00",
    "/h/abc%00def", "/fhir/PlanDefinition/P586%00",
])
def test_nul_in_a_path_or_query_is_refused(server: LiveServer, path: str) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        answer = client.get(path)
    assert answer.status_code == 400, (path, answer.status_code)
    if path.startswith("/api/"):
        assert answer.json()["error"]["code"] == "bad_input"


def test_nul_in_a_json_body_or_a_close_note_is_refused(server: LiveServer) -> None:
    with client_for(server, "clinician") as client:
        note = client.post("/api/team/escalations/1/close", json={"note": f"ok\u0000{SECRET}"})
        escaped = client.post("/api/team/escalations/1/close", json={"note": "a\\u0000b"})
        form = client.post("/team/escalations/1/close",
                           data={"csrf_token": csrf_for(client), "note": f"ok\x00{SECRET}"})
    assert note.status_code == 400 and note.json()["error"]["code"] == "bad_input"
    assert escaped.status_code == 404  # an escaped backslash, not a NUL: it reaches the route
    assert form.status_code == 400
    assert SECRET not in server.output()


def _bomb() -> str:
    lines = ["---", "code: T950", "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, 8):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 10) + "]")
    return "\n".join([*lines, "title: Bomb", "---", "## Recovery {#recovery}", "", "Rest."]) + "\n"


@pytest.mark.parametrize(("text", "line", "words"), [
    pytest.param(_bomb(), 3, "anchors and aliases", id="alias-bomb"),
    pytest.param("---\ncode: T951\ntitle: " + "[" * 3000 + "\n---\n", 3, "nested", id="deep"),
])
def test_hostile_yaml_uploads_are_a_400_page_at_once(
    server: LiveServer, text: str, line: int, words: str
) -> None:
    with client_for(server, "author") as client:
        started = time.monotonic()
        answer = client.post("/team/library/upload", data={"csrf_token": csrf_for(client)},
                             files={"file": ("hostile.md", text.encode(), "text/markdown")})
        took = time.monotonic() - started
    assert answer.status_code == 400
    assert "Check of hostile.md" in answer.text  # the page names the file, then each line
    assert f"Line {line}: error: " in answer.text and words in answer.text
    assert took < 5
    assert "Traceback" not in server.output()
