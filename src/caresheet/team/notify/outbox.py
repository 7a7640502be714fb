"""The outbox: notifications queued with the escalation that causes them, delivered by leases.

A message is written to the ``outbox`` table in the same transaction as its escalation, so it
exists exactly when the escalation does. A worker claims due messages in small batches
with one conditional UPDATE that only one worker can win for each row (on PostgreSQL the rows
are picked ``FOR UPDATE SKIP LOCKED``, so workers never queue behind each other), holding a
lease that runs from the moment of the claim (not from the start of its pass) and that a small
thread renews while the sends are under way, so a slow receiver never lets a second worker
take a message that is still being sent. On PostgreSQL queueing a message also sends
``NOTIFY caresheet_outbox`` at commit, which wakes a listening worker at once. A failure
schedules the next attempt with exponential backoff (base doubling, capped); the message waits
in the table until the receiver answers.

Delivery is at least once: a worker that dies mid-send leaves a lease that runs out, and another
worker sends the message again, with the same idempotency key (``OutboxRow.idempotency_key``,
see ``senders``) so the receiver can tell.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import bindparam, func, insert, or_, select, text, update
from sqlalchemy.orm import Session

from caresheet.store import handouts as handout_rows
from caresheet.store.clinics import ClinicRow
from caresheet.store.handouts import HandoutRow
from caresheet.store.tables import table_of
from caresheet.store.team import EscalationRow, OutboxRow
from caresheet.team.notify.senders import TRANSPORTS, WEBHOOK_TARGET, Outgoing, transports_for
from caresheet.team.notify.settings import Settings

log = logging.getLogger("caresheet.team.notify")

LEASE = dt.timedelta(minutes=2)
# Messages one worker claims at once: enough to save round trips, few enough that a second
# worker finds work of its own.
BATCH = 10
# The PostgreSQL channel a new message is announced on (``worker`` LISTENs to it).
CHANNEL = "caresheet_outbox"
# A notification still waiting this long after it was queued is shown to the team as a fault.
OVERDUE_AFTER = dt.timedelta(minutes=10)

SessionFactory = Callable[[], AbstractContextManager[Session]]


def utcnow() -> dt.datetime:
    """The wall clock: leases are about real time passing between workers."""
    return dt.datetime.now(dt.UTC)


# ---------------------------------------------------------------- queueing


@dataclass(frozen=True)
class EscalationNotice:
    """What a notification says: no patient name, no answers, only where to look."""

    escalation_id: int
    tier: str
    sheet_code: str | None
    reasons: tuple[str, ...]
    source: str
    created_at: dt.datetime


def enqueue_escalation(
    session: Session, notice: EscalationNotice, settings: Settings, now: dt.datetime
) -> int:
    """Queue a message on every channel ``settings`` turn on; returns how many were queued.

    The escalation's clinic's own email and webhook, when it has them, take the place of the
    installation's (``CARESHEET_NOTIFY_EMAIL``, ``CARESHEET_WEBHOOK_URL``).
    """
    link = f"{settings.base_url}/team/inbox#escalation-{notice.escalation_id}"
    routed, target = _routed(session, notice.escalation_id, settings)
    queued = 0
    for transport in TRANSPORTS:
        if transport.enabled(routed):
            payload = transport.compose(notice, link, routed)
            if transport.channel == "webhook" and target:
                payload = {**payload, WEBHOOK_TARGET: target}
            _add(session, transport.channel, payload, notice.escalation_id, now)
            queued += 1
    if queued and session.get_bind().dialect.name == "postgresql":
        # Delivered at commit, so a woken worker always finds the rows; no payload in it.
        session.execute(text(f"NOTIFY {CHANNEL}"))
    return queued


def _routed(session: Session, escalation_id: int, settings: Settings
            ) -> tuple[Settings, str | None]:
    """The settings with the clinic's email in place, and the clinic's webhook (or None)."""
    clinic = session.connection().execute(_CLINIC_OF_ESCALATION, {"id": escalation_id}).first()
    if clinic is None:
        return settings, None
    changes: dict[str, Any] = {}
    if clinic.email:
        changes["notify_email"] = (clinic.email,)
    if clinic.webhook_url:
        changes["webhook_url"] = clinic.webhook_url
    return replace(settings, **changes), clinic.webhook_url


# Core, built once: queueing runs inside a patient's check-in when it needs the team.
_CLINICS, _HANDOUTS, _ESCALATIONS, _OUTBOX = (
    table_of(ClinicRow), table_of(HandoutRow), table_of(EscalationRow), table_of(OutboxRow))
_CLINIC_OF_ESCALATION = (
    select(_CLINICS.c.email, _CLINICS.c.webhook_url)
    .join(_HANDOUTS, _HANDOUTS.c.clinic_id == _CLINICS.c.id)
    .join(_ESCALATIONS, _ESCALATIONS.c.handout_id == _HANDOUTS.c.id)
    .where(_ESCALATIONS.c.id == bindparam("id"))
)
_INSERT_MESSAGE = insert(_OUTBOX)


def _add(session: Session, channel: str, payload: dict[str, Any], escalation_id: int | None,
         now: dt.datetime) -> None:
    session.connection().execute(_INSERT_MESSAGE, {
        "channel": channel, "payload": json.dumps(payload, sort_keys=True),
        "escalation_id": escalation_id, "created_at": now, "attempts": 0,
        "next_attempt_at": now, "idempotency_key": new_key(),
    })


def new_key() -> str:
    """A message's idempotency key: random, so it is unique across clinics and databases."""
    return secrets.token_hex(16)


def backoff_delay(attempts: int, settings: Settings) -> dt.timedelta:
    """Wait before attempt ``attempts + 1``: base, 2x base, 4x base ... capped."""
    seconds = min(settings.backoff * (2 ** max(0, attempts - 1)), settings.backoff_max)
    return dt.timedelta(seconds=seconds)


# ---------------------------------------------------------------- claiming and leases


@dataclass(frozen=True)
class Claim:
    """A message this worker holds; ``token`` proves the lease is still ours."""

    id: int
    channel: str
    attempts: int
    key: str
    token: str
    payload: dict[str, Any]
    handout_id: int | None = None  # set for a message to a patient


def _free(now: dt.datetime) -> Any:
    return or_(OutboxRow.claimed_until.is_(None), OutboxRow.claimed_until < now)


def claim(sessions: SessionFactory, message_id: int, due_at: dt.datetime,
          lease: dt.timedelta = LEASE) -> Claim | None:
    """Take one due message: a conditional UPDATE only one worker can win.

    The lease runs from now, the moment of the claim, however long this worker's pass has
    already taken.
    """
    token = secrets.token_hex(16)
    with sessions() as session:
        now = utcnow()
        result = session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == message_id, OutboxRow.delivered_at.is_(None))
            .where(OutboxRow.next_attempt_at <= due_at, _free(now))
            .values(claimed_until=now + lease, claim_token=token,
                    attempts=OutboxRow.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            return None
        row = session.get(OutboxRow, message_id)
        assert row is not None
        session.refresh(row)
        return Claim(id=row.id, channel=row.channel, attempts=row.attempts,
                     key=row.idempotency_key, token=token, payload=json.loads(row.payload),
                     handout_id=row.handout_id)


def renew(sessions: SessionFactory, held: Claim, lease: dt.timedelta = LEASE) -> bool:
    """Extend the lease from now; False when it is no longer ours (it ran out and was taken)."""
    with sessions() as session:
        result = session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == held.id, OutboxRow.claim_token == held.token,
                   OutboxRow.delivered_at.is_(None))
            .values(claimed_until=utcnow() + lease)
            .execution_options(synchronize_session=False)
        )
        return getattr(result, "rowcount", 0) == 1


@contextmanager
def kept_leased(sessions: SessionFactory, held: Claim, lease: dt.timedelta = LEASE
                ) -> Iterator[None]:
    """Renew the lease on ``held`` every third of its length while the block runs."""
    done = threading.Event()

    def keep() -> None:
        while not done.wait(lease.total_seconds() / 3):
            try:
                if not renew(sessions, held, lease):
                    log.warning("outbox message %s: lease lost while sending", held.id)
                    return
            except Exception as error:  # the next renewal may get through
                log.warning("outbox message %s: lease renewal failed: %s", held.id,
                            type(error).__name__)

    renewer = threading.Thread(target=keep, name=f"caresheet-lease-{held.id}", daemon=True)
    renewer.start()
    try:
        yield
    finally:
        done.set()
        renewer.join()


def _delivered(sessions: SessionFactory, held: Claim, dropped: str | None = None) -> None:
    """Record a message as done: sent, or (``dropped``, the reason) closed without sending.

    A patient's message holds their link, address and number: once done, its payload is
    erased, so the link lives in the database only while it waits.
    """
    values: dict[str, Any] = {"delivered_at": utcnow(), "claimed_until": None,
                              "claim_token": None, "last_error": dropped}
    if held.handout_id is not None:
        values["payload"] = json.dumps({"kind": held.payload.get("kind"), "erased": True})
    with sessions() as session:
        session.execute(
            update(OutboxRow).where(OutboxRow.id == held.id).values(**values)
            .execution_options(synchronize_session=False)
        )


def _not_wanted(sessions: SessionFactory, held: Claim, now: dt.datetime) -> str | None:
    """Why a patient's message must not go out now (the link ended or was revoked, or the
    patient stopped the prompts), or None."""
    if held.handout_id is None:
        return None
    with sessions() as session:
        handout = handout_rows.get(session, held.handout_id)
    if handout.revoked_at is not None:
        return "not sent: the link was revoked"
    if now >= handout.expires_at:
        return "not sent: the link has ended"
    if held.payload.get("kind") == "prompt" and handout.prompts_stopped_at is not None:
        return "not sent: the patient stopped these messages"
    return None


def _failed(sessions: SessionFactory, held: Claim, error: Exception, settings: Settings) -> None:
    # The reason is about the server (refused, timed out, HTTP 503); the payload never goes in
    # the log.
    reason = f"{type(error).__name__}: {error}"[:500]
    log.warning("outbox message %s attempt %s failed: %s", held.id, held.attempts, reason)
    with sessions() as session:
        session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == held.id, OutboxRow.claim_token == held.token,
                   OutboxRow.delivered_at.is_(None))
            .values(last_error=reason, claimed_until=None, claim_token=None,
                    next_attempt_at=utcnow() + backoff_delay(held.attempts, settings))
            .execution_options(synchronize_session=False)
        )


# ---------------------------------------------------------------- delivering


@dataclass(frozen=True)
class DeliveryReport:
    delivered: int
    failed: int


def deliver_due(
    sessions: SessionFactory, settings: Settings, now: dt.datetime | None = None,
    limit: int = 50, lease: dt.timedelta = LEASE, batch: int = BATCH,
) -> DeliveryReport:
    """Send every message due at ``now``; each claim and result is its own short transaction.

    Messages are claimed ``batch`` at a time (one UPDATE ... RETURNING; on PostgreSQL its rows
    are picked with ``FOR UPDATE SKIP LOCKED``, so a second worker takes the next rows instead
    of waiting for the first). Network I/O happens outside any transaction, so a slow mail
    server never holds a lock that a patient's check-in waits on.
    """
    due_at = now or utcnow()
    transports = transports_for(settings)
    delivered = failed = 0
    taken = 0
    while taken < limit:
        claims = claim_batch(sessions, due_at, min(batch, limit - taken), lease)
        if not claims:
            break
        taken += len(claims)
        with kept_leased_batch(sessions, claims[0].token, lease):
            for held in claims:
                dropped = _not_wanted(sessions, held, due_at)
                if dropped is not None:
                    _delivered(sessions, held, dropped)
                    continue
                try:
                    transport = transports.get(held.channel)
                    if transport is None:
                        raise RuntimeError(f"no transport for channel {held.channel!r}")
                    transport.send(Outgoing(id=held.id, key=held.key, payload=held.payload))
                except Exception as error:  # any failure: keep the message, try again later
                    failed += 1
                    _failed(sessions, held, error, settings)
                else:
                    delivered += 1
                    _delivered(sessions, held)
    return DeliveryReport(delivered=delivered, failed=failed)


def claim_batch(sessions: SessionFactory, due_at: dt.datetime, size: int,
                lease: dt.timedelta = LEASE) -> list[Claim]:
    """Take up to ``size`` due messages under one token, oldest due first.

    On SQLite the write lock makes the UPDATE atomic; on PostgreSQL the rows are chosen with
    ``FOR UPDATE SKIP LOCKED``: rows another worker is claiming right now are passed over, and
    the outer conditions are checked again on the locked rows.
    """
    token = secrets.token_hex(16)
    with sessions() as session:
        now = utcnow()
        chosen = (
            select(OutboxRow.id)
            .where(OutboxRow.delivered_at.is_(None), OutboxRow.next_attempt_at <= due_at)
            .where(_free(now))
            .order_by(OutboxRow.next_attempt_at, OutboxRow.id)
            .limit(size)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        rows = session.execute(
            update(OutboxRow)
            .where(OutboxRow.id.in_(chosen), OutboxRow.delivered_at.is_(None), _free(now))
            .values(claimed_until=now + lease, claim_token=token,
                    attempts=OutboxRow.attempts + 1)
            .returning(OutboxRow.id, OutboxRow.channel, OutboxRow.attempts,
                       OutboxRow.idempotency_key, OutboxRow.payload, OutboxRow.handout_id)
            .execution_options(synchronize_session=False)
        ).all()
    claims = [Claim(id=r.id, channel=r.channel, attempts=r.attempts, key=r.idempotency_key,
                    token=token, payload=json.loads(r.payload), handout_id=r.handout_id)
              for r in rows]
    return sorted(claims, key=lambda c: c.id)


@contextmanager
def kept_leased_batch(sessions: SessionFactory, token: str, lease: dt.timedelta = LEASE
                      ) -> Iterator[None]:
    """Renew every undelivered message held under ``token`` while the block sends them."""
    done = threading.Event()

    def keep() -> None:
        while not done.wait(lease.total_seconds() / 3):
            try:
                with sessions() as session:
                    session.execute(
                        update(OutboxRow)
                        .where(OutboxRow.claim_token == token, OutboxRow.delivered_at.is_(None))
                        .values(claimed_until=utcnow() + lease)
                        .execution_options(synchronize_session=False)
                    )
            except Exception as error:  # the next renewal may get through
                log.warning("outbox batch: lease renewal failed: %s", type(error).__name__)

    renewer = threading.Thread(target=keep, name="caresheet-lease-batch", daemon=True)
    renewer.start()
    try:
        yield
    finally:
        done.set()
        renewer.join()


# ---------------------------------------------------------------- reading


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
    key: str


def messages(session: Session, escalation_id: int | None = None) -> list[OutboxMessage]:
    """The outbox, oldest first (for the team pages and tests)."""
    query = select(OutboxRow).order_by(OutboxRow.id)
    if escalation_id is not None:
        query = query.where(OutboxRow.escalation_id == escalation_id)
    return [
        OutboxMessage(
            id=r.id, channel=r.channel, attempts=r.attempts, created_at=r.created_at,
            next_attempt_at=r.next_attempt_at, delivered_at=r.delivered_at,
            last_error=r.last_error, payload=json.loads(r.payload), key=r.idempotency_key,
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
