"""CDS Hooks cards offer only published sheets: a draft or reviewed version carrying the
ordered procedure's code gives no card until a reviewer publishes it (four eyes)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from caresheet import sheets
from caresheet.ehr.cds_hooks import matching_sheets
from caresheet.library import LIBRARY_DIR
from caresheet.store.db import Store

CPT = ("http://www.ama-assn.org/go/cpt", "62270")


def test_a_draft_gives_no_card_until_published(sqlite_url: str, tmp_path: Path) -> None:
    text = (LIBRARY_DIR / "P586.en.md").read_text(encoding="utf-8")
    path = tmp_path / "T931.en.md"
    path.write_text(text.replace("code: P586", "code: T931"), encoding="utf-8")
    store = Store.open(sqlite_url)
    try:
        with store.session() as session:
            sheets.import_paths(session, [path], author="author@clinic.example")
        assert matching_sheets(store, [CPT], "en") == []
        reviewer = sheets.Reviewer("reviewer@clinic.example", may_review=True)
        with store.session() as session:
            sheets.review(session, "T931", "en", 1, "reviewed", by=reviewer, note=None,
                          now=dt.datetime.now(dt.UTC))
        assert matching_sheets(store, [CPT], "en") == []
        with store.session() as session:
            sheets.review(session, "T931", "en", 1, "published", by=reviewer, note=None,
                          now=dt.datetime.now(dt.UTC))
        assert [s.code for s in matching_sheets(store, [CPT], "en")] == ["T931"]
    finally:
        store.close()
