"""Word handouts (.docx), read with python-docx.

Word marks structure with paragraph styles: ``Title``, ``Heading 1``…, ``List Bullet``,
``List Bullet 2``…, or a list numbering with a level (``w:ilvl``). The source "line" of an
item is its paragraph's number in the document, which is how an author finds it in Word.
Tables are read cell by cell, row by row, as text.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

import docx
from docx.document import Document
from docx.opc.exceptions import PackageNotFoundError
from docx.text.paragraph import Paragraph

from caresheet.authoring.convert.outline import Item, Outline
from caresheet.authoring.convert.text import read_text
from caresheet.errors import HandoutFileError

_LEVEL = re.compile(r"(\d+)\s*$")


def read_docx(path: Path) -> Outline:
    """The outline of a Word handout."""
    try:
        document: Document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as error:
        raise HandoutFileError(
            str(path), f"this is not a Word (.docx) file that can be read ({error})"
        ) from None
    outline = Outline(str(path))
    paragraphs = list(document.paragraphs)
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                paragraphs += list(cell.paragraphs)
    if document.tables:
        outline.notes.append("tables were read cell by cell; check their text")
    for number, paragraph in enumerate(paragraphs, start=1):
        item = _item(paragraph, number)
        if item is None:
            continue
        if item.kind == "heading" and item.level == 0:  # the Title style
            if outline.title is None:
                outline.title, outline.title_line = item.text, number
                continue
            item = Item("heading", item.text, number, 1)
        outline.items.append(item)
    return outline


def _item(paragraph: Paragraph, number: int) -> Item | None:
    text = " ".join(paragraph.text.split())
    if not text:
        return None
    style = (paragraph.style.name if paragraph.style is not None else "") or ""
    lowered = style.lower()
    if lowered == "title":
        return Item("heading", text, number, 0)
    if lowered.startswith("heading"):
        match = _LEVEL.search(style)
        return Item("heading", text, number, int(match.group(1)) if match else 1)
    level = _list_level(paragraph)
    if level is not None or lowered.startswith("list"):
        if level is None:
            match = _LEVEL.search(style)
            level = int(match.group(1)) - 1 if match else 0
        return Item("bullet", text, number, level)
    # A paragraph typed with its own bullet mark ("• Rest") is read as plain text would be.
    typed = read_text(text, "").items
    if len(typed) == 1 and typed[0].kind == "bullet":
        return Item("bullet", typed[0].text, number, 0)
    return Item("text", text, number)


def _list_level(paragraph: Paragraph) -> int | None:
    numbering: Any = paragraph._p.pPr.numPr if paragraph._p.pPr is not None else None
    if numbering is None:
        return None
    level = numbering.ilvl
    value = level.val if level is not None else None
    return int(value) if isinstance(value, int) else 0
