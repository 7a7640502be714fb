"""The search index of the current sheets, on SQLite (FTS5) or PostgreSQL (tsvector).

One row of ``search_documents`` per (code, language): the version ``current()`` returns, with
its words analyzed in Python (``caresheet.search.analysis``) so both databases index the same
terms. ``sync`` keeps it in step: ``caresheet.sheets`` calls it, in the same transaction,
after every import, new version and status change; a retired sheet leaves the index.
``bulk_index`` loads many sheets at once (the benchmark, a rebuild). ``search_terms`` counts
the sheets each term is in, for typo correction; ``search_state.generation`` changes with
every write so a process knows when its cached dictionary and answers are stale.

Reading the index (the full-text queries, look-ups by code) is ``caresheet.search.match``;
the SQL that differs between the databases lives in these two modules, and
``caresheet.search`` only builds the query (phrases of terms) and ranks, marks and explains
what comes back.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from caresheet.errors import NotFoundError
from caresheet.model.sheet import Sheet, fill_params
from caresheet.search.analysis import analyzed
from caresheet.search.cache import mark_written
from caresheet.search.match import language_token
from caresheet.store import sheets as sheet_store

Phrase = tuple[str, ...]
MIN_DICTIONARY_TERM = 2  # counted for typo correction (5+ letters) and for how common it is


@dataclass(frozen=True, slots=True)
class Document:
    """What the index keeps of one sheet: what to show, and its analyzed terms."""

    sheet_version_id: int
    code: str
    language: str
    version: int
    status: str
    title: str
    aliases: str  # one per line, as written
    body: str  # every patient-facing text, one per line, params filled with their unset text
    t_title: str
    t_aliases: str
    t_keywords: str
    t_body: str
    t_lang: str
    codes: tuple[tuple[str, str], ...]

    def terms(self) -> set[str]:
        """The distinct terms worth counting: for typo correction and how common each is."""
        found = " ".join((self.t_title, self.t_aliases, self.t_keywords, self.t_body)).split()
        return {t for t in found if MIN_DICTIONARY_TERM <= len(t) <= 64}

    def row(self) -> dict[str, Any]:
        return {
            "sheet_version_id": self.sheet_version_id, "code": self.code,
            "language": self.language, "version": self.version, "status": self.status,
            "title": self.title, "aliases": self.aliases, "body": self.body,
            "t_title": self.t_title, "t_aliases": self.t_aliases,
            "t_keywords": self.t_keywords, "t_body": self.t_body, "t_lang": self.t_lang,
        }




def sheet_texts(sheet: Sheet) -> list[str]:
    """Every text a patient reads on the sheet, title excluded, params shown as when unset.

    The sections come first, so a snippet with no matched word starts where the sheet does.
    """
    found = [(path, text_) for path, text_ in sheet.texts() if path != ("title",)]
    ordered = sorted(found, key=lambda item: item[0][0] != "sections")
    return [fill_params(text_, {}, sheet.params) for _, text_ in ordered]


def document_for(
    sheet: Sheet, sheet_version_id: int, status: str | None = None
) -> Document:
    """Analyze one sheet for the index."""
    language = sheet.language
    body = "\n".join(sheet_texts(sheet))
    headings = [s.heading for s in sheet.sections] + [
        g.heading for s in sheet.sections for g in s.groups
    ]
    displays = [c.display for c in sheet.clinical_codes if c.display]
    return Document(
        sheet_version_id=sheet_version_id,
        code=sheet.code,
        language=language,
        version=sheet.version,
        status=status or sheet.status.value,
        title=sheet.title,
        aliases="\n".join(sheet.aliases),
        body=body,
        t_title=analyzed(sheet.title, language),
        t_aliases=analyzed(" \n ".join(sheet.aliases), language),
        t_keywords=analyzed(" \n ".join([*sheet.keywords, *displays]), language),
        t_body=analyzed(body + "\n" + "\n".join(headings), language),
        t_lang=language_token(language),
        codes=tuple(
            dict.fromkeys((c.system, c.code.strip().upper()) for c in sheet.clinical_codes)
        ),
    )


# ---------------------------------------------------------------- keeping it in step


def sync(session: Session, code: str, language: str) -> None:
    """Index what ``current()`` now returns for a changed sheet's code and language."""
    try:
        current = sheet_store.current(session, code, language)
    except NotFoundError:
        _remove(session, code, language)
    else:
        _put(session, document_for(current.sheet, current.id, current.status.value))
    _bump_generation(session)


BULK_CACHE_KIB = 262_144  # SQLite page cache while bulk indexing: 256 MiB


def bulk_index(session: Session, documents: Iterable[Document], batch: int = 2000) -> int:
    """Add many new documents at once (none may be indexed already); returns how many."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    if sqlite:
        # FTS5 rewrites its segment b-trees as it grows: a big cache keeps them in memory.
        cache = session.execute(text("PRAGMA cache_size")).scalar()
        session.execute(text(f"PRAGMA cache_size = -{BULK_CACHE_KIB}"))
    try:
        return _bulk_index(session, documents, batch)
    finally:
        if sqlite:
            session.execute(text(f"PRAGMA cache_size = {int(cache or -2000)}"))


def optimize(session: Session) -> None:
    """Merge the full-text indexes into one segment each after a big load (SQLite; a no-op
    on PostgreSQL, whose GIN indexes need no such step)."""
    if session.get_bind().dialect.name == "sqlite":
        for table in ("search_fts", "search_head"):
            session.execute(text(f"INSERT INTO {table}({table}) VALUES ('optimize')"))


def _bulk_index(session: Session, documents: Iterable[Document], batch: int) -> int:
    counts: Counter[str] = Counter()
    total = 0
    pending: list[Document] = []

    def flush() -> None:
        if not pending:
            return
        session.execute(_INSERT_DOCUMENT, [d.row() for d in pending])
        ids = _ids_of(session, [(d.code, d.language) for d in pending])
        code_rows = [
            {"document_id": ids[(d.code, d.language)], "system": system, "code": code}
            for d in pending
            for system, code in d.codes
        ]
        if code_rows:
            session.execute(_INSERT_CODE, code_rows)
        pending.clear()

    for document in documents:
        counts.update(document.terms())
        pending.append(document)
        total += 1
        if len(pending) >= batch:
            flush()
    flush()
    _add_terms(session, counts, 1)
    _bump_generation(session)
    return total


def reindex(session: Session) -> int:
    """Rebuild the whole index from the current sheets (after the analysis changes)."""
    for table in ("search_codes", "search_documents", "search_terms"):
        session.execute(text(f"DELETE FROM {table}"))
    current = sheet_store.list_current(session)
    count = bulk_index(session, (document_for(s.sheet, s.id, s.status.value) for s in current))
    optimize(session)
    return count


_INSERT_DOCUMENT = text(
    "INSERT INTO search_documents (sheet_version_id, code, language, version, status, title, "
    "aliases, body, t_title, t_aliases, t_keywords, t_body, t_lang) VALUES (:sheet_version_id, "
    ":code, :language, :version, :status, :title, :aliases, :body, :t_title, :t_aliases, "
    ":t_keywords, :t_body, :t_lang)"
)
_INSERT_CODE = text(
    "INSERT INTO search_codes (document_id, system, code) VALUES (:document_id, :system, :code)"
)


def _ids_of(session: Session, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
    codes = sorted({code for code, _ in keys})
    rows = session.execute(
        text("SELECT id, code, language FROM search_documents WHERE code IN :codes").bindparams(
            bindparam("codes", expanding=True)
        ),
        {"codes": codes},
    )
    return {(row.code, row.language): row.id for row in rows}


def _existing(session: Session, code: str, language: str) -> tuple[int, Document] | None:
    row = session.execute(
        text(
            "SELECT id, t_title, t_aliases, t_keywords, t_body FROM search_documents "
            "WHERE code = :code AND language = :language"
        ),
        {"code": code, "language": language},
    ).first()
    if row is None:
        return None
    old = Document(0, code, language, 0, "", "", "", "", row.t_title, row.t_aliases,
                   row.t_keywords, row.t_body, "", ())
    return row.id, old


def _put(session: Session, document: Document) -> None:
    existing = _existing(session, document.code, document.language)
    if existing is None:
        session.execute(_INSERT_DOCUMENT, document.row())
        document_id = _ids_of(session, [(document.code, document.language)])[
            (document.code, document.language)
        ]
        _add_terms(session, Counter(document.terms()), 1)
    else:
        document_id, old = existing
        values = {k: v for k, v in document.row().items() if k not in ("code", "language")}
        assignments = ", ".join(f"{name} = :{name}" for name in values)
        session.execute(
            text(f"UPDATE search_documents SET {assignments} WHERE id = :id"),
            {**values, "id": document_id},
        )
        before, after = old.terms(), document.terms()
        _add_terms(session, Counter(after - before), 1)
        _add_terms(session, Counter(before - after), -1)
        _delete_codes(session, document_id)
    if document.codes:
        session.execute(
            _INSERT_CODE,
            [{"document_id": document_id, "system": s, "code": c} for s, c in document.codes],
        )


def _remove(session: Session, code: str, language: str) -> None:
    existing = _existing(session, code, language)
    if existing is None:
        return
    document_id, old = existing
    _delete_codes(session, document_id)
    session.execute(text("DELETE FROM search_documents WHERE id = :id"), {"id": document_id})
    _add_terms(session, Counter(old.terms()), -1)


def _delete_codes(session: Session, document_id: int) -> None:
    session.execute(text("DELETE FROM search_codes WHERE document_id = :id"), {"id": document_id})


def _add_terms(session: Session, counts: Counter[str], sign: int) -> None:
    if not counts:
        return
    session.execute(
        text(
            "INSERT INTO search_terms (term, documents) VALUES (:term, :n) "
            "ON CONFLICT (term) DO UPDATE "
            "SET documents = search_terms.documents + excluded.documents"
        ),
        [{"term": term, "n": sign * n} for term, n in counts.items()],
    )
    if sign < 0:
        session.execute(text("DELETE FROM search_terms WHERE documents <= 0"))


def _bump_generation(session: Session) -> None:
    mark_written(session)
    session.execute(text("UPDATE search_state SET generation = generation + 1 WHERE id = 1"))
