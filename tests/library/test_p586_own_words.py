"""P586 in our own words: no 8-word run of what a reader sees is shared with the reference sheet.

Runs on a fresh clone: the reference is held only as hashes (p586_reference_shingles.txt).
"""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from caresheet.authoring.parse import read_file
from caresheet.model.sheet import Sheet
from caresheet.render.html import render_page, render_print, sheet_page
from caresheet.render.text import render_text
from caresheet.web.deps import chrome_for
from p586_shingles import HASH_FILE, reference_hashes, shared_with_reference

LIBRARY = Path(__file__).resolve().parents[2] / "src" / "caresheet" / "library"
REPO = Path(__file__).resolve().parents[2]
P586 = read_file(LIBRARY / "P586.en.md").sheet
SHEETS = {"en": P586, "es": read_file(LIBRARY / "P586.es.md", base=P586).sheet}


class _Text(HTMLParser):
    """The words a reader sees on a page: text nodes, not scripts or styles."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hidden += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self.hidden -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def page_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


def readings(sheet: Sheet) -> dict[str, str]:
    """Each form a reader meets: plain text and the pages, unset and filled in."""
    filled = {"lie_flat_hours": "2", "clinic_phone": "555-0100"}
    return {
        "text": render_text(sheet, {}),
        "text filled": render_text(sheet, filled),
        "page": page_text(render_page(sheet_page(sheet, {}), {"chrome_for": chrome_for})),
        "print page": page_text(render_print(sheet_page(sheet, filled))),
    }


@pytest.mark.parametrize("language", ["en", "es"])
def test_no_8_word_run_of_the_reference_is_shared(language: str) -> None:
    for form, text in readings(SHEETS[language]).items():
        assert shared_with_reference(text) == set(), form


def test_the_check_catches_the_old_wording() -> None:
    """The hashes do hold the reference: a sentence of it, and the old 911 line, are caught."""
    old = (
        "You may have a mild headache for a day or two. "
        "Call 911 anytime you think you may need emergency care."
    )
    assert len(shared_with_reference(old)) >= 4
    assert shared_with_reference(P586.title + " " + P586.title) == set()  # the title is allowed


def _reference_dir() -> Path | None:
    """The shared reference folder beside the repository, if this machine has it."""
    beside = REPO.parent / "shared" / "reference"
    for candidate in (os.environ.get("CARESHEET_REFERENCE_DIR"), beside):
        if candidate and Path(candidate, "lumbar-puncture-care-sheet.txt").is_file():
            return Path(candidate)
    return None


def test_the_hash_file_matches_the_reference_when_it_is_here() -> None:
    """Regenerate the hashes from ../shared/reference/; skipped where that folder is absent."""
    folder = _reference_dir()
    if folder is None:
        pytest.skip("no ../shared/reference/ beside the repository (it is never copied in)")
    text = (folder / "lumbar-puncture-care-sheet.txt").read_text(encoding="utf-8")
    expected = "\n".join(reference_hashes(text)) + "\n"
    assert HASH_FILE.read_text(encoding="ascii") == expected, (
        "regenerate tests/library/p586_reference_shingles.txt with p586_shingles.reference_hashes"
    )


def test_the_hash_file_is_hashes_only() -> None:
    assert all(re.fullmatch(r"[0-9a-f]{16}", line) for line in HASH_FILE.read_text().split())
