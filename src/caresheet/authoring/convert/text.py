"""Plain text handouts (and the text of PDFs): headings, bullets and paragraphs from layout alone.

Plain text marks structure only by layout, so this reader looks for what people type: a line
underlined with ``===`` or ``---``; a short line with no closing full stop standing alone or
right above bullets; bullet marks (``-``, ``*``, ``•``, ``o``, ``1.``, ``a)``…) whose indent
gives the nesting; lines wrapped under a bullet or a paragraph joined back to it.
"""

from __future__ import annotations

import re

from caresheet.authoring.convert.outline import Item, Outline

_BULLET = re.compile(
    r"^(?P<indent>\s*)(?:[-*+\u2022\u00b7\u2023\u25e6\u25aa\u25a0\u25cf\u2013\u2014]"
    r"|o(?=\s)|\d{1,2}[.)]|[a-z][.)](?=\s))\s+(?P<text>\S.*)$"
)
_RULE_LINE = re.compile(r"^\s*([=\-_*~#])\1{2,}\s*$")
_HEADING_WORDS = 10


def read_text(text: str, source: str) -> Outline:
    """The outline of a plain-text handout (``source`` names it in messages)."""
    lines = [line.rstrip().replace("\t", "    ") for line in text.splitlines()]
    outline = Outline(source)
    items: list[Item] = []
    bullet_indents: list[int] = []  # indents of the open bullets, outermost first
    open_kind: str | None = None  # "bullet" or "text" while a wrapped line may continue it
    open_indent = 0
    for index, line in enumerate(lines):
        number = index + 1
        if not line.strip():
            open_kind = None if open_kind == "text" else open_kind
            if open_kind == "bullet" and not _next_is_bullet(lines, index):
                open_kind = None
                bullet_indents = []
            continue
        if _RULE_LINE.match(line):
            # An underline turns the line above into a heading; a lone rule is decoration.
            if items and items[-1].line == number - 1 and items[-1].kind == "text":
                items[-1] = Item("heading", items[-1].text, items[-1].line)
            open_kind = None
            continue
        bullet = _BULLET.match(line)
        if bullet:
            indent = len(bullet.group("indent"))
            while bullet_indents and bullet_indents[-1] > indent:
                bullet_indents.pop()
            if not bullet_indents or bullet_indents[-1] < indent:
                bullet_indents.append(indent)
            depth = len(bullet_indents) - 1
            items.append(Item("bullet", bullet.group("text").strip(), number, depth))
            open_kind, open_indent = "bullet", indent
            continue
        indent = len(line) - len(line.lstrip())
        if open_kind == "bullet" and indent > open_indent and items:
            last = items[-1]
            items[-1] = Item(last.kind, f"{last.text} {line.strip()}", last.line, last.level)
            continue
        if open_kind == "text" and items and items[-1].kind == "text" and not _looks_heading(
            lines, index
        ):
            last = items[-1]
            items[-1] = Item("text", f"{last.text} {line.strip()}", last.line)
            continue
        bullet_indents = []
        if _looks_heading(lines, index):
            items.append(Item("heading", line.strip(), number))
            open_kind = None
        else:
            items.append(Item("text", line.strip(), number))
            open_kind = "text"
    outline.items = items
    return outline


def _next_is_bullet(lines: list[str], index: int) -> bool:
    for line in lines[index + 1 :]:
        if line.strip():
            return bool(_BULLET.match(line))
    return False


def _looks_heading(lines: list[str], index: int) -> bool:
    """A short line without a closing full stop, alone or right above bullets."""
    line = lines[index].strip()
    words = line.split()
    if not words or len(words) > _HEADING_WORDS or line[-1] in ".,;!" or "://" in line:
        return False
    if line.endswith(":") and not line.isupper():
        return False  # "Follow these steps:" leads into a list; it does not name a section
    before = lines[index - 1].strip() if index > 0 else ""
    after = lines[index + 1] if index + 1 < len(lines) else ""
    if _RULE_LINE.match(after):
        return True
    alone = not before and (not after.strip() or bool(_BULLET.match(after)))
    return alone or (line.isupper() and len(line) > 3)
