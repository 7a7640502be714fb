"""What every route shares: the store, the templates and the page language.

The app opens one Store at startup (see ``app.py``) and keeps it on ``app.state``; routes take
it with ``Depends(get_store)`` so no handler opens its own database connection. The template
environment is built once, autoescaped, with the words the page chrome needs in each language
(gettext messages, like every UI word).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import fontpkg_atkinson_hyperlegible
from fastapi import Depends, Request
from fastapi import Path as PathParam
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape

from caresheet.i18n import gettext_for, per_language
from caresheet.model.wording import wording_for
from caresheet.outputs import Cache
from caresheet.store.db import Store
from caresheet.zones import local_words

PACKAGE_DIR = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"
# Served from the installed font package (``/static/fonts/...``) so no font file is copied into
# git; WeasyPrint can use the same folder.
FONT_DIR = Path(fontpkg_atkinson_hyperlegible.ROOT) / "files"

LANGUAGES = ("en", "es")
# The largest id both databases hold (PostgreSQL INTEGER): a larger one cannot name a row, and
# would fail inside the driver (a 500) instead of as a bad request.
MAX_ROW_ID = 2**31 - 1
RowId = Annotated[int, PathParam(ge=1, le=MAX_ROW_ID, description="a row id")]
"""The type of every id (and version number) in a route's path."""
DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True, slots=True)
class Chrome:
    """The words around every page (skip link, navigation, footer notes) in one language."""

    site: str
    skip: str
    nav_label: str
    home: str
    browse: str
    search: str
    sample: str
    error_heading: str
    not_found_heading: str
    go_home: str


@per_language
def chrome_for(language: str) -> Chrome:
    """The chrome words for a language (``es-MX`` uses ``es``), English when unknown."""
    gettext = gettext_for(language).gettext
    return Chrome(
        site="caresheet",  # the product's name, the same in every language
        skip=gettext("Skip to main content"),
        nav_label=gettext("Site"),
        home=gettext("Home"),
        browse=gettext("All care sheets A to Z"),
        search=gettext("Search"),
        sample=gettext("Sample content — needs clinical review before use with patients."),
        error_heading=gettext("Sorry, something is wrong"),
        not_found_heading=gettext("We cannot find that page"),
        go_home=gettext("Go to the home page to search for a care sheet"),
    )


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(["html", "htm", "xml"], default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["wording_for"] = wording_for
    env.globals["chrome_for"] = chrome_for
    # Team pages write every time as ``{{ moment | local(zone) }}``: the clinic's clock, named.
    env.filters["local"] = local_words
    return env


templates = Jinja2Templates(env=_environment())


def get_store(request: Request) -> Store:
    """The app's one Store, opened at startup."""
    store: Store = request.app.state.store
    return store


async def _app_store(request: Request) -> Store:
    """``get_store`` as a route dependency. ``async`` though it awaits nothing: FastAPI runs a
    plain ``def`` dependency in its thread pool, and that hop cost every request 0.3 ms."""
    return get_store(request)


StoreDep = Annotated[Store, Depends(_app_store)]
"""How a route takes the store: ``store: StoreDep``."""


def get_outputs(request: Request) -> Cache:
    """The app's rendered-output cache, made at startup beside the store."""
    cache: Cache = request.app.state.outputs
    return cache


def supported_language(value: str | None) -> str | None:
    """``es``, ``es-MX`` or ``ES`` -> ``es``; None for a language we have no pages in."""
    if not value:
        return None
    primary = value.strip().split("-")[0].split("_")[0].lower()
    return primary if primary in LANGUAGES else None


def accepted_languages(header: str) -> list[str]:
    """The languages of an Accept-Language header, best first (q=0 means "not this one")."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, position, tag.strip()))
    return [tag for _, _, tag in sorted(ranked)]


def page_language(request: Request) -> str:
    """The page's language: ``?lang=`` when we have it, else the browser's choice, else English."""
    chosen = supported_language(request.query_params.get("lang"))
    if chosen:
        return chosen
    for tag in accepted_languages(request.headers.get("accept-language", "")):
        found = supported_language(tag)
        if found:
            return found
    return DEFAULT_LANGUAGE


def page_context(request: Request, language: str, **values: Any) -> dict[str, Any]:
    """The context every page template needs (``lang`` drives the chrome and the 911 line)."""
    return {"request": request, "lang": language, **values}
