"""The neutral outline every reader produces and the builder reads: what a handout says, in order.

A reader knows one file format (text, Markdown, HTML, Word, PDF) and nothing of care sheets;
the builder knows care sheets and nothing of formats. Between them is this flat list of
headings, bullets and text lines, each with the line of the source it came from, so that every
rule and every unplaced line of a draft can point back at the handout.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ItemKind = Literal["heading", "bullet", "text"]


@dataclass(frozen=True, slots=True)
class Item:
    """One heading, bullet or paragraph of a handout.

    ``level`` is the heading level (1 for the biggest; 0 when the format does not say, as
    in plain text) or the bullet's depth (0 for a top bullet).
    """

    kind: ItemKind
    text: str
    line: int
    level: int = 0


@dataclass(slots=True)
class Outline:
    """A handout read by one reader: its title (when the format marks one) and its items."""

    source: str
    title: str | None = None
    title_line: int = 1
    items: list[Item] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the reader could not read, in words
