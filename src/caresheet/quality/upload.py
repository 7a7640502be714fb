"""An uploaded sheet text checked in one call a worker process can run: parse, lint, and the
parsed sheet to store when it is clean.

Parsing and linting are pure CPU (the readability checks most of all), so the team's upload
page runs ``check_upload`` in ``caresheet.render.pool`` rather than in the server; only the
database write stays in the server. Everything crossing the process boundary is a plain value:
the stored sheet a translation is read against goes in, and failures come back as text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from caresheet.authoring.batch import LoadedSheet, SheetText, load_texts
from caresheet.errors import CaresheetError
from caresheet.library import LIBRARY_DIR
from caresheet.model.sheet import Sheet
from caresheet.quality import lint_texts
from caresheet.quality.problems import Problem


@dataclass(frozen=True)
class CheckedUpload:
    """What the check found: every lint problem, the sheets to import (only when there is no
    error), and a message when the text could not be checked at all."""

    problems: list[Problem] = field(default_factory=list)
    loaded: list[LoadedSheet] = field(default_factory=list)
    error: str | None = None

    @property
    def clean(self) -> bool:
        """Nothing stops the import."""
        return self.error is None and not any(p.is_error for p in self.problems)


def check_upload(name: str, text: str, base: Sheet | None) -> CheckedUpload:
    """Lint one uploaded text as ``caresheet lint`` would; parse it for import when clean.

    ``base`` is the stored sheet the text translates (None for a sheet in its own words): the
    worker has no database, so the server looks it up first.
    """
    texts = [SheetText(name, text)]

    def find_base(code: str, language: str) -> Sheet | None:
        matches = base is not None and (base.code, base.language) == (code, language)
        return base if matches else None

    try:
        problems = lint_texts(texts, find_base).problems
    except CaresheetError as error:
        return CheckedUpload(error=str(error))
    if any(p.is_error for p in problems):
        return CheckedUpload(problems)
    try:
        return CheckedUpload(problems, load_texts(texts, find_base))
    except CaresheetError as error:
        return CheckedUpload(problems, error=str(error))


def warm_up() -> None:
    """Load the parser and the linter (and their word lists) once, in a worker process that
    is starting, so the first upload is not the one that waits for them."""
    check_upload("P586.en.md", (LIBRARY_DIR / "P586.en.md").read_text(encoding="utf-8"), None)
