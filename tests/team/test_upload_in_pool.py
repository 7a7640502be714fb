"""The team's upload is parsed and linted in the worker-process pool (issue 15.2): the report
still lists every lint problem, a translation is still read against its stored base, and a
full pool answers 503 with Retry-After at once, importing nothing."""

from __future__ import annotations

import datetime as dt
import html
import pickle
import time
from collections.abc import Iterator

import pytest

from asgi_client import AppClient
from caresheet import sheets
from caresheet.authoring.batch import SheetText
from caresheet.quality import lint_texts
from caresheet.quality.upload import check_upload
from caresheet.render import pool as work_pool
from caresheet.store import sheets as stored_sheets
from caresheet.store.db import Store
from caresheet.team.accounts import Role
from caresheet.web.app import create_app
from team.conftest import NOW, P586, add
from team.staff import PASSWORD, csrf_of

P586_ES = P586.with_name("P586.es.md")
AUTHOR = "author@clinic.example"


@pytest.fixture
def client(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppClient]:
    """The app with a pool of one worker and no queue, logged in as an author."""
    monkeypatch.setenv("CARESHEET_PDF_WORKERS", "1")
    monkeypatch.setenv("CARESHEET_PDF_QUEUE", "0")
    monkeypatch.setenv("CARESHEET_WORKER", "off")
    store = Store.open(sqlite_url)
    add(store, AUTHOR, Role.AUTHOR)
    with store.session() as session:
        sheets.import_paths(session, [P586], now=NOW)
    store.close()
    with AppClient(create_app(sqlite_url), base_url="http://127.0.0.1") as app_client:
        form = app_client.get("/team/login")
        answer = app_client.post("/team/login", data={
            "email": AUTHOR, "password": PASSWORD, "csrf_token": csrf_of(form.text),
            "next": "/team"})
        assert answer.status_code == 303, answer.text[:300]
        yield app_client


def upload(client: AppClient, name: str, text: str) -> tuple[int, str, dict[str, str]]:
    csrf = csrf_of(client.get("/team/library").text)
    answer = client.post("/team/library/upload", data={"csrf_token": csrf},
                         files={"file": (name, text.encode(), "text/markdown")})
    return answer.status_code, html.unescape(answer.text), dict(answer.headers)


def test_the_report_lists_every_lint_problem(client: AppClient) -> None:
    broken = P586.read_text().replace("code: P586", "code: T951").replace(
        "when: passed_out", "when: passed_out and no_such_finding").replace(
        "when: fever", "when: fever and another_missing_one")
    expected = lint_texts([SheetText("T951.en.md", broken)]).problems
    assert sum(p.is_error for p in expected) >= 2
    status, page, _ = upload(client, "T951.en.md", broken)
    assert status == 400 and "Not imported" in page
    for problem in expected:
        assert f"Line {problem.line}: {problem.level}: {problem.message}" in page
    assert client.get("/team/library/T951/en").status_code == 404


def test_a_translation_is_read_against_its_stored_base(client: AppClient) -> None:
    status, page, _ = upload(client, "P586.es.md", P586_ES.read_text())
    assert status == 200, page[-2000:]
    assert "Imported: P586 (es) version 1" in page


def test_a_full_pool_gives_503_with_retry_after_and_imports_nothing(client: AppClient) -> None:
    text = P586.read_text().replace("code: P586", "code: T952")
    busy = work_pool.shared().submit(time.sleep, 3)  # the one worker, and no queue
    started = time.monotonic()
    status, page, headers = upload(client, "T952.en.md", text)
    assert status == 503 and int(headers["retry-after"]) > 0
    assert "busy" in page and time.monotonic() - started < 2  # refused, not queued
    busy.result()
    assert client.get("/team/library/T952/en").status_code == 404
    status, page, _ = upload(client, "T952.en.md", text)  # a free pool: imported
    assert status == 200 and "Imported: T952 (en) version 1" in page


def test_a_base_changed_since_the_check_is_read_again_at_import(sqlite_url: str) -> None:
    """The worker read the translation against version 1; version 2 came in meanwhile."""
    store = Store.open(sqlite_url)
    try:
        with store.session() as session:
            sheets.import_paths(session, [P586], now=NOW)
            first = sheets.translated_base(session, P586_ES.read_text())
        assert first is not None
        checked = check_upload("P586.es.md", P586_ES.read_text(), first)
        assert checked.clean and checked.loaded[0].sheet.params["lie_flat_hours"].max == 4
        changed = P586.read_text().replace("    max: 4\n", "    max: 6\n", 1)
        with store.session() as session:
            sheets.import_texts(session, [SheetText("P586.en.md", changed)], author="a",
                                now=NOW + dt.timedelta(hours=1))
            sheets.import_loaded(session, checked.loaded, first, author="b",
                                 now=NOW + dt.timedelta(hours=2))
            stored = stored_sheets.latest_or_none(session, "P586", "es")
        assert stored is not None and stored.sheet.params["lie_flat_hours"].max == 6
    finally:
        store.close()


def test_the_upload_check_crosses_a_process_boundary() -> None:
    """What the worker returns comes back whole through pickling."""
    checked = check_upload("P586.en.md", P586.read_text(), None)
    assert checked.clean and pickle.loads(pickle.dumps(checked)) == checked
