"""The printed handout is the patient's own (issue 13 point 7).

The personalized PDF puts the patient's name, the procedure's date, the clinic's phone, "When
should you call for help?" and the QR code on page 1, lists the timeline's key times in
written-out dates ("Tuesday, December 1 at 4:30 p.m.: You can stop lying flat."), and still
prints on two pages at most, for every shipped sheet in English and in Spanish. Page 1 is read
back from the real PDF with pdftotext.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from caresheet.authoring.parse import read_file
from caresheet.i18n import gettext_for
from caresheet.model.sheet import Sheet
from caresheet.render.html import handout_facts, sheet_page
from caresheet.render.pdf import render_pdf
from helpers import require

LIBRARY = Path(__file__).resolve().parents[2] / "src" / "caresheet" / "library"
CODES = sorted(p.name.split(".")[0] for p in LIBRARY.glob("*.en.md"))
PROCEDURE = dt.datetime(2026, 12, 1, 14, 30, tzinfo=ZoneInfo("America/Chicago"))
PHONE = "(555) 555-0100"
NAME = "Maria Lopez"


def _sheet(code: str, lang: str) -> Sheet:
    english = read_file(LIBRARY / f"{code}.en.md").sheet
    return english if lang == "en" else read_file(LIBRARY / f"{code}.{lang}.md", english).sheet


def _pdf_text(pdf: bytes, tmp_path: Path) -> tuple[int, str]:
    require(shutil.which("pdftotext"), "pdftotext (apt-get install poppler-utils)")
    path = tmp_path / "handout.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True)
    pages = int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.MULTILINE).group(1))  # type: ignore[union-attr]
    first = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(path), "-"],
        check=True, capture_output=True, text=True,
    ).stdout
    return pages, " ".join(first.split())


def _handout(sheet: Sheet, values: dict[str, str], name: str | None = NAME) -> bytes:
    page = sheet_page(sheet, values, qr_url="https://caresheet.example.org/h/abc")
    return render_pdf(replace(page, handout=handout_facts(sheet, values, PROCEDURE, name)))


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("code", CODES)
def test_page_one_is_the_patients_own(code: str, lang: str, tmp_path: Path) -> None:
    sheet = _sheet(code, lang)
    words = gettext_for(lang).gettext
    pages, first = _pdf_text(_handout(sheet, {"clinic_phone": PHONE}), tmp_path)
    assert pages <= 2, (code, lang, pages)
    assert NAME in first
    assert PHONE in first
    assert ("December 1" if lang == "en" else "1 de diciembre") in first
    heading = next(s.heading for s in sheet.sections if s.kind.value == "call_for_help")
    assert heading in first
    assert words("If you think it could be an emergency, call 911 at any time.") in first
    assert words("Scan to open this sheet on your phone.") in first
    for rule in sheet.rules:  # every sign of every tier, whole, on page 1
        assert " ".join(rule.text.split()) in first, rule.id


def test_the_key_times_are_on_the_patients_clock(tmp_path: Path) -> None:
    english = _sheet("P586", "en")
    _, first = _pdf_text(_handout(english, {"lie_flat_hours": "2"}), tmp_path)
    assert "Tuesday, December 1 at 4:30 p.m.: You can stop lying flat." in first
    assert "Thursday, December 3 at 2:30 p.m.:" in first  # the 2-day limit
    spanish = _sheet("P586", "es")
    _, first = _pdf_text(_handout(spanish, {"lie_flat_hours": "2"}), tmp_path)
    assert "martes, 1 de diciembre a las 16:30: Ya puede dejar de estar acostado." in first


def test_no_name_given_prints_no_name_line(tmp_path: Path) -> None:
    """The name is optional (minimal personal data): without it there is no empty label."""
    _, first = _pdf_text(_handout(_sheet("P586", "en"), {}, name="  "), tmp_path)
    assert "Prepared for" not in first
    assert "Procedure date: Tuesday, December 1 at 2:30 p.m." in first
    assert "Clinic phone: your doctor's office" in first


def test_the_public_pdf_is_unchanged(tmp_path: Path) -> None:
    """A sheet printed from the library (no handout) keeps its order: recovery first."""
    sheet = _sheet("P586", "en")
    pdf = render_pdf(sheet_page(sheet, {}, qr_url="https://caresheet.example.org/sheets/P586"))
    _, first = _pdf_text(pdf, tmp_path)
    assert "Prepared for" not in first and "Key times" not in first
    assert first.index("Your recovery") < first.index("Caring for yourself at home")
