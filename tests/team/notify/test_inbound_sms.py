"""Texts a patient sends back: the gateway's signed webhook at /sms/inbound stops (STOP and
its kin) or resumes (START) the prompts of every open handout at that phone, and answers any
other text with "call your clinic or 911", never a triage. Real app, real databases; the test
signs each request as the gateway would."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import pytest
from alembic import command

from asgi_client import AppClient
from caresheet import guide
from caresheet.model.contact import checked, phone_key, same_phone
from caresheet.store import handouts as rows
from caresheet.store.db import Store, alembic_config
from caresheet.team import accounts, audit
from caresheet.team.accounts import Role
from caresheet.team.notify.inbound import Reply, meaning, signature
from caresheet.team.notify.settings import Settings
from caresheet.web.app import create_app
from helpers import import_published
from team.conftest import P586

TOKEN = "gateway-auth-token-0123456789"
BASE = "https://care.clinic.example"
URL = BASE + "/sms/inbound"
SENDER = "+15551234567"
P586_ES = P586.with_name("P586.es.md")


def test_the_signature_is_twilios_documented_example() -> None:
    fields = [("CallSid", "CA1234567890ABCDE"), ("Caller", "+12349013030"), ("Digits", "1234"),
              ("From", "+12349013030"), ("To", "+18005551212")]
    assert (signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", fields)
            == "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")


@pytest.mark.parametrize(("body", "reply"), [
    ("STOP", Reply.STOP), (" stop ", Reply.STOP), ("StopAll", Reply.STOP),
    ("unsubscribe", Reply.STOP), ("Cancel\n", Reply.STOP), ("END", Reply.STOP),
    ("quit", Reply.STOP), ("start", Reply.START), (" UNSTOP", Reply.START),
    ("stop please", Reply.OTHER), ("my head hurts, should I stop?", Reply.OTHER),
    ("", Reply.OTHER),
])
def test_only_the_whole_word_counts(body: str, reply: Reply) -> None:
    assert meaning(body) is reply


@pytest.mark.parametrize(("stored", "reported", "same"), [
    ("(555) 123-4567", "+15551234567", True),
    ("555.123.4567", "+15551234567", True),
    ("+1 555 123 4567", "+15551234567", True),
    ("06 12 34 56 78", "+33612345678", True),
    ("(212) 555-1234", "+13125551234", False),  # same last nine digits, another area code
    ("(555) 123-4568", "+15551234567", False),
])
def test_a_stored_number_is_matched_to_the_gateways_form(stored: str, reported: str,
                                                         same: bool) -> None:
    assert same_phone(stored, reported) is same
    if same:
        assert phone_key(stored) == phone_key(reported)


def _issue(store: Store, now: dt.datetime, phone: str | None, language: str = "en",
           revoked: bool = False) -> int:
    with store.session() as session:
        nurse = accounts.user_by_email(session, "n@clinic.example")
        issued = guide.issue(session, nurse, code="P586", language=language, params={},
                             procedure_time=None, now=now, settings=Settings(),
                             contact=checked(phone=phone))
        if revoked:
            rows.revoke(session, issued.handout.id, now)
    return issued.handout.id


def _post(client: AppClient, body: str, sender: str = SENDER, url: str = URL,
          token: str = TOKEN, given: str | None = None) -> tuple[int, str]:
    form = {"From": sender, "To": "+15550001111", "Body": body, "MessageSid": "SM0123"}
    signed = given if given is not None else signature(token, url, form.items())
    answer = client.post("/sms/inbound", data=form, headers={"X-Twilio-Signature": signed})
    return answer.status_code, answer.text


def _stopped(store: Store, *handout_ids: int) -> list[bool]:
    with store.session(write=False) as session:
        return [rows.get(session, h).prompts_stopped_at is not None for h in handout_ids]


def test_stop_start_and_other_texts(db_url: str, monkeypatch: pytest.MonkeyPatch,
                                    caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("CARESHEET_SMS_TOKEN", TOKEN)
    monkeypatch.setenv("CARESHEET_BASE_URL", BASE)  # the gateway called the proxy's address
    monkeypatch.setenv("CARESHEET_WORKER", "off")
    caplog.set_level(logging.DEBUG)
    now = dt.datetime.now(dt.UTC)
    store = Store.open(db_url)
    try:
        with store.session() as session:
            import_published(session, [P586, P586_ES])
            accounts.add_user(session, "n@clinic.example", "a-long-password-1", Role.CLINICIAN,
                              now)
        first = _issue(store, now, "(555) 123-4567")
        second = _issue(store, now, "555.123.4567", language="es")
        ended = _issue(store, now, "(555) 123-4567", revoked=True)
        other_area = _issue(store, now, "(212) 555-1234")  # shares the last nine digits
        nobody = _issue(store, now, None)
        everyone = (first, second, ended, other_area, nobody)
        with AppClient(create_app(db_url)) as client:
            # Unsigned, wrongly signed, or signed over the request's own (proxy-side) host.
            assert _post(client, "STOP", given="")[0] == 403
            assert _post(client, "STOP", token="not-the-token")[0] == 403
            assert _post(client, "STOP", url="http://testserver/sms/inbound")[0] == 403
            assert _stopped(store, *everyone) == [False] * 5

            # Any other text: the fixed answer, in the latest handout's language; no change.
            status, text = _post(client, "I have a bad headache, what do I do?")
            assert status == 200 and text.startswith('<?xml version="1.0"')
            assert "<Response><Message>" in text and "911" in text and "clinica" in text
            assert _stopped(store, *everyone) == [False] * 5

            status, text = _post(client, "  Stop ")
            assert status == 200 and "<Message>" in text and "911" in text
            assert _stopped(store, *everyone) == [True, True, False, False, False]

            status, text = _post(client, "start", sender="+1 (555) 123-4567")
            assert status == 200 and "STOP" in text
            assert _stopped(store, *everyone) == [False] * 5

            assert _post(client, "QUIT")[0] == 200
            assert _stopped(store, *everyone) == [True, True, False, False, False]
            # A number with no open handout gets the same answer and changes nothing.
            status, text = _post(client, "STOP", sender="+447700900123")
            assert status == 200 and "911" in text
            assert _stopped(store, other_area, nobody) == [False, False]
        with store.session(write=False) as session:
            stops = audit.events(session, action="prompts.stopped")
            resumes = audit.events(session, action="prompts.resumed")
        assert sorted(e.target for e in stops) == sorted(
            [f"handout:{first}", f"handout:{second}"] * 2)
        assert sorted(e.target for e in resumes) == sorted(
            [f"handout:{first}", f"handout:{second}"])
        assert all(e.actor == audit.PATIENT and e.detail == {"channel": "sms"}
                   for e in stops + resumes)
        recorded = json.dumps([vars(e) for e in stops + resumes], default=str)
        logged = "\n".join(r.getMessage() for r in caplog.records)
        for text in (recorded, logged):
            assert "5551234567" not in text.replace(" ", "").replace("-", "")
            assert "123-4567" not in text and "1234567" not in text
    finally:
        store.close()


def test_the_migration_gives_existing_handouts_their_key(tmp_path: Path) -> None:
    """A handout stored before 0013 (phone, no key) is found after the upgrade."""
    url = f"sqlite:///{tmp_path}/caresheet.db"
    now = dt.datetime.now(dt.UTC)
    store = Store.open(url)
    try:
        with store.session() as session:
            import_published(session, [P586])
            accounts.add_user(session, "n@clinic.example", "a-long-password-1", Role.CLINICIAN,
                              now)
        handout = _issue(store, now, "(555) 123-4567")
        with store.engine.begin() as connection:
            command.downgrade(alembic_config(connection), "0009_rendered")
            command.upgrade(alembic_config(connection), "heads")
        with store.session(write=False) as session:
            assert rows.open_ids_by_phone(session, SENDER, now) == [handout]
    finally:
        store.close()
