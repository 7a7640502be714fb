"""``caresheet lint``: check sheet files before they are imported or published."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from caresheet.cli.app import app


@app.command()
def lint(
    paths: Annotated[list[Path], typer.Argument(help="Sheet files or folders of sheet files.")],
    strict: Annotated[bool, typer.Option("--strict", help="Fail on warnings too.")] = False,
) -> None:
    """Check sheets for missing parts, broken params and rules, and hard words.

    Prints one 'file:line: level: message' line per problem, then a summary. Exits 1 if
    there is an error (or, with --strict, a warning), 2 if a path cannot be read.

    Example: caresheet lint src/caresheet/library
    """
    from caresheet.quality import lint_files  # textstat is slow to import; only lint needs it

    result = lint_files(paths)
    for problem in result.problems:
        typer.echo(str(problem))
    typer.echo(result.summary())
    if result.errors or (strict and result.warnings):
        raise typer.Exit(1)
