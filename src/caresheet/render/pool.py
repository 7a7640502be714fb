"""PDFs made in worker processes, so a page being typeset never holds the web server.

WeasyPrint is pure CPU in Python: run in the server process (even in a thread) it holds the
GIL and every other request waits, which is how ``/healthz`` fell from 1,300 to 150 requests/s
while PDFs were being made. ``PdfPool`` hands the print HTML to a ``ProcessPoolExecutor`` of
``CARESHEET_PDF_WORKERS`` processes (one per core by default) started with ``spawn`` (a fork
of a threaded server can copy a held lock), each warmed once: WeasyPrint imported and the
fonts loaded before the first real request.

The work waiting for a worker is bounded (``CARESHEET_PDF_QUEUE``): past the bound a caller
gets ``ServerBusyError`` at once (503 with Retry-After) instead of a request that waits
minutes and ties up a server thread meanwhile.
"""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from caresheet import config
from caresheet.errors import ServerBusyError
from caresheet.render.pdf import html_to_pdf, warm_up


class PdfPool:
    """A bounded pool of PDF-making processes; ``render`` blocks the calling thread only."""

    def __init__(self, workers: int, queue: int) -> None:
        self.workers = workers
        self.queue = queue
        self._slots = threading.BoundedSemaphore(workers + queue)
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=warm_up,
                )
            return self._executor

    def submit(self, html: str) -> Future[bytes]:
        """Queue one document; ServerBusyError when every slot is taken."""
        if not self._slots.acquire(blocking=False):
            raise ServerBusyError(self.workers + self.queue)
        try:
            future = self._pool().submit(html_to_pdf, html)
        except BaseException:
            self._slots.release()
            raise
        future.add_done_callback(lambda _: self._slots.release())
        return future

    def render(self, html: str) -> bytes:
        """PDF bytes for a print document, made in a worker process."""
        try:
            return self.submit(html).result()
        except BrokenProcessPool:
            # A worker died (killed, out of memory): start a fresh pool and try once more.
            self._reset()
            return self.submit(html).result()

    def warm(self) -> None:
        """Start every worker now (each warms itself) rather than on the first request."""
        pool = self._pool()
        for future in [pool.submit(warm_up) for _ in range(self.workers)]:
            future.result()

    def _reset(self) -> None:
        with self._lock:
            broken, self._executor = self._executor, None
        if broken is not None:
            broken.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Stop the workers (the app calls this when it shuts down)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


_shared: PdfPool | None = None
_shared_lock = threading.Lock()


def shared() -> PdfPool:
    """This process's pool, sized by the settings when first asked for."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = PdfPool(config.pdf_workers(), config.pdf_queue())
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
    return shared().render(html)
