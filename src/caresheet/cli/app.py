"""The Typer app every command module registers on, and the one place errors become exits."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

import typer

from caresheet.errors import BadInputError, CaresheetError, NotFoundError, SheetFormatError

app = typer.Typer(
    name="caresheet",
    help="Care sheets for patients at home: library, search, outputs and symptom check.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

P = ParamSpec("P")
R = TypeVar("R")

EXIT_BAD_INPUT = 2


def fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    """Print one line on stderr and give the exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn a core error into one line on stderr and exit code 2; never a traceback."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (BadInputError, NotFoundError, SheetFormatError) as error:
            raise fail(str(error)) from None
        except CaresheetError as error:
            raise fail(str(error)) from None
        except KeyboardInterrupt:
            sys.exit(130)

    return wrapper
