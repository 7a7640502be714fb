"""The one set-up of a real `caresheet serve` for the benchmarks (serve.py, checkins.py).

``running(database, workdir)`` runs ``caresheet init`` (which installs the shipped samples as
published sheets, so P586 can be handed out), starts ``caresheet serve`` on 127.0.0.1 at a
free port in its own process group, waits for ``/healthz``, and stops the whole group after.
``issue`` makes a clinician for the run and issues one P586 handout as a clinic's script would
(``caresheet handout --by``); it returns the handout's token. Not a benchmark: ``make bench``
skips files that start with ``_``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ANSWERS = {"answers": {"passed_out": "no", "fever": "no", "severe_headache": "no",
                       "site_drainage": "no", "numb_or_weak": "no", "headache": "yes",
                       "sore_back": "no"}}
CLINICIAN = "bench@clinic.example"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def caresheet() -> list[str]:
    """The ``caresheet`` command of the running interpreter's environment."""
    script = Path(sys.executable).parent / "caresheet"
    return [str(script)] if script.exists() else [sys.executable, "-m", "caresheet"]


def _env(database: str) -> dict[str, str]:
    return {**os.environ, "CARESHEET_DATABASE_URL": database,
            "CARESHEET_PASSWORD": "bench password, not a secret"}


@contextmanager
def running(database: str, workdir: Path, workers: int = 1,
            startup_seconds: float = 90) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``caresheet init`` + ``caresheet serve``; yields the process and its base URL."""
    subprocess.run([*caresheet(), "init"], env=_env(database), cwd=workdir, check=True,
                   capture_output=True)
    port = free_port()
    with (workdir / "server.log").open("wb") as log:
        process = subprocess.Popen(
            [*caresheet(), "serve", "--host", "127.0.0.1", "--port", str(port),
             "--workers", str(workers)],
            env=_env(database), cwd=workdir, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_for(url, process, startup_seconds, workdir)
        yield process, url
    finally:
        _stop(process)


def _wait_for(url: str, process: subprocess.Popen[bytes], seconds: float, workdir: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server did not start; see {workdir / 'server.log'}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's group (app and worker processes); SIGKILL if it lingers (PDFs
    still being made when the bench is done)."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def issue(database: str, workdir: Path) -> str:
    """One P586 handout, issued with the CLI by a clinician made for the run; its token."""
    env = _env(database)
    added = subprocess.run([*caresheet(), "user", "add", CLINICIAN, "--role", "clinician"],
                           env=env, cwd=workdir, capture_output=True, text=True, check=False)
    if added.returncode != 0 and "already exists" not in added.stderr:
        raise SystemExit(f"caresheet user add failed: {added.stderr.strip()}")
    done = subprocess.run(
        [*caresheet(), "handout", "P586", "--by", CLINICIAN,
         "--param", "clinic_phone=555-0100", "--procedure-time", "2026-11-23T09:00-05:00",
         "--zone", "America/New_York", "--expires", "366d",
         "--output", str(workdir / "handout.pdf")],
        env=env, cwd=workdir, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"caresheet handout failed: {done.stderr.strip()}")
    return done.stdout.split()[0].rstrip("/").rsplit("/", 1)[1]
