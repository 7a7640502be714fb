"""Text PDFs, read with pypdf; a scanned PDF has no text layer, and is refused rather than guessed.

pypdf's layout mode keeps each line's indent, so the plain-text reader can tell a nested
bullet from its parent. The source "line" of an item is its line in the extracted text, pages
one after another; the page is named beside it in TODO comments.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from caresheet.authoring.convert.outline import Outline
from caresheet.authoring.convert.text import read_text
from caresheet.errors import HandoutFileError


def read_pdf(path: Path) -> Outline:
    """The outline of a text PDF; raise HandoutFileError for a PDF with no text."""
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings name nothing we can fix
    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            raise HandoutFileError(str(path), "the PDF is locked with a password; unlock it first")
        pages = [page.extract_text(extraction_mode="layout") or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as error:
        raise HandoutFileError(str(path), f"this PDF cannot be read ({error})") from None
    text = "\n".join(_dedent(page) for page in pages)
    if not text.strip():
        raise HandoutFileError(
            str(path),
            "the PDF has no text layer (a scanned image?); run it through OCR or convert the "
            "original document instead",
        )
    return read_text(text, str(path))


def _dedent(page: str) -> str:
    """Drop the page margin that layout mode keeps on every line."""
    lines = page.splitlines()
    margins = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
    cut = min(margins, default=0)
    return "\n".join(line[cut:].rstrip() for line in lines)
