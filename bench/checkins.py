"""Durable check-ins per second against a real `caresheet serve`, beside the bare route.

Run: .venv/bin/python bench/checkins.py [--seconds 10] [--clients 8] [--database URL]
                                        [--workers 1,2]

Starts its own server (``caresheet init`` + ``caresheet serve``, set up by ``_server.py``) on a
temporary SQLite file unless ``--url`` points at a running one, issues one P586 handout (by a
clinician made for the run: ``caresheet handout --by``), then drives it from
``--clients`` client processes (keep-alive HTTP/1.1, one request at a time each; each waits
for its own check-in's commit, so with few clients the figure is bound by the disk flush's
latency rather than by what the server can do — 8 keeps both routes busy on this machine):

1. ``GET /healthz`` (the framework's trivial route: a ``SELECT 1``): the baseline;
2. ``POST /api/handouts/{token}/checkins`` (a 201 means the check-in is committed).

It prints requests per second for each, the ratio, the latency percentiles, the SQLite
durability settings in force, and checks that the database holds every acknowledged
check-in. Figures, not pass or fail; the target is 500 check-ins/s on SQLite.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _server import ANSWERS, issue, running

HEALTH = ("GET", "/healthz", None)


def client(url: str, method: str, path: str, body: bytes | None, seconds: float,
           start_at: float, queue: Any) -> None:
    """One keep-alive connection, requests back to back until the time is up."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    headers = {"Content-Type": "application/json"} if body else {}
    latencies: list[float] = []
    ids: list[int] = []
    errors = 0
    while time.time() < start_at:
        time.sleep(0.001)
    end = start_at + seconds
    while time.time() < end:
        began = time.perf_counter()
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        latencies.append(time.perf_counter() - began)
        if response.status == 201:
            ids.append(json.loads(data)["id"])
        elif response.status != 200:
            errors += 1
    connection.close()
    queue.put((latencies, ids, errors))


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU of the server process (all its threads), from /proc."""
    if pid is None:
        return float("nan")
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(url: str, request: tuple[str, str, bytes | None], clients: int,
        seconds: float, pid: int | None = None) -> dict[str, Any]:
    method, path, body = request
    queue: Any = multiprocessing.Queue()
    start_at = time.time() + 0.5
    workers = [multiprocessing.Process(target=client, args=(url, method, path, body, seconds,
                                                            start_at, queue))
               for _ in range(clients)]
    for worker in workers:
        worker.start()
    cpu_before = cpu_seconds(pid)
    results = [queue.get() for _ in workers]
    cpu = cpu_seconds(pid) - cpu_before
    for worker in workers:
        worker.join()
    latencies = sorted(x for r in results for x in r[0])
    return {
        "cpu_ms": 1000 * cpu / max(len(latencies), 1),
        "requests": len(latencies),
        "per_second": len(latencies) / seconds,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99) - 1],
        "ids": [i for r in results for i in r[1]],
        "errors": sum(r[2] for r in results),
    }


def sqlite_settings(path: str) -> str:
    """The journal mode (kept in the file) and the synchronous level a new connection gets
    (the store does not change it, so the server runs with the same)."""
    connection = sqlite3.connect(path)
    try:
        journal = connection.execute("PRAGMA journal_mode").fetchone()[0]
        level = connection.execute("PRAGMA synchronous").fetchone()[0]
    finally:
        connection.close()
    names = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
    return f"journal_mode={journal}, synchronous={names.get(level, level)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--database", help="a database URL (default: a temporary SQLite file)")
    parser.add_argument("--url", help="a running server instead of starting one (give its "
                        "--database too: the handout is issued there)")
    parser.add_argument("--workers", default="1",
                        help="app processes, or a list to compare in one run, e.g. 1,2 "
                        "(several processes need PostgreSQL: --database postgresql://...)")
    options = parser.parse_args()
    counts = [int(n) for n in options.workers.split(",")]

    workdir = Path(tempfile.mkdtemp(prefix="caresheet-bench-"))
    database = options.database or f"sqlite:///{workdir}/bench.db"
    per_count: dict[int, float] = {}
    try:
        for workers in counts:
            base, checks = measure(database, workdir, workers, options)
            report(database, base, checks, options, workers)
            per_count[workers] = checks["per_second"]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if len(counts) > 1:
        first = counts[0]
        for workers in counts[1:]:
            print(f"check-ins/s with {workers} processes / with {first}: "
                  f"{per_count[workers] / per_count[first]:.2f} "
                  f"(target >= 1.6 on >= 4 cores; {os.cpu_count()} cores here)")


def measure(database: str, workdir: Path, workers: int,
            options: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    """The baseline and the check-in figures against one server of ``workers`` processes."""
    with ExitStack() as stack:
        url, pid = options.url, None
        if url is None:
            process, url = stack.enter_context(running(database, workdir, workers))
            pid = process.pid if workers == 1 else None  # CPU of one process only
        token = issue(database, workdir)
        checkin = ("POST", f"/api/handouts/{token}/checkins", json.dumps(ANSWERS).encode())
        run(url, HEALTH, options.clients, 1.0)  # warm up both routes
        run(url, checkin, options.clients, 1.0)
        base = run(url, HEALTH, options.clients, options.seconds, pid)
        checks = run(url, checkin, options.clients, options.seconds, pid)
    return base, checks


def report(database: str, base: dict[str, Any], checks: dict[str, Any],
           options: argparse.Namespace, workers: int = 1) -> None:
    print(f"database: {database.split('://')[0]}, {options.clients} clients, "
          f"{options.seconds:g}s per route, {workers} app process(es), {os.cpu_count()} CPUs")
    for name, figures in (("GET /healthz (baseline)", base),
                          ("POST check-in (durable)", checks)):
        print(f"  {name:26} {figures['per_second']:8.0f} req/s   p50 {figures['p50_ms']:6.2f} ms"
              f"   p99 {figures['p99_ms']:6.2f} ms   server CPU {figures['cpu_ms']:.2f} ms/req"
              f"   errors {figures['errors']}")
    print(f"  ratio check-in / baseline: {checks['per_second'] / base['per_second']:.2f} "
          f"(by server CPU per request: {base['cpu_ms'] / checks['cpu_ms']:.2f})")
    print(f"  load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
          "(other work on the machine lowers both routes alike)")
    if database.startswith("sqlite:///") and (options.url is None or options.database):
        path = database.removeprefix("sqlite:///")
        connection = sqlite3.connect(path)
        try:
            stored = {row[0] for row in connection.execute("SELECT id FROM checkins")}
        finally:
            connection.close()
        acknowledged = set(checks["ids"])
        print(f"  acknowledged check-ins in the database: {len(acknowledged & stored)} of "
              f"{len(acknowledged)}; {sqlite_settings(path)}")


if __name__ == "__main__":
    main()
