"""The library's one write path: import sheet files and move versions through review, keeping
the search index in step in the same transaction.

Four eyes: every imported version is a draft, recorded with its author (the uploading user,
``--by`` on the command line, or ``FILE_IMPORT``); only ``review`` moves it on, and never for
its author. Only published versions reach patients (``store.sheets.current``). The shipped
library is installed by ``install_samples`` as published *sample* content, which every page
labels as not reviewed for patient use.

``caresheet.authoring`` reads files, ``caresheet.store.sheets`` keeps the versions and
``caresheet.search.index`` the index; none of them knows the others, so this service joins
them. Every face (CLI, team pages, tests) imports and changes status through here, which is
what makes "the index never disagrees with the rows" hold.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy.orm import Session

from caresheet.authoring.batch import (
    LoadedSheet,
    SheetText,
    code_of,
    load_paths,
    load_texts,
)
from caresheet.authoring.parse import parse, translation_source
from caresheet.errors import BadInputError, SheetFilesError, SheetFormatError
from caresheet.library import LIBRARY_DIR
from caresheet.model.compare import RuleChange, SheetDiff, compare
from caresheet.model.sheet import Sheet, Status
from caresheet.search import index
from caresheet.store import sheets as stored_sheets
from caresheet.store.sheets import ImportOutcome, Review, StoredSheet

# The author recorded for a command-line import without ``--by``: nobody in particular, so any
# reviewer may review it.
FILE_IMPORT = "file import"
SECOND_REVIEWER = "second_reviewer"
# Where a version may go next. Retiring is always possible; nothing comes back from retired
# except by importing a new version.
NEXT_STATUS: dict[Status, tuple[Status, ...]] = {
    Status.DRAFT: (Status.REVIEWED, Status.RETIRED),
    Status.REVIEWED: (Status.PUBLISHED, Status.DRAFT, Status.RETIRED),
    Status.PUBLISHED: (Status.RETIRED,),
    Status.RETIRED: (),
}
# The steps that are a review (four eyes); going back to draft or retiring is not.
REVIEW_STEPS = (Status.REVIEWED, Status.PUBLISHED)


def import_paths(
    session: Session, paths: Iterable[Path | str], *, now: dt.datetime | None = None,
    author: str = FILE_IMPORT,
) -> list[ImportOutcome]:
    """Import sheet files and folders, all or nothing, and re-index what changed.

    Every file is parsed before anything is stored; if any is malformed, SheetFilesError
    lists them all (``file:line: message``) and the caller's transaction must roll back
    (``store.session()`` does). A changed sheet's stored translations are re-read against it,
    and get a new version too when their merged content changes.
    """
    stored_sheets.lock_imports(session)
    loaded = load_paths(paths, lambda code, language: _base_sheet(session, code, language))
    return _import_all(session, loaded, now or dt.datetime.now(dt.UTC), author)


def import_texts(
    session: Session, texts: Sequence[SheetText], *, author: str,
    now: dt.datetime | None = None,
) -> list[ImportOutcome]:
    """Like ``import_paths``, for sheets held in memory (an upload): no file is written."""
    stored_sheets.lock_imports(session)
    loaded = load_texts(texts, lambda code, language: _base_sheet(session, code, language))
    return _import_all(session, loaded, now or dt.datetime.now(dt.UTC), author)


def translated_base(session: Session, text: str) -> Sheet | None:
    """The stored sheet a sheet text translates; None for a sheet in its own words (or one
    whose base is not stored, which reading the text then reports at its line)."""
    language, code = translation_source(text), code_of(text)
    if language is None or code is None:
        return None
    return _base_sheet(session, code, language)


def import_loaded(
    session: Session, loaded: list[LoadedSheet], read_against: Sheet | None, *, author: str,
    now: dt.datetime | None = None,
) -> list[ImportOutcome]:
    """Like ``import_texts``, for sheets already read elsewhere (an upload, parsed and linted
    in a worker process) so the server does not parse them again.

    A translation was read against ``read_against``; if that stored sheet changed since (a
    new version imported meanwhile), the texts are read again here, under the import lock,
    so a translation is never stored against a base that is no longer the latest.
    """
    stored_sheets.lock_imports(session)

    def find_base(code: str, language: str) -> Sheet | None:
        return _base_sheet(session, code, language)

    if read_against is not None and find_base(read_against.code,
                                              read_against.language) != read_against:
        loaded = load_texts([SheetText(item.path, item.source_text) for item in loaded],
                            find_base)
    return _import_all(session, loaded, now or dt.datetime.now(dt.UTC), author)


def install_samples(session: Session, *, now: dt.datetime | None = None) -> list[ImportOutcome]:
    """Install the shipped library as published sample content (what ``caresheet init`` does).

    A sheet the clinic has its own versions of (any version not a sample) is left alone, so
    running ``init`` again never puts a sample in front of a clinic's reviewed sheet.
    """
    stored_sheets.lock_imports(session)
    loaded = load_paths([LIBRARY_DIR],
                        lambda code, language: _base_sheet(session, code, language))
    moment = now or dt.datetime.now(dt.UTC)
    outcomes: list[ImportOutcome] = []
    for item in loaded:
        sheet = item.sheet
        own = [v for v in _versions_or_empty(session, sheet.code, sheet.language) if not v.sample]
        if own:
            outcomes.append(ImportOutcome(sheet.code, sheet.language, own[-1].version,
                                          "unchanged", item.path))
            continue
        outcomes.append(_store(session, item, moment, "caresheet", sample=True))
    for code, language in sorted({(o.code, o.language) for o in outcomes
                                  if o.action != "unchanged"}):
        index.sync(session, code, language)
    return outcomes


def _versions_or_empty(session: Session, code: str, language: str) -> list[StoredSheet]:
    if language not in stored_sheets.languages(session, code):
        return []
    return stored_sheets.versions(session, code, language)


def _import_all(
    session: Session, loaded: list[LoadedSheet], moment: dt.datetime, author: str
) -> list[ImportOutcome]:
    outcomes = [_store(session, item, moment, author) for item in loaded]
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


@dataclass(frozen=True, slots=True)
class Reviewer:
    """Who acts on a version, as the review rules need them: the face checks the role."""

    email: str
    may_review: bool


def second_reviewer_required(session: Session) -> bool:
    """The admin's setting: must publication be by someone other than the first reviewer?"""
    return stored_sheets.setting(session, SECOND_REVIEWER) == "1"


def require_second_reviewer(session: Session, required: bool) -> None:
    stored_sheets.set_setting(session, SECOND_REVIEWER, "1" if required else "0")


def review(
    session: Session,
    code: str,
    language: str,
    version: int,
    to: Status | str,
    *,
    by: Reviewer,
    note: str | None,
    now: dt.datetime,
) -> StoredSheet:
    """Move one version a step through review, holding the four-eyes rules, and record it.

    Draft → reviewed → published needs a reviewer who is not the version's author; with the
    second-reviewer setting on, publishing also needs someone other than who reviewed it; a
    version that lowers a rule's tier needs a note giving the reason before it is published.
    """
    wanted = stored_sheets.parse_status(to)
    stored = stored_sheets.get(session, code, language, version)
    label = f"{stored.code} ({stored.language}) version {stored.version}"
    if wanted not in NEXT_STATUS[stored.status]:
        raise BadInputError(
            f"{label} is {stored.status.value} and cannot become {wanted.value}; next: "
            f"{', '.join(s.value for s in NEXT_STATUS[stored.status]) or 'nothing'}"
        )
    note = (note or "").strip()[:2000] or None
    if wanted in REVIEW_STEPS:
        _check_four_eyes(session, stored, wanted, by, note)
    stored_sheets.record_review(
        session, stored, Review(stored.status, wanted, by.email, now, note)
    )
    reviewed = wanted in REVIEW_STEPS
    return set_status(
        session, stored.code, stored.language, stored.version, wanted,
        reviewer=by.email if reviewed else None, reviewed_on=now.date() if reviewed else None,
    )


def _check_four_eyes(
    session: Session, stored: StoredSheet, wanted: Status, by: Reviewer, note: str | None
) -> None:
    label = f"{stored.code} ({stored.language}) version {stored.version}"
    if not by.may_review:
        raise BadInputError(f"only a reviewer or an admin can mark {label} {wanted.value}")
    if stored.author is not None and stored.author.casefold() == by.email.casefold():
        raise BadInputError(
            f"you wrote {label}, so someone else must review it (four eyes)"
        )
    if wanted is not Status.PUBLISHED:
        return
    if second_reviewer_required(session):
        steps = stored_sheets.reviews(session, stored.id)
        first = [r.reviewer for r in steps if r.to_status is Status.REVIEWED]
        if first and first[-1].casefold() == by.email.casefold():
            raise BadInputError(
                f"a second reviewer must publish {label}: you reviewed it"
            )
    lowered = diff(session, stored.code, stored.language, stored.version).lowered
    if lowered and not note:
        ids = ", ".join(r.rule_id for r in lowered)
        raise BadInputError(
            f"{label} lowers the tier of {ids}: give the reason in the review note"
        )


@dataclass(frozen=True, slots=True)
class VersionDiff:
    """A version against the one before it (``previous`` None for a first version)."""

    stored: StoredSheet
    previous: StoredSheet | None
    changes: SheetDiff

    @property
    def lowered(self) -> tuple[RuleChange, ...]:
        return self.changes.lowered


def diff(session: Session, code: str, language: str, version: int) -> VersionDiff:
    """What ``version`` changed from the version before it."""
    stored = stored_sheets.get(session, code, language, version)
    earlier = [v for v in stored_sheets.versions(session, code, language)
               if v.version < stored.version]
    previous = earlier[-1] if earlier else None
    return VersionDiff(stored, previous,
                       compare(previous.sheet if previous else None, stored.sheet))


TranslationState = Literal["current", "stale", "missing", "unknown"]


@dataclass(frozen=True, slots=True)
class TranslationRow:
    """One sheet and one language: is there a translation, and was it written against the
    sheet's latest words?"""

    code: str
    title: str
    language: str
    state: TranslationState
    base_version: int | None
    latest_version: int
    version: int | None


def translation_status(
    session: Session, languages: Sequence[str] = ("es",), codes: Sequence[str] | None = None,
) -> list[TranslationRow]:
    """For every English sheet (or those of ``codes``) and each language: missing, stale
    (English changed after the translation was written), current, or unknown (stored before
    that was recorded)."""
    rows: list[TranslationRow] = []
    for english in stored_sheets.list_latest(session, "en"):
        if codes is not None and english.code not in codes:
            continue
        for language in languages:
            stored = stored_sheets.latest_or_none(session, english.code, language)
            if stored is None:
                state: TranslationState = "missing"
            elif stored.base_version is None:
                state = "unknown"
            elif stored.base_version < english.version:
                state = "stale"
            else:
                state = "current"
            rows.append(TranslationRow(
                english.code, english.sheet.title, language, state,
                stored.base_version if stored else None, english.version,
                stored.version if stored else None,
            ))
    return rows


def stale_translations(session: Session, outcomes: Sequence[ImportOutcome]) -> list[str]:
    """One warning per stored translation an import just left behind its English sheet."""
    changed = sorted({o.code for o in outcomes
                      if o.language == "en" and o.action == "new_version"})
    if not changed:
        return []
    languages = sorted({lang for code in changed for lang in stored_sheets.languages(session, code)
                        if lang != "en"})
    return [
        f"{row.code} ({row.language}) translation is stale: written for English version "
        f"{row.base_version or '?'}, now version {row.latest_version}; update and import it"
        for row in translation_status(session, languages, changed) if row.state == "stale"
    ]


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
    """Set one version's status and re-index its code and language (no rules checked: the
    faces move versions with ``review``)."""
    stored = stored_sheets.set_status(
        session, code, language, version, status, reviewer=reviewer, reviewed_on=reviewed_on
    )
    index.sync(session, stored.code, stored.language)
    return stored


def _store(
    session: Session, item: LoadedSheet, now: dt.datetime, author: str, *,
    sample: bool = False, base_version: int | None = None,
) -> ImportOutcome:
    sheet = item.sheet
    if sheet.translation_of is not None and base_version is None:
        base = stored_sheets.latest_or_none(session, sheet.code, sheet.translation_of)
        base_version = None if base is None else base.version
    return stored_sheets.import_sheet(
        session, sheet, item.source_text, item.path, now=now, author=author, sample=sample,
        base_version=base_version,
    )[0]


def _base_sheet(session: Session, code: str, language: str) -> Sheet | None:
    """The sheet a translation is read against: the newest one staff work on."""
    stored = stored_sheets.latest_or_none(session, code, language)
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
            stored = stored_sheets.latest_or_none(session, base.code, language)
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
            # The words were not translated again: the translation keeps its author, its
            # sample flag and the base version it was written against (so it shows as stale).
            outcomes.append(_store(
                session, LoadedSheet(parsed, stored.source_text), now,
                stored.author or FILE_IMPORT, sample=stored.sample and base.sample,
                base_version=stored.base_version or 0,
            ))
    if errors:
        raise SheetFilesError(errors)
    return outcomes
