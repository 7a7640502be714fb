"""The worker-process pool (issue 15.2): PDFs and other CPU work are done in other processes,
and past the bound a caller is refused at once with ServerBusyError instead of waiting behind
everyone else."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator

import pytest

from caresheet.errors import ServerBusyError
from caresheet.model.sheet import Sheet
from caresheet.render.html import render_print, sheet_page
from caresheet.render.pdf import html_to_pdf
from caresheet.render.pool import WORKER_NICENESS, WorkPool, start_worker


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkPool]:
    started = WorkPool(workers=1, queue=1, initializer=start_worker)
    started.warm()
    yield started
    started.close()


def test_a_pdf_is_made_in_a_worker_process(pool: WorkPool, p586: Sheet) -> None:
    pdf = pool.run(html_to_pdf, render_print(sheet_page(p586, {"lie_flat_hours": "2"})))
    assert pdf.startswith(b"%PDF-") and len(pdf) > 10_000
    worker_pids = {p.pid for p in pool._pool()._processes.values()}
    assert worker_pids and os.getpid() not in worker_pids


def test_any_module_level_function_runs_in_a_worker(pool: WorkPool) -> None:
    worker_pids = {p.pid for p in pool._pool()._processes.values()}
    assert pool.run(os.getpid) in worker_pids
    assert asyncio.run(pool.run_async(os.getpid)) in worker_pids


def test_workers_run_at_a_lower_cpu_priority_than_the_server(pool: WorkPool) -> None:
    # os.nice(0) reads the niceness without changing it.
    assert pool.run(os.nice, 0) == min(os.nice(0) + WORKER_NICENESS, 19)


def test_past_the_bound_a_request_is_refused_at_once(pool: WorkPool, p586: Sheet) -> None:
    html = render_print(sheet_page(p586, {}))
    running = pool.submit(html_to_pdf, html)
    waiting = pool.submit(html_to_pdf, html)  # the one queued place
    started = time.monotonic()
    with pytest.raises(ServerBusyError) as refused:
        pool.submit(html_to_pdf, html)
    with pytest.raises(ServerBusyError):
        asyncio.run(pool.run_async(os.getpid))  # every kind of work shares the bound
    assert time.monotonic() - started < 0.5  # refused, not queued
    assert refused.value.status == 503 and refused.value.retry_after > 0
    assert running.result().startswith(b"%PDF-") and waiting.result().startswith(b"%PDF-")
    # Slots come back as documents finish.
    assert pool.submit(html_to_pdf, html).result().startswith(b"%PDF-")
