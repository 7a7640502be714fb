"""Fixtures of the web tests that read pages from one real server per store (SQLite, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from helpers import LiveServer, english_only_sheet, publish_files
from render.live import KINDS, client, running


@pytest.fixture(scope="module", params=KINDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server on a fresh database, once per test module and store."""
    with running(request.param, tmp_path_factory.mktemp("live")) as started:
        yield started


@pytest.fixture(scope="module")
def http(server: LiveServer) -> Iterator[httpx.Client]:
    """A client on that server."""
    with client(server) as c:
        yield c


@pytest.fixture(scope="module")
def english_only(server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> LiveServer:
    """The module's server with one more sheet that has no translation (see helpers)."""
    path = english_only_sheet(tmp_path_factory.mktemp("english-only"))
    # Imported and published through the review path: only published sheets are public.
    publish_files(server.db_url, [path])
    return server
