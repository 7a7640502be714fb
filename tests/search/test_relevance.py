"""The relevance table: for each query, the sheet that must be in the first three results.

Rows live in ``relevance.tsv`` (query, expected code, language filter, kind) and run on SQLite
and PostgreSQL. A row whose sheet file is not in the library yet is skipped; once the library
is complete nothing skips, and ``test_the_library_has_all_twelve_sheets`` holds that.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from caresheet import search
from caresheet.library import LIBRARY_DIR
from caresheet.search import cache as search_cache
from caresheet.search import plan as search_plan
from caresheet.store.db import Store

TABLE = Path(__file__).with_name("relevance.tsv")
TOP = 3
LIBRARY_CODES = ["P586", *(f"CS{n}" for n in range(101, 112))]


def _rows() -> list[object]:
    rows: list[object] = []
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        query, code, language, kind = line.split("\t")
        lang = None if language == "-" else language
        rows.append(pytest.param(query, code, lang, id=f"{kind}: {query.strip()}"))
    return rows


ROWS = _rows()


def test_the_table_is_big_enough_and_covers_every_sheet() -> None:
    assert len(ROWS) >= 40
    codes = {row.values[1] for row in ROWS}  # type: ignore[attr-defined]
    assert codes == set(LIBRARY_CODES)


def test_the_library_has_all_twelve_sheets() -> None:
    missing = [c for c in LIBRARY_CODES if not (LIBRARY_DIR / f"{c}.en.md").is_file()]
    assert missing == []


@pytest.mark.parametrize(
    "common_words",
    [
        pytest.param("ranked", id="small-library"),
        # A big library treats words found in many sheets differently (head table, AND
        # first); a threshold of 3 sheets makes this small one take that path too.
        pytest.param("focused", id="as-if-large"),
    ],
)
@pytest.mark.parametrize(("query", "code", "language"), ROWS)
def test_query_finds_the_sheet_in_the_top_three(
    library_store: Store,
    query: str,
    code: str,
    language: str | None,
    common_words: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not (LIBRARY_DIR / f"{code}.{language or 'en'}.md").is_file():
        pytest.skip(f"{code} is not in the library yet")
    if common_words == "focused":
        monkeypatch.setattr(search_plan, "COMMON_MIN_SHEETS", 3)
        monkeypatch.setattr(search_plan, "COMMON_SHARE", 0.0)
        # Answers cached by the other variant were planned with the real thresholds.
        search_cache.clear()
    with library_store.session(write=False) as session:
        results = search.search(session, query, language=language)
    top = [hit.code for hit in results.hits[:TOP]]
    assert code in top, f"{query!r}: expected {code} in the top {TOP}, got {top}"
    if language is not None:
        assert all(hit.language == language for hit in results.hits)
