"""The ``caresheet`` command line: each module registers its commands on the shared app."""

from __future__ import annotations

# Imported in the order `caresheet --help` lists them: the library first, the clinic last.
# isort: off
from caresheet.cli import sheets, lint, convert, search, outputs, handouts, team, ehr, clinics  # noqa: F401
# isort: on
from caresheet.cli.app import app


def main() -> None:
    app()
