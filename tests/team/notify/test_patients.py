"""Messages to patients: the hand-over of the link by email (a real SMTP sink) and by text
message (a fake Twilio-compatible gateway on 127.0.0.1), and the follow-up prompts; each sent
exactly once across two workers and a restart, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pytest

from caresheet import guide
from caresheet.model.contact import checked
from caresheet.store.db import Store
from caresheet.team import clinics
from caresheet.team.accounts import Role
from caresheet.team.notify import outbox, patients
from caresheet.team.notify.settings import Settings
from helpers import import_published
from team.conftest import NOW, P586, add
from team.receivers import SmsGateway, SmtpSink

BASE = "https://care.north-clinic.example"


@pytest.fixture
def gateway() -> Iterator[SmsGateway]:
    running = SmsGateway().start()
    yield running
    running.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


def settings_for(smtp: SmtpSink | None, gateway: SmsGateway | None) -> Settings:
    env = {"CARESHEET_BASE_URL": BASE, "CARESHEET_NOTIFY_BACKOFF": "1"}
    if smtp is not None:
        env |= {"CARESHEET_SMTP_HOST": "127.0.0.1", "CARESHEET_SMTP_PORT": str(smtp.port),
                "CARESHEET_SMTP_FROM": "care@north-clinic.example"}
    if gateway is not None:
        env |= {"CARESHEET_SMS_URL": gateway.url, "CARESHEET_SMS_ACCOUNT": gateway.account,
                "CARESHEET_SMS_TOKEN": gateway.token, "CARESHEET_SMS_FROM": "+15550000"}
    return Settings.from_env(env)


def issue(store: Store, settings: Settings, send: tuple[str, ...] = ("email", "sms"),
          now: dt.datetime = NOW, language: str | None = None) -> guide.Issued:
    with store.session() as session:
        import_published(session, [P586])
        try:
            north = clinics.clinic_named(session, "North Clinic")
        except Exception:
            north = clinics.add_clinic(session, "North Clinic", phone="555-0100",
                                       time_zone="America/Chicago", now=now)
    nurse = add(store, f"nurse{now.timestamp():.0f}@north.example", Role.CLINICIAN)
    with store.session() as session:
        clinics.join(session, nurse.id, north.id)
        return guide.issue(
            session, nurse, code="P586", language="en", params={}, procedure_time=now,
            now=now, send=send, settings=settings,
            contact=checked(mrn="MRN-5", phone="+1 (555) 010-0199", email="pat@example.org",
                            language=language))


def two_workers(store: Store, settings: Settings, now: dt.datetime) -> int:
    """Two workers delivering at once; returns how many messages they sent between them."""
    reports: list[outbox.DeliveryReport] = []

    def work() -> None:
        reports.append(outbox.deliver_due(store.session, settings, now=now))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(r.delivered for r in reports)


def test_the_link_goes_by_email_and_text_once_across_two_workers_and_a_restart(
        store: Store, smtp: SmtpSink, gateway: SmsGateway) -> None:
    settings = settings_for(smtp, gateway)
    issued = issue(store, settings, send=("email", "sms"))
    assert [(s.channel, s.queued) for s in issued.sending] == [("email", True), ("sms", True)]
    link = f"{BASE}/h/{issued.token}"
    assert two_workers(store, settings, NOW + dt.timedelta(minutes=1)) == 2
    # A restarted worker finds nothing more to send now.
    assert outbox.deliver_due(store.session, settings, now=NOW + dt.timedelta(minutes=2)
                              ).delivered == 0
    assert len(smtp.messages) == 1 and len(gateway.texts) == 1
    mail = smtp.messages[0]
    assert mail["X-Envelope-To"] == "pat@example.org"
    body = mail.get_payload(decode=True).decode()
    assert link in body and "call 911" in body and f"{link}/stop" in body
    assert "MRN-5" not in mail.as_string()
    text = gateway.texts[0]
    assert (text.to, text.sender) == ("+15550100199", "+15550000")
    assert link in text.body and "STOP" in text.body
    assert (patients.gsm7_length(text.body) or 999) <= patients.SMS_LIMIT
    assert text.key == f"handover:{issued.handout.id}:sms"
    assert gateway.refused == 0
    # Sent: the link, address and number are gone from the outbox.
    with store.session(write=False) as session:
        sent = [m for m in outbox.messages(session) if m.key.startswith("handover:")]
    assert sent and all(m.payload.get("erased") and m.delivered_at for m in sent)


def test_no_settings_still_issues_and_says_why_nothing_was_queued(store: Store) -> None:
    issued = issue(store, Settings(base_url=BASE))
    assert issued.handout.id > 0
    assert [(s.channel, s.queued) for s in issued.sending] == [("email", False), ("sms", False)]
    assert "CARESHEET_SMTP_HOST" in (issued.sending[0].reason or "")
    assert "CARESHEET_SMS_URL" in (issued.sending[1].reason or "")
    assert issued.prompts == 0


def test_prompts_follow_the_sheets_time_limits_and_stop_when_asked(
        store: Store, gateway: SmsGateway) -> None:
    settings = settings_for(None, gateway)
    # 09:00 UTC is 03:00 in Chicago: a prompt due in quiet hours waits for 08:00 there.
    issued = issue(store, settings, send=())
    assert issued.prompts >= 2
    with store.session(write=False) as session:
        prompts = [m for m in outbox.messages(session) if m.key.startswith("prompt:")]
    assert len(prompts) == issued.prompts
    two_days = NOW + dt.timedelta(hours=48)  # P586: headache or sore back after 2 days
    assert any(m.key == f"prompt:{issued.handout.id}:{two_days:%Y%m%dT%H%M%SZ}" for m in prompts)
    for m in prompts:
        local = m.next_attempt_at.astimezone(clinics.zone_named("America/Chicago"))
        assert not (local.hour >= 21 or local.hour < 8), m.next_attempt_at
    # Scheduling again (a retry of the request, a second worker) adds nothing.
    with store.session() as session:
        again = patients.schedule_prompts(
            session, issued.handout, issued.token,
            guide.timeline(guide.pinned_sheet(store, session, issued.handout),
                           issued.handout.params, issued.handout.procedure_time, NOW),
            clinics.get_clinic(session, issued.handout.clinic_id), settings, NOW)
    assert again == 0
    first_due = min(m.next_attempt_at for m in prompts)
    assert two_workers(store, settings, first_due) == 1
    assert "check your symptoms again" in gateway.texts[0].body
    with store.session() as session:
        guide.stop_prompts(session, issued.token, first_due, None)
    later = max(m.next_attempt_at for m in prompts)
    assert two_workers(store, settings, later) == 0
    assert len(gateway.texts) == 1
    with store.session(write=False) as session:
        left = [m for m in outbox.messages(session) if m.key.startswith("prompt:")]
    assert all(m.delivered_at for m in left)
    assert {m.last_error for m in left} == {None, "not sent: the patient stopped these messages"}


def test_no_prompt_after_the_link_is_revoked(store: Store, smtp: SmtpSink) -> None:
    settings = settings_for(smtp, None)
    issued = issue(store, settings, send=())
    assert issued.prompts >= 1  # by email, with no SMS gateway set
    with store.session() as session:
        guide.revoke(session, issued.token, NOW)
    assert two_workers(store, settings, NOW + dt.timedelta(days=3)) == 0
    assert smtp.messages == []


@pytest.mark.parametrize("language", ["en", "es"])
def test_texts_fit_one_message(language: str) -> None:
    link = "https://care.a-long-hospital-name.example.org/h/" + "A" * 43
    for kind in ("handover", "prompt"):
        text = patients.sms_text(kind, language, "Saint Example Regional Medical Center", link)
        assert link in text
        assert (patients.gsm7_length(text) or 999) <= patients.SMS_LIMIT, text


def test_quiet_hours_defer_to_the_morning() -> None:
    clinic = clinics.Clinic(id=2, name="N", phone=None, time_zone="America/Chicago",
                            email=None, webhook_url=None, quiet_start=21 * 60,
                            quiet_end=8 * 60)
    late = dt.datetime(2026, 3, 3, 4, 30, tzinfo=dt.UTC)  # 22:30 in Chicago
    assert patients.after_quiet_hours(late, clinic) == dt.datetime(2026, 3, 3, 14, 0,
                                                                   tzinfo=dt.UTC)
    early = dt.datetime(2026, 3, 3, 11, 0, tzinfo=dt.UTC)  # 05:00
    assert patients.after_quiet_hours(early, clinic) == dt.datetime(2026, 3, 3, 14, 0,
                                                                    tzinfo=dt.UTC)
    day = dt.datetime(2026, 3, 3, 18, 0, tzinfo=dt.UTC)  # noon
    assert patients.after_quiet_hours(day, clinic) == day
