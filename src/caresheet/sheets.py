"""The library's one write path: import sheet files and move versions through review, keeping
the search index in step in the same transaction.

``caresheet.store.sheets`` keeps the versions and ``caresheet.search.index`` the index; neither
knows the other, so this service joins them. Every face (CLI, team pages, tests) imports and
changes status through here, which is what makes "the index never disagrees with the rows" hold.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy.orm import Session

from caresheet.model.sheet import Status
from caresheet.search import index
from caresheet.store import sheets as stored_sheets
from caresheet.store.sheets import ImportOutcome, StoredSheet


def import_paths(
    session: Session, paths: Iterable[Path | str], *, now: dt.datetime | None = None
) -> list[ImportOutcome]:
    """Import sheet files and folders, all or nothing, and re-index what changed."""
    outcomes = stored_sheets.import_paths(session, paths, now=now)
    changed = {(o.code, o.language) for o in outcomes if o.action != "unchanged"}
    for code, language in sorted(changed):
        index.sync(session, code, language)
    return outcomes


def set_status(
    session: Session,
    code: str,
    language: str,
    version: int,
    status: Status | str,
    *,
    reviewer: str | None = None,
    reviewed_on: dt.date | None = None,
) -> StoredSheet:
    """Move one version through review and re-index its code and language."""
    stored = stored_sheets.set_status(
        session, code, language, version, status, reviewer=reviewer, reviewed_on=reviewed_on
    )
    index.sync(session, stored.code, stored.language)
    return stored
