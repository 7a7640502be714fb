"""Sheets for the render tests, parsed from the shipped library files (no store needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from caresheet.authoring.parse import iter_sheet_files, read_file
from caresheet.model.sheet import Sheet

LIBRARY = Path(__file__).resolve().parents[2] / "src" / "caresheet" / "library"
FILLED = {"lie_flat_hours": "2", "clinic_phone": "555-0100"}


def library_sheets() -> list[Sheet]:
    """Every shipped sheet, translations read with the sheet they translate."""
    bases: dict[str, Sheet] = {}
    sheets: list[Sheet] = []
    for path in iter_sheet_files([LIBRARY]):
        text = path.read_text(encoding="utf-8")
        code = next(
            line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("code:")
        )
        sheet = read_file(path, base=bases.get(code)).sheet
        if sheet.translation_of is None:
            bases[code] = sheet
        sheets.append(sheet)
    return sheets


@pytest.fixture(scope="session")
def p586_es(p586: Sheet) -> Sheet:
    return read_file(LIBRARY / "P586.es.md", base=p586).sheet


@pytest.fixture(scope="session")
def sheets_by_lang(p586: Sheet, p586_es: Sheet) -> dict[str, Sheet]:
    return {"en": p586, "es": p586_es}


XSS = '<script>alert("x")</script>&<b>'


@pytest.fixture(scope="session")
def xss() -> str:
    """A hostile param value: markup, quotes and an ampersand."""
    return XSS


@pytest.fixture(scope="session")
def xss_sheet() -> Sheet:
    """P586 with a free-text param that the body shows, to put a hostile value through."""
    text = (LIBRARY / "P586.en.md").read_text(encoding="utf-8")
    text = text.replace(
        "params:\n",
        "params:\n  nurse_name:\n    label: Your nurse\n    type: text\n    unset: your nurse\n",
        1,
    ).replace(
        "- Call your doctor if you have any problems.",
        "- Call your doctor if you have any problems. Your nurse is {{ nurse_name }}.",
    )
    return read_file_text(text)


def read_file_text(text: str) -> Sheet:
    from caresheet.authoring.parse import parse

    return parse(text, "xss.md").sheet


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``library_sheet``: every shipped sheet, each its own test case."""
    if "library_sheet" in metafunc.fixturenames:
        sheets = library_sheets()
        metafunc.parametrize(
            "library_sheet", sheets, ids=[f"{s.code}.{s.language}" for s in sheets]
        )
