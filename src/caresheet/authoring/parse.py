"""Read and write the text files authors edit: YAML front matter + a Markdown body.

The front matter holds what the program acts on (codes, params, findings, rules); the body
holds what the patient reads, as ``## Heading {#kind}`` sections, ``### Group`` headings
and ``-`` steps. "When should you call for help?" has no body of its own: it is generated
from the rules. Every error names the file and line and says how to fix it.

A translation is its own file with ``translation_of: en``: it carries only words (title,
aliases, questions, rule texts by id, the body) and takes codes, params, findings and rule
conditions from the sheet it translates, so the logic cannot drift between languages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from caresheet.errors import ConditionError, SheetFormatError, SheetReferenceError
from caresheet.model.sheet import (
    Group,
    Paragraph,
    Section,
    SectionKind,
    Sheet,
    Step,
    StepList,
    reference_problems,
)

SourcePath = tuple[str | int, ...]
FENCE = "---"
_SECTION_HEADING = re.compile(r"^##\s+(?P<heading>.+?)\s*(?:\{#(?P<kind>[a-z_]+)\})?\s*$")
_GROUP_HEADING = re.compile(r"^###\s+(?P<heading>.+?)\s*$")
_BULLET = re.compile(r"^(?P<indent> *)[-*]\s+(?P<text>.+)$")

# Front-matter keys in the order they are written, and which a translation may carry.
FRONT_KEYS = (
    "code",
    "language",
    "translation_of",
    "title",
    "version",
    "status",
    "reviewer",
    "reviewed_on",
    "review_note",
    "converted_from",
    "sources",
    "aliases",
    "keywords",
    "clinical_codes",
    "params",
    "findings",
    "expected",
    "milestones",
    "rules",
)
# A translation carries words only: the codes and sources come from the sheet it translates.
TRANSLATION_KEYS = set(FRONT_KEYS) - {"clinical_codes", "sources", "converted_from"}


@dataclass
class Parsed:
    """A sheet and where each of its parts came from, for messages that point at a line."""

    sheet: Sheet
    path: str
    lines: dict[SourcePath, int] = field(default_factory=dict)

    def line_of(self, where: SourcePath) -> int:
        """The line of ``where``, or of its nearest located parent."""
        return line_of(self.lines, where)


def line_of(lines: dict[SourcePath, int], where: SourcePath) -> int:
    """The line of ``where`` in a line map, or of its nearest located parent (else 1)."""
    for end in range(len(where), -1, -1):
        if where[:end] in lines:
            return lines[where[:end]]
    return 1


# ---------------------------------------------------------------- reading


def read_file(path: Path | str, base: Sheet | None = None) -> Parsed:
    """Parse one sheet file; a translation needs the sheet it translates as ``base``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise SheetFormatError(str(path), 1, f"cannot read the file: {error}") from None
    return parse(text, str(path), base)


def translation_source(text: str) -> str | None:
    """The language a file translates, read from its front matter without validating it."""
    match = re.search(r"^translation_of:\s*['\"]?([a-z-]+)", text, re.MULTILINE)
    return match.group(1) if match else None


def parse(text: str, path: str = "<sheet>", base: Sheet | None = None) -> Parsed:
    """Parse sheet text into a validated Sheet, or raise SheetFormatError at file:line."""
    front_text, front_line, body, body_line = _split(text, path)
    data, lines = _load_yaml(front_text, path, front_line)
    if data.get("translation_of") is not None:
        if base is None:
            raise SheetFormatError(
                path,
                lines.get(("translation_of",), 1),
                f"this is a translation of the {data['translation_of']!r} sheet; "
                "keep that file beside it and read both together",
            )
        data = _merge_translation(data, lines, base, path)
    data["sections"], body_lines = _parse_body(body, path, body_line)
    lines.update(body_lines)
    return Parsed(_validate(data, lines, path), path, lines)


@dataclass
class Checked:
    """Every format error of one file, and the sheet without the parts at fault (for the
    linter's other checks), or None when too little of the file could be read."""

    errors: list[SheetFormatError]
    parsed: Parsed | None
    dropped: dict[str, set[str]] = field(default_factory=dict)  # "rules"/"findings"/… -> ids


_DROPPABLE = ("rules", "findings", "params", "expected", "milestones", "clinical_codes",
              "sources", "aliases", "keywords")
_PLACEHOLDERS: dict[str, Any] = {"code": "XX", "language": "en", "title": "untitled", "version": 1}
_RETRIES = 12


def parse_all(text: str, path: str = "<sheet>", base: Sheet | None = None) -> Checked:
    """Every format error of a sheet's text in one pass, for ``caresheet lint``.

    Where ``parse`` stops at the first error, this reads on: a YAML error is reported in the
    author's words (an unquoted colon is quoted and reading goes on), a bad body line is
    reported and skipped, and every field and reference error is reported. The sheet is then
    rebuilt without the parts at fault, so the linter can still run its other checks.
    """
    try:
        front_text, front_line, body, body_line = _split(text, path)
    except SheetFormatError as error:
        return Checked([error], None)
    errors: list[SheetFormatError] = []
    data, lines = _load_yaml_all(front_text, path, front_line, errors)
    sections, body_lines = _BodyParser(path, body_line, errors).parse(body)
    if data is None:
        return Checked(errors, None)
    if data.get("translation_of") is not None:
        try:
            if base is None:
                raise SheetFormatError(
                    path, lines.get(("translation_of",), 1),
                    f"this is a translation of the {data['translation_of']!r} sheet; "
                    "keep that file beside it and read both together",
                )
            data = _merge_translation(data, lines, base, path)
        except SheetFormatError as error:
            return Checked([*errors, error], None)
    data["sections"] = sections
    lines.update(body_lines)
    return _validate_all(data, lines, path, errors)


def _validate_all(
    data: dict[str, Any], lines: dict[SourcePath, int], path: str,
    errors: list[SheetFormatError],
) -> Checked:
    """Report every field error, drop what is at fault, and check references on the rest."""
    dropped: dict[str, set[str]] = {}
    data = dict(data)
    for _attempt in range(_RETRIES):
        try:
            sheet = Sheet.model_validate(data, context={"references_later": True})
        except ValidationError as error:
            progressed = False
            for detail in error.errors():
                where: SourcePath = _real_path(tuple(detail["loc"]))
                errors.append(_field_error(detail, lines, path))
                progressed |= _drop(data, where, dropped)
            if not progressed:
                return Checked(_unique(errors), None, dropped)
            continue
        problems = reference_problems(sheet)
        if not problems:
            return Checked(_unique(errors), Parsed(sheet, path, lines), dropped)
        for problem in problems:
            label = ".".join(str(p) for p in problem.path)
            errors.append(SheetFormatError(
                path, line_of(lines, problem.path), f"{label}: {_plain(str(problem))}"))
            _drop(data, problem.path, dropped)
    return Checked(_unique(errors), None, dropped)


def _drop(data: dict[str, Any], where: SourcePath, dropped: dict[str, set[str]]) -> bool:
    """Take the part at fault out of ``data`` (a rule, a finding…); False if nothing could be."""
    if not where:
        return False
    key = where[0]
    if key in _DROPPABLE and len(where) > 1 and isinstance(data.get(key), (list, dict)):
        items = data[key]
        item = where[1]
        if isinstance(items, dict) and item in items:
            dropped.setdefault(str(key), set()).add(str(item))
            data[key] = {k: v for k, v in items.items() if k != item}
            return True
        if isinstance(items, list) and isinstance(item, int) and 0 <= item < len(items):
            value = items[item]
            name = value.get("id", item) if isinstance(value, dict) else item
            if isinstance(value, dict) and key == "rules":
                dropped.setdefault("rule_tiers", set()).add(str(value.get("tier")))
                dropped.setdefault("rule_findings", set()).update(
                    re.findall(r"[A-Za-z_][A-Za-z0-9_]*", str(value.get("when", ""))))
            dropped.setdefault(str(key), set()).add(str(name))
            data[key] = [v for i, v in enumerate(items) if i != item]
            return True
    if isinstance(key, str):
        dropped.setdefault(key, set())
    if isinstance(key, str) and key in data:
        if key in _PLACEHOLDERS:
            if data[key] == _PLACEHOLDERS[key]:
                return False
            data[key] = _PLACEHOLDERS[key]
        else:
            data.pop(key)
        return True
    if isinstance(key, str) and key in _PLACEHOLDERS:
        data[key] = _PLACEHOLDERS[key]
        return True
    return False


def _field_error(detail: Any, lines: dict[SourcePath, int], path: str) -> SheetFormatError:
    where: SourcePath = tuple(detail["loc"])
    cause = (detail.get("ctx") or {}).get("error")
    if isinstance(cause, SheetReferenceError):
        where = cause.path
    message = str(cause) if isinstance(cause, Exception) else detail["msg"]
    if detail["type"] in ("model_type", "dict_type") and detail.get("input") is None:
        message = "nothing is given here; fill in its fields under it, indented"
    if isinstance(cause, ConditionError):
        message = cause.message + f" (column {cause.column} of the 'when:' line)"
    label = ".".join(str(p) for p in where if not str(p).startswith("function-")) or "sheet"
    return SheetFormatError(path, line_of(lines, _real_path(where)), f"{label}: {_plain(message)}")


def _unique(errors: list[SheetFormatError]) -> list[SheetFormatError]:
    seen: set[tuple[int, str]] = set()
    kept = []
    for error in errors:
        if (error.line, error.message) not in seen:
            seen.add((error.line, error.message))
            kept.append(error)
    return sorted(kept, key=lambda e: e.line)


def _split(text: str, path: str) -> tuple[str, int, list[str], int]:
    lines = text.splitlines()
    if not lines or lines[0].strip() != FENCE:
        raise SheetFormatError(path, 1, "a sheet starts with a '---' line, then its front matter")
    for index in range(1, len(lines)):
        if lines[index].strip() == FENCE:
            return "\n".join(lines[1:index]), 2, lines[index + 1 :], index + 2
    raise SheetFormatError(path, 1, "the front matter has no closing '---' line")


# A sheet's front matter is at most a few levels deep (rules -> rule -> field); far deeper is
# an attack on the composer, which recurses once per level.
MAX_YAML_DEPTH = 20


class _SheetLoader(yaml.SafeLoader):
    """Safe YAML without anchors or aliases, and at most ``MAX_YAML_DEPTH`` levels deep.

    The format needs neither ``&anchor`` nor ``*alias``; refusing them stops an alias bomb
    (a few hundred bytes that expand to gigabytes), and the depth limit stops ``[[[[…`` from
    exhausting the stack. Both fail as YAML errors, so they are reported at their line.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise yaml.composer.ComposerError(
                None, None,
                "anchors and aliases (& and *) are not allowed in a sheet; write each value out",
                event.start_mark,
            )
        if self.depth >= MAX_YAML_DEPTH:
            raise yaml.composer.ComposerError(
                None, None, f"it is nested more than {MAX_YAML_DEPTH} levels deep",
                event.start_mark,
            )
        self.depth += 1
        try:
            node: yaml.Node | None = super().compose_node(parent, index)
        finally:
            self.depth -= 1
        return node


def _load_yaml(
    text: str, path: str, first_line: int
) -> tuple[dict[str, Any], dict[SourcePath, int]]:
    loader = _SheetLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        raise _yaml_error(error, text, path, first_line) from None
    finally:
        loader.dispose()
    lines: dict[SourcePath, int] = {}
    if node is None:
        raise SheetFormatError(path, first_line, "the front matter is empty; it needs code, title…")
    value = _build(loader, node, (), lines, path, first_line)
    if not isinstance(value, dict):
        raise SheetFormatError(path, first_line, "the front matter must be 'key: value' lines")
    return value, lines


def _yaml_error(
    error: yaml.MarkedYAMLError, text: str, path: str, first_line: int
) -> SheetFormatError:
    """A YAML error in the author's terms, at its line, with the fix where it is known."""
    mark = error.problem_mark or error.context_mark
    index = mark.line if mark else 0
    problem = str(error.problem or error)
    source = text.splitlines()
    colon = _colon_line(source, index)
    if "mapping values are not allowed" in problem and colon is not None:
        index, key = colon
        return SheetFormatError(
            path, first_line + index,
            f"the text after '{key}:' has a colon of its own, which YAML reads as a new field; "
            f"put the text in quotes: {key}: \"{_value_of(source[index])}\"",
        )
    known = {
        "could not find expected ':'": "a line here is not 'key: value'; add the ':' after "
        "the field's name, or indent a continued line under the one above",
        "mapping values are not allowed": "a ':' is where YAML does not expect one; put the "
        "text in quotes",
        "found character '\\t'": "a tab is used to indent; indent with spaces",
        "expected <block end>": "this line's indent does not match the lines above it; line it "
        "up with the other fields at its level",
        "found undefined alias": "'*' starts a YAML alias; put the text in quotes",
        "found unexpected end of stream": "a quote is opened and never closed",
        "did not find expected key": "this line's indent does not match the lines above it, or "
        "a '- ' item is mixed with 'key: value' lines",
    }
    for marker, words in known.items():
        if marker in problem:
            return SheetFormatError(path, first_line + index, f"front matter: {words}")
    return SheetFormatError(
        path, first_line + index, f"front matter is not valid YAML: {problem}")


def _colon_line(lines: list[str], index: int) -> tuple[int, str] | None:
    """The line (at or just above ``index``) whose unquoted value holds a second colon."""
    for at in (index, index - 1):
        if 0 <= at < len(lines):
            match = re.match(r"^\s*(?:- )?([A-Za-z_][\w-]*):\s+([^'\"\s].*:(?:\s.*)?)$", lines[at])
            if match:
                return at, match.group(1)
    return None


def _value_of(line: str) -> str:
    return line.split(":", 1)[1].strip().replace('"', '\\"')


def _load_yaml_all(
    text: str, path: str, first_line: int, errors: list[SheetFormatError]
) -> tuple[dict[str, Any] | None, dict[SourcePath, int]]:
    """Like ``_load_yaml``, noting errors: an unquoted colon is quoted and reading goes on."""
    for _attempt in range(_RETRIES):
        try:
            return _load_yaml(text, path, first_line)
        except SheetFormatError as error:
            errors.append(error)
            source = text.splitlines()
            colon = _colon_line(source, error.line - first_line)
            if colon is None or "colon of its own" not in error.message:
                return None, {}
            at, key = colon
            indent = source[at][: len(source[at]) - len(source[at].lstrip())]
            dash = "- " if source[at].lstrip().startswith("- ") else ""
            source[at] = f'{indent}{dash}{key}: "{_value_of(source[at])}"'
            text = "\n".join(source)
    return None, {}


def _build(
    loader: yaml.SafeLoader,
    node: yaml.Node,
    where: SourcePath,
    lines: dict[SourcePath, int],
    path: str,
    first_line: int,
) -> Any:
    """Build plain Python from a YAML node, noting each value's line by its path."""
    line = first_line + node.start_mark.line
    lines[where] = line
    if isinstance(node, yaml.MappingNode):
        built: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node)
            if key in built:
                raise SheetFormatError(
                    path, first_line + key_node.start_mark.line, f"{key!r} is given twice"
                )
            built[key] = _build(loader, value_node, (*where, key), lines, path, first_line)
            lines[(*where, key)] = first_line + key_node.start_mark.line
        return built
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(loader, item, (*where, i), lines, path, first_line)
            for i, item in enumerate(node.value)
        ]
    return loader.construct_object(node)


def _merge_translation(
    data: dict[str, Any], lines: dict[SourcePath, int], base: Sheet, path: str
) -> dict[str, Any]:
    """Lay a translation's words over the sheet it translates; logic comes from ``base``."""
    for key in data:
        if key not in TRANSLATION_KEYS:
            raise SheetFormatError(
                path,
                lines.get((key,), 1),
                f"{key!r} comes from the {base.language!r} sheet; a translation holds only words",
            )
    merged = base.model_dump(mode="python", exclude={"sections"})
    merged.update(
        {
            k: v
            for k, v in data.items()
            if k not in ("params", "findings", "expected", "milestones", "rules")
        }
    )
    merged["params"] = _merge_words(
        base.model_dump()["params"], data.get("params"), ("label", "unset"), "params", lines, path
    )
    merged["findings"] = _merge_words(
        base.model_dump()["findings"], data.get("findings"), ("ask",), "findings", lines, path
    )
    merged["expected"] = _merge_list(
        base.model_dump()["expected"], data.get("expected"), "expected", lines, path
    )
    merged["milestones"] = _merge_list(
        base.model_dump()["milestones"], data.get("milestones"), "milestones", lines, path
    )
    merged["rules"] = _merge_list(
        base.model_dump()["rules"], data.get("rules"), "rules", lines, path
    )
    return merged


def _merge_words(
    base: dict[str, dict[str, Any]],
    words: Any,
    keys: tuple[str, ...],
    name: str,
    lines: dict[SourcePath, int],
    path: str,
) -> dict[str, dict[str, Any]]:
    words = words or {}
    if not isinstance(words, dict):
        raise SheetFormatError(
            path, lines.get((name,), 1), f"{name!r} must map each id to its words"
        )
    for item_id, item_words in words.items():
        if item_id not in base:
            raise SheetFormatError(
                path,
                lines.get((name, item_id), 1),
                f"{item_id!r} is not in the sheet being translated; its {name}: {', '.join(base)}",
            )
        if not isinstance(item_words, dict) or set(item_words) - set(keys):
            raise SheetFormatError(
                path, lines.get((name, item_id), 1), f"translate only {', '.join(keys)} here"
            )
    return {item_id: {**item, **words.get(item_id, {})} for item_id, item in base.items()}


def _merge_list(
    base: list[dict[str, Any]], words: Any, name: str, lines: dict[SourcePath, int], path: str
) -> list[dict[str, Any]]:
    """Rules and expected items are translated by id: ``rules: {passed_out: "…"}``."""
    words = words or {}
    if not isinstance(words, dict):
        raise SheetFormatError(
            path, lines.get((name,), 1), f"{name!r} must map each id to its text"
        )
    ids = [item["id"] for item in base]
    unknown = [key for key in words if key not in ids]
    if unknown:
        raise SheetFormatError(
            path,
            lines.get((name, unknown[0]), 1),
            f"{unknown[0]!r} is not in the sheet being translated; its {name}: {', '.join(ids)}",
        )
    missing = [key for key in ids if key not in words]
    if missing:
        raise SheetFormatError(
            path, lines.get((name,), 1), f"{name} not yet translated: {', '.join(missing)}"
        )
    merged = []
    for position, item in enumerate(base):
        lines[(name, position, "text")] = lines.get((name, item["id"]), 1)
        merged.append({**item, "text": words[item["id"]]})
    return merged


def _parse_body(
    body: list[str], path: str, first_line: int
) -> tuple[list[Section], dict[SourcePath, int]]:
    return _BodyParser(path, first_line).parse(body)


class _BodyParser:
    """A small, strict Markdown reader: sections, groups, paragraphs and nested steps."""

    def __init__(
        self, path: str, first_line: int, errors: list[SheetFormatError] | None = None
    ) -> None:
        self.errors = errors  # given: note each bad line and read on; else stop at the first
        self.path = path
        self.first_line = first_line
        self.sections: list[dict[str, Any]] = []
        self.lines: dict[SourcePath, int] = {}
        self.blocks: list[Any] | None = None  # the block list now being filled
        self.where: SourcePath = ()
        self.paragraph: list[str] = []
        self.steps: list[dict[str, Any]] | None = None
        self.sub_indent = 0  # the indent of the current step's sub-steps, once one is seen

    def parse(self, body: list[str]) -> tuple[list[Section], dict[SourcePath, int]]:
        for offset, raw in enumerate(body):
            self.line_number = self.first_line + offset
            try:
                self.line(raw.rstrip())
            except SheetFormatError as error:
                if self.errors is None:
                    raise
                self.errors.append(error)
        self.close_block()
        sections = [_section(s) for s in self.sections]
        return sections, self.lines

    def fail(self, message: str) -> SheetFormatError:
        return SheetFormatError(self.path, self.line_number, message)

    def line(self, text: str) -> None:
        if not text.strip():
            self.close_block()
            return
        if "\t" in text[: len(text) - len(text.lstrip())]:
            raise self.fail("indent with spaces, not tabs: 2 spaces for a sub-step")
        if text.startswith("# "):
            raise self.fail("the title goes in the front matter's 'title:'; use '##' for sections")
        if text.startswith("## "):
            self.start_section(text)
            return
        if text.startswith("### "):
            self.start_group(text)
            return
        if text.startswith("#"):
            raise self.fail("use '## Heading {#kind}' for a section or '### Heading' for a group")
        if self.blocks is None:
            raise self.fail(
                "text before the first '## Heading {#kind}' line; start a section first"
            )
        if self.where and self.sections[-1]["kind"] == SectionKind.CALL_FOR_HELP:
            raise self.fail(
                "'When should you call for help?' is written from the rules; "
                "put each warning sign in the front matter's 'rules:'"
            )
        bullet = _BULLET.match(text)
        if bullet:
            self.add_step(len(bullet.group("indent")), bullet.group("text").strip())
        elif self.steps is not None and text.startswith("  "):
            self.continue_step(text.strip())
        else:
            self.add_paragraph_line(text.strip())

    def start_section(self, text: str) -> None:
        self.close_block()
        match = _SECTION_HEADING.match(text)
        assert match is not None  # any '## x' line matches
        kind_name = match.group("kind") or "other"
        if match.group("kind") is None and "{#" in match.group("heading"):  # e.g. {#Home_Care}
            kind_name = match.group("heading").split("{#", 1)[1].rstrip("}")
        try:
            kind = SectionKind(kind_name)
        except ValueError:
            valid = ", ".join(k.value for k in SectionKind)
            raise self.fail(f"unknown section kind {{#{kind_name}}}; use one of: {valid}") from None
        if any(s["kind"] == kind for s in self.sections) and kind != SectionKind.OTHER:
            raise self.fail(f"there is already a {{#{kind.value}}} section")
        self.sections.append(
            {"kind": kind, "heading": match.group("heading"), "blocks": [], "groups": []}
        )
        self.where = ("sections", len(self.sections) - 1)
        self.lines[self.where] = self.line_number
        self.blocks = self.sections[-1]["blocks"]

    def start_group(self, text: str) -> None:
        self.close_block()
        if not self.sections:
            raise self.fail("a '### Group' needs a '## Section' above it")
        match = _GROUP_HEADING.match(text)
        assert match is not None
        groups = self.sections[-1]["groups"]
        groups.append({"heading": match.group("heading"), "blocks": []})
        self.where = ("sections", len(self.sections) - 1, "groups", len(groups) - 1)
        self.lines[self.where] = self.line_number
        self.blocks = groups[-1]["blocks"]

    def add_paragraph_line(self, text: str) -> None:
        if self.steps is not None:
            self.close_block()
        if not self.paragraph:
            assert self.blocks is not None
            self.lines[(*self.where, "blocks", len(self.blocks))] = self.line_number
        self.paragraph.append(text)

    def add_step(self, indent: int, text: str) -> None:
        if self.paragraph:
            self.close_block()
        assert self.blocks is not None
        if self.steps is None:
            self.steps = []
            self.step_where: SourcePath = (*self.where, "blocks", len(self.blocks), "steps")
        if indent == 0:
            self.lines[(*self.step_where, len(self.steps))] = self.line_number
            self.steps.append({"text": text, "steps": []})
            self.sub_indent = indent
        elif indent in (2, 4) and self.steps and self.sub_indent in (0, indent):
            # One indent per step's sub-steps: a deeper one would be a third level, not a sibling.
            self.sub_indent = indent
            parent = self.steps[-1]
            self.lines[(*self.step_where, len(self.steps) - 1, "steps", len(parent["steps"]))] = (
                self.line_number
            )
            parent["steps"].append({"text": text, "steps": []})
        else:
            raise self.fail("indent a sub-step by 2 spaces under a step; steps go 2 levels deep")

    def continue_step(self, text: str) -> None:
        assert self.steps
        last = self.steps[-1]
        target = last["steps"][-1] if last["steps"] else last
        target["text"] += " " + text

    def close_block(self) -> None:
        if self.blocks is None:
            return
        if self.paragraph:
            self.blocks.append({"text": " ".join(self.paragraph)})
            self.paragraph = []
        if self.steps is not None:
            self.blocks.append({"steps": self.steps})
            self.steps = None


def _section(data: dict[str, Any]) -> Section:
    def blocks(items: list[Any]) -> tuple[Paragraph | StepList, ...]:
        return tuple(
            StepList(steps=tuple(_step(s) for s in b["steps"])) if "steps" in b else Paragraph(**b)
            for b in items
        )

    return Section(
        kind=data["kind"],
        heading=data["heading"],
        blocks=blocks(data["blocks"]),
        groups=tuple(
            Group(heading=g["heading"], blocks=blocks(g["blocks"])) for g in data["groups"]
        ),
    )


def _step(data: dict[str, Any]) -> Step:
    return Step(text=data["text"], steps=tuple(_step(s) for s in data["steps"]))


def _validate(data: dict[str, Any], lines: dict[SourcePath, int], path: str) -> Sheet:
    """Build the Sheet; turn the first validation error into a file:line message."""
    try:
        return Sheet.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where: SourcePath = tuple(first["loc"])
        cause = (first.get("ctx") or {}).get("error")
        if isinstance(cause, SheetReferenceError):
            where = cause.path
        message = str(cause) if isinstance(cause, Exception) else first["msg"]
        if first["type"] in ("model_type", "dict_type") and first.get("input") is None:
            message = "nothing is given here; fill in its fields under it, indented"
        if isinstance(cause, ConditionError):
            message = cause.message + f" (column {cause.column} of the 'when:' line)"
        label = ".".join(str(p) for p in where if not str(p).startswith("function-")) or "sheet"
        line = line_of(lines, _real_path(where))
        raise SheetFormatError(path, line, f"{label}: {_plain(message)}") from None


def _real_path(where: SourcePath) -> SourcePath:
    """Drop pydantic's union-branch names (e.g. 'Paragraph') from an error location."""
    return tuple(p for p in where if not (isinstance(p, str) and p[:1].isupper()))


def _plain(message: str) -> str:
    return message.removeprefix("Value error, ")


def iter_sheet_files(paths: list[Path]) -> Iterator[Path]:
    """Sheet files under the given files and folders, base languages before translations."""
    files: list[Path] = []
    for path in paths:
        files += sorted(path.rglob("*.md")) if path.is_dir() else [path]
    with_source = [(f, _is_translation(f)) for f in files]
    yield from (f for f, translated in with_source if not translated)
    yield from (f for f, translated in with_source if translated)


def _is_translation(path: Path) -> bool:
    try:
        return translation_source(path.read_text(encoding="utf-8-sig")) is not None
    except (OSError, UnicodeDecodeError):
        return False


# ---------------------------------------------------------------- writing


def write(sheet: Sheet, base: Sheet | None = None) -> str:
    """Write a sheet in the authoring format; parsing the result gives the same sheet."""
    front = _front_matter(sheet, base)
    body = _write_body(sheet)
    dumped = yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=100)
    return f"{FENCE}\n{dumped}{FENCE}\n\n{body}"


def _front_matter(sheet: Sheet, base: Sheet | None) -> dict[str, Any]:
    data = sheet.model_dump(mode="python", exclude={"sections"}, exclude_none=False)
    data["params"] = {k: _tidy(p) for k, p in data["params"].items()}
    data["findings"] = {k: _tidy(f) for k, f in data["findings"].items()}
    data["expected"] = [_tidy(e) for e in data["expected"]]
    data["milestones"] = [_tidy(m) for m in data["milestones"]]
    data["rules"] = [
        {**{k: v for k, v in r.items() if k != "source" or v is not None}, "tier": str(r["tier"])}
        for r in data["rules"]
    ]
    data["status"] = str(data["status"])
    data["clinical_codes"] = [_tidy(c) for c in data["clinical_codes"]]
    data["sources"] = [dict(s) for s in data["sources"]]
    if not data["sources"]:
        data.pop("sources")  # most sheets outside the library cite none; keep their files short
    if sheet.translation_of is not None and base is not None:
        data["params"] = {
            k: {w: p[w] for w in ("label", "unset")} for k, p in data["params"].items()
        }
        data["findings"] = {k: {"ask": f["ask"]} for k, f in data["findings"].items()}
        data["expected"] = {e["id"]: e["text"] for e in data["expected"]}
        data["milestones"] = {m["id"]: m["text"] for m in data["milestones"]}
        data["rules"] = {r["id"]: r["text"] for r in data["rules"]}
        data.pop("clinical_codes")
        data.pop("sources", None)
    else:
        data.pop("translation_of")
    if data.get("converted_from") is None:
        data.pop("converted_from", None)
    for key in ("aliases", "keywords"):
        data[key] = list(data[key])
    return {key: data[key] for key in FRONT_KEYS if key in data}


def _tidy(item: dict[str, Any]) -> dict[str, Any]:
    """Leave out unset optional fields and write whole floats as integers."""
    tidy: dict[str, Any] = {}
    for key, value in item.items():
        if value is None or (key == "kind" and value == "yes_no"):
            continue
        tidy[key] = int(value) if isinstance(value, float) and value.is_integer() else value
    return tidy


def _write_body(sheet: Sheet) -> str:
    parts: list[str] = []
    for section in sheet.sections:
        suffix = "" if section.kind == SectionKind.OTHER else f" {{#{section.kind.value}}}"
        parts.append(f"## {section.heading}{suffix}\n")
        parts += _write_blocks(section.blocks)
        for group in section.groups:
            parts.append(f"### {group.heading}\n")
            parts += _write_blocks(group.blocks)
    return "\n".join(parts)


def _write_blocks(blocks: tuple[Paragraph | StepList, ...]) -> list[str]:
    written = []
    for block in blocks:
        if isinstance(block, Paragraph):
            written.append(block.text + "\n")
        else:
            written.append("".join(_write_step(step, 0) for step in block.steps))
    return written


def _write_step(step: Step, depth: int) -> str:
    return (
        "  " * depth + f"- {step.text}\n" + "".join(_write_step(s, depth + 1) for s in step.steps)
    )
