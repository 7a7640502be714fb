"""``caresheet search``: find sheets by code, words, lay words, typos or clinical code."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from caresheet import search as search_core
from caresheet.cli.app import app
from caresheet.config import database_url
from caresheet.store.db import Store

JSON_HELP = 'Print {"results": [{"code", "title", "score", "snippet"}]}.'


@app.command("search")
def search_command(
    query: Annotated[str, typer.Argument(help="A sheet code (P586) or words (spinal tap).")],
    lang: Annotated[
        str | None, typer.Option("--lang", help="Only sheets in this language (en, es).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
    limit: Annotated[int, typer.Option(min=1, max=100, help="How many results at most.")] = 10,
) -> None:
    """Search the library; the best match comes first.

    Example: caresheet search "spinal tap" --lang en --json
    """
    store = Store.open(database_url())
    try:
        with store.session(write=False) as session:
            results = search_core.search(session, query, language=lang, limit=limit)
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps(results.as_json(), ensure_ascii=False))
        return
    if not results.hits:
        typer.echo(f"No care sheets found for {results.query!r}.")
        if results.suggestion:
            typer.echo(f"Did you mean: {results.suggestion}?")
        return
    if results.corrected:
        typer.echo(f"Showing results for: {results.corrected}")
    for hit in results.hits:
        typer.echo(f"{hit.code}\t{hit.language}\t{hit.score:.2f}\t{hit.title}")
