"""The guide over real HTTP (a real `caresheet serve` on SQLite): pages, API, errors, .ics."""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from icalendar import Calendar

from helpers import LiveServer
from team.staff import Clinicians, add_user, email_for

EMERGENCY_LINE = "If you think it could be an emergency, call 911 at any time."
Issue = Callable[..., dict[str, Any]]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server for this module's read-mostly tests (each test issues its own handout)."""
    folder: Path = tmp_path_factory.mktemp("guide-web")
    with LiveServer(f"sqlite:///{folder}/caresheet.db", workdir=folder) as running:
        yield running


def get(server: LiveServer, path: str) -> httpx.Response:
    return httpx.get(server.url + path, timeout=30)


def post(url: str, data: dict[str, str]) -> httpx.Response:
    """A form post as a browser makes it: a 303 after a saved check-in is followed."""
    return httpx.post(url, data=data, timeout=30, follow_redirects=True)


def test_the_guide_page_shows_the_timeline_and_tel_links(
    server: LiveServer, issue_handout: Issue
) -> None:
    issued = issue_handout(server, hours_ago=1, display_name="Sam")
    page = get(server, f"/h/{issued['token']}")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    html = page.text
    assert "Hello, Sam." in html
    assert 'href="tel:5550100"' in html and 'href="tel:911"' in html
    assert "You can stop lying flat." in html
    assert 'aria-current="time"' in html
    assert EMERGENCY_LINE in html
    assert "Stay lying down flat for 2 hours" in html  # the personalized sheet
    engine = sa.create_engine(server.db_url)
    with engine.connect() as connection:
        reads = connection.execute(sa.text(
            "SELECT count(*) FROM audit_events WHERE action = 'handout.read' AND target = :t"
        ), {"t": f"handout:{issued['handout']['id']}"}).scalar()
    engine.dispose()
    assert reads == 2  # the read inside the issue answer, and the page


MONTHS = list(calendar.month_name)[1:]


def test_timeline_dates_keep_the_month_capitalized(
    server: LiveServer, issue_handout: Issue
) -> None:
    """A procedure days ago is shown as a date; only its first letter is raised, nothing lowered."""
    issued = issue_handout(server, hours_ago=100)
    html = get(server, f"/h/{issued['token']}").text
    assert any(f", {month} " in html for month in MONTHS)
    assert not any(f", {month.lower()} " in html for month in MONTHS)


def test_issue_answer_has_the_link_and_no_hash(server: LiveServer, issue_handout: Issue) -> None:
    issued = issue_handout(server)
    assert issued["url"].endswith(f"/h/{issued['token']}")
    assert len(issued["token"]) >= 43
    assert issued["handout"]["procedure_zone"] == "America/New_York"
    assert "token_hash" not in str(issued)
    kinds = [e["kind"] for e in issued["handout"]["events"]]
    assert kinds[0] == "procedure" and "milestone" in kinds


BAD_ISSUES = [
    ("naive-time", {"procedure_time": "2026-11-25T09:00"}, 400),
    ("param-out-of-range", {"params": {"lie_flat_hours": "9"}}, 400),
    ("unknown-sheet", {"code": "P999"}, 404),
    ("missing-field", {"code": None}, 422),
    ("extra-field", {"ssn": "123"}, 422),
]


@pytest.mark.parametrize(("change", "status"), [b[1:] for b in BAD_ISSUES],
                         ids=[b[0] for b in BAD_ISSUES])
def test_bad_issues_give_the_error_shape(server: LiveServer, clinicians: Clinicians,
                                         change: dict[str, Any], status: int) -> None:
    body: dict[str, Any] = {"code": "P586", "procedure_time": "2026-11-25T09:00-05:00", **change}
    body = {k: v for k, v in body.items() if v is not None}
    response = clinicians.client(server).post("/api/handouts", json=body)
    assert response.status_code == status, response.text
    assert set(response.json()["error"]) == {"code", "message"}


def test_unknown_and_revoked_links_are_kind_and_private(
    server: LiveServer, issue_handout: Issue, tmp_path: Path
) -> None:
    issued = issue_handout(server, display_name="Sam")
    unknown = get(server, "/h/" + "x" * 43)
    assert unknown.status_code == 404
    assert EMERGENCY_LINE in unknown.text and 'href="tel:911"' in unknown.text
    import subprocess

    subprocess.run([*server.command, "handout-revoke", issued["url"]], env=server.env,
                   cwd=server.workdir, check=True, capture_output=True)
    for path in ("", "/check", "/teachback", "/calendar.ics"):
        gone = get(server, f"/h/{issued['token']}{path}")
        assert gone.status_code == 410
        assert "call the clinic" in gone.text
        assert EMERGENCY_LINE in gone.text
        assert "Sam" not in gone.text and "Spinal" not in gone.text and "555" not in gone.text
    api = get(server, f"/api/handouts/{issued['token']}")
    assert api.status_code == 410 and api.json()["error"]["code"] == "gone"


def test_check_in_api_saves_and_lists(server: LiveServer, issue_handout: Issue) -> None:
    issued = issue_handout(server, hours_ago=50)
    token = issued["token"]
    posted = httpx.post(f"{server.url}/api/handouts/{token}/checkins",
                        json={"answers": {"headache": "yes"}}, timeout=30)
    assert posted.status_code == 201
    checkin = posted.json()
    assert checkin["saved"] and checkin["tier"] == "contact"
    assert checkin["matched"] == ["lasting_headache_or_sore_back"]
    assert checkin["elapsed_hours"] == pytest.approx(50, abs=0.1)
    again = get(server, f"/api/handouts/{token}").json()
    assert [c["id"] for c in again["checkins"]] == [checkin["id"]]
    bad = httpx.post(f"{server.url}/api/handouts/{token}/checkins",
                     json={"answers": {"bogus": "yes"}}, timeout=30)
    assert bad.status_code == 422 and "valid findings" in bad.json()["error"]["message"]
    assert "'bogus'" in bad.json()["error"]["message"]


def test_events_api_and_ics_agree(server: LiveServer, issue_handout: Issue) -> None:
    token = issue_handout(server)["token"]
    events = get(server, f"/api/handouts/{token}/events").json()["events"]
    ics = get(server, f"/h/{token}/calendar.ics")
    assert ics.headers["content-type"].startswith("text/calendar")
    cal = Calendar.from_ical(ics.content)
    assert str(cal["version"]) == "2.0" and cal["prodid"]
    vevents = cal.walk("VEVENT")
    assert sorted(str(e["summary"]) for e in vevents) == sorted(e["text"] for e in events)
    for vevent in vevents:
        assert vevent["uid"] and vevent["dtstamp"] and vevent["dtstart"].dt.tzinfo is not None


def test_teach_back_api(server: LiveServer, issue_handout: Issue) -> None:
    token = issue_handout(server)["token"]
    questions = get(server, f"/api/handouts/{token}/teachback").json()
    assert get(server, f"/api/handouts/{token}/teachback").json() == questions  # stable order
    first = next(q for q in questions if q["id"] == "rule-passed_out")
    posted = httpx.post(f"{server.url}/api/handouts/{token}/teachback",
                        json={"answers": {"rule-passed_out": "contact"}}, timeout=30)
    assert posted.status_code == 201
    result = next(r for r in posted.json()["results"] if r["question_id"] == first["id"])
    assert not result["correct"] and result["warning_sign"]
    assert "Call 911 now." in result["feedback"]


def test_html_check_ends_urgent_and_is_listed(server: LiveServer, issue_handout: Issue) -> None:
    token = issue_handout(server)["token"]
    answers = {"a.passed_out": "no", "a.fever": "no", "a.severe_headache": "yes",
               "a.site_drainage": "no", "a.numb_or_weak": "no", "a.headache": "no",
               "a.sore_back": "no", "a.other_concern": "no"}
    result = httpx.post(f"{server.url}/h/{token}/check", data=answers, timeout=30,
                        follow_redirects=True)
    assert result.status_code == 200
    assert 'data-tier="urgent"' in result.text
    assert "Call your doctor now at 555-0100" in result.text
    assert "You have a very bad headache." in result.text
    guide = get(server, f"/h/{token}").text
    assert re.search(r'class="checkin-tier" data-tier="urgent"', guide)


def test_a_911_answer_stops_at_once(server: LiveServer, issue_handout: Issue) -> None:
    token = issue_handout(server)["token"]
    result = httpx.post(f"{server.url}/h/{token}/check", data={"a.passed_out": "unsure"},
                        timeout=30, follow_redirects=True)
    assert 'data-tier="emergency"' in result.text and "Call 911 now" in result.text


def test_openapi_declares_the_guide_errors(server: LiveServer) -> None:
    spec = get(server, "/openapi.json").json()
    post = spec["paths"]["/api/handouts/{token}/checkins"]["post"]
    assert {"201", "400", "404", "410", "422"} <= set(post["responses"])
    assert {"400", "401", "403", "404", "422"} <= set(
        spec["paths"]["/api/handouts"]["post"]["responses"])
    assert {"404", "410"} <= set(spec["paths"]["/api/handouts/{token}/events"]["get"]["responses"])


@pytest.mark.parametrize(("hours", "language", "words"), [
    (0.5, "en", "30 minutes since your procedure"),
    (1.0, "en", "1 hour since your procedure"),
    (26.5, "en", "1 day and 2 hours since your procedure"),
    (49.0, "es", "2 días y 1 hora desde su procedimiento"),
    (-1.0, "en", "Before your procedure"),
])
def test_elapsed_words(hours: float, language: str, words: str) -> None:
    from caresheet.web.guide import elapsed_words

    assert elapsed_words(hours, language) == words


def test_a_number_question_in_the_html_check(server: LiveServer, clinicians: Clinicians) -> None:
    body = {"code": "CS104", "procedure_time": "2026-11-24T09:00-05:00"}
    token = clinicians.client(server).post("/api/handouts", json=body).json()["token"]
    url = f"{server.url}/h/{token}/check"
    first = post(url, {"a.passed_out": "no", "a.hard_to_breathe": "no",
                       "a.trouble_breathing": "no", "a.feel_feverish": "yes"})
    names = set(re.findall(r'type="radio" name="a\.([a-z_]+)" value="yes"', first.text))
    answers = {"a.passed_out": "no", "a.hard_to_breathe": "no", "a.trouble_breathing": "no",
               "a.feel_feverish": "yes", **{f"a.{n}": "no" for n in names}}
    asked = post(url, answers)
    while 'name="a.temperature"' not in asked.text:
        names = set(re.findall(r'type="radio" name="a\.([a-z_]+)" value="yes"', asked.text))
        assert names, "the temperature question never came"
        answers.update({f"a.{n}": "no" for n in names})
        asked = post(url, answers)
    assert 'inputmode="decimal"' in asked.text
    bad = post(url, {**answers, "a.temperature": "hot"})
    assert "Please write a number" in bad.text and 'name="a.temperature"' in bad.text
    done = post(url, {**answers, "a.temperature": "101.2"})
    while 'data-tier="' not in done.text:
        names = set(re.findall(r'type="radio" name="a\.([a-z_]+)" value="yes"', done.text))
        answers.update({f"a.{n}": "no" for n in names})
        done = post(url, {**answers, "a.temperature": "101.2"})
    assert 'data-tier="urgent"' in done.text
    assert "100.4" in done.text


def test_the_handout_command_prints_a_working_link_and_writes_the_pdf(
    server: LiveServer, tmp_path: Path
) -> None:
    import subprocess

    add_user(server.db_url, email_for("clinician"), "clinician", server.workdir, exist_ok=True)
    pdf = tmp_path / "sam.pdf"
    done = subprocess.run(
        [*server.command, "handout", "P586", "--by", email_for("clinician"),
         "--param", "lie_flat_hours=3",
         "--param", "clinic_phone=555-0100", "--procedure-time",
         "2026-11-24T09:00-05:00[America/New_York]", "--name", "Sam", "--base-url", server.url,
         "-o", str(pdf)],
        env=server.env, cwd=server.workdir, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    link = done.stdout.strip()
    assert link.startswith(f"{server.url}/h/")
    assert pdf.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "Stay lying down flat for 3 hours" in text
    # Issue 13 point 7: page 1 is Sam's own, with the lying-flat time on Sam's clock.
    first = " ".join(subprocess.run(["pdftotext", "-l", "1", str(pdf), "-"], capture_output=True,
                                    text=True, check=True).stdout.split())
    assert "Prepared for: Sam" in first
    assert "Procedure date: Tuesday, November 24 at 9:00 a.m." in first
    assert "Clinic phone: 555-0100" in first and "When should you call for help?" in first
    assert "Tuesday, November 24 at 12:00 p.m.: You can stop lying flat." in first
    page = httpx.get(link, timeout=30)
    assert page.status_code == 200 and "Hello, Sam." in page.text


@pytest.mark.parametrize(("args", "message"), [
    (["--procedure-time", "2026-11-24T09:00"], "has no time zone"),
    (["--procedure-time", "2026-11-24T09:00Z", "--param", "lie_flat_hours=9"], "1 to 4"),
    (["--procedure-time", "2026-11-24T09:00Z", "--expires", "999d"], "bad expiry"),
])
def test_the_handout_command_refuses_bad_input(server: LiveServer, args: list[str],
                                               message: str) -> None:
    import subprocess

    add_user(server.db_url, email_for("clinician"), "clinician", server.workdir, exist_ok=True)
    done = subprocess.run([*server.command, "handout", "P586", "--by", email_for("clinician"),
                           *args], env=server.env,
                          cwd=server.workdir, capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_a_bad_answer_is_explained_in_the_sheets_language(
    server: LiveServer, clinicians: Clinicians
) -> None:
    body = {"code": "P586", "language": "es", "procedure_time": "2026-11-24T09:00-05:00",
            "params": {"lie_flat_hours": "2", "clinic_phone": "555-0100"}}
    issued = clinicians.client(server).post("/api/handouts", json=body)
    assert issued.status_code == 201, issued.text
    bad = httpx.post(f"{server.url}/h/{issued.json()['token']}/check",
                     data={"a.passed_out": "maybe"}, timeout=30)
    assert bad.status_code == 400
    assert "Elija sí, no o no estoy seguro para: " in bad.text
    assert "Please choose" not in bad.text


def db_count(server: LiveServer, sql: str, **params: object) -> int:
    engine = sa.create_engine(server.db_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(sa.text(sql), params).scalar_one())
    finally:
        engine.dispose()


def saved_counts(server: LiveServer, handout: int) -> tuple[int, int, int, int]:
    """Check-ins, escalations, outbox messages and check-in audit events of one handout."""
    target = {"t": f"handout:{handout}", "h": str(handout)}
    return (
        db_count(server, "SELECT count(*) FROM checkins WHERE handout_id = :h", h=handout),
        db_count(server, "SELECT count(*) FROM escalations "
                 "WHERE CAST(handout_id AS TEXT) = :h", **target),
        db_count(server, "SELECT count(*) FROM outbox"),
        db_count(server, "SELECT count(*) FROM audit_events WHERE action = 'checkin.saved' "
                 "AND target = :t", **target),
    )


def test_a_refresh_after_a_check_in_saves_nothing_twice(
    server: LiveServer, issue_handout: Issue
) -> None:
    issued = issue_handout(server)
    token, handout = issued["token"], issued["handout"]["id"]
    posted = httpx.post(f"{server.url}/h/{token}/check", data={"a.passed_out": "yes"},
                        timeout=30)
    assert posted.status_code == 303
    result_url = posted.headers["location"]
    assert re.fullmatch(rf"/h/{token}/checkins/\d+\?lang=en", result_url)
    assert posted.headers["cache-control"] == "no-store"
    counts = [saved_counts(server, handout)]
    for _refresh in range(3):
        shown = get(server, result_url)
        assert shown.status_code == 200
        assert 'data-tier="emergency"' in shown.text and "Call 911 now" in shown.text
        assert f'data-checkin="{result_url.rsplit("/", 1)[1].split("?")[0]}"' in shown.text
        assert shown.headers["cache-control"] == "no-store"
        counts.append(saved_counts(server, handout))
    checkins, escalations, _outbox, audited = counts[0]
    assert (checkins, escalations, audited) == (1, 1, 1)
    assert len(set(counts)) == 1, counts  # one check-in, one escalation, one set of messages
    reads = db_count(server, "SELECT count(*) FROM audit_events WHERE action = 'handout.read' "
                     "AND target = :t AND detail LIKE '%checkin%'", t=f"handout:{handout}")
    assert reads == 3  # every showing of the result is an audited read


def test_a_check_in_result_of_another_link_is_not_found(
    server: LiveServer, issue_handout: Issue
) -> None:
    mine, other = issue_handout(server)["token"], issue_handout(server)["token"]
    posted = httpx.post(f"{server.url}/h/{other}/check", data={"a.passed_out": "yes"},
                        timeout=30)
    checkin_id = posted.headers["location"].rsplit("/", 1)[1]
    for path in (f"/h/{mine}/checkins/{checkin_id}", f"/h/{mine}/checkins/99999999999999999999",
                 f"/h/{mine}/checkins/0"):
        answer = get(server, path)
        assert answer.status_code in (400, 404), path
        assert "911" in answer.text and "Spinal" not in answer.text
        assert answer.headers["cache-control"] == "no-store"


def cs104_token(server: LiveServer, clinicians: Clinicians) -> str:
    body = {"code": "CS104", "procedure_time": "2026-11-24T09:00-05:00"}
    issued = clinicians.client(server).post("/api/handouts", json=body)
    assert issued.status_code == 201, issued.text
    token: str = issued.json()["token"]
    return token


CS104_FIRST = {"a.passed_out": "no", "a.trouble_breathing": "no", "a.site_bleeding": "no",
               "a.feel_feverish": "yes"}


@pytest.mark.parametrize("temperature", ["nan", "abc", "1e999", "inf"])
def test_a_bad_temperature_is_asked_again_beside_its_question(
    server: LiveServer, clinicians: Clinicians, temperature: str
) -> None:
    token = cs104_token(server, clinicians)
    answer = httpx.post(f"{server.url}/h/{token}/check", timeout=30, data={
        **CS104_FIRST, "a.temperature": temperature, "a.severe_headache": "yes"})
    assert answer.status_code == 400
    html = answer.text
    assert 'data-tier="' not in html  # not triaged, nothing saved
    problem = re.search(r'<p class="problem" role="alert" id="problem-temperature">([^<]+)</p>',
                        html)
    assert problem and problem.group(1).startswith("Please write a number for: ")
    assert 'aria-describedby="problem-temperature hint-temperature"' in html
    assert 'type="text" inputmode="decimal" id="q-temperature" name="a.temperature"' in html
    for name, value in CS104_FIRST.items():  # every other answer rides along
        assert f'<input type="hidden" name="{name}" value="{value}">' in html
    assert 'name="a.severe_headache"' not in html  # another sheet's finding is dropped
    assert answer.headers["cache-control"] == "no-store"


def test_an_empty_temperature_goes_on_as_not_sure(
    server: LiveServer, clinicians: Clinicians
) -> None:
    token = cs104_token(server, clinicians)
    answer = httpx.post(f"{server.url}/h/{token}/check", timeout=30,
                        data={**CS104_FIRST, "a.temperature": ""})
    assert answer.status_code in (200, 303) and "problem-temperature" not in answer.text


@pytest.mark.parametrize("temperature", ["nan", "1e999", "inf"])
def test_the_api_names_the_finding_of_a_bad_answer(
    server: LiveServer, clinicians: Clinicians, temperature: str
) -> None:
    token = cs104_token(server, clinicians)
    answer = httpx.post(f"{server.url}/api/handouts/{token}/checkins", timeout=30,
                        json={"answers": {"feel_feverish": "yes", "temperature": temperature}})
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "bad_answer"
    assert "'temperature'" in answer.json()["error"]["message"]
    assert answer.headers["cache-control"] == "no-store"
    listed = get(server, f"/api/handouts/{token}").json()
    assert listed["checkins"] == []


def test_every_patient_response_says_no_store(server: LiveServer, issue_handout: Issue) -> None:
    token = issue_handout(server)["token"]
    ended = issue_handout(server)
    import subprocess

    subprocess.run([*server.command, "handout-revoke", ended["url"]], env=server.env,
                   cwd=server.workdir, check=True, capture_output=True)
    gone = ended["token"]
    answers = [
        get(server, f"/api/handouts/{token}"),
        get(server, f"/api/handouts/{token}/events"),
        get(server, f"/api/handouts/{token}/teachback"),
        httpx.post(f"{server.url}/api/handouts/{token}/checkins",
                   json={"answers": {"headache": "no"}}, timeout=30),
        httpx.post(f"{server.url}/api/handouts/{token}/checkins",
                   json={"answers": {"headache": "maybe"}}, timeout=30),
        httpx.post(f"{server.url}/api/handouts/{token}/teachback",
                   json={"answers": {"rule-passed_out": "emergency"}}, timeout=30),
        get(server, f"/api/handouts/{gone}"),
        get(server, "/api/handouts/" + "x" * 43 + "/events"),
        get(server, f"/h/{token}"),
        get(server, f"/h/{token}/check"),
        get(server, f"/h/{token}/teachback"),
        get(server, f"/h/{token}/calendar.ics"),
        httpx.post(f"{server.url}/h/{token}/teachback", data={"a.x": "y"}, timeout=30),
        get(server, f"/h/{gone}"),
        get(server, "/h/" + "x" * 43),
    ]
    statuses = [a.status_code for a in answers]
    assert statuses == [200, 200, 200, 201, 422, 201, 410, 404, 200, 200, 200, 200, 200, 410,
                        404]
    for answer in answers:
        assert answer.headers["cache-control"] == "no-store", answer.url
        assert answer.headers["referrer-policy"] == "no-referrer", answer.url
    assert answers[6].json() == {"error": {"code": "gone", "message": "this link was revoked"}}
    assert answers[7].json()["error"]["code"] == "not_found"
    assert "This link has ended" in answers[13].text and "Call 911" in answers[13].text


def test_a_failed_teach_back_save_is_not_saved_and_never_a_500(
    live_server: Callable[..., LiveServer], sqlite_url: str, issue_handout: Issue
) -> None:
    server = live_server(sqlite_url)
    token = issue_handout(server, display_name="Samantha")["token"]
    engine = sa.create_engine(server.db_url)
    with engine.begin() as connection:  # the database loses the table under the server
        connection.execute(sa.text("ALTER TABLE teachback_results RENAME TO gone_results"))
    engine.dispose()
    api = httpx.post(f"{server.url}/api/handouts/{token}/teachback",
                     json={"answers": {"rule-passed_out": "emergency"}}, timeout=30)
    assert api.status_code == 200
    body = api.json()
    assert body["saved"] is False and body["attempt"] is None
    assert body["notice"] == "We could not save your answers. Please tell your clinic."
    assert any(r["correct"] for r in body["results"])  # the feedback still teaches
    page = httpx.post(f"{server.url}/h/{token}/teachback",
                      data={"a.rule-passed_out": "emergency"}, timeout=30)
    assert page.status_code == 200
    assert "We could not save your answers. Please tell your clinic." in page.text
    log = server.output()
    assert "could not save teach-back" in log
    for private in (token, "Samantha"):
        assert private not in log.split("could not save teach-back", 1)[1]


def test_the_handout_command_issues_through_the_audited_path(
    live_server: Callable[..., LiveServer], sqlite_url: str
) -> None:
    import subprocess

    server = live_server(sqlite_url)
    add_user(server.db_url, email_for("clinician"), "clinician", server.workdir)
    add_user(server.db_url, email_for("author"), "author", server.workdir)
    base = [*server.command, "handout", "P586", "--procedure-time", "2026-11-24T09:00Z"]
    done = subprocess.run([*base, "--by", email_for("clinician")], env=server.env,
                          cwd=server.workdir, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    handout = int(re.search(r"handout (\d+):", done.stderr).group(1))  # type: ignore[union-attr]
    issuer = db_count(server, "SELECT issued_by FROM handout_issuers WHERE handout_id = :h",
                      h=handout)
    actor = f"user:{issuer}:{email_for('clinician')}"
    assert db_count(server, "SELECT count(*) FROM audit_events WHERE action = 'handout.issued' "
                    "AND target = :t AND actor = :a", t=f"handout:{handout}", a=actor) == 1
    for by, message in ((email_for("author"), "cannot issue handouts"),
                        ("nobody@clinic.example", "no user with email")):
        refused = subprocess.run([*base, "--by", by], env=server.env, cwd=server.workdir,
                                 capture_output=True, text=True, check=False)
        assert refused.returncode == 2 and message in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
    assert db_count(server, "SELECT count(*) FROM handouts") == 1
