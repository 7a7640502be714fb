"""Issue 15.1 over real HTTP: every public form of a sheet carries a strong ETag and a short
public Cache-Control, answers a matching If-None-Match with 304, is made once (the shared
table holds it), and a new or retired version is never answered from an old entry."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from caresheet import sheets
from caresheet.library import LIBRARY_DIR
from caresheet.store import rendered
from caresheet.store.db import Store
from helpers import LiveServer, import_published

FORMS = ["/sheets/P586", "/sheets/P586?lie_flat_hours=2", "/sheets/P586.txt",
         "/sheets/P586.pdf", "/sheets/P586.pdf?paper=a4&large=1", "/fhir/Bundle/P586",
         "/fhir/PlanDefinition/P586"]


@pytest.mark.parametrize("path", FORMS)
def test_each_form_has_a_validator_and_answers_304(http: httpx.Client, path: str) -> None:
    first = http.get(path)
    assert first.status_code == 200, first.text[:300]
    etag = first.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")  # strong
    assert first.headers["cache-control"] == "public, max-age=300"
    assert "accept-language" in first.headers["vary"].lower()
    again = http.get(path)
    # Made once: the second answer is the same bytes, not a second rendering.
    assert (again.headers["etag"], again.content) == (etag, first.content)
    unchanged = http.get(path, headers={"If-None-Match": f'"other", {etag}'})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged.headers["etag"] == etag
    stale = http.get(path, headers={"If-None-Match": '"not-this-one"'})
    assert stale.status_code == 200 and stale.content == first.content


def test_rendered_forms_are_kept_in_the_shared_table(http: httpx.Client,
                                                     server: LiveServer) -> None:
    http.get("/sheets/P586.pdf?lie_flat_hours=3")
    store = Store.open(server.db_url)
    try:
        with store.session(write=False) as session:
            held = rendered.total_bytes(session)
            count = len(rendered.keys(session))
    finally:
        store.close()
    assert count >= 1 and held > 10_000  # at least one PDF is in it


def test_a_bad_param_is_refused_and_never_cached(http: httpx.Client) -> None:
    for _ in range(2):
        response = http.get("/sheets/P586.pdf?lie_flat_hours=99")
        assert response.status_code == 400
        assert "etag" not in response.headers


def _change(server: LiveServer, tmp_path: Path, title: str | None = None,
            retire: int | None = None) -> None:
    store = Store.open(server.db_url)
    try:
        with store.session() as session:
            if title is not None:
                text = (LIBRARY_DIR / "CS101.en.md").read_text(encoding="utf-8")
                changed = tmp_path / "CS101.en.md"
                changed.write_text(text.replace("Colonoscopy: What to Expect at Home", title, 1),
                                   encoding="utf-8")
                import_published(session, [changed])
            if retire is not None:
                sheets.set_status(session, "CS101", "en", retire, "retired")
    finally:
        store.close()


def test_a_new_or_retired_version_changes_what_is_served(
    http: httpx.Client, server: LiveServer, tmp_path: Path
) -> None:
    old = http.get("/sheets/CS101")
    old_pdf = http.get("/sheets/CS101.pdf")
    assert old.status_code == 200 and "Colonoscopy: What to Expect" in old.text
    _change(server, tmp_path, title="Colonoscopy: Your Days After the Test")
    new = http.get("/sheets/CS101", headers={"If-None-Match": old.headers["etag"]})
    assert new.status_code == 200  # not a 304 for the old words
    assert new.headers["etag"] != old.headers["etag"]
    assert "Your Days After the Test" in new.text
    new_pdf = http.get("/sheets/CS101.pdf")
    assert new_pdf.headers["etag"] != old_pdf.headers["etag"]
    # Retiring version 2 brings version 1 back: its own key, its own words.
    _change(server, tmp_path, retire=2)
    back = http.get("/sheets/CS101")
    assert "Your Days After the Test" not in back.text
    assert "Colonoscopy: What to Expect" in back.text
    # Every version retired: nothing is served from the cache.
    _change(server, tmp_path, retire=1)
    assert http.get("/sheets/CS101").status_code == 404
    assert http.get("/sheets/CS101.pdf").status_code == 404
