"""``caresheet user add|list|disable`` and ``caresheet worker --once``."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from caresheet.cli import app
from caresheet.store.db import Store
from caresheet.team import accounts

from .conftest import NOW
from .receivers import SmtpSink

runner = CliRunner()


@pytest.fixture
def env(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CARESHEET_DATABASE_URL", sqlite_url)
    monkeypatch.delenv("CARESHEET_PASSWORD", raising=False)
    return sqlite_url


def test_user_add_asks_for_the_password_twice(env: str) -> None:
    done = runner.invoke(app, ["user", "add", "Nurse@Clinic.example", "--role", "clinician"],
                         input="a long password 1\na long password 1\n")
    assert done.exit_code == 0, done.output
    assert "added nurse@clinic.example (clinician)" in done.output
    assert "a long password 1" not in done.output  # not echoed
    store = Store.open(env)
    with store.session() as session:
        assert accounts.authenticate(session, "nurse@clinic.example", "a long password 1",
                                     "127.0.0.1", NOW) is not None
    store.close()


def test_user_add_refuses_a_mismatch_then_accepts(env: str) -> None:
    done = runner.invoke(app, ["user", "add", "a@b.example", "--role", "admin"],
                         input="first password!!\nother password!!\n"
                               "good password 22\ngood password 22\n")
    assert done.exit_code == 0 and "do not match" in done.output.lower()


@pytest.mark.parametrize(("args", "message"), [
    (["user", "add", "a@b.example", "--role", "doctor"], "unknown role 'doctor'"),
    (["user", "add", "not-an-email", "--role", "admin"], "not an email address"),
    (["user", "disable", "nobody@b.example"], "no user with email nobody@b.example"),
    (["user", "password", "nobody@b.example"], "no user with email nobody@b.example"),
], ids=["bad-role", "bad-email", "unknown-user", "unknown-user-password"])
def test_bad_input_is_one_line_and_exit_2(env: str, args: list[str], message: str) -> None:
    done = runner.invoke(app, args, env={"CARESHEET_PASSWORD": "long enough password"})
    assert done.exit_code == 2
    assert message in done.output and "Traceback" not in done.output


def test_short_password_from_the_environment_is_refused(env: str) -> None:
    done = runner.invoke(app, ["user", "add", "a@b.example"], env={"CARESHEET_PASSWORD": "short"})
    assert done.exit_code == 2 and "at least 12 characters" in done.output


def test_list_and_disable(env: str) -> None:
    for email, role in (("a@b.example", "admin"), ("c@b.example", "author")):
        assert runner.invoke(app, ["user", "add", email, "--role", role],
                             env={"CARESHEET_PASSWORD": "long enough password"}).exit_code == 0
    assert runner.invoke(app, ["user", "disable", "c@b.example"]).exit_code == 0
    listed = runner.invoke(app, ["user", "list"]).output.splitlines()
    assert listed == ["a@b.example\tadmin\tactive", "c@b.example\tauthor\tdisabled"]


def test_password_sets_a_new_one_and_ends_sessions(env: str) -> None:
    assert runner.invoke(app, ["user", "add", "a@b.example", "--role", "admin"],
                         env={"CARESHEET_PASSWORD": "the old password"}).exit_code == 0
    store = Store.open(env)
    try:
        with store.session() as session:
            user = accounts.user_by_email(session, "a@b.example")
            login = accounts.start_session(session, user, "127.0.0.1", NOW)
        done = runner.invoke(app, ["user", "password", "A@b.example"],
                             input="the new password\nthe new password\n")
        assert done.exit_code == 0, done.output
        assert "new password set for a@b.example" in done.output
        assert "the new password" not in done.output  # not echoed
        with store.session() as session:
            assert accounts.resume_session(session, login.token, NOW) is None
            assert accounts.authenticate(session, "a@b.example", "the old password",
                                         "127.0.0.1", NOW) is None
            assert accounts.authenticate(session, "a@b.example", "the new password",
                                         "127.0.0.1", NOW) is not None
    finally:
        store.close()


@pytest.mark.parametrize("command", [["user", "add"], ["user", "list"], ["user", "disable"],
                                     ["user", "password"], ["worker"]])
def test_help_has_an_example(command: list[str]) -> None:
    done = runner.invoke(app, [*command, "--help"])
    assert done.exit_code == 0 and "Example: caresheet " in done.output


def test_worker_once_delivers_what_is_due(env: str, tmp_path: Path) -> None:
    from caresheet.model.sheet import Tier
    from caresheet.team import escalations
    from caresheet.team.notify.settings import Settings
    from team.conftest import issue_handout

    smtp = SmtpSink().start()
    try:
        settings_env = {"CARESHEET_SMTP_HOST": "127.0.0.1", "CARESHEET_SMTP_PORT": str(smtp.port),
                        "CARESHEET_NOTIFY_EMAIL": "team@clinic.example"}
        store = Store.open(env)
        handout_id = issue_handout(store)
        with store.session() as session:
            escalations.open_escalation(
                session, handout_id=handout_id, source="checkin", source_id=1, tier=Tier.EMERGENCY,
                reasons=["You passed out."], now=NOW,
                settings=Settings.from_env(settings_env))
        store.close()
        done = runner.invoke(app, ["worker", "--once"], env=settings_env)
        assert done.exit_code == 0 and "delivered 1, failed 0" in done.output
        assert smtp.messages[0]["Subject"].startswith("caresheet: new emergency escalation")
    finally:
        smtp.stop()
