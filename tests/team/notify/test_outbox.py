"""The outbox delivers email and a signed webhook to real servers on 127.0.0.1, keeps a message
through outages until a retry gets it through, and leases each message to one worker at a time."""

from __future__ import annotations

import datetime as dt
import json
import threading

from caresheet.store.db import Store
from caresheet.team.notify import outbox
from caresheet.team.notify.senders import verify_signature
from caresheet.team.notify.settings import Settings
from caresheet.team.notify.worker import run_worker
from team.conftest import NOW
from team.receivers import SmtpSink, WebhookSink, wait_for

from .conftest import SECRET, open_one, settings_for


def test_backoff_doubles_and_is_capped() -> None:
    settings = Settings(backoff=30, backoff_max=3600)
    delays = [outbox.backoff_delay(n, settings).total_seconds() for n in range(1, 10)]
    assert delays[:5] == [30, 60, 120, 240, 480]
    assert max(delays) == 3600


def test_email_and_webhook_arrive_signed(store: Store, smtp: SmtpSink,
                                         webhook: WebhookSink) -> None:
    settings = settings_for(smtp.port, webhook.url)
    escalation_id = open_one(store, settings)
    report = outbox.deliver_due(store.session, settings)
    assert report == outbox.DeliveryReport(delivered=2, failed=0)

    [mail] = smtp.messages
    assert mail["Subject"] == f"caresheet: new urgent escalation #{escalation_id}"
    assert mail["X-Envelope-To"] == "nurses@clinic.example, oncall@clinic.example"
    text = mail.get_payload(decode=True).decode()
    assert "very bad headache" in text
    assert f"https://care.clinic.example/team/inbox#escalation-{escalation_id}" in text

    [hook] = webhook.received
    assert hook.path == "/hooks/caresheet"
    assert verify_signature(hook.body, SECRET, hook.headers["x-caresheet-signature"])
    event = json.loads(hook.body)
    assert event["event"] == "escalation.opened"
    assert event["escalation"]["id"] == escalation_id
    assert event["escalation"]["tier"] == "urgent"

    # Delivered once: a second pass sends nothing more.
    assert outbox.deliver_due(store.session, settings) == outbox.DeliveryReport(0, 0)
    with store.session() as session:
        assert all(m.delivered_at is not None for m in outbox.messages(session))


def test_message_waits_through_outages_and_arrives_after_retry(store: Store) -> None:
    """Both the mail server and the webhook are down at first; nothing is lost."""
    smtp = SmtpSink()  # port chosen, not listening yet
    webhook = WebhookSink()
    settings = settings_for(smtp.port, webhook.url)
    open_one(store, settings)

    first = outbox.deliver_due(store.session, settings)
    assert first == outbox.DeliveryReport(delivered=0, failed=2)
    with store.session() as session:
        waiting = outbox.messages(session)
    assert [m.attempts for m in waiting] == [1, 1]
    assert all(m.delivered_at is None and m.last_error for m in waiting)
    assert all(m.next_attempt_at > dt.datetime.now(dt.UTC) for m in waiting)
    # Not due yet: an immediate pass leaves them alone.
    assert outbox.deliver_due(store.session, settings) == outbox.DeliveryReport(0, 0)

    smtp.start()
    webhook.start()
    try:
        later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
        assert outbox.deliver_due(store.session, settings, now=later) == outbox.DeliveryReport(2, 0)
        assert len(smtp.messages) == 1
        [hook] = webhook.received
        assert verify_signature(hook.body, SECRET, hook.headers["x-caresheet-signature"])
        with store.session() as session:
            assert [m.attempts for m in outbox.messages(session)] == [2, 2]
    finally:
        smtp.stop()
        webhook.stop()


def test_webhook_error_status_is_retried(store: Store) -> None:
    webhook = WebhookSink(status=503).start()
    try:
        settings = settings_for(1, webhook.url)  # email goes to a closed port: also fails
        open_one(store, settings)
        assert outbox.deliver_due(store.session, settings).failed == 2
        with store.session() as session:
            errors = {m.channel: m.last_error for m in outbox.messages(session)}
        assert "HTTP 503" in (errors["webhook"] or "")
        webhook.status = 200
        later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
        report = outbox.deliver_due(store.session, settings, now=later)
        assert report.delivered == 1 and len(webhook.received) == 2
    finally:
        webhook.stop()


def test_a_message_is_claimed_by_one_worker_only(store: Store, smtp: SmtpSink,
                                                 webhook: WebhookSink,
                                                 handout_id: int) -> None:
    """Two workers passing at once: each message goes out once."""
    settings = settings_for(smtp.port, webhook.url)
    for source in range(1, 6):
        open_one(store, settings, source_id=source, handout_id=handout_id)
    reports: list[outbox.DeliveryReport] = []
    workers = [threading.Thread(target=lambda: reports.append(
        outbox.deliver_due(store.session, settings))) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sum(r.delivered for r in reports) == 10
    assert len(smtp.messages) == 5 and len(webhook.received) == 5


def test_two_workers_and_a_slow_receiver_deliver_each_message_once(
    store: Store, handout_id: int
) -> None:
    """Each send takes longer than a lease, and a pass longer than many: the lease runs from
    each claim and is renewed while the send is under way, so no second worker takes it."""
    lease = dt.timedelta(seconds=0.3)
    webhook = WebhookSink(delay=0.5).start()  # every answer takes longer than a lease
    settings = settings_for(None, webhook.url)
    for source in range(1, 9):
        open_one(store, settings, source_id=source, handout_id=handout_id)
    stop = threading.Event()
    workers = [
        threading.Thread(target=run_worker, args=(store.session, settings, stop, 0.05, lease))
        for _ in range(2)
    ]
    try:
        for worker in workers:
            worker.start()

        def all_delivered() -> bool:
            with store.session(write=False) as session:
                return all(m.delivered_at is not None for m in outbox.messages(session))

        wait_for(all_delivered, timeout=60, what="every message delivered")
        stop.set()
        for worker in workers:
            worker.join()
        keys = [hook.headers["idempotency-key"] for hook in webhook.received]
        with store.session(write=False) as session:
            sent = outbox.messages(session)
        assert sorted(keys) == sorted(m.key for m in sent)  # each exactly once
        assert [m.attempts for m in sent] == [1] * 8
    finally:
        stop.set()
        webhook.stop()


def test_a_lease_runs_out_when_its_worker_stops_renewing(store: Store, handout_id: int) -> None:
    """A worker that died mid-send: its lease ends and another worker takes the message."""
    webhook = WebhookSink().start()
    try:
        settings = settings_for(None, webhook.url)
        open_one(store, settings, handout_id=handout_id)
        lease = dt.timedelta(seconds=0.2)
        with store.session(write=False) as session:
            [waiting] = outbox.messages(session)
        held = outbox.claim(store.session, waiting.id, dt.datetime.now(dt.UTC), lease)
        assert held is not None
        assert outbox.claim(store.session, waiting.id, dt.datetime.now(dt.UTC), lease) is None
        assert outbox.deliver_due(store.session, settings) == outbox.DeliveryReport(0, 0)
        wait_for(lambda: outbox.deliver_due(store.session, settings).delivered == 1,
                 timeout=10, what="the lease to run out")
        assert not outbox.renew(store.session, held, lease)  # the dead worker's claim is gone
        [hook] = webhook.received
        assert hook.headers["idempotency-key"] == held.key
    finally:
        webhook.stop()


def test_nothing_is_queued_when_no_channel_is_set(store: Store) -> None:
    open_one(store, Settings.from_env({}))
    with store.session() as session:
        assert outbox.messages(session) == []


def test_undelivered_messages_become_overdue_and_clear_when_delivered(store: Store) -> None:
    smtp = SmtpSink()  # down
    webhook = WebhookSink(status=503).start()
    try:
        settings = settings_for(smtp.port, webhook.url)
        open_one(store, settings)  # queued at NOW
        with store.session() as session:
            assert outbox.overdue(session, NOW + outbox.OVERDUE_AFTER / 2) is None  # too soon
        outbox.deliver_due(store.session, settings, now=NOW + dt.timedelta(minutes=1))
        late = NOW + outbox.OVERDUE_AFTER
        with store.session() as session:
            found = outbox.overdue(session, late)
        assert found is not None
        assert found.count == 2 and found.oldest == NOW
        assert found.last_error is not None and "Error" in found.last_error

        smtp.start()
        webhook.status = 200
        later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
        assert outbox.deliver_due(store.session, settings, now=later).delivered == 2
        with store.session() as session:
            assert outbox.overdue(session, late) is None
    finally:
        smtp.stop()
        webhook.stop()
