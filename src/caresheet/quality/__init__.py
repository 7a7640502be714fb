"""The linter: checks that a sheet is complete, consistent and written in plain language.

``lint(parsed, library)`` checks one parsed sheet; ``lint_paths(paths)`` reads files and
folders (malformed files become one error each, never a crash) and checks them together.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from caresheet.authoring.parse import Parsed, iter_sheet_files, read_file, translation_source
from caresheet.errors import BadInputError, SheetFormatError
from caresheet.model.sheet import Sheet
from caresheet.quality.checks import lint, readability_parts
from caresheet.quality.problems import Level, Problem

__all__ = [
    "Level", "LintResult", "Problem", "lint", "lint_files", "lint_paths", "readability_parts",
]

_CODE_LINE = re.compile(r"^code:\s*['\"]?([A-Za-z0-9]+)", re.MULTILINE)


class LintResult:
    """The problems found in a set of files, and how many files were read."""

    def __init__(self, problems: list[Problem], files: int) -> None:
        self.problems = problems
        self.files = files

    @property
    def errors(self) -> int:
        return sum(p.is_error for p in self.problems)

    @property
    def warnings(self) -> int:
        return len(self.problems) - self.errors

    def summary(self) -> str:
        def count(n: int, word: str) -> str:
            return f"{n} {word}{'' if n == 1 else 's'}"

        errors, warnings = count(self.errors, "error"), count(self.warnings, "warning")
        return f"{errors}, {warnings} in {count(self.files, 'file')}"


def lint_paths(paths: Sequence[Path | str]) -> list[Problem]:
    """Problems of every sheet file under ``paths`` (files or folders)."""
    return lint_files(paths).problems


def lint_files(paths: Sequence[Path | str]) -> LintResult:
    """Like ``lint_paths``, with the number of files read for a summary line."""
    roots = [Path(p) for p in paths]
    for root in roots:
        if not root.exists():
            raise BadInputError(f"no such file or folder: {root}")
    files = list(iter_sheet_files(roots))
    if not files:
        raise BadInputError(f"no sheet files (*.md) in: {', '.join(str(r) for r in roots)}")
    problems: list[Problem] = []
    library: list[Parsed] = []
    bases: dict[tuple[str, str], Sheet] = {}
    for file in files:
        try:
            parsed = read_file(file, _base_for(file, bases))
        except SheetFormatError as error:
            problems.append(Problem(error.path, error.line, "error", "format", error.message))
            continue
        library.append(parsed)
        if parsed.sheet.translation_of is None:
            bases.setdefault((parsed.sheet.code, parsed.sheet.language), parsed.sheet)
    for parsed in library:
        problems += lint(parsed, library)
    order = {str(file): index for index, file in enumerate(files)}
    problems.sort(key=lambda p: (order.get(p.path, len(order)), p.line))
    return LintResult(problems, len(files))


def _base_for(file: Path, bases: dict[tuple[str, str], Sheet]) -> Sheet | None:
    """The sheet a translation file translates, if it was read already (bases come first)."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None  # read_file reports it at line 1
    source = translation_source(text)
    code = _CODE_LINE.search(text)
    if source is None or code is None:
        return None
    key = (code.group(1), source)
    if key not in bases:  # linted alone: read the base beside it, without linting it
        beside = file.parent / f"{key[0]}.{key[1]}.md"
        try:
            bases[key] = read_file(beside).sheet
        except SheetFormatError:
            return None  # then read_file of the translation says what is missing
    return bases[key]
