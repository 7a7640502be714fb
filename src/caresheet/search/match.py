"""Reading the search index: full-text matches, look-ups by sheet and clinical code.

The SQL that differs between SQLite (FTS5: ``search_fts`` over every column and the small
``search_head`` over title, aliases and keywords) and PostgreSQL (one weighted tsvector) lives
here. Phrases arrive as analyzed terms from ``caresheet.search``; they are always quoted, so
nothing a person types can become query syntax.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
import threading
import weakref
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from caresheet.search import impacts

Phrase = tuple[str, ...]
log = logging.getLogger(__name__)
# tsvector weights {D, C, B, A} in the same ratio as the FTS5 bm25 column weights (1:4:6:10).
PG_WEIGHTS = "{0.1, 0.4, 0.6, 1.0}"
BODY_WEIGHTS = "{0.1, 0.0, 0.0, 0.0}"  # the body alone, for the rare words of a split query
BODY_BM25 = "bm25(search_fts, 0.0, 0.0, 0.0, 1.0, 0.0)"  # the same on SQLite
# The lists a search reads for a phrase: on the head table (every phrase of a query with a
# common word), on every column (the phrases of a query without one), and on the bodies
# alone (the rare phrases of a query with a common word).
HEAD_LIST = ("search_head", "rank")
FULL_LIST = ("search_fts", "rank")
BODY_LIST = ("search_fts", BODY_BM25)


def language_token(language: str) -> str:
    """The term that marks a document's language in the FTS5 table (``xlangen``)."""
    return "xlang" + "".join(ch for ch in language.lower() if ch.isalnum())


@dataclass(frozen=True, slots=True)
class Indexed:
    """A sheet as the index returns it."""

    id: int
    sheet_version_id: int
    code: str
    language: str
    version: int
    status: str
    title: str
    aliases: tuple[str, ...]


def fetch(session: Session, sql: str, params: dict[str, Any] | None = None) -> list[Any]:
    """The rows of one read, in the session's transaction.

    On SQLite the statement goes straight to the driver: SQLAlchemy's own work around a
    statement (about 0.3 ms) is ten times what FTS5 needs to answer a rare word, and a search
    runs several. ``sql`` uses ``:name`` parameters, which both drivers take this way.
    """
    return fetch_on(session.connection(), sql, params)


def fetch_on(connection: Connection, sql: str, params: dict[str, Any] | None = None
             ) -> list[Any]:
    """``fetch`` on a Core connection (one that no session holds)."""
    if connection.dialect.name == "sqlite":
        driver = connection.connection.driver_connection
        assert driver is not None  # a checked-out connection always has one
        return list(driver.execute(sql, params or {}).fetchall())
    return list(connection.execute(text(sql), params or {}))


def in_list(name: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """``(:name0, :name1, …)`` and its parameters, for ``IN`` on either driver."""
    params = {f"{name}{n}": value for n, value in enumerate(values)}
    return "(" + ", ".join(f":{key}" for key in params) + ")", params


def generation(session: Session) -> int:
    """Changes whenever the index does: cached dictionaries compare it."""
    rows = fetch(session, "SELECT generation FROM search_state WHERE id = 1")
    return int(rows[0][0] or 0) if rows else 0


def _known(session: Session, generation_: int | None) -> int:
    """The change counter the caller read, else read now."""
    return generation(session) if generation_ is None else generation_


def document_count(session: Session) -> int:
    """How many sheets are indexed."""
    return int(fetch(session, "SELECT COUNT(*) FROM search_documents")[0][0] or 0)


def term_counts(session: Session) -> list[tuple[str, int]]:
    """Every dictionary term and the number of indexed sheets that use it."""
    return [(row[0], row[1]) for row in fetch(session, "SELECT term, documents FROM search_terms")]


def match(
    session: Session,
    phrases: Sequence[Phrase],
    language: str | None,
    limit: int,
    focused: Collection[Phrase] = (),
    ranked: bool = True,
    generation_: int | None = None,
) -> list[tuple[int, float]]:
    """Documents matching any phrase, best first, as (document id, score > 0).

    ``generation_`` is the index's change counter when the caller has just read it (one
    query less: a search reads it once for its cache key).

    ``ranked=False`` returns the first matches found, with falling token scores: fast
    whatever the number of matches.

    A ``focused`` phrase is looked for in titles, aliases and keywords only: a word in most
    sheets says little about which is best (its BM25 weight is near zero) yet costs a score
    for every sheet that has it, so the search planner focuses such words.
    """
    phrases = [p for p in phrases if p]
    if not phrases:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return _match_postgres(session, phrases, language, limit, focused, ranked)
    return _match_sqlite(session, phrases, language, limit, focused, ranked, generation_)


def match_all(
    session: Session,
    groups: Sequence[Sequence[Phrase]],
    language: str | None,
    limit: int,
    focused: Collection[Phrase] = (),
    generation_: int | None = None,
) -> list[tuple[int, float]]:
    """Documents with at least one phrase of every group, best first (AND of ORs)."""
    groups = [[p for p in group if p] for group in groups]
    if not groups or not all(groups):
        return []
    # With a common word in the query, every idea is looked for in the head only (short term
    # lists); a sheet with an idea only in its body is then found by match().
    if session.get_bind().dialect.name == "postgresql":
        expression = " & ".join(f"({tsquery_expression(g)})" for g in groups)
        column = "tsv_head" if focused else "tsv"
        return _rank_postgres(session, expression, language, limit, column)
    kind = HEAD_LIST if focused else FULL_LIST
    reader = impacts.Reader(session, _known(session, generation_))
    expressions = [[fts5_expression([p], None) for p in group] for group in groups]
    missing = [e for group in expressions for e in group if reader.kept(*kind, e) is None]
    wanted_before = [reader.asked_before(*kind, e) for e in missing]  # notes them all
    if not all(wanted_before):
        # A list not yet in memory would be read whole (every sheet with a common word
        # scored) to keep only the few sheets with every idea: until a second query wants
        # it, FTS5 joins the ideas itself and scores only those. Its bm25() of the AND is
        # the same sum, phrase by phrase in the same order, as the lists give.
        return _top_all_sqlite(session, kind[0], groups, language, limit)
    return impacts.top_all(
        [[reader.impact_list(*kind, e) for e in group] for group in expressions],
        limit, reader.language(language),
    )


def keeps_lists(dialect: str) -> bool:
    """Whether searches on this database rank from impact lists kept in memory: SQLite's
    do; PostgreSQL ranks in SQL (``ts_rank_cd``)."""
    return dialect == "sqlite"


def head_phrases(session: Session, min_sheets: int) -> list[Phrase]:
    """The terms of titles, aliases and keywords in at least ``min_sheets`` sheets, most
    used first (SQLite)."""
    rows = fetch(
        session,
        "SELECT term FROM search_head_vocab WHERE doc >= :least ORDER BY doc DESC, term",
        {"least": min_sheets},
    )
    return [(row[0],) for row in rows]


def warm(session: Session, wanted: Sequence[tuple[tuple[str, str], Phrase]],
         languages: Sequence[str], entries: int) -> int:
    """Read the ``wanted`` lists (in order, until about ``entries`` entries are read) and
    the masks of ``languages``, so no query waits for them; returns the entries read
    (SQLite)."""
    reader = impacts.Reader(session, generation(session))
    for language in languages:
        reader.language(language)
    read = 0
    for (table, order), phrase in wanted:
        if read >= entries:
            break
        read += len(reader.impact_list(table, order, fts5_expression([phrase], None)))
    return read


def _top_all_sqlite(
    session: Session, table: str, groups: Sequence[Sequence[Phrase]], language: str | None,
    limit: int,
) -> list[tuple[int, float]]:
    """The AND of ORs ranked by FTS5: what ``impacts.top_all`` gives."""
    expression = " AND ".join(f"({fts5_expression(group, None)})" for group in groups)
    if language is not None:
        expression += f' AND t_lang : "{language_token(language)}"'
    rows = fetch(
        session,
        f"SELECT rowid, rank FROM {table} WHERE {table} MATCH :q ORDER BY rank, rowid LIMIT :n",
        {"q": expression, "n": limit},
    )
    return [(row[0], max(-float(row[1]), 1e-9)) for row in rows]


HEAD_COLUMNS = "{t_title t_aliases t_keywords}"


def fts5_expression(
    phrases: Sequence[Phrase], language: str | None, focused: Collection[Phrase] = ()
) -> str:
    """An FTS5 MATCH string: quoted phrases joined by OR; no user text is ever an operator."""

    def quoted(phrase: Phrase) -> str:
        text_ = '"' + " ".join(phrase).replace('"', '""') + '"'
        return f"{HEAD_COLUMNS} : {text_}" if phrase in focused else text_

    joined = " OR ".join(quoted(p) for p in phrases)
    if language is None:
        return joined
    return f'({joined}) AND t_lang : "{language_token(language)}"'


def tsquery_expression(phrases: Sequence[Phrase], focused: Collection[Phrase] = ()) -> str:
    """A tsquery in its input syntax: quoted lexemes, ``<->`` within a phrase, ``|`` between;
    a focused phrase matches only weights A to C (title, aliases, keywords)."""

    def lexeme(term: str, head: bool) -> str:
        quoted = "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"
        return quoted + ":ABC" if head else quoted

    return " | ".join(
        "(" + " <-> ".join(lexeme(t, phrase in focused) for t in phrase) + ")"
        for phrase in phrases
    )


def _unranked(ids: Iterable[int]) -> list[tuple[int, float]]:
    return [(doc_id, 1.0 / (position + 100)) for position, doc_id in enumerate(ids)]


def _match_sqlite(
    session: Session, phrases: Sequence[Phrase], language: str | None, limit: int,
    focused: Collection[Phrase], ranked: bool, generation_: int | None,
) -> list[tuple[int, float]]:
    if not ranked:
        found = fetch(
            session, "SELECT rowid FROM search_fts WHERE search_fts MATCH :q LIMIT :n",
            {"q": fts5_expression(phrases, language), "n": limit},
        )
        return _unranked(row[0] for row in found)
    # Ranked from the phrases' impact lists (``caresheet.search.impacts``): the same sums
    # bm25() makes, without scoring every match of every phrase again for each query.
    reader = impacts.Reader(session, _known(session, generation_))
    among = reader.language(language)
    if not focused:
        return impacts.top_any(
            [reader.impact_list(*FULL_LIST, fts5_expression([p], None)) for p in phrases],
            limit, among,
        )
    # Split: every phrase is scored on the head table (title, aliases, keywords: short term
    # lists), and the rare phrases also on the bodies; a sheet's score is the sum.
    head = [reader.impact_list(*HEAD_LIST, fts5_expression([p], None)) for p in phrases]
    body = [reader.impact_list(*BODY_LIST, fts5_expression([p], None))
            for p in phrases if p not in focused]
    return [(doc_id, max(score, 1e-6))
            for doc_id, score in impacts.top_any([*head, *body], limit, among)]


def _match_postgres(
    session: Session, phrases: Sequence[Phrase], language: str | None, limit: int,
    focused: Collection[Phrase], ranked: bool,
) -> list[tuple[int, float]]:
    where = "AND language = :language" if language is not None else ""
    if not ranked:
        found = session.execute(
            text("SELECT id FROM search_documents, CAST(:q AS tsquery) AS q "
                 f"WHERE tsv @@ q {where} LIMIT :n"),
            {"q": tsquery_expression(phrases), "language": language, "n": limit},
        )
        return _unranked(row[0] for row in found)
    if not focused:
        return _rank_postgres(session, tsquery_expression(phrases), language, limit)
    # As on SQLite: every phrase scored on the head, the rare ones also on the bodies.
    wider = limit * 3
    scores = dict(_rank_postgres(session, tsquery_expression(phrases), language, wider,
                                 "tsv_head"))
    rare = [p for p in phrases if p not in focused]
    if rare:
        body = _rank_postgres(session, tsquery_expression(rare), language, wider, "tsv",
                              BODY_WEIGHTS)
        for doc_id, score in body:
            scores[doc_id] = scores.get(doc_id, 0.0) + score
    best = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [(doc_id, max(score, 1e-6)) for doc_id, score in best]


def _rank_postgres(
    session: Session, expression: str, language: str | None, limit: int,
    column: str = "tsv", weights: str = PG_WEIGHTS,
) -> list[tuple[int, float]]:
    where = "AND language = :language" if language is not None else ""
    rows = session.execute(
        text(
            f"SELECT id, ts_rank_cd('{weights}', {column}, q, 1) AS score "
            "FROM search_documents, CAST(:q AS tsquery) AS q "
            f"WHERE {column} @@ q {where} ORDER BY score DESC, id LIMIT :n"
        ),
        {"q": expression, "language": language, "n": limit},
    )
    # ts_rank_cd can be 0 for a match (a phrase found only by its weights): keep it > 0.
    return [(row[0], max(float(row[1]), 1e-6)) for row in rows]


# Never the body: only a snippet needs it (``Bodies``), and a sheet's row is mostly body.
_DOCUMENT_COLUMNS = "id, sheet_version_id, code, language, version, status, title, aliases"


def _indexed(row: Any) -> Indexed:
    """A row of ``_DOCUMENT_COLUMNS``, in that order."""
    id_, sheet_version_id, code, language, version, status, title, aliases = row
    return Indexed(
        id=id_, sheet_version_id=sheet_version_id, code=code, language=language,
        version=version, status=status, title=title,
        aliases=tuple(a for a in aliases.split("\n") if a),
    )


class Bodies:
    """The texts of one search's hits, read in one query when the first snippet asks.

    A search returns without them: the sheet picker and the Infobutton never show a snippet,
    and the body is most of what reading a sheet's row costs. A results page reads them
    after its session has ended, so the read opens its own connection. Each text is that of
    the version the hit found (its sheet version id): after a change to the index in
    between, a snippet shows nothing rather than another version's words. The engine is held
    weakly: a cached answer must not keep a closed store's pool (the key of every
    per-database cache) alive.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = weakref.ref(engine)
        self._versions: dict[int, int] = {}
        self._lock = threading.Lock()
        self._read: dict[int, str] | None = None

    def of(self, document: Indexed) -> Callable[[], str]:
        """What reads this hit's body (all the hits' bodies, the first time one is read)."""
        with self._lock:
            self._versions[document.id] = document.sheet_version_id
        return functools.partial(self._body, document.id)

    def _body(self, document_id: int) -> str:
        with self._lock:
            if self._read is None:
                try:
                    self._read = self._fetch()
                except (SQLAlchemyError, sqlite3.Error) as error:
                    # The results are already found: shown without snippets, not as an error.
                    log.warning("search: the hits' texts could not be read (%s)",
                                type(error).__name__)
                    self._read = {}
            return self._read.get(document_id, "")

    def _fetch(self) -> dict[int, str]:
        engine = self._engine()
        if engine is None:  # its store is gone: nothing to show
            return {}
        placeholders, params = in_list("id", list(self._versions))
        with engine.connect() as connection:
            rows = fetch_on(connection, "SELECT id, sheet_version_id, body FROM search_documents "
                            f"WHERE id IN {placeholders}", params)
        return {row[0]: row[2] for row in rows if self._versions.get(row[0]) == row[1]}


def documents(session: Session, ids: Sequence[int]) -> dict[int, Indexed]:
    """The indexed documents with these ids."""
    if not ids:
        return {}
    placeholders, params = in_list("id", list(dict.fromkeys(ids)))
    rows = fetch(
        session, f"SELECT {_DOCUMENT_COLUMNS} FROM search_documents WHERE id IN {placeholders}",
        params,
    )
    return {row[0]: _indexed(row) for row in rows}


def by_sheet_code(session: Session, code: str, language: str | None) -> list[Indexed]:
    """The indexed sheets with this content code (every language, or one)."""
    where = "AND language = :language" if language is not None else ""
    rows = fetch(
        session,
        f"SELECT {_DOCUMENT_COLUMNS} FROM search_documents WHERE code = :code {where} "
        "ORDER BY language",
        {"code": code, "language": language},
    )
    return [_indexed(row) for row in rows]


def code_forms(code: str) -> list[str]:
    """The stored forms a clinical code may have: as given, without dots, and with one dot
    at any place (``G971`` finds ``G97.1``; ICD-10-CM, the one system with dots, has one).

    Listing them lets the look-up use the index on ``search_codes.code`` instead of
    comparing every stored code without its dots.
    """
    given = code.strip().upper()
    bare = given.replace(".", "")
    dotted = [bare[:n] + "." + bare[n:] for n in range(1, len(bare))]
    return list(dict.fromkeys([given, bare, *dotted]))


def by_clinical_code(
    session: Session, system: str | None, code: str, language: str | None
) -> list[Indexed]:
    """The indexed sheets carrying a clinical code (in one system, or any).

    Codes compare without case or dots (``G97.1`` finds ``G971``), as EHRs send both.
    """
    placeholders, params = in_list("code", code_forms(code))
    conditions = [f"c.code IN {placeholders}"]
    if system is not None:
        conditions.append("c.system = :system")
    if language is not None:
        conditions.append("d.language = :language")
    columns = ", ".join(f"d.{c.strip()}" for c in _DOCUMENT_COLUMNS.split(","))
    rows = fetch(
        session,
        f"SELECT DISTINCT {columns} FROM search_codes c "
        "JOIN search_documents d ON d.id = c.document_id "
        f"WHERE {' AND '.join(conditions)} ORDER BY d.code, d.language",
        {**params, "system": system, "language": language},
    )
    return [_indexed(row) for row in rows]


def all_documents(session: Session, language: str | None) -> list[Indexed]:
    """Every indexed sheet (in one language, or all), for the A-Z list."""
    where = "WHERE language = :language" if language is not None else ""
    rows = fetch(
        session, f"SELECT {_DOCUMENT_COLUMNS} FROM search_documents {where}",
        {"language": language},
    )
    return [_indexed(row) for row in rows]
