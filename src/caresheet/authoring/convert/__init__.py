"""``caresheet convert``: a clinic's existing handout (.txt, .md, .html, .docx, text PDF) read
into a draft sheet in the authoring format, for an author to finish.

One module per reader turns a format into the neutral outline (``outline.py``); ``build.py``
turns the outline into the draft. Input is checked here, once, before any reader runs: a
file that is empty, too big, binary, not UTF-8 or of an unknown kind is refused with one line.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from caresheet.authoring.convert.build import Conversion, build, code_for
from caresheet.authoring.convert.docx import read_docx
from caresheet.authoring.convert.html import read_html
from caresheet.authoring.convert.markdown import read_markdown
from caresheet.authoring.convert.outline import Outline
from caresheet.authoring.convert.pdf import read_pdf
from caresheet.authoring.convert.text import read_text
from caresheet.errors import HandoutFileError

__all__ = ["MAX_BYTES", "READERS", "Conversion", "convert_file", "convert_text"]

# A handout is a few pages: 5 MB holds a long one with pictures. Anything bigger is refused
# before it is read, so a wrong file (a video, a database) cannot exhaust memory.
MAX_BYTES = 5 * 1024 * 1024

_TEXT_READERS: dict[str, Callable[[str, str], Outline]] = {
    ".txt": read_text,
    ".text": read_text,
    ".md": read_markdown,
    ".markdown": read_markdown,
    ".html": read_html,
    ".htm": read_html,
}
_FILE_READERS: dict[str, Callable[[Path], Outline]] = {".docx": read_docx, ".pdf": read_pdf}
READERS = (*_TEXT_READERS, *_FILE_READERS)


def convert_file(path: Path, code: str | None = None) -> Conversion:
    """Read one handout and build its draft sheet; raise HandoutFileError for bad input."""
    outline = read_outline(path)
    return build(outline, path.name, code or code_for(path))


def convert_text(text: str, name: str, code: str) -> Conversion:
    """Build a draft from handout text held in memory (read as ``name``'s kind of file)."""
    suffix = Path(name).suffix.lower()
    reader = _TEXT_READERS.get(suffix, read_text)
    return build(_checked_outline(reader(text, name), name), name, code)


def read_outline(path: Path) -> Outline:
    """The outline of one handout file, after the checks every format shares."""
    suffix = path.suffix.lower()
    if suffix not in READERS:
        raise HandoutFileError(
            str(path), f"cannot convert {suffix or 'a file without an extension'}; "
            f"use one of: {', '.join(READERS)}")
    try:
        size = path.stat().st_size
    except OSError as error:
        raise HandoutFileError(str(path), f"cannot read the file ({error.strerror})") from None
    if not path.is_file():
        raise HandoutFileError(str(path), "is not a file")
    if size > MAX_BYTES:
        raise HandoutFileError(
            str(path), f"the file is {size / 1024 / 1024:.1f} MB; handouts up to "
            f"{MAX_BYTES // 1024 // 1024} MB can be converted")
    if size == 0:
        raise HandoutFileError(str(path), "the file is empty")
    if suffix in _FILE_READERS:
        outline = _FILE_READERS[suffix](path)
    else:
        raw = path.read_bytes()
        if b"\x00" in raw[:8192]:
            raise HandoutFileError(str(path), f"this is a binary file, not {suffix} text")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise HandoutFileError(
                str(path), f"the text is not UTF-8 (byte {error.start + 1} cannot be read); "
                "save the file as UTF-8 and convert it again") from None
        outline = _TEXT_READERS[suffix](text, str(path))
    return _checked_outline(outline, str(path))


def _checked_outline(outline: Outline, name: str) -> Outline:
    if not outline.items and not outline.title:
        raise HandoutFileError(name, "the file has no text to convert")
    return outline
