"""The public library: the home search box, search results, the A-Z list, health check.

Server-rendered and usable without JavaScript. A query that is a sheet's code jumps straight
to the sheet; every other query shows results, a "did you mean" or a plain "nothing found" —
never an error page, whatever was typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import text

from caresheet import search as search_core
from caresheet.i18n import gettext_for, language_name, per_language
from caresheet.web.deps import (
    LANGUAGES,
    StoreDep,
    page_context,
    page_language,
    supported_language,
    templates,
)

router = APIRouter()


@dataclass(frozen=True, slots=True)
class PublicWords:
    """The words of the public pages in one language (gettext messages, English the msgid)."""

    language: str
    home_title: str
    home_heading: str
    home_intro: str
    search_label: str
    search_hint: str
    search_button: str
    browse_link: str
    results_title: str
    results_heading: str
    no_results: str  # %(query)s
    no_results_help: str
    only_elsewhere: str  # %(language)s, %(query)s
    did_you_mean: str
    showing_for: str
    empty_query: str
    browse_title: str
    browse_intro: str
    letters_label: str
    also_called: str
    draft_label: str
    language_names: dict[str, str]  # each language we have pages in, named in this one

    def results_count(self, count: int, query: str) -> str:
        """The results line: one plural message, so each language gets its own plural forms."""
        message = gettext_for(self.language).ngettext(
            "%(count)s care sheet found for “%(query)s”.",
            "%(count)s care sheets found for “%(query)s”.",
            count,
        )
        return message % {"count": count, "query": query}


@per_language
def words_for(language: str) -> PublicWords:
    """The public pages' words for a language, English when there is no catalog for it."""
    gettext = gettext_for(language).gettext
    return PublicWords(
        language=language,
        home_title=gettext("Find a care sheet"),
        home_heading=gettext("Find your care sheet"),
        home_intro=gettext(
            "Care sheets tell you what to expect at home after a test or procedure, "
            "and when to call for help."
        ),
        search_label=gettext("Search by care sheet code or words"),
        search_hint=gettext("For example: P586, spinal tap, or colonoscopy."),
        search_button=gettext("Search"),
        browse_link=gettext("See all care sheets from A to Z"),
        results_title=gettext("Search results"),
        results_heading=gettext("Search results"),
        no_results=gettext("No care sheets found for “%(query)s”."),
        no_results_help=gettext(
            "Check the spelling, use fewer words, or try the name your doctor used."
        ),
        only_elsewhere=gettext(
            "No care sheets in %(language)s match “%(query)s”. "
            "These are in other languages:"
        ),
        did_you_mean=gettext("Did you mean"),
        showing_for=gettext("Showing results for"),
        empty_query=gettext("Type a care sheet code or a few words, then press Search."),
        browse_title=gettext("All care sheets A to Z"),
        browse_intro=gettext("Every care sheet in the library, by title."),
        letters_label=gettext("Jump to a letter"),
        also_called=gettext("Also called"),
        draft_label=gettext("Sample content: needs clinical review"),
        language_names={code: language_name(code, language) for code in LANGUAGES},
    )


QueryText = Annotated[str, Query(description="a sheet code (P586) or words")]
LangFilter = Annotated[
    str | None, Query(description="only sheets in this language: en or es")
]


@router.get("/", include_in_schema=False)
def home(request: Request) -> Response:
    """The one search box, for codes and words."""
    language = page_language(request)
    return templates.TemplateResponse(
        request,
        "public/home.html",
        page_context(request, language, t=words_for(language)),
    )


@router.get("/healthz", include_in_schema=False)
def healthz(store: StoreDep) -> Response:
    """For load balancers: 200 when the database answers, 503 when it does not."""
    try:
        with store.session(write=False) as session:
            session.execute(text("SELECT 1"))
    except Exception:  # any failure means "not healthy", said plainly
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
    return JSONResponse({"status": "ok", "database": store.dialect})


def _sheet_href(code: str, language: str | None) -> str:
    return f"/sheets/{code}" + (f"?lang={language}" if language and language != "en" else "")


@router.get("/search", include_in_schema=False)
def search_page(
    request: Request, store: StoreDep, q: QueryText = "", lang: LangFilter = None
) -> Response:
    """Results for a query; a sheet code goes straight to the sheet."""
    language = page_language(request)
    only = supported_language(lang)
    only_elsewhere: str | None = None
    with store.session(write=False) as session:
        results = search_core.search(session, q, language=only)
        if only is not None and results.query and not results.hits:
            # As a sheet missing in the asked language is shown in English with a notice, a
            # search with nothing in that language shows what other languages have, said so.
            wider = search_core.search(session, q)
            if wider.hits:
                results = wider
                only_elsewhere = words_for(language).only_elsewhere % {
                    "language": language_name(only, language), "query": results.query}
    if results.jump is not None:
        return RedirectResponse(_sheet_href(results.jump.code, results.jump.language), 303)
    hits = [
        {**hit.as_dict(), "href": _sheet_href(hit.code, hit.language)} for hit in results.hits
    ]
    context: dict[str, Any] = page_context(
        request,
        language,
        t=words_for(language),
        query=results.query,
        hits=hits,
        suggestion=results.suggestion,
        corrected=results.corrected,
        only_elsewhere=only_elsewhere,
        suggestion_href=_search_href(results.suggestion, only),
        draft=any(hit.status != "published" for hit in results.hits),
    )
    return templates.TemplateResponse(request, "public/search.html", context)


def _search_href(query: str | None, language: str | None) -> str | None:
    if not query:
        return None
    params = {"q": query, **({"lang": language} if language else {})}
    return "/search?" + urlencode(params)


@router.get("/browse", include_in_schema=False)
def browse(request: Request, store: StoreDep, lang: LangFilter = None) -> Response:
    """Every current sheet, A to Z by title."""
    language = page_language(request)
    only = supported_language(lang) or language
    with store.session(write=False) as session:
        entries = search_core.browse(session, language=only)
    groups: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        item = {**entry.as_dict(), "href": _sheet_href(entry.code, entry.language)}
        groups.setdefault(entry.letter, []).append(item)
    context = page_context(
        request,
        language,
        t=words_for(language),
        groups=groups,
        draft=any(entry.status != "published" for entry in entries),
    )
    return templates.TemplateResponse(request, "public/browse.html", context)


@router.get(
    "/api/search",
    responses={422: {"description": "a parameter is not valid"}},
    summary="Search care sheets by code, words, lay words or typos",
)
def api_search(
    store: StoreDep,
    q: QueryText = "",
    lang: LangFilter = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    """``{"results": [{"code","title","score","snippet"}], "suggestion": ...}``; never an error."""
    with store.session(write=False) as session:
        results = search_core.search(session, q, language=supported_language(lang), limit=limit)
    return results.as_json()
