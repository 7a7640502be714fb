"""PgBouncer in transaction mode (issue 15.3): with ``CARESHEET_PGBOUNCER=on`` the store works
through a real PgBouncer that hands each transaction whichever of two server connections is
free; without it, psycopg's prepared statements fail there after five runs of a query.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from caresheet import config, search
from caresheet.library import LIBRARY_DIR
from caresheet.store import sheets
from caresheet.store.db import Store
from helpers import free_port, import_published, require

PGBOUNCER = Path("/usr/sbin/pgbouncer")
THREADS = 8
ROUNDS = 20


@contextmanager
def pgbouncer(server_url: str, folder: Path) -> Iterator[str]:
    """A PgBouncer in transaction mode in front of ``server_url``'s server; yields the URL of
    the same database through it."""
    server = make_url(server_url)
    port = free_port()
    folder.chmod(0o755)  # PgBouncer refuses to run as root: it reads these as nobody
    users = folder / "users.txt"
    users.write_text(f'"{server.username}" ""\n', encoding="utf-8")
    ini = folder / "pgbouncer.ini"
    ini.write_text(
        "[databases]\n"
        f"* = host={server.host} port={server.port or 5432}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {users}\n"
        "pool_mode = transaction\ndefault_pool_size = 2\nmax_client_conn = 100\n"
        "ignore_startup_parameters = extra_float_digits,options\n",
        encoding="utf-8")
    for path in (users, ini):
        path.chmod(0o644)
    command = [str(PGBOUNCER), *(["-u", "nobody"] if os.geteuid() == 0 else []), str(ini)]
    log = folder / "pgbouncer.log"  # a file, not a pipe nobody reads while it logs
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(port, process, log)
        yield server.set(port=port).render_as_string(hide_password=False)
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"pgbouncer exited {process.returncode}:\n{log.read_text()}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    pytest.fail("pgbouncer did not listen within 15 s")


def _hammer(store: Store) -> list[str]:
    """Reads (ORM and Core) and searches from several threads at once; the errors seen."""
    errors: list[str] = []

    def work() -> None:
        try:
            for round_ in range(ROUNDS):
                with store.session(write=False) as session:
                    assert search.search(session, f"spinal tap {round_ % 3}").hits
                    sheets.current(session, "P586", "en")
                with store.reading() as connection:
                    assert sheets.current_ref(connection, "P586", "en").code == "P586"
        except Exception as error:  # collected: the test names the first
            errors.append(f"{type(error).__name__}: {error}")

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.postgres
def test_the_store_works_through_pgbouncer_in_transaction_mode(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require(PGBOUNCER.exists(), "pgbouncer (scripts/install-system-deps.sh)")
    monkeypatch.setenv(config.PGBOUNCER_ENV, "on")
    with pgbouncer(postgres_url, tmp_path) as pooled:
        store = Store.open(pooled)  # the migrations too run through the pooler
        try:
            with store.session() as session:
                import_published(session, [LIBRARY_DIR])
            errors = _hammer(store)
        finally:
            store.close()
    assert errors == [], errors[0]


def test_behind_pgbouncer_the_worker_polls_unless_told_to_listen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(config.NOTIFY_LISTEN_ENV, raising=False)
    monkeypatch.delenv(config.PGBOUNCER_ENV, raising=False)
    assert config.notify_listen()
    monkeypatch.setenv(config.PGBOUNCER_ENV, "on")
    assert not config.notify_listen()
    monkeypatch.setenv(config.NOTIFY_LISTEN_ENV, "on")  # a worker pointed straight at PostgreSQL
    assert config.notify_listen()
    monkeypatch.setenv(config.NOTIFY_LISTEN_ENV, "off")
    monkeypatch.delenv(config.PGBOUNCER_ENV)
    assert not config.notify_listen()
