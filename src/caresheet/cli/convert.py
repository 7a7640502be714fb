"""``caresheet convert``: draft sheets from a clinic's existing handouts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from caresheet.cli.app import app


@app.command()
def convert(
    files: Annotated[
        list[Path], typer.Argument(help="Handouts: .txt, .md, .html, .docx or text .pdf.")
    ],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Folder for the drafts (made if missing).")
    ] = Path("."),
    force: Annotated[
        bool, typer.Option("--force", help="Replace a draft that is already there.")
    ] = False,
) -> None:
    """Turn existing handouts into draft sheets for an author to finish.

    Writes CODE.en.md per handout (status: draft, every rule with its source line, TODO
    comments for what could not be placed) and prints what the author must check. Bad
    input (empty, binary, not UTF-8, over 5 MB, a PDF with no text) exits 2.

    Example: caresheet convert knee-discharge.docx -o drafts/
    """
    from caresheet.authoring.convert import convert_file
    from caresheet.errors import HandoutFileError

    conversions = [convert_file(path) for path in files]  # every file is read before any write
    output.mkdir(parents=True, exist_ok=True)
    for conversion in conversions:
        target = output / f"{conversion.code}.en.md"
        if target.exists() and not force:
            raise HandoutFileError(
                str(target), "already exists; move it, choose another -o folder, or use --force")
        target.write_text(conversion.text, encoding="utf-8")
        for warning in conversion.warnings:
            typer.echo(warning, err=True)
        typer.echo(
            f"{conversion.source} -> {target}: {conversion.rules} rules, "
            f"{conversion.findings} findings, {conversion.todos} TODO comments; "
            f"finish it, then run: caresheet lint {target}"
        )
