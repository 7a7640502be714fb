"""Read many sheet files at once: folders walked, translations read against their base sheet.

A translation carries only words, so it can be read only beside the sheet it translates. That
base comes from the same batch of files when it is there, else from ``find_base`` (the store,
for a translation imported on its own). Every malformed file is reported, not only the first,
so an author fixes them all in one pass; the caller decides what to do with a batch that fails.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from caresheet.authoring.parse import Parsed, iter_sheet_files, parse, translation_source
from caresheet.errors import BadInputError, CaresheetError, SheetFormatError
from caresheet.model.sheet import Sheet

BaseLookup = Callable[[str, str], Sheet | None]
"""``find_base(code, language)``: the sheet a translation translates, or None."""

_CODE_LINE = re.compile(r"^code:\s*['\"]?([A-Za-z0-9]+)", re.MULTILINE)


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


class SheetFilesError(CaresheetError):
    """One or more files of a batch are malformed; one ``file:line: message`` line each."""

    def __init__(self, errors: list[SheetFormatError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(error) for error in errors))


def load_paths(
    paths: Iterable[Path | str], find_base: BaseLookup | None = None
) -> list[LoadedSheet]:
    """Read every sheet file under ``paths``; raise SheetFilesError if any is malformed."""
    files = sheet_files([Path(p) for p in paths])
    loaded: dict[tuple[str, str], LoadedSheet] = {}
    errors: list[SheetFormatError] = []
    for file in files:
        try:
            item = _load_one(file, loaded, find_base)
            key = (item.sheet.code, item.sheet.language)
            if key in loaded:
                raise SheetFormatError(
                    item.path, item.parsed.line_of(("code",)),
                    f"{key[0]} ({key[1]}) is also in {loaded[key].path}; "
                    "keep one file per sheet and language",
                )
            loaded[key] = item
        except SheetFormatError as error:
            errors.append(error)
    if errors:
        raise SheetFilesError(errors)
    return list(loaded.values())


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


def _load_one(
    file: Path, loaded: dict[tuple[str, str], LoadedSheet], find_base: BaseLookup | None
) -> LoadedSheet:
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SheetFormatError(str(file), 1, f"cannot read the file: {error}") from None
    base = _base_for(file, text, loaded, find_base)
    return LoadedSheet(parse(text, str(file), base), text)


def _base_for(
    file: Path, text: str, loaded: dict[tuple[str, str], LoadedSheet], find_base: BaseLookup | None
) -> Sheet | None:
    """The sheet a translation translates: from this batch, else from ``find_base``."""
    language = translation_source(text)
    if language is None:
        return None
    match = _CODE_LINE.search(text)
    if match is None:
        return None  # parsing reports the missing code at its line
    code = match.group(1).upper()
    if (code, language) in loaded:
        return loaded[(code, language)].sheet
    base = find_base(code, language) if find_base is not None else None
    if base is None:
        raise SheetFormatError(
            str(file), _line_of(text, "translation_of:"),
            f"this translates {code} ({language}), which is neither in the files being read "
            "nor stored; import that sheet first, or together with this file",
        )
    return base


def _line_of(text: str, prefix: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(prefix):
            return number
    return 1
