"""The library's one write path: import sheet files and move versions through review, keeping
the search index in step in the same transaction.

``caresheet.authoring`` reads files, ``caresheet.store.sheets`` keeps the versions and
``caresheet.search.index`` the index; none of them knows the others, so this service joins
them. Every face (CLI, team pages, tests) imports and changes status through here, which is
what makes "the index never disagrees with the rows" hold.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path

from sqlalchemy.orm import Session

from caresheet.authoring.batch import LoadedSheet, SheetText, load_paths, load_texts
from caresheet.authoring.parse import parse
from caresheet.errors import SheetFilesError, SheetFormatError
from caresheet.model.sheet import Sheet, Status
from caresheet.search import index
from caresheet.store import sheets as stored_sheets
from caresheet.store.sheets import ImportOutcome, StoredSheet


def import_paths(
    session: Session, paths: Iterable[Path | str], *, now: dt.datetime | None = None
) -> list[ImportOutcome]:
    """Import sheet files and folders, all or nothing, and re-index what changed.

    Every file is parsed before anything is stored; if any is malformed, SheetFilesError
    lists them all (``file:line: message``) and the caller's transaction must roll back
    (``store.session()`` does). A changed sheet's stored translations are re-read against it,
    and get a new version too when their merged content changes.
    """
    stored_sheets.lock_imports(session)
    loaded = load_paths(paths, lambda code, language: _base_sheet(session, code, language))
    return _import_all(session, loaded, now or dt.datetime.now(dt.UTC))


def import_texts(
    session: Session, texts: Sequence[SheetText], *, now: dt.datetime | None = None
) -> list[ImportOutcome]:
    """Like ``import_paths``, for sheets held in memory (an upload): no file is written."""
    stored_sheets.lock_imports(session)
    loaded = load_texts(texts, lambda code, language: _base_sheet(session, code, language))
    return _import_all(session, loaded, now or dt.datetime.now(dt.UTC))


def _import_all(
    session: Session, loaded: list[LoadedSheet], moment: dt.datetime
) -> list[ImportOutcome]:
    outcomes = [_store(session, item, moment) for item in loaded]
    changed = [
        item.sheet for item, outcome in zip(loaded, outcomes, strict=True)
        if outcome.action != "unchanged" and item.sheet.translation_of is None
    ]
    read = {(item.sheet.code, item.sheet.language) for item in loaded}
    outcomes += _refresh_translations(session, changed, read, moment)
    for code, language in sorted({(o.code, o.language) for o in outcomes
                                  if o.action != "unchanged"}):
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


def _store(session: Session, item: LoadedSheet, now: dt.datetime) -> ImportOutcome:
    return stored_sheets.import_sheet(session, item.sheet, item.source_text, item.path, now=now)[0]


def _base_sheet(session: Session, code: str, language: str) -> Sheet | None:
    stored = stored_sheets.current_or_none(session, code, language)
    return None if stored is None else stored.sheet


def _refresh_translations(
    session: Session, bases: list[Sheet], skip: set[tuple[str, str]], now: dt.datetime
) -> list[ImportOutcome]:
    """Re-read the stored translations of changed sheets, so every language runs the same
    rules; a translation that no longer fits its base fails the whole import."""
    outcomes: list[ImportOutcome] = []
    errors: list[SheetFormatError] = []
    for base in bases:
        for language in stored_sheets.languages(session, base.code):
            stored = stored_sheets.current_or_none(session, base.code, language)
            if (base.code, language) in skip or stored is None:
                continue
            if stored.sheet.translation_of != base.language:
                continue
            label = f"{base.code} {language} v{stored.version} (stored translation)"
            try:
                parsed = parse(stored.source_text, label, base)
            except SheetFormatError as error:
                errors.append(SheetFormatError(label, error.line, (
                    f"{error.message}; {base.code} ({base.language}) changed, so update this "
                    "translation and import it together with that sheet"
                )))
                continue
            outcomes.append(_store(session, LoadedSheet(parsed, stored.source_text), now))
    if errors:
        raise SheetFilesError(errors)
    return outcomes
