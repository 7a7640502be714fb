"""Sheet versions in the store: import, read, review status. Functions take a session.

Versioning: a sheet's identity is (code, language); each import whose content differs from
the latest stored version adds a version, and no version is ever rewritten but for its review
status, so a handout pinned to version N reads the same words forever. "Content" is the
canonical JSON of the parsed sheet without its version number, so re-importing a file (or one
that differs only in spacing or YAML style) changes nothing.

The store knows nothing of search: ``caresheet.sheets`` is the service that imports and
changes status through these functions and keeps the search index in step.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from caresheet.errors import BadInputError, NotFoundError
from caresheet.model.sheet import Sheet, Status
from caresheet.store.tables import LibrarySetting, SheetReview, SheetVersion, table_of

ImportAction = Literal["created", "new_version", "unchanged"]
# Every caresheet process takes this PostgreSQL advisory lock to import, so two imports of
# the same sheet cannot both pick the same next version number.
IMPORT_LOCK_KEY = 5_860_002


@dataclass(frozen=True, slots=True)
class StoredSheet:
    """One stored version of a sheet; ``sheet.version`` and ``sheet.status`` match the row."""

    id: int
    code: str
    language: str
    version: int
    status: Status
    sheet: Sheet
    source_text: str
    imported_at: dt.datetime
    author: str | None = None
    sample: bool = False
    base_version: int | None = None


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """What importing one file did."""

    code: str
    language: str
    version: int
    action: ImportAction
    path: str


@dataclass(frozen=True, slots=True)
class Review:
    """One recorded step of a version through review."""

    from_status: Status
    to_status: Status
    reviewer: str
    at: dt.datetime
    note: str | None


# ---------------------------------------------------------------- import


def import_sheet(
    session: Session,
    sheet: Sheet,
    source_text: str,
    path: str,
    *,
    now: dt.datetime | None = None,
    author: str | None = None,
    sample: bool = False,
    base_version: int | None = None,
) -> tuple[ImportOutcome, StoredSheet]:
    """Store one parsed sheet as a new version unless its content is already the latest.

    A new version is a draft whatever its file says (only review publishes it), with no
    reviewer; a ``sample`` (shipped example content) is stored published. The caller holds
    ``lock_imports`` for the transaction (``caresheet.sheets`` does).
    """
    digest = content_hash(sheet)
    latest = _latest_row(session, sheet.code, sheet.language)
    if latest is not None and latest.content_hash == digest:
        outcome = ImportOutcome(sheet.code, sheet.language, latest.version, "unchanged", path)
        return outcome, _stored(latest)
    version = sheet.version if latest is None else max(sheet.version, latest.version + 1)
    status = Status.PUBLISHED if sample else Status.DRAFT
    sheet = sheet.model_copy(update={
        "version": version, "status": status, "reviewer": None, "reviewed_on": None,
        "sample": sample,
    })
    row = SheetVersion(
        code=sheet.code,
        language=sheet.language,
        version=version,
        status=sheet.status.value,
        title=sheet.title,
        content_hash=digest,
        source_text=source_text,
        document=sheet.model_dump(mode="json"),
        imported_at=now or dt.datetime.now(dt.UTC),
        reviewer=None,
        reviewed_on=None,
        author=author,
        sample=sample,
        base_version=base_version,
    )
    session.add(row)
    session.flush()
    stored = _stored(row)
    action: ImportAction = "created" if latest is None else "new_version"
    return ImportOutcome(sheet.code, sheet.language, version, action, path), stored


# What review and the store set, not the author: a file differing only in these is unchanged.
NOT_CONTENT = {"version", "status", "reviewer", "reviewed_on", "sample"}


def content_hash(sheet: Sheet) -> str:
    """SHA-256 of the sheet's canonical JSON, without its version and review state."""
    document = sheet.model_dump(mode="json", exclude=NOT_CONTENT)
    # Fields added later are left out while unset, so a sheet stored before them keeps its hash.
    if document.get("converted_from") is None:
        document.pop("converted_from", None)
    for rule in document["rules"]:
        if rule.get("source") is None:
            rule.pop("source", None)
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def lock_imports(session: Session) -> None:
    """Serialize imports on PostgreSQL (SQLite sessions already begin with the write lock)."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection().exec_driver_sql(f"SELECT pg_advisory_xact_lock({IMPORT_LOCK_KEY})")


def current_or_none(session: Session, code: str, language: str) -> StoredSheet | None:
    """The published version, or None."""
    try:
        return current(session, code, language)
    except NotFoundError:
        return None


# ---------------------------------------------------------------- reading


def get(
    session: Session, code: str, language: str = "en", version: int | None = None
) -> StoredSheet:
    """Version ``version`` of a sheet, whatever its status (staff work and pinned handouts),
    or its newest version not retired when None."""
    if version is None:
        return latest(session, code, language)
    code, language = _key(code, language)
    row = _version_row(session, code, language, version)
    if row is None:
        known = [str(v.version) for v in _version_rows(session, code, language)]
        if not known:
            raise _not_found(session, code, language)
        raise NotFoundError(
            f"{code} ({language}) has no version {version}; versions: {', '.join(known)}"
        )
    return _stored(row)


def get_by_id(session: Session, sheet_version_id: int) -> StoredSheet:
    """A stored version by its row id (what a handout pins)."""
    row = session.get(SheetVersion, sheet_version_id)
    if row is None:
        raise NotFoundError(f"no stored sheet version with id {sheet_version_id}")
    return _stored(row)


def current(session: Session, code: str, language: str = "en") -> StoredSheet:
    """The version patients may see: the latest published one.

    Drafts and reviewed versions are for staff only (``latest``): to every public face a
    sheet with nothing published does not exist, so the error is the same as for no sheet.
    """
    code, language = _key(code, language)
    rows = _version_rows(session, code, language)
    chosen = _current_of(rows)
    if chosen is None:
        raise _not_found(session, code, language, published_only=True)
    full = session.get(SheetVersion, chosen.id)
    assert full is not None
    return _stored(full)


def latest(session: Session, code: str, language: str = "en") -> StoredSheet:
    """The newest version not retired, whatever its review status: what staff work on."""
    code, language = _key(code, language)
    rows = _version_rows(session, code, language)
    if not rows:
        raise _not_found(session, code, language)
    chosen = _latest_of(rows)
    if chosen is None:
        raise NotFoundError(f"{code} ({language}) is retired")
    full = session.get(SheetVersion, chosen.id)
    assert full is not None
    return _stored(full)


def latest_or_none(session: Session, code: str, language: str) -> StoredSheet | None:
    try:
        return latest(session, code, language)
    except NotFoundError:
        return None


@dataclass(frozen=True, slots=True)
class VersionRef:
    """Which stored version is current, without reading its words: what a cache key needs."""

    id: int
    code: str
    language: str
    status: str


def current_ref(session: Session | Connection, code: str, language: str = "en") -> VersionRef:
    """The row id and status of ``current``'s choice: one small query, no document parsed;
    on a Core connection (``Store.reading``) too, as a cached page's look-up does."""
    code, language = _key(code, language)
    chosen = _current_of(_version_rows(session, code, language))
    if chosen is None:
        raise _not_found(session, code, language, published_only=True)
    return VersionRef(chosen.id, code, language, chosen.status)


def published_ids(session: Session, code: str) -> dict[str, list[int]]:
    """The row ids of every published version of a sheet, by language, newest first, in one
    small query without reading their words (a patient holding an older handout may read the
    translation made for it; every check-in and guide page asks)."""
    found: dict[str, list[int]] = {}
    for row in session.connection().execute(_PUBLISHED, {"code": code.strip().upper()}):
        found.setdefault(row.language, []).append(row.id)
    return found


def list_current(session: Session, language: str | None = None) -> list[StoredSheet]:
    """The published version of every sheet (in one language, or all), by code then language."""
    return _list(session, language, _current_of)


def list_latest(session: Session, language: str | None = None) -> list[StoredSheet]:
    """The newest version not retired of every sheet, for staff, by code then language."""
    return _list(session, language, _latest_of)


def _list(
    session: Session, language: str | None,
    choose: Callable[[list[_Brief]], _Brief | None],
) -> list[StoredSheet]:
    query = select(SheetVersion.id, SheetVersion.code, SheetVersion.language,
                   SheetVersion.version, SheetVersion.status)
    if language is not None:
        query = query.where(SheetVersion.language == language.strip())
    by_key: dict[tuple[str, str], list[_Brief]] = {}
    for row in session.execute(query):
        by_key.setdefault((row.code, row.language), []).append(
            _Brief(row.id, row.version, row.status)
        )
    ids = []
    for key in sorted(by_key):
        chosen = choose(sorted(by_key[key], key=lambda b: b.version))
        if chosen is not None:
            ids.append(chosen.id)
    if not ids:
        return []
    rows = session.scalars(select(SheetVersion).where(SheetVersion.id.in_(ids))).all()
    return sorted((_stored(r) for r in rows), key=lambda s: (s.code, s.language))


def versions(session: Session, code: str, language: str = "en") -> list[StoredSheet]:
    """Every stored version of a sheet in one language, oldest first."""
    code, language = _key(code, language)
    rows = session.scalars(
        select(SheetVersion)
        .where(SheetVersion.code == code, SheetVersion.language == language)
        .order_by(SheetVersion.version)
    ).all()
    if not rows:
        raise _not_found(session, code, language)
    return [_stored(r) for r in rows]


def published_languages(session: Session | Connection, code: str) -> list[str]:
    """The languages a sheet has a published version in, sorted."""
    code = code.strip().upper()
    found = session.scalars(
        select(SheetVersion.language).where(
            SheetVersion.code == code, SheetVersion.status == Status.PUBLISHED.value
        ).distinct()
    ).all()
    return sorted(found)


def languages(session: Session | Connection, code: str) -> list[str]:
    """The languages a sheet has any stored version in, sorted."""
    code = code.strip().upper()
    found = session.scalars(
        select(SheetVersion.language).where(SheetVersion.code == code).distinct()
    ).all()
    return sorted(found)


# ---------------------------------------------------------------- review status


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
    """Move one version through review (draft → reviewed → published → retired).

    The words never change; only the status (and who reviewed it, when given) does.
    """
    new_status = _status(status)
    lock_imports(session)
    code, language = _key(code, language)
    row = _version_row(session, code, language, version)
    if row is None:
        get(session, code, language, version)  # raises the precise NotFoundError
        raise AssertionError("unreachable")
    row.status = new_status.value
    if reviewer is not None:
        row.reviewer = reviewer
    if reviewed_on is not None:
        row.reviewed_on = reviewed_on
    document = dict(row.document)
    document.update(
        status=row.status,
        reviewer=row.reviewer,
        reviewed_on=row.reviewed_on.isoformat() if row.reviewed_on else None,
    )
    row.document = document
    session.flush()
    stored = _stored(row)
    return stored


def record_review(
    session: Session, stored: StoredSheet, review: Review
) -> None:
    """Append one review step of a stored version (the table is never rewritten)."""
    session.add(SheetReview(
        sheet_version_id=stored.id, from_status=review.from_status.value,
        to_status=review.to_status.value, reviewer=review.reviewer, at=review.at,
        note=review.note,
    ))
    session.flush()


def reviews(session: Session, sheet_version_id: int) -> list[Review]:
    """The review steps of one stored version, oldest first."""
    rows = session.scalars(
        select(SheetReview).where(SheetReview.sheet_version_id == sheet_version_id)
        .order_by(SheetReview.id)
    ).all()
    return [Review(Status(r.from_status), Status(r.to_status), r.reviewer, r.at, r.note)
            for r in rows]


def setting(session: Session, name: str) -> str | None:
    """A library setting's stored value, or None when never set."""
    row = session.get(LibrarySetting, name)
    return None if row is None else row.value


def set_setting(session: Session, name: str, value: str) -> None:
    row = session.get(LibrarySetting, name)
    if row is None:
        session.add(LibrarySetting(name=name, value=value))
    else:
        row.value = value
    session.flush()


def parse_status(value: Status | str) -> Status:
    """A status from its name; BadInputError lists the valid ones."""
    return _status(value)


def _status(value: Status | str) -> Status:
    try:
        return Status(value)
    except ValueError:
        valid = ", ".join(s.value for s in Status)
        raise BadInputError(f"unknown status {value!r}; use one of: {valid}") from None


# ---------------------------------------------------------------- helpers


@dataclass(frozen=True, slots=True)
class _Brief:
    id: int
    version: int
    status: str


def _current_of(rows: list[_Brief]) -> _Brief | None:
    """From rows sorted by version: the latest published."""
    published = [r for r in rows if r.status == Status.PUBLISHED.value]
    return published[-1] if published else None


def _latest_of(rows: list[_Brief]) -> _Brief | None:
    """From rows sorted by version: the latest not retired."""
    visible = [r for r in rows if r.status != Status.RETIRED.value]
    return visible[-1] if visible else None


_VERSIONS = table_of(SheetVersion)
# Built once: building a statement costs more than running it, and this one runs on every
# cached page.
_VERSION_ROWS = (
    select(_VERSIONS.c.id, _VERSIONS.c.version, _VERSIONS.c.status)
    .where(_VERSIONS.c.code == bindparam("code"), _VERSIONS.c.language == bindparam("language"))
    .order_by(_VERSIONS.c.version)
)
_PUBLISHED = (
    select(_VERSIONS.c.id, _VERSIONS.c.language)
    .where(_VERSIONS.c.code == bindparam("code"),
           _VERSIONS.c.status == Status.PUBLISHED.value)
    .order_by(_VERSIONS.c.language, _VERSIONS.c.version.desc())
)


def _version_rows(session: Session | Connection, code: str, language: str) -> list[_Brief]:
    result = session.execute(_VERSION_ROWS, {"code": code, "language": language})
    return [_Brief(r.id, r.version, r.status) for r in result]


def _latest_row(session: Session, code: str, language: str) -> SheetVersion | None:
    return session.scalars(
        select(SheetVersion)
        .where(SheetVersion.code == code, SheetVersion.language == language)
        .order_by(SheetVersion.version.desc())
        .limit(1)
    ).first()


def _key(code: str, language: str) -> tuple[str, str]:
    """Codes are upper case (``p586`` finds P586); languages as stored (``en``, ``es``)."""
    return code.strip().upper(), language.strip()


def _not_found(
    session: Session | Connection, code: str, language: str, *, published_only: bool = False
) -> NotFoundError:
    others = published_languages(session, code) if published_only else languages(session, code)
    if others:
        return NotFoundError(
            f"{code} has no {language!r} version; languages: {', '.join(others)}"
        )
    return NotFoundError(f"no care sheet with code {code}")


def _version_row(session: Session, code: str, language: str, version: int) -> SheetVersion | None:
    return session.scalars(
        select(SheetVersion).where(
            SheetVersion.code == code,
            SheetVersion.language == language,
            SheetVersion.version == version,
        )
    ).one_or_none()


def _stored(row: SheetVersion) -> StoredSheet:
    return StoredSheet(
        id=row.id,
        code=row.code,
        language=row.language,
        version=row.version,
        status=Status(row.status),
        sheet=Sheet.model_validate({**row.document, "sample": bool(row.sample)}),
        source_text=row.source_text,
        imported_at=row.imported_at,
        author=row.author,
        sample=bool(row.sample),
        base_version=row.base_version,
    )
