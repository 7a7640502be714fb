"""The linter: checks that a sheet is complete, consistent and written in plain language.

``lint(parsed, library)`` checks one parsed sheet; ``lint_files(paths)`` and
``lint_texts(texts)`` read a batch through ``caresheet.authoring.batch`` (malformed files
become one error each, never a crash) and check its sheets together.
"""

from __future__ import annotations

from collections.abc import Sequence
from difflib import get_close_matches
from pathlib import Path

from caresheet.authoring.batch import BaseLookup, Batch, SheetText, read_paths, read_texts
from caresheet.authoring.parse import parse
from caresheet.errors import SheetFormatError
from caresheet.model.sheet import Sheet
from caresheet.quality.checks import lint, readability_parts
from caresheet.quality.problems import Level, Problem

__all__ = [
    "Level", "LintResult", "Problem", "lint", "lint_files", "lint_paths", "lint_texts",
    "readability_parts",
]


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
    """Like ``lint_paths``, with the number of files read for a summary line.

    A translation linted without its base finds the base file beside it (read, not linted).
    """
    folders = [Path(p) if Path(p).is_dir() else Path(p).parent for p in paths]
    return _linted(read_paths(paths, _beside(folders), every_error=True))


def lint_texts(texts: Sequence[SheetText], find_base: BaseLookup | None = None) -> LintResult:
    """Lint sheets held in memory (an upload); ``find_base`` gives a translation's base."""
    return _linted(read_texts(texts, find_base, every_error=True))


def _linted(batch: Batch) -> LintResult:
    """Every problem of every file, in file order then line order: an author fixes them all
    from one run. A file with format errors is still checked without the parts at fault."""
    problems = [Problem(e.path, e.line, "error", "format", e.message) for e in batch.errors]
    loaded = [item.parsed for item in batch.loaded]
    partial = [(checked.parsed, checked.dropped) for checked in batch.partial if checked.parsed]
    library = [*loaded, *(parsed for parsed, _ in partial)]
    for parsed in loaded:
        problems += lint(parsed, library)
    for parsed, dropped in partial:
        problems += [p for p in lint(parsed, library) if not _caused_by_dropping(p, dropped)]
    order = {name: index for index, name in enumerate(batch.names)}
    problems.sort(key=lambda p: (order.get(p.path, len(order)), p.line))
    return LintResult(problems, len(batch.names))


def _caused_by_dropping(problem: Problem, dropped: dict[str, set[str]]) -> bool:
    """A problem that only exists because a malformed part was left out (reported already)."""
    if problem.code == "no-emergency-rule":
        return "emergency" in dropped.get("rule_tiers", set())
    if problem.code == "unused-finding":
        # The rule left out named it, or misspelt it ("bleding" for "bleeding").
        unused = problem.message.split("'")[1] if problem.message.count("'") >= 2 else ""
        named = dropped.get("rule_findings", set())
        return bool(get_close_matches(unused, named, n=1, cutoff=0.75))
    if problem.code in ("unknown-param", "unused-param"):
        return any(f" {name} " in problem.message or f"'{name}'" in problem.message
                   for name in dropped.get("params", set()))
    if problem.code == "duplicate-code":
        return "code" in dropped
    return False


def _beside(folders: list[Path]) -> BaseLookup:
    """A base lookup that reads ``CODE.LANG.md`` from the folders being linted."""

    def find(code: str, language: str) -> Sheet | None:
        for folder in folders:
            candidate = folder / f"{code}.{language}.md"
            try:
                return parse(candidate.read_text(encoding="utf-8-sig"), str(candidate)).sheet
            except (OSError, UnicodeDecodeError, SheetFormatError):
                continue
        return None

    return find
