"""Notifications to the care team through a durable outbox: email and a signed webhook.

A notification is written to the ``outbox`` table in the same transaction as the escalation
that causes it, so it exists exactly when the escalation does. A worker (``caresheet worker``
or the thread ``serve`` starts) delivers due messages; a failure schedules the next attempt
with exponential backoff (base doubling, capped) and the message waits in the table until the
mail server or the webhook answers. Delivery is at least once: a worker that dies mid-send
leaves a lease that runs out, and another worker sends it again.

Settings come from the environment and are read when used, not stored with the message:
``CARESHEET_SMTP_HOST``, ``_PORT`` (25), ``_USER``, ``_PASSWORD``, ``_FROM``, ``_STARTTLS``
(``true`` to upgrade the connection), ``CARESHEET_NOTIFY_EMAIL`` (comma-separated recipients),
``CARESHEET_WEBHOOK_URL``, ``CARESHEET_WEBHOOK_SECRET``, ``CARESHEET_BASE_URL`` (for links),
``CARESHEET_NOTIFY_BACKOFF`` (first retry delay in seconds, 30) and ``CARESHEET_NOTIFY_BACKOFF_MAX``
(3600).

The webhook body is JSON; its header ``X-Caresheet-Signature: sha256=<hex>`` is the HMAC-SHA256
of the exact body bytes with the shared secret (``verify_signature`` checks one).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import smtplib
import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import httpx
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from caresheet.store.team import OutboxRow

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Caresheet-Signature"
LEASE = dt.timedelta(minutes=2)
SEND_TIMEOUT = 10.0
# A notification still waiting this long after it was queued is shown to the team as a fault.
OVERDUE_AFTER = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class Settings:
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "caresheet@localhost"
    smtp_starttls: bool = False
    notify_email: tuple[str, ...] = ()
    webhook_url: str | None = None
    webhook_secret: str | None = None
    base_url: str = "http://127.0.0.1:8000"
    backoff: float = 30.0
    backoff_max: float = 3600.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        e = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = e.get(f"CARESHEET_{name}", "").strip()
            return value or None

        return cls(
            smtp_host=get("SMTP_HOST"),
            smtp_port=int(get("SMTP_PORT") or 25),
            smtp_user=get("SMTP_USER"),
            smtp_password=get("SMTP_PASSWORD"),
            smtp_from=get("SMTP_FROM") or "caresheet@localhost",
            smtp_starttls=(get("SMTP_STARTTLS") or "").lower() in {"1", "true", "yes"},
            notify_email=tuple(
                a.strip() for a in (get("NOTIFY_EMAIL") or "").split(",") if a.strip()
            ),
            webhook_url=get("WEBHOOK_URL"),
            webhook_secret=get("WEBHOOK_SECRET"),
            base_url=(get("BASE_URL") or "http://127.0.0.1:8000").rstrip("/"),
            backoff=float(get("NOTIFY_BACKOFF") or 30),
            backoff_max=float(get("NOTIFY_BACKOFF_MAX") or 3600),
        )

    @property
    def email_on(self) -> bool:
        return bool(self.smtp_host and self.notify_email)

    @property
    def webhook_on(self) -> bool:
        return bool(self.webhook_url)


@dataclass(frozen=True)
class EscalationNotice:
    """What a notification says: no patient name, no answers, only where to look."""

    escalation_id: int
    tier: str
    sheet_code: str | None
    reasons: tuple[str, ...]
    source: str
    created_at: dt.datetime


def sign(body: bytes, secret: str) -> str:
    """The signature header value for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, secret: str, header: str | None) -> bool:
    """Whether ``header`` is the right signature of ``body`` (constant-time compare)."""
    return bool(header) and hmac.compare_digest(sign(body, secret), header or "")


def enqueue_escalation(
    session: Session, notice: EscalationNotice, settings: Settings, now: dt.datetime
) -> int:
    """Queue the notifications for a new escalation; returns how many were queued."""
    link = f"{settings.base_url}/team/inbox#escalation-{notice.escalation_id}"
    queued = 0
    if settings.email_on:
        subject = f"caresheet: new {notice.tier} escalation #{notice.escalation_id}"
        lines = [
            f"A patient's {_source_words(notice.source)} needs the care team ({notice.tier}).",
            f"Sheet: {notice.sheet_code or '-'}",
            *(f"- {r}" for r in notice.reasons),
            "",
            f"Open the inbox: {link}",
        ]
        email: dict[str, Any] = {
            "to": list(settings.notify_email), "subject": subject, "body": "\n".join(lines),
        }
        _add(session, "email", email, notice.escalation_id, now)
        queued += 1
    if settings.webhook_on:
        hook: dict[str, Any] = {
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
        _add(session, "webhook", hook, notice.escalation_id, now)
        queued += 1
    return queued


def _source_words(source: str) -> str:
    return {"teach_back": "teach-back answers", "checkin": "symptom check"}.get(source, source)


def _add(session: Session, channel: str, payload: dict[str, Any], escalation_id: int | None,
         now: dt.datetime) -> None:
    session.add(
        OutboxRow(
            channel=channel, payload=json.dumps(payload, sort_keys=True),
            escalation_id=escalation_id, created_at=now, attempts=0, next_attempt_at=now,
        )
    )


def backoff_delay(attempts: int, settings: Settings) -> dt.timedelta:
    """Wait before attempt ``attempts + 1``: base, 2x base, 4x base ... capped."""
    seconds = min(settings.backoff * (2 ** max(0, attempts - 1)), settings.backoff_max)
    return dt.timedelta(seconds=seconds)


def send_email(payload: Mapping[str, Any], settings: Settings) -> None:
    """Hand one message to the SMTP server; raises on any failure."""
    if not settings.smtp_host:
        raise RuntimeError("CARESHEET_SMTP_HOST is not set")
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = ", ".join(payload["to"])
    message["Subject"] = payload["subject"]
    message.set_content(payload["body"])
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SEND_TIMEOUT) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        smtp.send_message(message)


def post_webhook(payload: Mapping[str, Any], settings: Settings) -> None:
    """POST the JSON body, signed; any answer other than 2xx is a failure to retry."""
    if not settings.webhook_url:
        raise RuntimeError("CARESHEET_WEBHOOK_URL is not set")
    body = json.dumps(payload, sort_keys=True).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "caresheet-notify"}
    if settings.webhook_secret:
        headers[SIGNATURE_HEADER] = sign(body, settings.webhook_secret)
    response = httpx.post(settings.webhook_url, content=body, headers=headers,
                          timeout=SEND_TIMEOUT)
    if not 200 <= response.status_code < 300:
        raise RuntimeError(f"webhook answered HTTP {response.status_code}")


SENDERS: dict[str, Callable[[Mapping[str, Any], Settings], None]] = {
    "email": send_email,
    "webhook": post_webhook,
}


@dataclass(frozen=True)
class DeliveryReport:
    delivered: int
    failed: int


SessionFactory = Callable[[], AbstractContextManager[Session]]


def deliver_due(
    sessions: SessionFactory, settings: Settings, now: dt.datetime | None = None,
    limit: int = 50,
) -> DeliveryReport:
    """Send every message that is due now; each claim and result is its own short transaction.

    Network I/O happens outside any transaction, so a slow mail server never holds a lock that
    a patient's check-in waits on.
    """
    moment = now or dt.datetime.now(dt.UTC)
    delivered = failed = 0
    for message_id in _due_ids(sessions, moment, limit):
        claimed = _claim(sessions, message_id, moment)
        if claimed is None:
            continue  # another worker took it
        channel, payload, attempts = claimed
        try:
            SENDERS[channel](payload, settings)
        except Exception as error:  # any failure: keep the message and try again later
            failed += 1
            _failed(sessions, message_id, attempts, error, settings)
        else:
            delivered += 1
            _delivered(sessions, message_id)
    return DeliveryReport(delivered=delivered, failed=failed)


def _due_ids(sessions: SessionFactory, now: dt.datetime, limit: int) -> list[int]:
    with sessions() as session:
        query = (
            select(OutboxRow.id)
            .where(OutboxRow.delivered_at.is_(None), OutboxRow.next_attempt_at <= now)
            .where(or_(OutboxRow.claimed_until.is_(None), OutboxRow.claimed_until < now))
            .order_by(OutboxRow.next_attempt_at, OutboxRow.id)
            .limit(limit)
        )
        return list(session.scalars(query))


def _claim(
    sessions: SessionFactory, message_id: int, now: dt.datetime
) -> tuple[str, dict[str, Any], int] | None:
    """Take the message for this worker: a conditional UPDATE only one worker can win."""
    with sessions() as session:
        result = session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == message_id, OutboxRow.delivered_at.is_(None))
            .where(or_(OutboxRow.claimed_until.is_(None), OutboxRow.claimed_until < now))
            .values(claimed_until=now + LEASE, attempts=OutboxRow.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            return None
        row = session.get(OutboxRow, message_id)
        assert row is not None
        session.refresh(row)
        return row.channel, json.loads(row.payload), row.attempts


def _delivered(sessions: SessionFactory, message_id: int) -> None:
    with sessions() as session:
        row = session.get(OutboxRow, message_id)
        if row is not None:
            row.delivered_at = dt.datetime.now(dt.UTC)
            row.claimed_until = None
            row.last_error = None


def _failed(sessions: SessionFactory, message_id: int, attempts: int, error: Exception,
            settings: Settings) -> None:
    # The reason is about the server (refused, timed out, HTTP 503); the payload never goes in
    # the log.
    reason = f"{type(error).__name__}: {error}"[:500]
    log.warning("outbox message %s attempt %s failed: %s", message_id, attempts, reason)
    with sessions() as session:
        row = session.get(OutboxRow, message_id)
        if row is not None:
            row.last_error = reason
            row.claimed_until = None
            row.next_attempt_at = dt.datetime.now(dt.UTC) + backoff_delay(attempts, settings)


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    channel: str
    attempts: int
    created_at: dt.datetime
    next_attempt_at: dt.datetime
    delivered_at: dt.datetime | None
    last_error: str | None
    payload: dict[str, Any]


def messages(session: Session, escalation_id: int | None = None) -> list[OutboxMessage]:
    """The outbox, oldest first (for the team pages and tests)."""
    query = select(OutboxRow).order_by(OutboxRow.id)
    if escalation_id is not None:
        query = query.where(OutboxRow.escalation_id == escalation_id)
    return [
        OutboxMessage(
            id=r.id, channel=r.channel, attempts=r.attempts, created_at=r.created_at,
            next_attempt_at=r.next_attempt_at,
            delivered_at=r.delivered_at,
            last_error=r.last_error, payload=json.loads(r.payload),
        )
        for r in session.scalars(query)
    ]


@dataclass(frozen=True)
class Overdue:
    """Notifications still undelivered long after they were queued."""

    count: int
    oldest: dt.datetime
    last_error: str | None


def overdue(
    session: Session, now: dt.datetime, older_than: dt.timedelta = OVERDUE_AFTER
) -> Overdue | None:
    """What the outbox has failed to deliver for ``older_than``, or None when all is well.

    Retries alone do not mend a wrong SMTP password or a moved webhook: messages would wait
    forever while the team believes the clinic is being alerted. The team pages show this.
    """
    waiting = (OutboxRow.delivered_at.is_(None), OutboxRow.created_at <= now - older_than)
    count, oldest = session.execute(
        select(func.count(OutboxRow.id), func.min(OutboxRow.created_at)).where(*waiting)
    ).one()
    if not count:
        return None
    last_error = session.scalars(
        select(OutboxRow.last_error).where(*waiting, OutboxRow.last_error.is_not(None))
        .order_by(OutboxRow.next_attempt_at.desc()).limit(1)
    ).first()
    return Overdue(count=int(count), oldest=oldest, last_error=last_error)


def run_worker(
    sessions: SessionFactory, settings: Settings, stop: threading.Event, interval: float = 2.0
) -> None:
    """Deliver due messages until ``stop`` is set; a database hiccup is logged and retried."""
    while not stop.is_set():
        try:
            deliver_due(sessions, settings)
        except Exception as error:  # keep the worker alive; the messages stay in the table
            log.warning("outbox worker pass failed: %s", type(error).__name__)
        stop.wait(interval)


def start_background_worker(
    sessions: SessionFactory, settings: Settings | None = None, interval: float = 2.0
) -> Callable[[], None]:
    """Run the worker in a daemon thread (for ``serve``); returns the function that stops it."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_worker, args=(sessions, settings or Settings.from_env(), stop, interval),
        name="caresheet-outbox", daemon=True,
    )
    thread.start()

    def halt() -> None:
        stop.set()
        thread.join(timeout=SEND_TIMEOUT + 5)

    return halt
