"""The delivery loop: ``caresheet worker`` runs it in the foreground, ``serve`` in a thread.

Several workers (processes or threads, on one database) may run at once; the outbox's leases
and batch claims keep each message with one of them at a time.

Between passes a worker sleeps until something is due. On PostgreSQL it LISTENs on the
outbox's channel (``outbox.CHANNEL``) on a connection of its own, so a new escalation's message
goes out at once, and it still looks every ``SAFETY_POLL`` seconds for retries that have come
due. On SQLite, or with ``CARESHEET_NOTIFY_LISTEN=off`` (PgBouncer in transaction mode drops a
LISTEN at the end of each transaction), it polls every ``CARESHEET_NOTIFY_POLL`` seconds.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from caresheet import config
from caresheet.team.notify.outbox import CHANNEL, LEASE, SessionFactory, deliver_due
from caresheet.team.notify.senders import SEND_TIMEOUT
from caresheet.team.notify.settings import Settings

log = logging.getLogger("caresheet.team.notify")

# With a LISTEN in place, a pass is only needed for retries; they back off 30 s at least.
SAFETY_POLL = 30.0
# How often a waiting worker checks whether it has been asked to stop.
STOP_CHECK = 0.5


class Wakeup:
    """Waits between passes: for a NOTIFY on PostgreSQL when listening, else for a timeout."""

    def __init__(self, sessions: SessionFactory, listen: bool) -> None:
        self._url: str | None = None
        self._connection: Any = None
        if not listen:
            return
        try:
            with sessions() as session:
                engine = session.get_bind().engine
        except Exception as error:  # no database yet: poll, and the passes will log it
            log.warning("outbox worker: cannot reach the database (%s)", type(error).__name__)
            return
        if engine.dialect.name == "postgresql":
            # psycopg's own URL form: the driver name is SQLAlchemy's, not libpq's.
            self._url = engine.url.set(drivername="postgresql").render_as_string(
                hide_password=False)

    @property
    def listening(self) -> bool:
        return self._url is not None

    def _listen(self) -> Any:
        if self._connection is None and self._url is not None:
            import psycopg

            connection = psycopg.connect(self._url, autocommit=True, connect_timeout=10)
            connection.execute(f"LISTEN {CHANNEL}")
            self._connection = connection
        return self._connection

    def wait(self, stop: threading.Event, timeout: float) -> None:
        """Return at a NOTIFY, after ``timeout`` seconds, or soon after ``stop`` is set."""
        if self._url is None:
            stop.wait(timeout)
            return
        deadline = time.monotonic() + timeout
        try:
            connection = self._listen()
            while not stop.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                for _ in connection.notifies(timeout=min(STOP_CHECK, left), stop_after=1):
                    return
        except Exception as error:  # the database went away: poll until it is back
            log.warning("outbox worker: LISTEN failed (%s); polling", type(error).__name__)
            self.close()
            stop.wait(max(0.0, min(timeout, deadline - time.monotonic())))

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):  # already broken
                connection.close()


def default_interval(listening: bool) -> float:
    """Seconds between passes when nothing wakes the worker."""
    poll = config.notify_poll_seconds()
    return max(SAFETY_POLL, poll) if listening else poll


def run_worker(
    sessions: SessionFactory, settings: Settings, stop: threading.Event,
    interval: float | None = None, lease: dt.timedelta = LEASE, listen: bool | None = None,
) -> None:
    """Deliver due messages until ``stop`` is set; a database hiccup is logged and retried."""
    wakeup = Wakeup(sessions, config.notify_listen() if listen is None else listen)
    pause = interval if interval is not None else default_interval(wakeup.listening)
    try:
        while not stop.is_set():
            try:
                deliver_due(sessions, settings, lease=lease)
            except Exception as error:  # keep the worker alive; the messages stay in the table
                log.warning("outbox worker pass failed: %s", type(error).__name__)
            wakeup.wait(stop, pause)
    finally:
        wakeup.close()


def start_background_worker(
    sessions: SessionFactory, settings: Settings, interval: float | None = None
) -> Callable[[], None]:
    """Run the worker in a daemon thread (for ``serve``); returns the function that stops it."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_worker, args=(sessions, settings, stop, interval),
        name="caresheet-outbox", daemon=True,
    )
    thread.start()

    def halt() -> None:
        stop.set()
        thread.join(timeout=SEND_TIMEOUT + 5)

    return halt
