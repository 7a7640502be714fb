"""Markdown handouts, read with markdown-it (the CommonMark parser the project already uses).

Headings keep their level, list items their nesting, and every block the line it starts on;
emphasis and links are reduced to their words.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.token import Token

from caresheet.authoring.convert.outline import Item, Outline


def read_markdown(text: str, source: str) -> Outline:
    """The outline of a Markdown handout; a leading ``# Title`` becomes its title."""
    tokens = MarkdownIt("commonmark").parse(text)
    outline = Outline(source)
    depth = -1  # the nesting of lists: 0 inside a top list
    heading: int | None = None
    in_item: list[bool] = []  # whether the open list item has had its first paragraph
    for index, token in enumerate(tokens):
        line = (token.map[0] + 1) if token.map else 0
        if token.type in ("bullet_list_open", "ordered_list_open"):
            depth += 1
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            depth -= 1
        elif token.type == "list_item_open":
            in_item.append(False)
        elif token.type == "list_item_close":
            in_item.pop()
        elif token.type == "heading_open":
            heading = int(token.tag[1])
        elif token.type == "heading_close":
            heading = None
        elif token.type == "inline":
            words = _words(token)
            line = _line_of(tokens, index)
            if not words:
                continue
            if heading is not None:
                if heading == 1 and outline.title is None and not outline.items:
                    outline.title, outline.title_line = words, line
                else:
                    outline.items.append(Item("heading", words, line, heading))
            elif in_item and not in_item[-1]:
                in_item[-1] = True
                outline.items.append(Item("bullet", words, line, depth))
            elif in_item and outline.items:
                # A second paragraph of a list item continues that item.
                last = outline.items[-1]
                outline.items[-1] = Item(last.kind, f"{last.text} {words}", last.line, last.level)
            else:
                outline.items.append(Item("text", words, line))
    return outline


def _line_of(tokens: list[Token], index: int) -> int:
    """The first line of the block an inline token belongs to (its opening token's map)."""
    for token in reversed(tokens[: index + 1]):
        if token.map:
            return token.map[0] + 1
    return 1


def _words(token: Token) -> str:
    parts: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return " ".join("".join(parts).split())
