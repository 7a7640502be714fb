"""The public library: the home search box, search results, the A-Z list, health check.

Server-rendered and usable without JavaScript. A query that is a sheet's code jumps straight
to the sheet; every other query shows results, a "did you mean" or a plain "nothing found" —
never an error page, whatever was typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import text

from caresheet import search as search_core
from caresheet.store.db import Store
from caresheet.web.deps import (
    get_store,
    page_context,
    page_language,
    supported_language,
    templates,
)

router = APIRouter()


@dataclass(frozen=True, slots=True)
class PublicWords:
    """The words of the public pages, per language."""

    home_title: str
    home_heading: str
    home_intro: str
    search_label: str
    search_hint: str
    search_button: str
    browse_link: str
    results_title: str
    results_heading: str
    results_count: str  # {count}, {query}
    results_count_one: str  # {query}
    no_results: str  # {query}
    no_results_help: str
    did_you_mean: str
    showing_for: str
    empty_query: str
    browse_title: str
    browse_intro: str
    letters_label: str
    also_called: str
    draft_label: str
    language_names: dict[str, str]


WORDS: dict[str, PublicWords] = {
    "en": PublicWords(
        home_title="Find a care sheet",
        home_heading="Find your care sheet",
        home_intro="Care sheets tell you what to expect at home after a test or procedure, "
        "and when to call for help.",
        search_label="Search by care sheet code or words",
        search_hint="For example: P586, spinal tap, or colonoscopy.",
        search_button="Search",
        browse_link="See all care sheets from A to Z",
        results_title="Search results",
        results_heading="Search results",
        results_count="{count} care sheets found for “{query}”.",
        results_count_one="1 care sheet found for “{query}”.",
        no_results="No care sheets found for “{query}”.",
        no_results_help="Check the spelling, use fewer words, or try the name your doctor used.",
        did_you_mean="Did you mean",
        showing_for="Showing results for",
        empty_query="Type a care sheet code or a few words, then press Search.",
        browse_title="All care sheets A to Z",
        browse_intro="Every care sheet in the library, by title.",
        letters_label="Jump to a letter",
        also_called="Also called",
        draft_label="Sample content: needs clinical review",
        language_names={"en": "English", "es": "Spanish"},
    ),
    "es": PublicWords(
        home_title="Buscar una hoja de cuidado",
        home_heading="Encuentre su hoja de cuidado",
        home_intro="Las hojas de cuidado le dicen qué esperar en casa después de una prueba o "
        "un procedimiento, y cuándo pedir ayuda.",
        search_label="Busque por código de la hoja o por palabras",
        search_hint="Por ejemplo: P586, punción lumbar o colonoscopia.",
        search_button="Buscar",
        browse_link="Ver todas las hojas de la A a la Z",
        results_title="Resultados de la búsqueda",
        results_heading="Resultados de la búsqueda",
        results_count="{count} hojas encontradas para “{query}”.",
        results_count_one="1 hoja encontrada para “{query}”.",
        no_results="No se encontraron hojas para “{query}”.",
        no_results_help="Revise la ortografía, use menos palabras o pruebe el nombre que usó "
        "su médico.",
        did_you_mean="Quiso decir",
        showing_for="Resultados para",
        empty_query="Escriba un código o unas palabras y oprima Buscar.",
        browse_title="Todas las hojas de cuidado de la A a la Z",
        browse_intro="Todas las hojas de la biblioteca, por título.",
        letters_label="Ir a una letra",
        also_called="También se llama",
        draft_label="Contenido de muestra: necesita revisión clínica",
        language_names={"en": "inglés", "es": "español"},
    ),
}


def words_for(language: str) -> PublicWords:
    return WORDS.get(language, WORDS["en"])


StoreDep = Annotated[Store, Depends(get_store)]
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
    with store.session(write=False) as session:
        results = search_core.search(session, q, language=only)
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
