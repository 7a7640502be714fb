"""A module-wide live server (``caresheet init`` + ``serve``) for the outputs' web tests.

Starting a server per test would spend most of the suite on ``init``; these tests only read,
so one server per module and database kind is enough.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from helpers import LiveServer, fresh_postgres_database

KINDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@contextmanager
def running(kind: str, folder: Path) -> Iterator[LiveServer]:
    """A started server on a fresh database of ``kind``; stopped (and dropped) afterwards."""

    def serve(url: str) -> Iterator[LiveServer]:
        server = LiveServer(url, workdir=folder).start()
        try:
            yield server
        finally:
            server.stop()

    if kind == "sqlite":
        yield from serve(f"sqlite:///{folder}/caresheet.db")
        return
    with fresh_postgres_database() as url:
        yield from serve(url)


def client(server: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=30.0)
