"""The outbox delivers email and a signed webhook to real servers on 127.0.0.1, and keeps a
message through outages until a retry gets it through."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterator

import pytest

from caresheet.model.sheet import Tier
from caresheet.store.db import Store
from caresheet.team import escalations, notify

from .conftest import NOW
from .receivers import SmtpSink, WebhookSink

SECRET = "s3cret-shared-with-the-clinic"


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def webhook() -> Iterator[WebhookSink]:
    sink = WebhookSink().start()
    yield sink
    sink.stop()


def settings_for(smtp_port: int, webhook_url: str, **extra: str) -> notify.Settings:
    return notify.Settings.from_env({
        "CARESHEET_SMTP_HOST": "127.0.0.1",
        "CARESHEET_SMTP_PORT": str(smtp_port),
        "CARESHEET_SMTP_FROM": "caresheet@clinic.example",
        "CARESHEET_NOTIFY_EMAIL": "nurses@clinic.example, oncall@clinic.example",
        "CARESHEET_WEBHOOK_URL": webhook_url,
        "CARESHEET_WEBHOOK_SECRET": SECRET,
        "CARESHEET_BASE_URL": "https://care.clinic.example",
        "CARESHEET_NOTIFY_BACKOFF": "1",
        **extra,
    })


def open_one(store: Store, settings: notify.Settings, source_id: int = 1) -> int:
    with store.session() as session:
        escalation = escalations.open_escalation(
            session, handout_id=7, source="checkin", source_id=source_id, tier=Tier.URGENT,
            reasons=["You have a very bad headache."], sheet_code="P586", now=NOW,
            settings=settings,
        )
    return escalation.id


def test_signature_is_hmac_sha256_of_the_exact_body() -> None:
    body = b'{"a": 1}'
    header = notify.sign(body, "k")
    expected = hmac.new(b"k", body, hashlib.sha256).hexdigest()
    assert header == f"sha256={expected}"
    assert notify.verify_signature(body, "k", header)
    assert not notify.verify_signature(body + b" ", "k", header)
    assert not notify.verify_signature(body, "other", header)
    assert not notify.verify_signature(body, "k", None)


def test_backoff_doubles_and_is_capped() -> None:
    settings = notify.Settings(backoff=30, backoff_max=3600)
    delays = [notify.backoff_delay(n, settings).total_seconds() for n in range(1, 10)]
    assert delays[:5] == [30, 60, 120, 240, 480]
    assert max(delays) == 3600


def test_email_and_webhook_arrive_signed(store: Store, smtp: SmtpSink,
                                         webhook: WebhookSink) -> None:
    settings = settings_for(smtp.port, webhook.url)
    escalation_id = open_one(store, settings)
    report = notify.deliver_due(store.session, settings)
    assert report == notify.DeliveryReport(delivered=2, failed=0)

    [mail] = smtp.messages
    assert mail["Subject"] == f"caresheet: new urgent escalation #{escalation_id}"
    assert mail["X-Envelope-To"] == "nurses@clinic.example, oncall@clinic.example"
    text = mail.get_payload(decode=True).decode()
    assert "very bad headache" in text
    assert f"https://care.clinic.example/team/inbox#escalation-{escalation_id}" in text

    [hook] = webhook.received
    assert hook.path == "/hooks/caresheet"
    assert notify.verify_signature(hook.body, SECRET, hook.headers["x-caresheet-signature"])
    event = json.loads(hook.body)
    assert event["event"] == "escalation.opened"
    assert event["escalation"]["id"] == escalation_id
    assert event["escalation"]["tier"] == "urgent"

    # Delivered once: a second pass sends nothing more.
    assert notify.deliver_due(store.session, settings) == notify.DeliveryReport(0, 0)
    with store.session() as session:
        assert all(m.delivered_at is not None for m in notify.messages(session))


def test_message_waits_through_outages_and_arrives_after_retry(store: Store) -> None:
    """Both the mail server and the webhook are down at first; nothing is lost."""
    smtp = SmtpSink()  # port chosen, not listening yet
    webhook = WebhookSink()
    settings = settings_for(smtp.port, webhook.url)
    open_one(store, settings)

    first = notify.deliver_due(store.session, settings)
    assert first == notify.DeliveryReport(delivered=0, failed=2)
    with store.session() as session:
        waiting = notify.messages(session)
    assert [m.attempts for m in waiting] == [1, 1]
    assert all(m.delivered_at is None and m.last_error for m in waiting)
    assert all(m.next_attempt_at > dt.datetime.now(dt.UTC) for m in waiting)
    # Not due yet: an immediate pass leaves them alone.
    assert notify.deliver_due(store.session, settings) == notify.DeliveryReport(0, 0)

    smtp.start()
    webhook.start()
    try:
        later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
        assert notify.deliver_due(store.session, settings, now=later) == notify.DeliveryReport(2, 0)
        assert len(smtp.messages) == 1
        [hook] = webhook.received
        assert notify.verify_signature(hook.body, SECRET, hook.headers["x-caresheet-signature"])
        with store.session() as session:
            assert [m.attempts for m in notify.messages(session)] == [2, 2]
    finally:
        smtp.stop()
        webhook.stop()


def test_webhook_error_status_is_retried(store: Store) -> None:
    webhook = WebhookSink(status=503).start()
    try:
        settings = settings_for(1, webhook.url)  # email goes to a closed port: also fails
        open_one(store, settings)
        assert notify.deliver_due(store.session, settings).failed == 2
        with store.session() as session:
            errors = {m.channel: m.last_error for m in notify.messages(session)}
        assert "HTTP 503" in (errors["webhook"] or "")
        webhook.status = 200
        later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
        report = notify.deliver_due(store.session, settings, now=later)
        assert report.delivered == 1 and len(webhook.received) == 2
    finally:
        webhook.stop()


def test_a_message_is_claimed_by_one_worker_only(store: Store, smtp: SmtpSink,
                                                 webhook: WebhookSink) -> None:
    """Two workers passing at once: each message goes out once."""
    import threading

    settings = settings_for(smtp.port, webhook.url)
    for source in range(1, 6):
        open_one(store, settings, source_id=source)
    reports: list[notify.DeliveryReport] = []
    workers = [threading.Thread(target=lambda: reports.append(
        notify.deliver_due(store.session, settings))) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sum(r.delivered for r in reports) == 10
    assert len(smtp.messages) == 5 and len(webhook.received) == 5


def test_nothing_is_queued_when_no_channel_is_set(store: Store) -> None:
    open_one(store, notify.Settings.from_env({}))
    with store.session() as session:
        assert notify.messages(session) == []


def test_undelivered_messages_become_overdue_and_clear_when_delivered(store: Store) -> None:
    smtp = SmtpSink()  # down
    webhook = WebhookSink(status=503).start()
    try:
        settings = settings_for(smtp.port, webhook.url)
        open_one(store, settings)  # queued at NOW
        with store.session() as session:
            assert notify.overdue(session, NOW + notify.OVERDUE_AFTER / 2) is None  # too soon
        notify.deliver_due(store.session, settings, now=NOW + dt.timedelta(minutes=1))
        late = NOW + notify.OVERDUE_AFTER
        with store.session() as session:
            found = notify.overdue(session, late)
        assert found is not None
        assert found.count == 2 and found.oldest == NOW
        assert found.last_error is not None and "Error" in found.last_error

        smtp.start()
        webhook.status = 200
        later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
        assert notify.deliver_due(store.session, settings, now=later).delivered == 2
        with store.session() as session:
            assert notify.overdue(session, late) is None
    finally:
        smtp.stop()
        webhook.stop()
