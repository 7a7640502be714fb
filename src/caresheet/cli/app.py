"""The Typer app every command module registers on, and the one place errors become exits.

Commands raise core errors and never catch them: ``ErrorsToExits`` (the root group) turns a
``CaresheetError`` into ``error: message`` on stderr and exit code 2, once for every command,
so no command can forget. A batch of malformed files prints one ``file:line: message`` line
per file instead, as the linter does.
"""

from __future__ import annotations

import sys
from typing import Any

import typer
from typer.core import TyperGroup

from caresheet.errors import CaresheetError, SheetFilesError

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


class ErrorsToExits(TyperGroup):
    """The root command group: runs the chosen command and translates its errors."""

    def invoke(self, ctx: Any) -> Any:  # Any: typer vendors its own click.Context
        try:
            return super().invoke(ctx)
        except SheetFilesError as error:
            for problem in error.errors:
                typer.echo(str(problem), err=True)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except CaresheetError as error:
            raise fail(str(error)) from None
        except KeyboardInterrupt:
            sys.exit(EXIT_INTERRUPTED)


app = typer.Typer(
    name="caresheet",
    cls=ErrorsToExits,
    help="Care sheets for patients at home: library, search, outputs and symptom check.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    """Print one line on stderr and give the exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)
