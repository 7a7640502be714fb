"""``caresheet show``: a stored sheet, personalized, as HTML, PDF, text, SMS or FHIR."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from caresheet.cli.app import app, fail


@app.command()
def show(
    code: Annotated[str, typer.Argument(help="The sheet's code, e.g. P586.", show_default=False)],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="html, pdf, text, sms or fhir (a Bundle).")
    ] = "text",
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="NAME=VALUE, e.g. lie_flat_hours=2 (repeat)."),
    ] = None,
    lang: Annotated[
        str, typer.Option("--lang", help="en or es; English if not translated.")
    ] = "en",
    large: Annotated[bool, typer.Option("--large", help="Large print (16 pt and up).")] = False,
    paper: Annotated[str, typer.Option("--paper", help="letter or a4 (html, pdf).")] = "letter",
    qr_url: Annotated[
        str | None, typer.Option("--qr-url", help="Link for the QR code on print and PDF.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file, not stdout.")
    ] = None,
) -> None:
    """Print a sheet in one format, filled in for a patient.

    Example: caresheet show P586 --format pdf --param lie_flat_hours=2
    --param clinic_phone=555-0100 --lang es -o p586.pdf
    """
    # Rendering pulls in WeasyPrint; import it here so every other command starts fast.
    from caresheet import outputs
    from caresheet.config import database_url
    from caresheet.model import personalize
    from caresheet.store.db import Store

    chosen = outputs.check_format(fmt)
    options = outputs.Options(large=large, paper=outputs.check_paper(paper), qr_url=qr_url)
    raw = personalize.parse_assignments(param or [])
    store = Store.open(database_url())
    try:
        with store.session(write=False) as session:
            found = outputs.find(session, code, lang)
    finally:
        store.close()
    body = outputs.render(found, chosen, raw, options)
    if found.notice:
        typer.echo(found.notice, err=True)
    if output is not None:
        try:
            output.write_bytes(body)
        except OSError as error:
            raise fail(f"cannot write {output}: {error.strerror or error}") from None
    elif chosen == "pdf" and sys.stdout.isatty():
        raise fail("a PDF is binary: write it to a file with -o FILE")
    else:
        sys.stdout.buffer.write(body if body.endswith(b"\n") or chosen == "pdf" else body + b"\n")
        sys.stdout.buffer.flush()
