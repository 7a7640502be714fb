"""The public search pages and API in-process: jump by code, results, did-you-mean, A-Z, JSON."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from asgi_client import AppClient
from caresheet.library import LIBRARY_DIR
from caresheet.store.db import Store
from caresheet.web.app import create_app
from helpers import (
    ENGLISH_ONLY_CODE,
    caresheet_command,
    english_only_sheet,
    import_published,
)


@pytest.mark.parametrize(
    ("query", "location"),
    [("P586", "/sheets/P586"), ("p 586", "/sheets/P586"), ("cs101", "/sheets/CS101")],
)
def test_a_code_jumps_straight_to_the_sheet(
    library_client: AppClient, query: str, location: str
) -> None:
    response = library_client.get("/search", params={"q": query})
    assert response.status_code == 303
    assert response.headers["location"] == location


def test_a_code_with_a_language_jumps_to_that_language(library_client: AppClient) -> None:
    response = library_client.get("/search", params={"q": "P586", "lang": "es"})
    assert response.headers["location"] == "/sheets/P586?lang=es"


def test_words_list_results_with_marked_snippets(library_client: AppClient) -> None:
    response = library_client.get("/search", params={"q": "spinal tap"})
    assert response.status_code == 200
    html = response.text
    assert '<a href="/sheets/P586">Spinal Tap (Lumbar Puncture): What to Expect at Home</a>' in html
    assert "<mark>spinal</mark>" in html.lower()
    assert 'value="spinal tap"' in html
    # The shipped sheets are published samples: the page of each says so, not the result list.
    assert "Sample content: needs clinical review" not in html


def test_a_typo_says_what_was_searched(library_client: AppClient) -> None:
    html = library_client.get("/search", params={"q": "colonscopy", "lang": "en"}).text
    assert "/sheets/CS101" in html
    assert "Showing results for <strong>colonoscopy</strong>" in html
    assert "1 care sheet found for “colonscopy”." in html  # one result: singular


@pytest.fixture
def english_only_client(db_url: str, tmp_path: Path) -> Iterator[AppClient]:
    """P586 in English and Spanish, and one sheet in English only (see helpers).

    Every shipped sheet is in Spanish since issue 16, so the fallback needs a sheet of its own.
    """
    store = Store.open(db_url)
    try:
        with store.session() as session:
            import_published(
                session,
                [
                    LIBRARY_DIR / "P586.en.md",
                    LIBRARY_DIR / "P586.es.md",
                    english_only_sheet(tmp_path / "english-only"),
                ],
            )
    finally:
        store.close()
    with AppClient(create_app(db_url)) as app_client:
        yield app_client


def test_nothing_in_the_asked_language_shows_other_languages_with_a_notice(
    english_only_client: AppClient,
) -> None:
    client = english_only_client
    html = client.get("/search", params={"q": "bowel check test", "lang": "es"}).text
    assert "No hay hojas en español para “bowel check test”. Estas están en otros idiomas:" in html
    assert f'href="/sheets/{ENGLISH_ONLY_CODE}"' in html and "inglés" in html
    # A sheet in the asked language: no notice, no English sheets mixed in.
    html = client.get("/search", params={"q": "punción lumbar", "lang": "es"}).text
    assert "otros idiomas" not in html and 'href="/sheets/P586?lang=es"' in html
    assert 'href="/sheets/P586"' not in html
    # Nothing anywhere: the plain no-results page.
    html = client.get("/search", params={"q": "zzzqqq", "lang": "es"}).text
    assert "No se encontraron hojas para “zzzqqq”." in html and "otros idiomas" not in html


def test_every_shipped_sheet_is_found_in_spanish(library_client: AppClient) -> None:
    """Issue 16: a Spanish search for colonoscopy finds the Spanish sheet, with no notice."""
    html = library_client.get("/search", params={"q": "colonoscopia", "lang": "es"}).text
    assert "otros idiomas" not in html
    assert 'href="/sheets/CS101?lang=es"' in html


def test_several_results_are_counted_in_the_plural(library_client: AppClient) -> None:
    html = library_client.get("/search", params={"q": "bleeding"}).text
    count = html.split('<ol class="results">')[1].split("</ol>")[0].count("<h2>")
    assert count > 1
    assert f"{count} care sheets found for “bleeding”." in html


def test_nothing_found_offers_a_way_on(library_client: AppClient) -> None:
    html = library_client.get("/search", params={"q": "zzzqqq"}).text
    assert "No care sheets found for “zzzqqq”." in html
    assert 'href="/browse"' in html


def test_did_you_mean_when_a_short_typo_finds_nothing(library_client: AppClient) -> None:
    # "kne" is too short to correct silently, but close enough to suggest.
    html = library_client.get("/search", params={"q": "kne"}).text
    assert "Did you mean" in html
    assert 'href="/search?q=knee"' in html


def test_the_query_is_escaped_on_the_page(library_client: AppClient) -> None:
    html = library_client.get("/search", params={"q": '<script>alert("x")</script>'}).text
    assert "<script>alert" not in html
    assert "&lt;script&gt;" in html


def test_spanish_filter_and_page(library_client: AppClient) -> None:
    html = library_client.get("/search", params={"q": "puncion lumbar", "lang": "es"}).text
    assert '<html lang="es">' in html
    assert "/sheets/P586?lang=es" in html
    assert "Spinal Tap (Lumbar Puncture)" not in html


def test_browse_lists_every_sheet_a_to_z(library_client: AppClient) -> None:
    html = library_client.get("/browse").text
    titles = [line for line in html.splitlines() if '<li lang="en"><a href="/sheets/' in line]
    assert len(titles) == 12
    assert 'href="#letter-C"' in html and 'id="letter-C"' in html
    shown = [line.split('">', 2)[2].split("</a>")[0] for line in titles]
    assert shown == sorted(shown, key=str.casefold)


def test_api_search_json(library_client: AppClient) -> None:
    response = library_client.get("/api/search", params={"q": "heart cath", "limit": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["results"][0]["code"] == "CS103"
    assert set(body["results"][0]) == {"code", "title", "score", "snippet"}
    assert len(body["results"]) <= 2


def test_api_search_bad_limit_is_a_422_in_the_error_shape(library_client: AppClient) -> None:
    response = library_client.get("/api/search", params={"q": "x", "limit": 0})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


def test_cli_search_json_shape(db_url: str, tmp_path: Path) -> None:
    run_env = {**os.environ, "CARESHEET_DATABASE_URL": db_url}
    subprocess.run([*caresheet_command(), "init"], env=run_env, cwd=tmp_path, check=True,
                   capture_output=True)
    done = subprocess.run(
        [*caresheet_command(), "search", "spinal tap", "--json"],
        env=run_env, cwd=tmp_path, capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert list(body) == ["results"]
    first = body["results"][0]
    assert list(first) == ["code", "title", "score", "snippet"]
    assert first["code"] == "P586"
    spanish = subprocess.run(
        [*caresheet_command(), "search", "punción lumbar", "--lang", "es"],
        env=run_env, cwd=tmp_path, capture_output=True, text=True, check=False,
    )
    assert spanish.returncode == 0
    assert spanish.stdout.splitlines()[0].split("\t")[:2] == ["P586", "es"]


def test_a_code_jumps_even_when_the_language_has_no_version(
    english_only_client: AppClient,
) -> None:
    response = english_only_client.get("/search", params={"q": ENGLISH_ONLY_CODE, "lang": "es"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/sheets/{ENGLISH_ONLY_CODE}"
