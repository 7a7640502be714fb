"""The suite's own fixtures work: real separate databases, a real browser, CI never skips."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from helpers import (
    AXE_JS,
    LiveServer,
    axe_violations,
    ci_mode,
    fresh_postgres_database,
    postgres_admin_url,
    postgres_database_exists,
    require,
)

# --------------------------------------------------------------------------- require()


def test_require_passes_when_condition_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    require(True, "nothing")


def test_require_skips_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    assert not ci_mode()
    with pytest.raises(pytest.skip.Exception, match="needs a unicorn"):
        require(False, "a unicorn")


def test_require_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    assert ci_mode()
    with pytest.raises(pytest.fail.Exception, match="a unicorn"):
        require(None, "a unicorn")


# --------------------------------------------------------------------------- databases


def _roundtrip(url: str) -> list[str]:
    """Assert the database is empty, then create, write and read back a table."""
    engine = sa.create_engine(url)
    try:
        assert sa.inspect(engine).get_table_names() == [], f"{url} is not empty"
        meta = sa.MetaData()
        notes = sa.Table(
            "notes", meta,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("body", sa.Text, nullable=False),
        )
        meta.create_all(engine)
        with engine.begin() as conn:
            conn.execute(notes.insert(), [{"body": "lie flat"}, {"body": "drink fluids"}])
        with engine.connect() as conn:
            return list(conn.execute(sa.select(notes.c.body).order_by(notes.c.id)).scalars())
    finally:
        engine.dispose()


def test_db_url_is_real_empty_and_writable(db_url: str) -> None:
    assert _roundtrip(db_url) == ["lie flat", "drink fluids"]
    if db_url.startswith("sqlite"):
        assert Path(db_url.removeprefix("sqlite:///")).is_file()
    else:
        assert db_url.startswith("postgresql+psycopg://")
        assert "/caresheet_t_" in db_url


def test_sqlite_url_is_a_file_in_tmp_path(sqlite_url: str, tmp_path: Path) -> None:
    assert sqlite_url == f"sqlite:///{tmp_path}/caresheet.db"
    assert _roundtrip(sqlite_url) == ["lie flat", "drink fluids"]


@pytest.mark.postgres
def test_postgres_databases_are_separate_and_dropped() -> None:
    with fresh_postgres_database() as first, fresh_postgres_database() as second:
        assert first != second
        _roundtrip(first)
        # The second one saw nothing of the first's table.
        assert _roundtrip(second) == ["lie flat", "drink fluids"]
        admin = postgres_admin_url()
        assert admin is not None
        # An open connection must not keep the drop from happening.
        lingering = sa.create_engine(first).connect()
    try:
        assert not postgres_database_exists(admin, first)
        assert not postgres_database_exists(admin, second)
    finally:
        lingering.invalidate()


@pytest.mark.postgres
def test_postgres_extensions_the_store_needs(postgres_url: str) -> None:
    engine = sa.create_engine(postgres_url)
    try:
        with engine.begin() as conn:
            for ext in ("pg_trgm", "unaccent", "fuzzystrmatch"):
                conn.execute(sa.text(f"CREATE EXTENSION IF NOT EXISTS {ext}"))
            assert conn.execute(sa.text("SELECT unaccent('cirugía')")).scalar() == "cirugia"
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- browser + axe


def test_browser_runs_axe_and_reports_violations(page: Any) -> None:
    page.set_content(
        "<!doctype html><html lang='en'><head><title>Bad</title></head>"
        "<body><main><h1>Care</h1><img src='x.png'></main></body></html>"
    )
    violations = axe_violations(page)
    assert isinstance(violations, list)
    assert [v["id"] for v in violations] == ["image-alt"]
    assert violations[0]["nodes"] == ["img"]
    assert set(violations[0]) == {"id", "impact", "help", "nodes"}


def test_browser_clean_page_has_no_violations(make_page: Any) -> None:
    page = make_page(width=320, height=640)
    page.goto(
        "data:text/html,<!doctype html><html lang='en'><head><title>Rest</title></head>"
        "<body><main><h1>Rest today</h1><p>You can rest today.</p></main></body></html>"
    )
    assert page.viewport_size == {"width": 320, "height": 640}
    assert axe_violations(page) == []


def test_axe_is_installed() -> None:
    require(AXE_JS.is_file(), "axe-core (npm ci)")


def test_browser_marker_is_added(request: pytest.FixtureRequest, page: Any) -> None:
    assert request.node.get_closest_marker("browser") is not None


def test_not_browser_deselects_exactly_the_tests_that_use_a_browser_fixture() -> None:
    """``-m "not browser"`` must drop a test by its fixtures alone, and keep the others."""
    here = Path(__file__)
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         "-m", "not browser", str(here)],
        capture_output=True, text=True, cwd=here.parents[1], check=False,
    ).stdout
    assert "test_browser_marker_is_added" not in collected
    assert "test_axe_is_installed" in collected


# --------------------------------------------------------------------------- live server

# A stand-in for the real CLI with the same contract: `init` and `serve --host --port`.
_FAKE_CLI = textwrap.dedent(
    """
    import http.server, os, sys
    from pathlib import Path
    cmd = sys.argv[1]
    if cmd == "init":
        Path("init-ran").write_text(os.environ["CARESHEET_DATABASE_URL"])
        sys.exit(0)
    if cmd == "serve" and os.environ.get("FAKE_CRASH"):
        print("boom: cannot open database", file=sys.stderr)
        sys.exit(3)
    host, port = sys.argv[sys.argv.index("--host") + 1], int(sys.argv[sys.argv.index("--port") + 1])
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = f"pid={os.getpid()}".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
    http.server.HTTPServer.allow_reuse_address = True
    http.server.HTTPServer((host, port), Handler).serve_forever()
    """
)


def _fake_cli(tmp_path: Path) -> list[str]:
    script = tmp_path / "fake_cli.py"
    script.write_text(_FAKE_CLI)
    return [sys.executable, str(script)]


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        body: bytes = response.read()
        return body.decode()


def test_live_server_lifecycle(live_server: Any, sqlite_url: str, tmp_path: Path) -> None:
    server = live_server(sqlite_url, command=_fake_cli(tmp_path))
    assert server.url.startswith("http://127.0.0.1:")
    assert server.db_url == sqlite_url
    assert (server.workdir / "init-ran").read_text() == sqlite_url
    first_pid = _get(server.url + "/")
    assert first_pid == f"pid={server.process.pid}"

    server.kill()
    assert server.process.returncode == -9
    server.restart()
    assert _get(server.url + "/") == f"pid={server.process.pid}" != first_pid

    server.stop()
    assert not server.running


def test_live_server_reports_a_crash_at_start(sqlite_url: str, tmp_path: Path) -> None:
    server = LiveServer(sqlite_url, workdir=tmp_path, command=_fake_cli(tmp_path),
                        env={"FAKE_CRASH": "1"})
    with pytest.raises(pytest.fail.Exception, match="boom: cannot open database"):
        server.start()
    server.stop()
