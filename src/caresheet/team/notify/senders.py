"""One transport per channel, each a small class behind one interface (``Transport``).

A transport knows two things: whether the settings turn its channel on, and how to say an
escalation in its own form (``compose``, at queue time) and hand it over (``send``, in the
worker). The outbox knows queues, leases and retries and nothing of SMTP or HTTP; an SMS
transport is one more class in ``TRANSPORTS``.

Every message carries its outbox key, the same on each retry: the webhook sends it as
``Idempotency-Key`` and email as its ``Message-ID``, so a receiver can drop the rare duplicate
that at-least-once delivery allows (a worker that crashed after sending, before recording it).

The webhook body is JSON; its header ``X-Caresheet-Signature: sha256=<hex>`` is the HMAC-SHA256
of the exact body bytes with the shared secret (``verify_signature`` checks one).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any, ClassVar

import httpx

from caresheet.team.notify.settings import Settings

if TYPE_CHECKING:
    from caresheet.team.notify.outbox import EscalationNotice

SIGNATURE_HEADER = "X-Caresheet-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
SEND_TIMEOUT = 10.0
# A stored webhook payload's own address (a clinic's webhook); never part of the body sent.
WEBHOOK_TARGET = "_target"


@dataclass(frozen=True)
class Outgoing:
    """One queued message as a transport sends it."""

    id: int
    key: str  # the idempotency key: the same on every attempt
    payload: Mapping[str, Any]


class Transport(ABC):
    """A channel: composes an escalation's message and delivers it."""

    channel: ClassVar[str]

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @classmethod
    @abstractmethod
    def enabled(cls, settings: Settings) -> bool:
        """Whether ``settings`` turn this channel on (no message is queued otherwise)."""

    @classmethod
    @abstractmethod
    def compose(cls, notice: EscalationNotice, link: str, settings: Settings) -> dict[str, Any]:
        """The payload stored in the outbox: no patient name, no answers."""

    @abstractmethod
    def send(self, message: Outgoing) -> None:
        """Deliver one message; raise on any failure so the outbox retries it."""


def _source_words(source: str) -> str:
    return {"teach_back": "teach-back answers", "checkin": "symptom check"}.get(source, source)


class Email(Transport):
    channel = "email"

    @classmethod
    def enabled(cls, settings: Settings) -> bool:
        return settings.email_on

    @classmethod
    def compose(cls, notice: EscalationNotice, link: str, settings: Settings) -> dict[str, Any]:
        lines = [
            f"A patient's {_source_words(notice.source)} needs the care team ({notice.tier}).",
            f"Sheet: {notice.sheet_code or '-'}",
            *(f"- {r}" for r in notice.reasons),
            "",
            f"Open the inbox: {link}",
        ]
        return {
            "to": list(settings.notify_email),
            "subject": f"caresheet: new {notice.tier} escalation #{notice.escalation_id}",
            "body": "\n".join(lines),
        }

    def message_id(self, key: str) -> str:
        """A Message-ID that stays the same on every retry of one outbox message."""
        domain = self.settings.smtp_from.rpartition("@")[2].strip("<> ") or "caresheet.invalid"
        return f"<{key}@{domain}>"

    def send(self, message: Outgoing) -> None:
        settings = self.settings
        if not settings.smtp_host:
            raise RuntimeError("CARESHEET_SMTP_HOST is not set")
        email = EmailMessage()
        email["From"] = settings.smtp_from
        email["To"] = ", ".join(message.payload["to"])
        email["Subject"] = message.payload["subject"]
        email["Message-ID"] = self.message_id(message.key)
        email.set_content(message.payload["body"])
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SEND_TIMEOUT) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            smtp.send_message(email)


def sign(body: bytes, secret: str) -> str:
    """The signature header value for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, secret: str, header: str | None) -> bool:
    """Whether ``header`` is the right signature of ``body`` (constant-time compare)."""
    return bool(header) and hmac.compare_digest(sign(body, secret), header or "")


class Webhook(Transport):
    channel = "webhook"

    @classmethod
    def enabled(cls, settings: Settings) -> bool:
        return settings.webhook_on

    @classmethod
    def compose(cls, notice: EscalationNotice, link: str, settings: Settings) -> dict[str, Any]:
        return {
            "event": "escalation.opened",
            "escalation": {
                "id": notice.escalation_id,
                "tier": notice.tier,
                "source": notice.source,
                "sheet": notice.sheet_code,
                "reasons": list(notice.reasons),
                "created_at": notice.created_at.isoformat(),
                "url": link,
            },
        }

    def send(self, message: Outgoing) -> None:
        """POST the JSON body, signed; any answer other than 2xx is a failure to retry."""
        settings = self.settings
        fields = dict(message.payload)
        url = fields.pop(WEBHOOK_TARGET, None) or settings.webhook_url
        if not url:
            raise RuntimeError("CARESHEET_WEBHOOK_URL is not set")
        body = json.dumps(fields, sort_keys=True).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "caresheet-notify",
                   IDEMPOTENCY_HEADER: message.key}
        if settings.webhook_secret:
            headers[SIGNATURE_HEADER] = sign(body, settings.webhook_secret)
        response = httpx.post(url, content=body, headers=headers, timeout=SEND_TIMEOUT)
        if not 200 <= response.status_code < 300:
            raise RuntimeError(f"webhook answered HTTP {response.status_code}")


class Sms(Transport):
    """A text message to a patient through a gateway that speaks the Twilio REST shape: a form
    POST of ``To``, ``From`` and ``Body`` to ``{url}/2010-04-01/Accounts/{account}/Messages.json``
    with HTTP basic auth (account, token). The care team is never texted: escalations go by
    email and webhook, so this transport is never enabled for them."""

    channel = "sms"

    @classmethod
    def enabled(cls, settings: Settings) -> bool:
        return False  # for escalations; patient messages are queued by ``notify.patients``

    @classmethod
    def compose(cls, notice: EscalationNotice, link: str, settings: Settings) -> dict[str, Any]:
        raise NotImplementedError("escalations are not sent by text message")

    def endpoint(self) -> str:
        settings = self.settings
        return (f"{(settings.sms_url or '').rstrip('/')}/2010-04-01/Accounts/"
                f"{settings.sms_account}/Messages.json")

    def send(self, message: Outgoing) -> None:
        """POST the form; any answer other than 2xx is a failure to retry."""
        settings = self.settings
        if not settings.sms_on:
            raise RuntimeError("not set: " + ", ".join(settings.sms_missing()))
        response = httpx.post(
            self.endpoint(),
            data={"To": message.payload["to"], "From": settings.sms_from or "",
                  "Body": message.payload["body"]},
            auth=(settings.sms_account or "", settings.sms_token or ""),
            headers={"User-Agent": "caresheet-notify", IDEMPOTENCY_HEADER: message.key},
            timeout=SEND_TIMEOUT,
        )
        if not 200 <= response.status_code < 300:
            raise RuntimeError(f"SMS gateway answered HTTP {response.status_code}")


# In the order their messages are queued.
TRANSPORTS: tuple[type[Transport], ...] = (Email, Webhook, Sms)


def transports_for(settings: Settings) -> dict[str, Transport]:
    """Every channel's transport, ready to send with ``settings``."""
    return {kind.channel: kind(settings) for kind in TRANSPORTS}
