"""The delivery loop: ``caresheet worker`` runs it in the foreground, ``serve`` in a thread.

Several workers (processes or threads, on one database) may run at once; the outbox's leases
keep each message with one of them at a time.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

from caresheet.team.notify.outbox import LEASE, SessionFactory, deliver_due
from caresheet.team.notify.senders import SEND_TIMEOUT
from caresheet.team.notify.settings import Settings

log = logging.getLogger("caresheet.team.notify")


def run_worker(
    sessions: SessionFactory, settings: Settings, stop: threading.Event, interval: float = 2.0,
    lease: dt.timedelta = LEASE,
) -> None:
    """Deliver due messages until ``stop`` is set; a database hiccup is logged and retried."""
    while not stop.is_set():
        try:
            deliver_due(sessions, settings, lease=lease)
        except Exception as error:  # keep the worker alive; the messages stay in the table
            log.warning("outbox worker pass failed: %s", type(error).__name__)
        stop.wait(interval)


def start_background_worker(
    sessions: SessionFactory, settings: Settings, interval: float = 2.0
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
