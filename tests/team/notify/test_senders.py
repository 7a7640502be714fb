"""Each channel's transport: the webhook's signature, and an idempotency key that is the same
on every attempt of one message (``Idempotency-Key`` on the webhook, ``Message-ID`` on email)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from caresheet.store.db import Store
from caresheet.team.notify import outbox
from caresheet.team.notify.senders import TRANSPORTS, Email, sign, verify_signature
from team.receivers import SmtpSink, WebhookSink

from .conftest import open_one, settings_for


def test_signature_is_hmac_sha256_of_the_exact_body() -> None:
    body = b'{"a": 1}'
    header = sign(body, "k")
    expected = hmac.new(b"k", body, hashlib.sha256).hexdigest()
    assert header == f"sha256={expected}"
    assert verify_signature(body, "k", header)
    assert not verify_signature(body + b" ", "k", header)
    assert not verify_signature(body, "other", header)
    assert not verify_signature(body, "k", None)


def test_every_channel_has_its_own_transport() -> None:
    assert [t.channel for t in TRANSPORTS] == ["email", "webhook", "sms"]


def test_a_retry_carries_the_same_idempotency_key(store: Store) -> None:
    """The first attempts fail (503, mail server down); the retries carry the first keys."""
    smtp = SmtpSink()
    webhook = WebhookSink(status=503).start()
    try:
        settings = settings_for(smtp.port, webhook.url)
        open_one(store, settings)
        assert outbox.deliver_due(store.session, settings).failed == 2
        smtp.start()
        webhook.status = 200
        later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
        assert outbox.deliver_due(store.session, settings, now=later).delivered == 2
        with store.session(write=False) as session:
            keys = {m.channel: m.key for m in outbox.messages(session)}
        assert len(set(keys.values())) == 2 and all(len(k) == 32 for k in keys.values())
        first, retry = webhook.received
        assert first.headers["idempotency-key"] == retry.headers["idempotency-key"]
        assert retry.headers["idempotency-key"] == keys["webhook"]
        [mail] = smtp.messages
        assert mail["Message-ID"] == f"<{keys['email']}@clinic.example>"
        assert mail["Message-ID"] == Email(settings).message_id(keys["email"])
    finally:
        smtp.stop()
        webhook.stop()
