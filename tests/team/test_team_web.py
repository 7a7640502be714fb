"""The care-team pages over real HTTP: cookies, CSRF, the login rate limit, issuing a handout,
revoke and extend, the library's review steps, and the audit trail of it all."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from caresheet.model.sheet import Tier
from caresheet.store.db import Store
from caresheet.team import escalations
from caresheet.team.notify import outbox
from caresheet.team.notify.settings import Settings
from helpers import LiveServer

from .conftest import issue_handout
from .receivers import SmtpSink
from .staff import PASSWORD, add_staff, add_user, client_for, csrf_for, csrf_of, email_for, log_in

P586 = Path(__file__).resolve().parents[2] / "src" / "caresheet" / "library" / "P586.en.md"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("teamweb")
    live = LiveServer(f"sqlite:///{folder}/caresheet.db", workdir=folder).start()
    add_staff(live)
    yield live
    live.stop()


def issue_form(csrf: str, **values: str) -> dict[str, str]:
    return {"csrf_token": csrf, "code": "P586", "language": "en",
            "param.lie_flat_hours": "2", "param.clinic_phone": "555-0100",
            "procedure_time": "2026-11-24T09:00", "zone": "America/New_York",
            "display_name": "Ana", "expires_days": "30", **values}


def test_session_cookie_is_httponly_samesite_and_not_secure_on_localhost(
        server: LiveServer) -> None:
    with client_for(server) as client:
        answer = log_in(client, email_for("clinician"))
    cookie = answer.headers["set-cookie"]
    assert answer.status_code == 303 and cookie.startswith("caresheet_session=")
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert "secure" not in cookie.lower()  # served on 127.0.0.1 over http: see security.py


def test_cookie_is_secure_when_configured(tmp_path: Path) -> None:
    live = LiveServer(f"sqlite:///{tmp_path}/c.db", workdir=tmp_path,
                      env={"CARESHEET_COOKIE_SECURE": "true"}).start()
    try:
        add_staff(live)
        with client_for(live) as client:
            cookie = log_in(client, email_for("admin")).headers["set-cookie"]
        assert "; secure" in cookie.lower()
    finally:
        live.stop()


def test_forms_without_the_csrf_token_are_refused(server: LiveServer) -> None:
    with client_for(server, "clinician") as client:
        missing = client.post("/team/handouts", data=issue_form(""))
        forged = client.post("/team/handouts", data=issue_form("forged-token-value"))
        good = client.post("/team/handouts", data=issue_form(csrf_for(client)))
    assert (missing.status_code, forged.status_code, good.status_code) == (403, 403, 200)


def test_login_form_needs_its_own_csrf_cookie(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url) as client:
        answer = client.post("/team/login", data={"email": email_for("admin"),
                                                  "password": PASSWORD, "csrf_token": "x" * 40})
    assert answer.status_code == 403 and "caresheet_session" not in answer.headers.get(
        "set-cookie", "")


def test_login_is_rate_limited_per_account(server: LiveServer) -> None:
    add_user(server.db_url, "locked@clinic.example", "author", server.workdir)
    with client_for(server) as client:
        codes = [log_in(client, "locked@clinic.example", "wrong password!").status_code
                 for _ in range(6)]
        locked = log_in(client, "locked@clinic.example")  # the right password, too late
    assert codes == [400] * 5 + [429]
    assert locked.status_code == 429 and "too many failed logins" in locked.text
    with client_for(server, "admin") as admin:
        audit = admin.get("/team/audit", params={"action": "login.failed"}).text
    assert audit.count("login:locked@clinic.example") == 5


def test_logout_ends_the_session_on_the_server(server: LiveServer) -> None:
    with client_for(server, "clinician") as client:
        cookie = client.cookies.get("caresheet_session")
        assert client.get("/team/inbox").status_code == 200
        assert client.post("/team/logout", data={"csrf_token": csrf_for(client)}).status_code == 303
    with httpx.Client(base_url=server.url, cookies={"caresheet_session": cookie or ""}) as replay:
        assert replay.get("/team/inbox").status_code == 303  # the old cookie is dead


@pytest.mark.parametrize(("field", "value", "message"), [
    ("param.lie_flat_hours", "9", "lie_flat_hours must be 1 to 4"),
    ("param.lie_flat_hours", "two", "lie_flat_hours"),
    ("param.clinic_phone", "call me", "clinic_phone"),
    ("procedure_time", "yesterday", "bad procedure time"),
    ("zone", "Mars/Olympus", "Mars/Olympus"),
    ("expires_days", "0", "1 to 366 days"),
], ids=["hours-out-of-range", "hours-not-number", "bad-phone", "bad-time", "bad-zone",
        "bad-expiry"])
def test_bad_handout_values_are_refused_with_the_reason(
        server: LiveServer, field: str, value: str, message: str) -> None:
    with client_for(server, "clinician") as client:
        answer = client.post("/team/handouts", data=issue_form(csrf_for(client), **{field: value}))
    assert answer.status_code == 400
    assert message in answer.text.replace("&#39;", "'")


def test_issue_list_revoke_and_extend(server: LiveServer) -> None:
    with client_for(server, "clinician") as client:
        issued = client.post("/team/handouts", data=issue_form(csrf_for(client),
                                                                display_name="Bea"))
        assert issued.status_code == 200
        link = re.search(r'id="private-link">([^<]+)<', issued.text)
        assert link and "<svg" in issued.text
        handout_id = re.search(r"Handout #(\d+) is ready", issued.text)
        assert handout_id
        hid = handout_id.group(1)
        token = link.group(1).rsplit("/", 1)[1]

        pdf = client.post(f"/team/handouts/{hid}/pdf",
                          data={"csrf_token": csrf_of(issued.text), "token": token})
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        wrong = client.post(f"/team/handouts/{hid}/pdf",
                            data={"csrf_token": csrf_of(issued.text), "token": "x" * 43})
        assert wrong.status_code == 404

        assert httpx.get(link.group(1)).status_code == 200  # the patient opens it
        listed = client.get("/team/handouts").text
        assert "Bea" in listed and "yes, 1 times" in listed

        csrf = csrf_for(client)
        assert client.post(f"/team/handouts/{hid}/extend",
                           data={"csrf_token": csrf, "days": "10"}).status_code == 303
        assert client.post(f"/team/handouts/{hid}/revoke",
                           data={"csrf_token": csrf}).status_code == 303
        assert "revoked" in client.get(f"/team/handouts/{hid}").text
        assert client.post(f"/team/handouts/{hid}/extend",
                           data={"csrf_token": csrf, "days": "10"}).status_code == 400
    assert httpx.get(link.group(1)).status_code == 410  # the link has ended
    with client_for(server, "admin") as admin:
        trail = admin.get("/team/audit", params={"actor": "user:"}).text
    for action in ("handout.issued", "handout.extended", "handout.revoked", "handout.read"):
        assert action in trail


def upload(client: httpx.Client, name: str, text: str) -> httpx.Response:
    return client.post("/team/library/upload", data={"csrf_token": csrf_for(client)},
                       files={"file": (name, text.encode(), "text/markdown")})


def test_library_upload_lints_before_importing(server: LiveServer) -> None:
    broken = P586.read_text().replace("code: P586", "code: T901").replace(
        "when: passed_out", "when: passed_out and no_such_finding")
    with client_for(server, "author") as client:
        answer = upload(client, "T901.en.md", broken)
        assert answer.status_code == 400
        assert "no_such_finding" in answer.text and "Not imported" in answer.text
        assert client.get("/team/library/T901/en").status_code == 404


def test_library_review_steps_record_reviewer_and_date(server: LiveServer) -> None:
    text = P586.read_text().replace("code: P586", "code: T902")
    with client_for(server, "author") as client:
        answer = upload(client, "T902.en.md", text)
        assert answer.status_code == 200 and "Imported: T902 (en) version 1" in answer.text
    with client_for(server, "reviewer") as client:
        base = "/team/library/T902/en/1/status"

        def move(status: str) -> int:
            return client.post(base, data={"csrf_token": csrf_for(client),
                                           "status": status}).status_code

        assert move("published") == 400  # draft must be reviewed first
        assert move("reviewed") == 303
        page = client.get("/team/library/T902/en").text
        assert "Reviewed by reviewer@clinic.example on 20" in page
        assert "Sources for reviewers" in page and 'href="https://medlineplus.gov/' in page
        assert move("published") == 303 and move("retired") == 303
        assert move("draft") == 400  # nothing comes back from retired
        assert "Status: <strong class=\"status-word\">retired" in client.get(
            "/team/library/T902/en").text
    with client_for(server, "admin") as admin:
        trail = admin.get("/team/audit", params={"action": "sheet.status"}).text
    assert trail.count("sheet:T902/en/1") == 3


def test_library_shows_reviewers_where_converted_rules_came_from(server: LiveServer) -> None:
    from caresheet.authoring.convert import convert_text

    handout = ("Ear Tubes: Going Home\n\nYour recovery\n\nYour child may be fussy tonight.\n\n"
               "Home care\n\n- Keep water out of the ears.\n\nFollow-up care\n\n"
               "- Come back in 2 weeks.\n\nWhen to call for help\n\nCall 911 if:\n"
               "- Your child has trouble breathing.\n")
    draft = convert_text(handout, "ear-tubes.txt", "T903").text
    with client_for(server, "author") as client:
        answer = upload(client, "T903.en.md", draft)
        assert answer.status_code == 200, answer.text
        page = client.get("/team/library/T903/en").text
    assert "Where each rule came from" in page and "Converted from ear-tubes.txt" in page
    assert "(emergency): ear-tubes.txt:18" in page


def test_json_inbox_api(server: LiveServer) -> None:
    """The clinic's own system reads and acts on the inbox through JSON, as a clinician."""
    with client_for(server, "clinician") as client:
        issued = client.post("/team/handouts", data=issue_form(csrf_for(client),
                                                                display_name="Cy"))
        link = re.search(r'id="private-link">([^<]+)<', issued.text)
        assert link
        token = link.group(1).rsplit("/", 1)[1]
        checkin = httpx.post(f"{server.url}/api/handouts/{token}/checkins",
                             json={"answers": {"passed_out": "yes"}})
        assert checkin.status_code in (200, 201), checkin.text
        listed = client.get("/api/team/escalations").json()
        mine = [e for e in listed if e["tier"] == "emergency"]
        assert mine and mine[0]["status"] == "open"
        eid = mine[0]["id"]
        assert client.post(f"/api/team/escalations/{eid}/close",
                           json={"note": " "}).status_code == 400
        # No body: the session's CSRF token goes in the X-CSRF-Token header.
        acked = client.post(f"/api/team/escalations/{eid}/acknowledge",
                            headers={"X-CSRF-Token": csrf_for(client)})
        assert acked.status_code == 200 and acked.json()["status"] == "acknowledged"
        done = client.post(f"/api/team/escalations/{eid}/close", json={"note": "Sent to ED."})
        assert done.json()["status"] == "closed" and done.json()["close_note"] == "Sent to ED."
        assert client.post("/api/team/escalations/999999/acknowledge",
                           json={}).status_code == 404
        # A form post (the kind another site could forge) without the token is refused.
        forged = client.post(f"/api/team/escalations/{eid}/acknowledge", data={"x": "1"})
        assert forged.status_code == 403
    with client_for(server, "author") as author:
        assert author.get("/api/team/escalations").status_code == 403
    assert httpx.get(f"{server.url}/api/team/escalations").status_code == 401


def test_teach_back_misses_reach_the_inbox_and_the_list(server: LiveServer) -> None:
    """A patient who answers no teach-back question misses the warning signs too."""
    with client_for(server, "clinician") as client:
        issued = client.post("/team/handouts", data=issue_form(csrf_for(client),
                                                                display_name="Dee"))
        link = re.search(r'id="private-link">([^<]+)<', issued.text)
        assert link
        assert httpx.post(f"{link.group(1)}/teachback", data={}).status_code == 200
        inbox = client.get("/team/inbox").text
        assert "Dee" in inbox and "Missed in teach-back: " in inbox
        listed = client.get("/team/handouts").text
        row = next(r for r in listed.split("<tr>") if "Dee" in r)
        assert re.search(r"0 of \d+ · missed \d+ warning sign", row)


@pytest.mark.parametrize("query", ["P586", "spinal tap", "lumbar punture", "back needle test"])
def test_sheet_search_box_finds_p586(server: LiveServer, query: str) -> None:
    with client_for(server, "clinician") as client:
        page = client.get("/team/handouts/new", params={"q": query}).text
    assert 'href="/team/handouts/new?code=P586&amp;lang=en"' in page


def test_notifications_failing_for_long_are_shown_to_the_team(tmp_path: Path) -> None:
    """A wrong mail password would leave every alert waiting: the inbox must say so."""
    url = f"sqlite:///{tmp_path}/c.db"
    live = LiveServer(url, workdir=tmp_path, env={"CARESHEET_WORKER": "off"}).start()
    store = Store.open(url)
    sink = SmtpSink()  # not listening yet: delivery fails
    settings = Settings.from_env({
        "CARESHEET_SMTP_HOST": "127.0.0.1", "CARESHEET_SMTP_PORT": str(sink.port),
        "CARESHEET_SMTP_FROM": "caresheet@clinic.example",
        "CARESHEET_NOTIFY_EMAIL": "nurses@clinic.example",
    })
    try:
        add_staff(live)
        queued = dt.datetime.now(dt.UTC) - outbox.OVERDUE_AFTER - dt.timedelta(minutes=1)
        handout_id = issue_handout(store)
        with store.session() as session:
            escalations.open_escalation(
                session, handout_id=handout_id, source="checkin", source_id=1,
                tier=Tier.URGENT, reasons=["You have a very bad headache."], sheet_code="P586",
                now=queued,
                settings=settings,
            )
        outbox.deliver_due(store.session, settings)
        with client_for(live, "clinician") as client:
            for path in ("/team", "/team/inbox"):
                shown = client.get(path).text
                assert 'role="alert"' in shown, path
                assert "1 notification has not reached the care team" in shown
                assert "ConnectionRefusedError" in shown
        with client_for(live, "author") as author:  # has no inbox to check
            assert "not reached the care team" not in author.get("/team").text
        with client_for(live, "clinician") as client:
            sink.start()
            later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
            assert outbox.deliver_due(store.session, settings, now=later).delivered == 1
            assert "not reached the care team" not in client.get("/team/inbox").text
    finally:
        sink.stop()
        store.close()
        live.stop()


def test_changing_ones_own_password(server: LiveServer) -> None:
    email = "changer@clinic.example"
    add_user(server.db_url, email, "clinician", server.workdir)
    new = "a brand new password"
    with client_for(server) as other, client_for(server) as me:
        assert log_in(other, email).status_code == 303  # a second browser, logged in too
        assert log_in(me, email).status_code == 303

        def change(**fields: str) -> httpx.Response:
            return me.post("/team/password", data={"csrf_token": csrf_for(me), **fields})

        wrong = change(current="not my password!", new=new, again=new)
        assert wrong.status_code == 400 and "current password is not right" in wrong.text
        differ = change(current=PASSWORD, new=new, again=new + "!")
        assert differ.status_code == 400 and "not the same" in differ.text
        short = change(current=PASSWORD, new="short", again="short")
        assert short.status_code == 400 and "at least 12 characters" in short.text
        assert change(current=PASSWORD, new=new, again=new, csrf_token="").status_code == 403

        done = change(current=PASSWORD, new=new, again=new)
        assert done.status_code == 303, done.text
        assert "Your password was changed" in me.get(done.headers["location"]).text
        assert me.get("/team/inbox").status_code == 200  # this browser stays logged in
        assert other.get("/team/inbox").status_code in (302, 303)  # the other is logged out
    with client_for(server) as fresh:
        assert log_in(fresh, email).status_code == 400  # the old password no longer works
        assert log_in(fresh, email, new).status_code == 303
    with client_for(server, "admin") as admin:
        assert "password.changed" in admin.get("/team/audit").text


def test_an_admin_sets_a_forgotten_password(server: LiveServer) -> None:
    email = "forgetful@clinic.example"
    add_user(server.db_url, email, "author", server.workdir)
    with client_for(server) as theirs, client_for(server, "admin") as admin:
        assert log_in(theirs, email).status_code == 303
        users = admin.get("/team/users").text
        user_id = re.search(rf'<option value="(\d+)">{re.escape(email)}</option>', users)
        assert user_id
        short = admin.post("/team/users/password", data={
            "csrf_token": csrf_for(admin), "user_id": user_id.group(1), "password": "short"})
        assert short.status_code == 400
        done = admin.post("/team/users/password", data={
            "csrf_token": csrf_for(admin), "user_id": user_id.group(1),
            "password": "set by the admin 1"})
        assert done.status_code == 303
        assert theirs.get("/team").status_code in (302, 303)  # their session ended
        assert "user.password_set" in admin.get("/team/audit").text
    with client_for(server) as fresh:
        assert log_in(fresh, email, "set by the admin 1").status_code == 303
    with client_for(server, "clinician") as clinician:  # only admins may
        refused = clinician.post("/team/users/password", data={
            "csrf_token": csrf_for(clinician), "user_id": user_id.group(1),
            "password": "a clinician's try 1"})
        assert refused.status_code == 403
