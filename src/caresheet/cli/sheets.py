"""Commands for the library itself: init, import, export, triage and serve.

Each opens the store named by ``CARESHEET_DATABASE_URL`` (default ``./caresheet.db``), makes
one core call and prints the result; errors become one line on stderr and exit code 2.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from caresheet import sheets
from caresheet.authoring import parse
from caresheet.care import safety_net
from caresheet.care.triage import Disposition, elapsed_hours, triage
from caresheet.cli.app import app
from caresheet.config import database_url
from caresheet.errors import BadInputError, NotFoundError
from caresheet.model import personalize
from caresheet.model.sheet import Sheet
from caresheet.store import sheets as stored_sheets
from caresheet.store.db import Store

WORKER_HEALTHCHECK_SECONDS = 60
LangOption = Annotated[str, typer.Option("--lang", help="Language of the sheet (en, es).")]


def open_store() -> Store:
    """The store for this command: ``CARESHEET_DATABASE_URL`` or ``./caresheet.db``."""
    return Store.open(database_url())


@app.command()
def init(
    no_samples: Annotated[
        bool, typer.Option("--no-samples", help="Create the database only: install no samples.")
    ] = False,
) -> None:
    """Create the database (if needed) and install the shipped care sheets as published
    sample content (each page says it is not reviewed for patient use). Safe to run again;
    a sheet the clinic has its own versions of is left alone.

    Example: caresheet init --no-samples
    """
    store = open_store()
    if no_samples:
        with store.session(write=False) as session:
            count = len(stored_sheets.list_latest(session))
        store.close()
        typer.echo(f"{store.display_url}: ready, no samples installed ({count} sheets stored)")
        return
    try:
        with store.session() as session:
            outcomes = sheets.install_samples(session)
    finally:
        store.close()
    counts = Counter(o.action for o in outcomes)
    typer.echo(
        f"{store.display_url}: {len(outcomes)} sample sheets in the library "
        f"({counts['created']} new, {counts['new_version']} updated, "
        f"{counts['unchanged']} unchanged)"
    )


@app.command("import")
def import_(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Sheet files (*.md) or folders of them.", show_default=False),
    ],
    by: Annotated[
        str | None,
        typer.Option("--by", help="The author's email: they may not review these versions."),
    ] = None,
) -> None:
    """Import sheet files as drafts; a changed sheet gets a new version, an unchanged one is
    left alone. A reviewer who is not the author publishes them (/team/library).

    All or nothing: if any file is malformed, each problem is printed as file:line: message
    and nothing is saved. Without --by the author is recorded as "file import".

    Example: caresheet import library/P586.en.md library/P586.es.md --by ana@clinic.example
    """
    author = sheets.FILE_IMPORT if by is None else by.strip().lower()
    if not author or len(author) > 254 or (by is not None and "@" not in author):
        raise BadInputError(f"--by needs the author's email address, not {by!r}")
    for outcome in import_into(open_store(), paths, author):
        typer.echo(
            f"{outcome.action:<11} {outcome.code} {outcome.language} v{outcome.version}  "
            f"{outcome.path}"
        )


def import_into(
    store: Store, paths: list[Path], author: str = sheets.FILE_IMPORT
) -> list[stored_sheets.ImportOutcome]:
    """Import in one transaction; malformed files print as ``file:line: message`` lines."""
    try:
        with store.session() as session:
            outcomes = sheets.import_paths(session, paths, author=author)
            for warning in sheets.stale_translations(session, outcomes):
                typer.echo(f"warning: {warning}", err=True)
            return outcomes
    finally:
        store.close()


@app.command()
def export(
    code: Annotated[str, typer.Argument(help="The sheet's code, e.g. P586.", show_default=False)],
    lang: LangOption = "en",
    version: Annotated[
        int | None, typer.Option("--version", min=1, help="A stored version (default: current).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write to this file, not stdout.")
    ] = None,
) -> None:
    """Write a stored sheet back in the authoring format (front matter + Markdown).

    Example: caresheet export P586 --lang es --version 1 -o P586.es.md
    """
    store = open_store()
    try:
        with store.session(write=False) as session:
            stored = stored_sheets.get(session, code, lang, version)
            base = _translated_sheet(session, stored.sheet)
    finally:
        store.close()
    text = parse.write(stored.sheet, base)
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        raise BadInputError(f"cannot write {output}: {error.strerror or error}") from None


def _translated_sheet(session: Session, sheet: Sheet) -> Sheet | None:
    """For a translation, the sheet it translates (so only its words are written)."""
    if sheet.translation_of is None:
        return None
    try:
        return stored_sheets.latest(session, sheet.code, sheet.translation_of).sheet
    except NotFoundError:
        return None


@app.command("triage")
def triage_command(
    code: Annotated[str, typer.Argument(help="The sheet's code, e.g. P586.", show_default=False)],
    answer: Annotated[
        list[str] | None,
        typer.Option("--answer", "-a", help="FINDING=yes|no|unsure (repeat for each finding)."),
    ] = None,
    elapsed: Annotated[
        str | None,
        typer.Option(help="Time since the procedure: 90m, 30h, 2d or 1d6h (unknown if left out)."),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="NAME=VALUE, e.g. clinic_phone='555-0100'."),
    ] = None,
    lang: LangOption = "en",
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    note: Annotated[
        str | None,
        typer.Option(help="With --answer other_concern=yes: what else worries the patient "
                     f"(at most {safety_net.MAX_NOTE} characters; never printed)."),
    ] = None,
) -> None:
    """Run the sheet's symptom check on the answers and print what to do.

    Unsure counts as yes, and an unknown time counts every time limit as reached. Every
    check ends with the safety net: --answer other_concern=yes (anything else worrying?)
    gives at least contact.

    Example: caresheet triage P586 --answer headache=yes --answer other_concern=no --elapsed 2d
    """
    answers = parse_answers(answer or [])
    if note is not None:
        answers[safety_net.NOTE] = note
    hours = elapsed_hours(elapsed)
    store = open_store()
    try:
        with store.session(write=False) as session:
            stored = stored_sheets.current(session, code, lang)
    finally:
        store.close()
    values = personalize.check(stored.sheet, personalize.parse_assignments(param or []))
    disposition = triage(stored.sheet, answers, hours, values)
    if as_json:
        typer.echo(json.dumps(disposition_json(stored, disposition), ensure_ascii=False, indent=2))
    else:
        typer.echo(disposition_text(disposition))


def parse_answers(items: list[str]) -> dict[str, str]:
    """``FINDING=VALUE`` strings as a mapping; a malformed or repeated one is an error."""
    answers: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise BadInputError(f"write an answer as FINDING=yes|no|unsure (got {item!r})")
        if name in answers:
            raise BadInputError(f"{name!r} is answered twice; give each finding once")
        answers[name] = value
    return answers


def disposition_json(
    stored: stored_sheets.StoredSheet, disposition: Disposition
) -> dict[str, object]:
    """The disposition with the sheet it came from (code, language, version, status)."""
    return {
        **disposition.model_dump(mode="json"),
        "sheet": {
            "code": stored.code,
            "language": stored.language,
            "version": stored.version,
            "status": stored.status.value,
        },
    }


def disposition_text(disposition: Disposition) -> str:
    """A short block a person reads top down: the action first, then why."""
    lines = [disposition.action, f"({disposition.tier.value})"]
    if disposition.matched:
        lines += ["", "Because:"] + [f"  - {m.said}" for m in disposition.matched]
    if disposition.unsure_note:
        lines += ["", disposition.unsure_note]
    if disposition.normal:
        lines += ["", "Normal now:"] + [f"  - {text}" for text in disposition.normal]
    assumed = [a.text for a in disposition.assumed if a.kind != "not_asked_counted_as_no"]
    if assumed:
        lines += ["", "Assumed:"] + [f"  - {text}" for text in assumed]
    lines += ["", disposition.emergency_line]
    return "\n".join(lines)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(
        min=1, max=64, help="App processes sharing the port (use PostgreSQL for more than 1).",
    )] = 1,
) -> None:
    """Serve the web app (library, patient pages, API, FHIR) over HTTP.

    With --workers N, N processes share the port; sessions, rate limits, the rendered-output
    cache and the notification outbox all live in the database, so any process can answer
    any request. Each process also runs a notification worker (CARESHEET_WORKER=off to leave
    delivery to `caresheet worker`).

    Example: caresheet serve --host 127.0.0.1 --port 8000 --workers 2
    """
    # Migrate once here, so a bad database is one line now rather than a failed worker later.
    open_store().close()
    import uvicorn

    # uvicorn's own X-Forwarded-* handling is off: the app decides whom to believe, by
    # CARESHEET_TRUSTED_PROXIES (web/client.py), in one place.
    uvicorn.run("caresheet.web.app:create_app", factory=True, host=host, port=port,
                proxy_headers=False, workers=workers,
                # A busy machine can take longer than uvicorn's 5 s to import a new process;
                # its supervisor would then kill and restart workers forever.
                timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS)
