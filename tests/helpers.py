"""Test helpers shared by the whole suite: importable as ``from helpers import ...``.

Fixtures live in ``tests/conftest.py``; the plain functions and classes they use live here so a
test can call them directly (two databases in one test, a server with a custom command line).

- ``ci_mode()`` / ``require(condition, what)``: a missing dependency skips locally, fails in CI.
- ``create_postgres_database`` / ``drop_postgres_database`` / ``fresh_postgres_database``.
- ``axe_violations(page)``: WCAG 2.1 A/AA violations found by axe-core in a Playwright page.
- ``LiveServer``: ``caresheet init`` + ``caresheet serve`` on a free port, as a subprocess.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
AXE_JS = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
POSTGRES_ENV = "CARESHEET_TEST_POSTGRES_URL"
DATABASE_ENV = "CARESHEET_DATABASE_URL"
PDF_WORKERS_ENV = "CARESHEET_PDF_WORKERS"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


# --------------------------------------------------------------------------- CI or not


def ci_mode() -> bool:
    """True when running in CI (``CI=true``), where nothing may be silently skipped."""
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def require(condition: object, what: str) -> None:
    """Skip the test when ``condition`` is false, or fail it in CI: a CI run that skips fails.

    ``what`` names the missing thing and how to get it, e.g.
    ``"PostgreSQL (set CARESHEET_TEST_POSTGRES_URL)"``.
    """
    if condition:
        return
    if ci_mode():
        pytest.fail(f"missing in CI (CI=true), so this fails instead of skipping: {what}",
                    pytrace=False)
    pytest.skip(f"needs {what}")


# --------------------------------------------------------------------------- PostgreSQL


def postgres_admin_url() -> str | None:
    """The admin URL from ``CARESHEET_TEST_POSTGRES_URL``, or None when unset."""
    url = os.environ.get(POSTGRES_ENV, "").strip()
    return url or None


def _sqlalchemy_url(url: str) -> Any:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    # psycopg (v3) is the driver we install; plain postgresql:// would mean psycopg2.
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _libpq_conninfo(url: str) -> str:
    """A libpq URI for psycopg.connect() from a SQLAlchemy-style URL."""
    parsed = _sqlalchemy_url(url).set(drivername="postgresql")
    rendered: str = parsed.render_as_string(hide_password=False)
    return rendered


def postgres_reachable(admin_url: str) -> tuple[bool, str]:
    """Whether the server answers; the second item is the error text when it does not."""
    import psycopg

    try:
        with psycopg.connect(_libpq_conninfo(admin_url), connect_timeout=5, autocommit=True):
            return True, ""
    except psycopg.Error as exc:
        return False, str(exc).strip()


def create_postgres_database(admin_url: str) -> str:
    """Create an empty database ``caresheet_t_<random>``; return its SQLAlchemy URL."""
    import psycopg
    from psycopg import sql

    name = f"caresheet_t_{secrets.token_hex(6)}"
    with psycopg.connect(_libpq_conninfo(admin_url), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    rendered: str = _sqlalchemy_url(admin_url).set(database=name).render_as_string(
        hide_password=False
    )
    return rendered


def drop_postgres_database(admin_url: str, url: str) -> None:
    """Drop the database that ``url`` names, closing any connection still open to it."""
    import psycopg
    from psycopg import sql

    name = _sqlalchemy_url(url).database
    if not name or not name.startswith("caresheet_t_"):
        raise ValueError(f"refusing to drop a database the tests did not create: {name!r}")
    with psycopg.connect(_libpq_conninfo(admin_url), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def postgres_database_exists(admin_url: str, url: str) -> bool:
    import psycopg

    name = _sqlalchemy_url(url).database
    with psycopg.connect(_libpq_conninfo(admin_url), autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return row is not None


@contextlib.contextmanager
def fresh_postgres_database(admin_url: str | None = None) -> Iterator[str]:
    """A new empty PostgreSQL database for the ``with`` block; dropped afterwards."""
    admin = admin_url or postgres_admin_url()
    require(admin, f"PostgreSQL (set {POSTGRES_ENV}, e.g. "
                   "postgresql+psycopg://postgres@127.0.0.1:5432/test)")
    assert admin is not None
    ok, error = postgres_reachable(admin)
    require(ok, f"a PostgreSQL server answering at {POSTGRES_ENV}: {error}")
    url = create_postgres_database(admin)
    try:
        yield url
    finally:
        drop_postgres_database(admin, url)


# --------------------------------------------------------------------------- axe-core


_AXE_RUN = """
async (tags) => {
  const results = await axe.run(document, {
    runOnly: {type: 'tag', values: tags},
    resultTypes: ['violations'],
  });
  return results.violations.map(v => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map(n => n.target.join(' ')),
  }));
}
"""


def axe_violations(page: Any, tags: Sequence[str] = WCAG_TAGS) -> list[dict[str, Any]]:
    """Run axe-core (WCAG 2.0/2.1 A and AA) on the page; return its violations.

    Each item is ``{"id", "impact", "help", "nodes": [css selector, ...]}`` so that
    ``assert axe_violations(page) == []`` prints a readable failure.
    """
    require(AXE_JS.is_file(), f"axe-core at {AXE_JS} (run `npm ci` in the repo root)")
    page.wait_for_load_state("load")  # a click that navigates returns before the new page loads
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    violations: list[dict[str, Any]] = page.evaluate(_AXE_RUN, list(tags))
    return violations


def sideways_overflow(page: Any) -> int:
    """How many CSS px the page is wider than its viewport, once it and its fonts have loaded.

    A click that navigates returns when the next page starts loading, and the load event does
    not wait for web fonts, whose widths differ from the fallback's: measure only after both.
    """
    page.wait_for_load_state("load")
    overflow: int = page.evaluate(
        "async () => { await document.fonts.ready;"
        " const root = document.documentElement; return root.scrollWidth - root.clientWidth; }")
    return overflow


def fonts_load(page: Any, font: str) -> bool:
    """Whether the page can load ``font`` (CSS shorthand) now: its file is served and allowed.

    Asked explicitly, because the load event does not wait for web fonts, and a font the
    page has not yet drawn with may still be on its way.
    """
    faces: int = page.evaluate(
        "async (font) => { try { return (await document.fonts.load(font)).length; }"
        " catch (error) { return 0; } }", font)
    return faces > 0 and bool(page.evaluate("(font) => document.fonts.check(font)", font))


# --------------------------------------------------------------------------- live server


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def caresheet_command() -> list[str]:
    """How to run the CLI: the venv's ``caresheet`` script beside this Python, else ``-m``."""
    script = Path(sys.executable).parent / "caresheet"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    found = shutil.which("caresheet")
    if found:
        return [found]
    return [sys.executable, "-m", "caresheet"]


class LiveServer:
    """``caresheet init`` then ``caresheet serve`` on 127.0.0.1:<free port>, as a subprocess.

    ``url`` has no trailing slash. ``stop()`` ends it politely, ``kill()`` with SIGKILL (for
    crash tests), ``restart()`` starts it again on the same port and database.
    """

    def __init__(
        self,
        db_url: str,
        *,
        workdir: Path | None = None,
        env: Mapping[str, str] | None = None,
        command: Sequence[str] | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        init: bool = True,
        serve_args: Sequence[str] = (),
        # A start takes 2 s on a quiet machine; under the whole suite on 2 cores, with other
        # servers' workers warming, CI once saw one pass 20 s before its first line.
        startup_timeout: float = 90.0,
        init_timeout: float = 180.0,
    ) -> None:
        self.db_url = db_url
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="caresheet-server-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.command = list(command) if command is not None else caresheet_command()
        self.host = host
        self.port = port or free_port(host)
        self.init = init
        self.serve_args = list(serve_args)
        self.startup_timeout = startup_timeout
        self.init_timeout = init_timeout
        self.env = {
            # One worker process each: many test servers run at once, and each worker spends
            # 2 s of CPU warming up at start. Tests that need more set it in ``env``.
            PDF_WORKERS_ENV: "1",
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            DATABASE_ENV: db_url,
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None
        self._starts = 0
        self._log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __repr__(self) -> str:
        return f"LiveServer(url={self.url!r}, db_url={self.db_url!r})"

    # -- lifecycle

    def run_init(self) -> subprocess.CompletedProcess[str]:
        """Run ``caresheet init``; fail the test with its output if it fails."""
        try:
            done = subprocess.run(
                [*self.command, "init"],
                cwd=self.workdir,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=self.init_timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            pytest.fail(f"`caresheet init` took over {self.init_timeout}s\n{_text(exc.stderr)}",
                        pytrace=False)
        if done.returncode != 0:
            pytest.fail(
                f"`caresheet init` exited {done.returncode} for {self.db_url}\n"
                f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}",
                pytrace=False,
            )
        return done

    def start(self) -> LiveServer:
        """Start (running ``init`` first, the first time) and wait until ``GET /`` answers."""
        if self.running:
            return self
        if self.init and self._starts == 0:
            self.run_init()
        self._starts += 1
        self._log_path = self.workdir / f"server-{self._starts}.log"
        with self._log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [*self.command, "serve", "--host", self.host, "--port", str(self.port),
                 *self.serve_args],
                cwd=self.workdir,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() reaches any workers
            )
        self._wait_until_up()
        return self

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        last_error = "no attempt"
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                pytest.fail(
                    f"`caresheet serve` exited {self.process.returncode} before answering "
                    f"on {self.url}\n--- output\n{self.output()}",
                    pytrace=False,
                )
            try:
                with urllib.request.urlopen(self.url + "/", timeout=2):
                    return
            except urllib.error.HTTPError:
                return  # it answered, even if with an error status: the test judges that
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
                last_error = str(exc)
            time.sleep(0.1)
        output = self.output()
        self.kill()
        pytest.fail(
            f"`caresheet serve` did not answer GET {self.url}/ within {self.startup_timeout}s "
            f"({last_error})\n--- output\n{output}",
            pytrace=False,
        )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def output(self) -> str:
        """Everything the server printed (stdout and stderr) since its last start."""
        if self._log_path is None or not self._log_path.exists():
            return ""
        return self._log_path.read_text(errors="replace")

    def _signal(self, sig: signal.Signals) -> None:
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout`` seconds; a no-op when not running."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.process.wait(timeout=10)
        # Workers that outlived their parent.
        self._signal(signal.SIGKILL)

    def kill(self) -> None:
        """SIGKILL the server and its process group, as a crash would."""
        if self.process is None:
            return
        self._signal(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)

    def restart(self) -> LiveServer:
        """Stop (if running) and start again on the same port and database, without ``init``."""
        self.stop()
        return self.start()

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _text(value: str | bytes | None) -> str:
    if value is None:
        return ""
    return value.decode(errors="replace") if isinstance(value, bytes) else value


# ------------------------------------------------------------------- a sheet in English only

ENGLISH_ONLY_CODE = "T901"
ENGLISH_ONLY_TITLE = "Bowel Check Test: What to Expect at Home"
ENGLISH_ONLY_SNOMED = "900000000000901"


def english_only_sheet(folder: Path) -> Path:
    """Write a sheet that has no translation, for the tests of the fallback to English.

    Every shipped sheet reads in Spanish since issue 16, so a test of "this sheet is not in
    your language" brings its own: CS101's text under a code, title, aliases and clinical
    code of its own, so that no lookup finds it and a shipped sheet at once.
    """
    text = (REPO_ROOT / "src" / "caresheet" / "library" / "CS101.en.md").read_text("utf-8")
    head, fence, body = text.partition("\n---\n")
    lines = head.splitlines()
    out: list[str] = []
    skipping = False
    for line in lines:
        key = line.split(":", 1)[0] if line and not line.startswith(" ") else None
        if key is not None:
            skipping = key in ("aliases", "keywords", "clinical_codes")
        if key == "code":
            line = f"code: {ENGLISH_ONLY_CODE}"
        elif key == "title":
            line = f'title: "{ENGLISH_ONLY_TITLE}"'
        elif key == "aliases":
            line = "aliases:\n  - bowel check test"
        elif key == "clinical_codes":
            line = f'clinical_codes:\n  - system: snomed\n    code: "{ENGLISH_ONLY_SNOMED}"'
        elif key == "keywords" or skipping:
            continue
        out.append(line)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{ENGLISH_ONLY_CODE}.en.md"
    path.write_text("\n".join(out) + fence + body, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- published sheets

TEST_AUTHOR = "author@library.example"
TEST_REVIEWER = "reviewer@library.example"


def import_published(session: Any, paths: Sequence[Path | str]) -> list[Any]:
    """Import sheet files and publish every new version through the real review path
    (written by one person, reviewed and published by another): for tests that issue or
    show a sheet, which only a published version allows."""
    import datetime as dt

    from caresheet import sheets

    moment = dt.datetime.now(dt.UTC)
    outcomes = sheets.import_paths(session, list(paths), author=TEST_AUTHOR, now=moment)
    reviewer = sheets.Reviewer(TEST_REVIEWER, may_review=True)
    for outcome in outcomes:
        if outcome.action == "unchanged":
            continue
        for step in ("reviewed", "published"):
            sheets.review(session, outcome.code, outcome.language, outcome.version, step,
                          by=reviewer, note="test content", now=moment)
    return outcomes


P586_TITLE_LINE = 'title: "Spinal Tap (Lumbar Puncture): What to Expect at Home"'


def retitled_p586(folder: Path, title: str, name: str = "P586.en.md") -> Path:
    """The shipped P586 with another title, written to ``folder / name``: a new version of
    a real sheet whose words a test can find."""
    from caresheet.library import LIBRARY_DIR

    text = (LIBRARY_DIR / "P586.en.md").read_text(encoding="utf-8")
    assert P586_TITLE_LINE in text
    path = folder / name
    path.write_text(text.replace(P586_TITLE_LINE, f'title: "{title}"'), encoding="utf-8")
    return path


def publish_files(db_url: str, paths: Sequence[Path | str]) -> None:
    """``import_published`` into the database at ``db_url`` (a live server's, say)."""
    from caresheet.store.db import Store

    store = Store.open(db_url)
    try:
        with store.session() as session:
            import_published(session, paths)
    finally:
        store.close()
