"""Requests/s and latency of a real `caresheet serve`, measured with wrk in its own process.

Run: .venv/bin/python bench/serve.py [--seconds 3] [--connections 8] [--workers 1]
                                     [--database URL]

Starts ``caresheet init`` + ``caresheet serve`` (a temporary SQLite file unless ``--database``
names e.g. a PostgreSQL URL), issues one P586 handout with the CLI, warms the cache, then runs
``wrk`` (Debian package; scripts/install-system-deps.sh) against:

    /healthz, /sheets/P586, /sheets/P586?lie_flat_hours=2, /sheets/P586.pdf (cached),
    /search?q=spinal+tap, POST /api/handouts/{token}/checkins

and prints requests/s, p50 and p99 for each, the ratios the issue sets targets for (cached
sheet page >= 70% of /healthz; cached PDF p50 <= 2 ms, timed with one client so that it is
the time to answer, not the time spent queued behind the other clients), whether a matching
If-None-Match gets 304, and /healthz's p99 idle against its p99 while 8 clients ask for PDFs
nobody asked for before (target: within 2x). Each wrk run is ``--seconds`` long: keep the
whole run short. Figures, not pass or fail.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _server import ANSWERS, issue, running

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _ms(text: str) -> float:
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if found is None:
        raise SystemExit(f"cannot read wrk's latency {text!r}")
    return float(found.group(1)) * UNITS[found.group(2)]


def wrk(url: str, seconds: float, connections: int, script: Path | None = None) -> dict[str, float]:
    """requests/s, p50 and p99 (ms) of one wrk run."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", url]
    if script is not None:
        command[1:1] = ["-s", str(script)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if "Latency Distribution" not in out:
        raise SystemExit(f"wrk printed no latency distribution for {url}:\n{out}")
    found = {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50": _ms(re.search(r"50%\s+(\S+)", out).group(1)),  # type: ignore[union-attr]
        "p99": _ms(re.search(r"99%\s+(\S+)", out).group(1)),  # type: ignore[union-attr]
    }
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    found["non2xx"] = float(errors.group(1)) if errors else 0.0
    return found


def post_script(folder: Path, body: bytes) -> Path:
    script = folder / "post.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(body.decode())}\n"
        'wrk.headers["Content-Type"] = "application/json"\n', encoding="utf-8")
    return script


def status_for_etag(url: str) -> int:
    with urllib.request.urlopen(url, timeout=30) as first:
        etag = first.headers["ETag"]
    request = urllib.request.Request(url, headers={"If-None-Match": etag})
    try:
        with urllib.request.urlopen(request, timeout=30) as again:
            return int(again.status)
    except urllib.error.HTTPError as answer:
        return int(answer.code)  # urllib raises on 304


def pdf_storm(url: str, stop: threading.Event, clients: int = 8) -> list[int]:
    """``clients`` threads asking for PDFs with params never asked for before."""
    counter = iter(range(10**9))
    statuses: list[int] = []

    def one() -> None:
        while not stop.is_set():
            phone = f"555-{next(counter):04d}"
            try:
                with urllib.request.urlopen(f"{url}/sheets/P586.pdf?clinic_phone={phone}",
                                            timeout=60) as answer:
                    answer.read()
                    statuses.append(int(answer.status))
            except urllib.error.HTTPError as refused:
                statuses.append(int(refused.code))
            except (OSError, http.client.HTTPException):  # the server is stopping: run over
                return

    threads = [threading.Thread(target=one, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    return statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--database", default=None)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: run scripts/install-system-deps.sh")
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        database = args.database or f"sqlite:///{workdir}/bench.db"
        with running(database, workdir, args.workers) as (_, url):
            token = issue(database, workdir)
            paths = {
                "/healthz": "/healthz",
                "sheet page": "/sheets/P586",
                "sheet page, params": "/sheets/P586?lie_flat_hours=2",
                "PDF (cached)": "/sheets/P586.pdf",
                "search": "/search?q=spinal+tap",
            }
            for path in paths.values():  # warm: the cached rows exist before wrk starts
                urllib.request.urlopen(url + path, timeout=60).read()
            results = {name: wrk(url + path, args.seconds, args.connections)
                       for name, path in paths.items()}
            # One client at a time: how long a request takes to answer, with no queue.
            alone = {name: wrk(url + paths[name], args.seconds, 1)
                     for name in ("/healthz", "PDF (cached)")}
            script = post_script(workdir, json.dumps(ANSWERS).encode())
            results["check-in POST"] = wrk(f"{url}/api/handouts/{token}/checkins",
                                           args.seconds, args.connections, script)
            not_modified = status_for_etag(url + "/sheets/P586.pdf")
            stop = threading.Event()
            statuses = pdf_storm(url, stop)
            time.sleep(0.5)
            busy = wrk(url + "/healthz", args.seconds, args.connections)
            stop.set()
    print(f"caresheet serve --workers {args.workers} on {database.split(':')[0]}, "
          f"wrk -c{args.connections} -d{args.seconds}s, {os.cpu_count()} cores")
    print(f"{'route':<22}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'non-2xx':>9}")
    for name, r in results.items():
        print(f"{name:<22}{r['rps']:>10.0f}{r['p50']:>10.2f}{r['p99']:>10.2f}{r['non2xx']:>9.0f}")
    health = results["/healthz"]
    print(f"sheet page / healthz throughput      {results['sheet page']['rps'] / health['rps']:.2f}"
          "  (target >= 0.70)")
    print(f"cached PDF p50, one client           {alone['PDF (cached)']['p50']:.2f} ms"
          f"  (target <= 2 ms; /healthz alone {alone['/healthz']['p50']:.2f} ms; "
          f"with {args.connections} clients {results['PDF (cached)']['p50']:.2f} ms)")
    print(f"If-None-Match with the ETag          {not_modified}  (target 304)")
    made = sum(1 for s in statuses if s == 200)
    refused = sum(1 for s in statuses if s == 503)
    print(f"/healthz p99 idle {health['p99']:.2f} ms, under 8 uncached PDF clients "
          f"{busy['p99']:.2f} ms: ratio {busy['p99'] / health['p99']:.2f}  (target <= 2); "
          f"{busy['rps']:.0f} req/s; PDFs made {made}, refused busy {refused}")


if __name__ == "__main__":
    main()
