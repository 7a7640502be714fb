"""Find the right sheet: by its code, by words, by patients' words, despite typos, by clinical code.

    search(session, query, language=None)   -> Results (hits, jump, suggestion, corrected)
    by_clinical_code(session, system, code)  -> the current sheets carrying that code
    browse(session, language)                -> every indexed sheet, A to Z

One ranking on both stores: the query is cleaned, corrected and expanded here, in Python, into
phrases of analyzed terms; the store's full-text index (FTS5 bm25 or ts_rank_cd, weighted
title > aliases > keywords > body) only scores them. Whatever the query holds (quotes, FTS
operators, SQL, emoji, NUL bytes, 10 kB of text) it becomes quoted terms, never syntax, so
search never fails on what a person typed. A repeated query is answered from the process's
cache of recent answers until the index changes (``caresheet.search.cache``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Any

from markupsafe import Markup
from sqlalchemy.orm import Session

from caresheet.codes import SYSTEMS, system_named
from caresheet.errors import BadInputError
from caresheet.i18n import gettext_for
from caresheet.search import match as matching
from caresheet.search.analysis import fold, query_stems, words
from caresheet.search.cache import answers_for
from caresheet.search.plan import (
    Phrase,
    Plan,
    plan_query,
    term_dictionary,
    vocabulary_words,
)
from caresheet.search.snippets import Snippet
from caresheet.search.typos import max_edits
from caresheet.search.vocabulary import vocabulary
from caresheet.store.sheets import StoredSheet, get_by_id

__all__ = [
    "Entry", "Hit", "Plan", "Results", "browse", "by_clinical_code", "clean", "plan_query",
    "rank", "search", "term_dictionary", "vocabulary", "words",
]

MAX_QUERY_CHARS = 500
MAX_WORDS = 24
CODE_SCORE = 1000.0
CLINICAL_CODE_SCORE = 500.0
SHEET_CODE = re.compile(r"^[A-Z][A-Z0-9]{1,15}$")
CLINICAL_CODE = re.compile(r"^[A-Z0-9][A-Z0-9.\-]{2,30}$")
LANGUAGE_ALIASES = {"sp": "es", "spa": "es", "eng": "en"}


@dataclass(frozen=True, slots=True)
class Hit:
    """One sheet found: what to show and how well it matched."""

    code: str
    language: str
    title: str
    score: float
    made_snippet: Snippet  # made when first read (``snippet``)
    status: str
    version: int
    sheet_version_id: int
    reason: str  # "code", "clinical_code" or "text"

    @property
    def snippet(self) -> Markup:
        return self.made_snippet.html()

    def as_json(self) -> dict[str, Any]:
        """The four fields of ``caresheet search --json``."""
        return {
            "code": self.code,
            "title": self.title,
            "score": round(self.score, 4),
            "snippet": str(self.snippet),
        }

    def as_dict(self) -> dict[str, Any]:
        return {**self.as_json(), "language": self.language, "status": self.status,
                "snippet": self.snippet, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Results:
    """What a search found. ``jump`` is set when the query was a sheet's code."""

    query: str
    hits: list[Hit] = field(default_factory=list)
    jump: Hit | None = None
    suggestion: str | None = None  # "did you mean", only when nothing matched
    corrected: str | None = None  # the query as searched, when typos were corrected

    def as_json(self) -> dict[str, Any]:
        return {"results": [hit.as_json() for hit in self.hits]}


@dataclass(frozen=True, slots=True)
class Entry:
    """A sheet in the A-Z list."""

    code: str
    language: str
    title: str
    status: str
    aliases: tuple[str, ...]
    letter: str

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "language": self.language, "title": self.title,
                "status": self.status, "aliases": self.aliases, "letter": self.letter}


# ---------------------------------------------------------------- the query


def clean(query: str) -> str:
    """Printable text only, at most MAX_QUERY_CHARS: NUL bytes and control characters go."""
    cut = query[: MAX_QUERY_CHARS * 4]
    kept = "".join(
        ch if unicodedata.category(ch)[0] != "C" else " " for ch in cut
    )
    return " ".join(kept.split())[:MAX_QUERY_CHARS]


def normalize_language(language: str | None) -> str | None:
    """``es``, ``ES``, ``es-MX``, ``sp`` (Infobutton) -> ``es``; empty -> None."""
    if not language or not language.strip():
        return None
    primary = language.strip().split("-")[0].split("_")[0].lower()
    return LANGUAGE_ALIASES.get(primary, primary)


def as_sheet_code(query: str) -> str | None:
    """``p586``, ``P 586``, `` cs101 `` -> the code; None when it cannot be a code."""
    compact = "".join(query.split()).upper()
    return compact if SHEET_CODE.match(compact) and any(c.isdigit() for c in compact) else None


def as_clinical_code(query: str) -> str | None:
    """A query that could be a SNOMED CT, CPT or ICD-10 code: one token with a digit."""
    token = query.strip().upper()
    if " " in token or not CLINICAL_CODE.match(token) or not any(c.isdigit() for c in token):
        return None
    return token


# ---------------------------------------------------------------- searching


def search(
    session: Session, query: str, language: str | None = None, limit: int = 20
) -> Results:
    """Sheets for a query, best first; never raises for any query text."""
    text = clean(query)
    language = normalize_language(language)
    limit = max(1, min(limit, 100))
    if not text:
        return Results(query=text)
    generation = matching.generation(session)
    answers = answers_for(session)
    key = (generation, text, language, limit)
    cached = answers.get(key) if answers is not None else None
    if isinstance(cached, Results):
        return replace(cached, hits=list(cached.hits))  # a caller may change its own list
    results = _search(session, text, language, limit, generation)
    if answers is not None:
        answers.put(key, replace(results, hits=list(results.hits)))
    return results


def _search(
    session: Session, text: str, language: str | None, limit: int, generation: int
) -> Results:
    found = _Found(matching.Bodies(session.get_bind().engine))
    jump = _by_sheet_code(session, text, language, found)
    _by_any_clinical_code(session, text, language, found)
    query_words = words(text)[:MAX_WORDS]
    plan: Plan | None = None
    if query_words:
        dictionary = term_dictionary(session, generation)
        plan = plan_query(query_words, language, dictionary, vocabulary())
        _by_text(session, plan, language, limit, found, generation)
    hits = sorted(found.hits.values(), key=lambda h: (-h.score, h.title, h.language))[:limit]
    corrected = " ".join(plan.corrected) if plan is not None and plan.changed and hits else None
    suggestion = None
    if not hits and query_words:
        suggestion = did_you_mean(session, query_words, language, generation)
    return Results(query=text, hits=hits, jump=jump, suggestion=suggestion, corrected=corrected)


@dataclass(frozen=True, slots=True)
class _Found:
    """The hits of one search so far, by document id, and what reads their bodies."""

    bodies: matching.Bodies
    hits: dict[int, Hit] = field(default_factory=dict)

    def add(self, document: matching.Indexed, score: float, reason: str,
            marks: list[Phrase], expanded: list[Phrase] | None = None) -> Hit:
        """The document as a hit, unless it already is one (found a better way first)."""
        if document.id not in self.hits:
            shown = Snippet(document.aliases, self.bodies.of(document), marks, expanded or [],
                            document.language, _also_called(document.language))
            self.hits[document.id] = Hit(
                code=document.code,
                language=document.language,
                title=document.title,
                score=score,
                made_snippet=shown,
                status=document.status,
                version=document.version,
                sheet_version_id=document.sheet_version_id,
                reason=reason,
            )
        return self.hits[document.id]


def _also_called(language: str) -> str:
    """The label before matching aliases in a snippet, in the sheet's language."""
    return gettext_for(language).gettext("Also called")


def _by_sheet_code(
    session: Session, text: str, language: str | None, found: _Found
) -> Hit | None:
    code = as_sheet_code(text)
    if code is None:
        return None
    # A code names one sheet whatever the language filter: the asked-for language first,
    # else what there is (a nurse typing CS101 on the Spanish page still reaches CS101).
    documents = matching.by_sheet_code(session, code, None)
    if not documents:
        return None
    preferred = sorted(documents, key=lambda d: (d.language != (language or "en"), d.language))
    hits = [found.add(document, CODE_SCORE - rank, "code", [])
            for rank, document in enumerate(preferred)]
    return hits[0]


def _by_any_clinical_code(
    session: Session, text: str, language: str | None, found: _Found
) -> None:
    code = as_clinical_code(text)
    if code is None:
        return
    for document in matching.by_clinical_code(session, None, code, language):
        found.add(document, CLINICAL_CODE_SCORE, "clinical_code", [])


def rank(
    session: Session, plan: Plan, language: str | None, limit: int,
    generation: int | None = None,
) -> list[tuple[int, float]]:
    """The full-text strategy: sheets with every idea of the query first; else any idea;
    else, when only common words were asked, any sheets that have them, unranked.

    ``generation`` is the index's change counter when the caller has just read it."""
    scored: list[tuple[int, float]] = []
    if generation is None:
        generation = matching.generation(session)
    if len(plan.groups) > 1:
        # "left knee gastroscopy" need not rank the thousands of sheets that say "knee".
        scored = matching.match_all(session, plan.groups, language, limit, plan.focused,
                                    generation)
    if not scored:
        scored = matching.match(session, plan.phrases, language, limit, plan.focused,
                                generation_=generation)
    if not scored and plan.focused:
        # Ranking thousands of sheets by a word they all share costs much and says nothing.
        scored = matching.match(session, plan.phrases, language, limit, ranked=False)
    return scored


def _by_text(
    session: Session, plan: Plan, language: str | None, limit: int, found: _Found,
    generation: int,
) -> None:
    scored = rank(session, plan, language, limit, generation)
    documents = matching.documents(session, [doc_id for doc_id, _ in scored])
    for doc_id, score in scored:
        if doc_id in documents:
            found.add(documents[doc_id], score, "text", plan.marks, plan.phrases)


def did_you_mean(
    session: Session, query_words: list[str], language: str | None, generation: int | None = None
) -> str | None:
    """A nearby query that finds something, built from indexed words; None if there is none."""
    dictionary = term_dictionary(session, generation)
    vocab_words = vocabulary_words(vocabulary())
    changed = False
    suggested: list[str] = []
    for word in query_words:
        known = word in vocab_words or any(s in dictionary for s in query_stems(word, language))
        fixed = None
        if not known and word.isalpha() and len(word) >= 3:
            fixed = dictionary.correct(word, max(1, max_edits(word) + 1) if len(word) > 3 else 1)
        suggested.append(fixed or word)
        changed = changed or fixed is not None
    if not changed:
        return None
    plan = plan_query(suggested, language, dictionary, vocabulary())
    if not matching.match(session, plan.phrases, language, 1, plan.focused,
                          generation_=generation):
        return None
    return " ".join(suggested)


# ---------------------------------------------------------------- clinical codes, A-Z


def by_clinical_code(
    session: Session, system: str, code: str, language: str | None = "en"
) -> list[StoredSheet]:
    """The current sheets that carry ``code`` in ``system`` (short name, FHIR URI or OID).

    Used by the Infobutton and FHIR endpoints. An unknown system is bad input; a known one
    with no sheet gives an empty list.
    """
    found = system_named(system or "")
    if found is None:
        names = ", ".join(s.name for s in SYSTEMS)
        raise BadInputError(
            f"unknown code system {system!r}; use a name ({names}), its URI or its OID"
        )
    documents = matching.by_clinical_code(session, found.name, code, normalize_language(language))
    return [get_by_id(session, document.sheet_version_id) for document in documents]


def browse(session: Session, language: str | None = None) -> list[Entry]:
    """Every indexed sheet, by title (accents and case ignored)."""
    documents = matching.all_documents(session, normalize_language(language))
    entries = [
        Entry(d.code, d.language, d.title, d.status, d.aliases, _letter(d.title))
        for d in documents
    ]
    return sorted(entries, key=lambda e: (fold(e.title), e.code, e.language))


def _letter(title: str) -> str:
    for ch in fold(title):
        if ch.isalpha() and ch.isascii():
            return ch.upper()
    return "#"
