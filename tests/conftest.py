"""Fixtures shared by the whole suite.

Databases:
    db_url        every test runs twice: ``sqlite`` (a real file) and ``postgresql`` (a fresh,
                  empty database created for the test and dropped after it; marked ``postgres``).
    sqlite_url    SQLite only, for tests that need just one store.
    postgres_url  PostgreSQL only (a fresh, empty database).
Browser (tests using these are marked ``browser`` automatically):
    browser       Playwright's Chromium (/usr/bin/chromium), one per session.
    page          a new context and page per test, 1280x900, closed afterwards.
    make_page     ``make_page(width=320, height=640, java_script_enabled=False, ...)``.
Server:
    live_server   ``server = live_server(db_url)`` runs ``caresheet init`` + ``caresheet serve``;
                  ``server.url``, ``.process``, ``.db_url``, ``.stop()``, ``.kill()``,
                  ``.restart()``; stopped at teardown.

Outside CI a missing dependency (PostgreSQL, Chromium, axe-core) skips the test; with
``CI=true`` it fails it: see ``helpers.require``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from asgi_client import AppClient
from caresheet import sheets
from caresheet.authoring.parse import read_file
from caresheet.library import LIBRARY_DIR
from caresheet.model.sheet import Sheet
from caresheet.store.db import Store
from caresheet.web.app import create_app
from helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LiveServer,
    fresh_postgres_database,
    require,
)
from team.staff import Clinicians

BROWSER_FIXTURES = {"browser", "page", "make_page"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that drives the browser, so ``-m "not browser"`` selects by fixture."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & BROWSER_FIXTURES and item.get_closest_marker("browser") is None:
            item.add_marker(pytest.mark.browser)


# --------------------------------------------------------------------------- databases


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite database in a real file under the test's tmp_path (not created yet)."""
    return f"sqlite:///{tmp_path}/caresheet.db"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database (``postgresql+psycopg://...``), dropped afterwards."""
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The same test on SQLite and on PostgreSQL, each a new empty database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/caresheet.db"
        return
    with fresh_postgres_database() as url:
        yield url


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium driven by Playwright (never ``playwright install``)."""
    require(CHROMIUM.exists(), f"Chromium at {CHROMIUM} (make system-deps)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the dev extra installs it
        require(False, "the playwright package (pip install -e '.[dev]')")
        raise
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def make_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """Factory: ``make_page(width=320, height=640, **new_context_kwargs)`` -> a new page."""
    contexts: list[Any] = []

    def make(width: int = 1280, height: int = 900, **kwargs: Any) -> Any:
        # axe-core is injected as a script, which the pages' Content-Security-Policy refuses;
        # tests of the policy itself pass bypass_csp=False.
        kwargs.setdefault("bypass_csp", True)
        context = browser.new_context(viewport={"width": width, "height": height}, **kwargs)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(make_page: Callable[..., Any]) -> Any:
    """A new page (in its own context) at 1280x900."""
    return make_page()


# --------------------------------------------------------------------------- server


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Factory: ``live_server(db_url, env={...}, init=True)`` -> a started ``LiveServer``."""
    servers: list[LiveServer] = []

    def start(db_url: str, **kwargs: Any) -> LiveServer:
        kwargs.setdefault("workdir", tmp_path / f"server{len(servers)}")
        server = LiveServer(db_url, **kwargs)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


# --------------------------------------------------------------------------- staff


@pytest.fixture
def clinicians() -> Iterator[Clinicians]:
    logged_in = Clinicians()
    yield logged_in
    logged_in.close()


# --------------------------------------------------------------------------- the shipped library


def _open_with_library(url: str) -> Store:
    store = Store.open(url)
    with store.session() as session:
        sheets.install_samples(session)
    return store


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ],
)
def library_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    """The shipped library imported into a new database, once per module, on each store.

    Read-only tests (relevance, search pages) share it instead of importing per test.
    """
    if request.param == "sqlite":
        folder = tmp_path_factory.mktemp("library")
        store = _open_with_library(f"sqlite:///{folder}/caresheet.db")
        yield store
        store.close()
        return
    with fresh_postgres_database() as url:
        store = _open_with_library(url)
        yield store
        store.close()


@pytest.fixture(scope="module")
def library_client(library_store: Store) -> Iterator[AppClient]:
    """The app in-process over ``library_store`` (its lifespan run): read-only page tests."""
    url = library_store.engine.url.render_as_string(hide_password=False)
    with AppClient(create_app(url)) as app_client:
        yield app_client


@pytest.fixture(scope="session")
def p586() -> Sheet:
    """The shipped P586, parsed once: the reference sheet of many tests."""
    return read_file(LIBRARY_DIR / "P586.en.md").sheet
