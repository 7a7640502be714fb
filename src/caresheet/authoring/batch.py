"""The one reader of many sheets at once: files and folders on disk, or texts in memory.

``caresheet import`` and ``caresheet lint`` read paths; the team's upload page reads the text
it was sent, with no temporary file. Both go through ``read_texts``, so a file means the same
thing wherever it comes from. A translation carries only words, so it can be read only beside
the sheet it translates: that base comes from the same batch when it is there, else from
``find_base`` (the store, or the folder beside the file). Every malformed file is reported,
not only the first, so an author fixes them all in one pass; the caller decides what to do
with a batch that fails.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from caresheet.authoring.parse import (
    Checked,
    Parsed,
    iter_sheet_files,
    parse,
    parse_all,
    translation_source,
)
from caresheet.errors import BadInputError, SheetFilesError, SheetFormatError
from caresheet.model.sheet import Sheet

__all__ = [
    "BaseLookup",
    "Batch",
    "LoadedSheet",
    "SheetFilesError",
    "SheetText",
    "code_of",
    "load_paths",
    "load_texts",
    "read_paths",
    "read_texts",
    "sheet_files",
]

BaseLookup = Callable[[str, str], Sheet | None]
"""``find_base(code, language)``: the sheet a translation translates, or None."""

_CODE_LINE = re.compile(r"^code:\s*['\"]?([A-Za-z0-9]+)", re.MULTILINE)


def code_of(text: str) -> str | None:
    """The ``code:`` of a sheet's text, read without parsing it (upper case), or None."""
    match = _CODE_LINE.search(text)
    return match.group(1).upper() if match else None


@dataclass(frozen=True, slots=True)
class SheetText:
    """One sheet as its author wrote it: a name for messages (``file:line``) and the text."""

    name: str
    text: str


@dataclass(frozen=True, slots=True)
class LoadedSheet:
    """One file read: the sheet, where its parts came from, and the text as the author wrote it."""

    parsed: Parsed
    source_text: str

    @property
    def sheet(self) -> Sheet:
        return self.parsed.sheet

    @property
    def path(self) -> str:
        return self.parsed.path


@dataclass(slots=True)
class Batch:
    """What reading a batch gave: every sheet that parsed, and one error per file that did not."""

    names: list[str] = field(default_factory=list)
    loaded: list[LoadedSheet] = field(default_factory=list)
    errors: list[SheetFormatError] = field(default_factory=list)
    # With ``every_error``: files with errors, read without the parts at fault, for the linter.
    partial: list[Checked] = field(default_factory=list)


def read_paths(
    paths: Iterable[Path | str], find_base: BaseLookup | None = None, *, every_error: bool = False
) -> Batch:
    """Read every sheet file under ``paths`` (files and folders); never raises for a bad file.

    ``every_error`` reports all the format errors of each file, not only its first (lint).
    """
    files = sheet_files([Path(p) for p in paths])
    texts: list[SheetText] = []
    unreadable: list[SheetFormatError] = []
    for file in files:
        try:
            texts.append(SheetText(str(file), file.read_text(encoding="utf-8-sig")))
        except (OSError, UnicodeDecodeError) as error:
            unreadable.append(SheetFormatError(str(file), 1, f"cannot read the file: {error}"))
    batch = read_texts(texts, find_base, every_error=every_error)
    batch.names = [str(file) for file in files]
    batch.errors += unreadable
    return batch


def read_texts(
    texts: Sequence[SheetText], find_base: BaseLookup | None = None, *, every_error: bool = False
) -> Batch:
    """Parse sheet texts, base languages first so a translation finds its base in the batch."""
    ordered = sorted(texts, key=lambda t: translation_source(t.text) is not None)
    batch = Batch(names=[t.name for t in ordered])
    bases: dict[tuple[str, str], Sheet] = {}
    for item in ordered:
        try:
            base = _base_for(item, bases, find_base)
            if every_error:
                checked = parse_all(item.text, item.name, base)
                if checked.errors:
                    batch.errors += checked.errors
                    if checked.parsed is not None:
                        batch.partial.append(checked)
                    continue
                assert checked.parsed is not None
                parsed = checked.parsed
            else:
                parsed = parse(item.text, item.name, base)
        except SheetFormatError as error:
            batch.errors.append(error)
            continue
        batch.loaded.append(LoadedSheet(parsed, item.text))
        if parsed.sheet.translation_of is None:
            bases.setdefault((parsed.sheet.code, parsed.sheet.language), parsed.sheet)
    return batch


def load_paths(
    paths: Iterable[Path | str], find_base: BaseLookup | None = None
) -> list[LoadedSheet]:
    """Read every sheet file under ``paths``; raise SheetFilesError if any is malformed."""
    return _checked(read_paths(paths, find_base))


def load_texts(
    texts: Sequence[SheetText], find_base: BaseLookup | None = None
) -> list[LoadedSheet]:
    """Read sheet texts; raise SheetFilesError if any is malformed."""
    return _checked(read_texts(texts, find_base))


def _checked(batch: Batch) -> list[LoadedSheet]:
    """The batch's sheets, one per code and language; else every problem, in file order."""
    errors = list(batch.errors)
    seen: dict[tuple[str, str], LoadedSheet] = {}
    for item in batch.loaded:
        key = (item.sheet.code, item.sheet.language)
        if key in seen:
            errors.append(SheetFormatError(
                item.path, item.parsed.line_of(("code",)),
                f"{key[0]} ({key[1]}) is also in {seen[key].path}; "
                "keep one file per sheet and language",
            ))
            continue
        seen[key] = item
    if errors:
        order = {name: index for index, name in enumerate(batch.names)}
        raise SheetFilesError(sorted(errors, key=lambda e: order.get(e.path, len(order))))
    return list(seen.values())


def sheet_files(paths: list[Path]) -> list[Path]:
    """The sheet files under files and folders, each once, base languages first."""
    for path in paths:
        if not path.exists():
            raise BadInputError(f"no such file or folder: {path}")
    seen: set[Path] = set()
    files: list[Path] = []
    for file in iter_sheet_files(paths):
        resolved = file.resolve()
        if resolved not in seen:
            seen.add(resolved)
            files.append(file)
    if not files:
        shown = ", ".join(str(p) for p in paths) or "(no paths given)"
        raise BadInputError(f"no sheet files (*.md) in {shown}")
    return files


def _base_for(
    item: SheetText, bases: dict[tuple[str, str], Sheet], find_base: BaseLookup | None
) -> Sheet | None:
    """The sheet a translation translates: from this batch, else from ``find_base``."""
    language = translation_source(item.text)
    code = code_of(item.text)
    if language is None or code is None:
        return None  # not a translation; or parsing reports the missing code at its line
    if (code, language) in bases:
        return bases[(code, language)]
    base = find_base(code, language) if find_base is not None else None
    if base is None:
        raise SheetFormatError(
            item.name, _line_of(item.text, "translation_of:"),
            f"this translates {code} ({language}), which is neither in the files being read "
            "nor stored; import that sheet first, or together with this file",
        )
    return base


def _line_of(text: str, prefix: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(prefix):
            return number
    return 1
