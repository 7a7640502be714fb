"""CPU work in worker processes, so a PDF being typeset or an upload being linted never holds
the web server.

WeasyPrint, the parser and the linter are pure CPU in Python: run in the server process (even
in a thread) they hold the GIL and every other request waits, which is how ``/healthz`` fell
from 1,300 to 150 requests/s while PDFs were being made. ``WorkPool.run(fn, *args)`` hands a
module-level function and its (picklable) arguments to a ``ProcessPoolExecutor`` of
``CARESHEET_PDF_WORKERS`` processes (one per core by default) started with ``spawn`` (a fork
of a threaded server can copy a held lock). PDFs are its main user, so each process is warmed
once: WeasyPrint imported and the fonts loaded before the first real request.

This is the one home of such work: every kind shares one pool per server process, sized to
the cores, so PDFs and uploads never oversubscribe the machine between them.

The work waiting for a worker is bounded (``CARESHEET_PDF_QUEUE``): past the bound a caller
gets ``ServerBusyError`` at once (503 with Retry-After) instead of a request that waits
minutes and ties up a server thread meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import ParamSpec, TypeVar

from caresheet import config
from caresheet.errors import ServerBusyError
from caresheet.render.pdf import html_to_pdf, warm_up

P = ParamSpec("P")
R = TypeVar("R")
# How much lower a worker's CPU priority is than the server's (``nice``): when PDFs keep every
# core busy, the process answering requests still runs first.
WORKER_NICENESS = 10


def _started() -> None:
    """Nothing: submitted once per worker by ``warm`` so that each one starts."""


class WorkPool:
    """A bounded pool of worker processes; ``run`` blocks the calling thread only, and
    ``run_async`` blocks nothing.

    ``fn`` must be a module-level function and its arguments and result picklable; it should
    return failures as values, since an exception whose ``__init__`` takes other arguments
    than its message cannot come back from another process.
    """

    def __init__(self, workers: int, queue: int,
                 initializer: Callable[[], object] | None = None) -> None:
        self.workers = workers
        self.queue = queue
        self.initializer = initializer
        self._slots = threading.BoundedSemaphore(workers + queue)
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=self.initializer,
                )
            return self._executor

    def submit(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> Future[R]:
        """Queue one call; ServerBusyError when every slot is taken."""
        if not self._slots.acquire(blocking=False):
            raise ServerBusyError(self.workers + self.queue)
        try:
            future = self._pool().submit(fn, *args, **kwargs)
        except BaseException:
            self._slots.release()
            raise
        future.add_done_callback(lambda _: self._slots.release())
        return future

    def run(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """``fn(*args)`` in a worker process; the calling thread waits without the GIL."""
        try:
            return self.submit(fn, *args, **kwargs).result()
        except BrokenProcessPool:
            # A worker died (killed, out of memory): start a fresh pool and try once more.
            self._reset()
            return self.submit(fn, *args, **kwargs).result()

    async def run_async(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """``fn(*args)`` in a worker process, awaited: no event loop or thread is held."""
        try:
            return await asyncio.wrap_future(self.submit(fn, *args, **kwargs))
        except BrokenProcessPool:
            self._reset()
            return await asyncio.wrap_future(self.submit(fn, *args, **kwargs))

    def warm(self, fn: Callable[[], object] = _started) -> None:
        """Start every worker now (each runs the initializer, then ``fn``: say, the imports
        a first real call would pay for) rather than on the first call. Takes no slot."""
        pool = self._pool()
        for future in [pool.submit(fn) for _ in range(self.workers)]:
            future.result()

    def warm_in_background(self, fn: Callable[[], object] = _started) -> None:
        """``warm`` without making the caller wait (a server starting up). A pool closed
        meanwhile only ends the warm-up: nothing is raised or printed."""

        def warm_quietly() -> None:
            try:
                self.warm(fn)
            except Exception:
                return  # closed or broken meanwhile: the next real call starts afresh

        threading.Thread(target=warm_quietly, name="warm-workers", daemon=True).start()

    def _reset(self) -> None:
        with self._lock:
            broken, self._executor = self._executor, None
        if broken is not None:
            broken.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Stop the workers (the app calls this when it shuts down): queued work is cancelled,
        and what is running (a warm-up, a PDF) ends in the background, so an app that stops
        soon after it started does not wait seconds for its warm-up; the interpreter still
        waits for the workers before it exits."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)


def start_worker() -> None:
    """Each worker's first act: step back in CPU priority, then warm WeasyPrint.

    Without the lower priority, eight clients asking for new PDFs on two cores left the
    server process a third of the CPU, and ``/healthz`` waited behind typesetting.
    """
    with contextlib.suppress(OSError):  # a platform without nice(): equal priority, still works
        os.nice(WORKER_NICENESS)
    warm_up()


_shared: WorkPool | None = None
_shared_lock = threading.Lock()


def shared() -> WorkPool:
    """This process's pool, sized by the settings when first asked for."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = WorkPool(config.pdf_workers(), config.pdf_queue(), initializer=start_worker)
        return _shared


def close_shared() -> None:
    """Stop this process's pool, if it was started."""
    global _shared
    with _shared_lock:
        pool, _shared = _shared, None
    if pool is not None:
        pool.close()


def render_pdf_html(html: str) -> bytes:
    """A print document as PDF, in this process's pool."""
    return shared().run(html_to_pdf, html)
