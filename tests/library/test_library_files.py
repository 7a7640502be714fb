"""The shipped library as files: it parses, lints clean, reads easily and loads into a store.

These are the promises a clinic relies on when it adopts the starter library: one sheet per
code, a 911 rule on every sheet, only checked clinical codes (CPT without the AMA's words),
sample content marked for review, and lay names that search can expand.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from caresheet.authoring.parse import Parsed, read_file, translation_source
from caresheet.codes import BY_NAME
from caresheet.model.sheet import Sheet, Status, Tier
from caresheet.quality import language, lint_files
from caresheet.quality.checks import readability_parts
from caresheet.render.html import sheet_page
from caresheet.render.pdf import render_pdf
from caresheet.store import sheets as stored_sheets
from caresheet.store.db import Store
from helpers import caresheet_command, require

LIBRARY = Path(__file__).resolve().parents[2] / "src" / "caresheet" / "library"
ENGLISH = sorted(LIBRARY.glob("*.en.md"))
STARTER_CODES = {"P586", *(f"CS1{n:02d}" for n in range(1, 12))}
CODE_SHAPES = {
    "snomed": r"\d{6,18}",
    "cpt": r"\d{4}[0-9FTU]",
    "icd10pcs": r"[0-9A-HJ-NP-Z]{7}",
    "icd10cm": r"[A-Z]\d[0-9A-Z](\.[0-9A-Z]{1,4})?",
    "loinc": r"\d{1,7}-\d",
}


PARSED: dict[str, Parsed] = {path.name: read_file(path) for path in ENGLISH}
SHEETS: dict[str, Sheet] = {p.sheet.code: p.sheet for p in PARSED.values()}


def test_the_starter_library_is_all_there() -> None:
    assert set(SHEETS) == STARTER_CODES


@pytest.mark.parametrize("path", sorted(LIBRARY.glob("*.md")), ids=lambda p: p.name)
def test_every_shipped_file_parses_under_its_own_name(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    source = translation_source(text)
    code = path.name.split(".")[0]
    base = None if source is None else read_file(LIBRARY / f"{code}.{source}.md").sheet
    sheet = read_file(path, base).sheet
    assert path.name == f"{sheet.code}.{sheet.language}.md"


def test_codes_and_aliases_are_unique() -> None:
    codes = [p.sheet.code for p in PARSED.values()]
    assert len(codes) == len(set(codes))
    owner: dict[str, str] = {}
    for sheet in SHEETS.values():
        for alias in sheet.aliases:
            assert owner.setdefault(alias.casefold(), sheet.code) == sheet.code, alias


@pytest.mark.parametrize("code", sorted(STARTER_CODES))
def test_every_sheet_has_an_emergency_rule(code: str) -> None:
    assert any(rule.tier is Tier.EMERGENCY for rule in SHEETS[code].rules)


@pytest.mark.parametrize("code", sorted(STARTER_CODES))
def test_clinical_codes_are_known_and_well_formed(code: str) -> None:
    sheet = SHEETS[code]
    assert sheet.clinical_codes, f"{code} has no clinical code"
    for clinical in sheet.clinical_codes:
        assert clinical.system in BY_NAME
        assert re.fullmatch(CODE_SHAPES[clinical.system], clinical.code), clinical
        if clinical.system == "cpt":
            assert clinical.display is None, f"{code}: CPT {clinical.code} carries the AMA's words"
    pairs = [(c.system, c.code) for c in sheet.clinical_codes]
    assert len(pairs) == len(set(pairs))


def test_no_clinical_code_points_at_two_sheets() -> None:
    """An EHR that sends a code must land on one sheet."""
    owner: dict[tuple[str, str], str] = {}
    for sheet in SHEETS.values():
        for clinical in sheet.clinical_codes:
            key = (clinical.system, clinical.code)
            assert owner.setdefault(key, sheet.code) == sheet.code, key


@pytest.mark.parametrize("code", sorted(STARTER_CODES))
def test_sample_content_is_marked_for_review(code: str) -> None:
    sheet = SHEETS[code]
    assert sheet.status is Status.DRAFT
    assert sheet.reviewer is None
    assert sheet.review_note is not None
    assert "sample content" in sheet.review_note.lower()
    assert "clinician must review" in sheet.review_note.lower()


@pytest.mark.parametrize("code", sorted(STARTER_CODES))
def test_params_include_the_clinic_phone(code: str) -> None:
    params = SHEETS[code].params
    assert params["clinic_phone"].type == "phone"
    for param in params.values():
        assert param.unset.strip()


def test_p586_keeps_its_fixed_finding_ids() -> None:
    assert list(SHEETS["P586"].findings) == [
        "passed_out",
        "fever",
        "stiff_neck",
        "severe_headache",
        "site_drainage",
        "numb_or_weak",
        "headache",
        "sore_back",
    ]


def test_some_sheet_asks_for_a_measured_temperature() -> None:
    numbers = [
        (sheet.code, name, finding.unit)
        for sheet in SHEETS.values()
        for name, finding in sheet.findings.items()
        if finding.kind == "number"
    ]
    assert ("CS104", "temperature", "F") in numbers


def test_the_english_library_lints_clean_with_no_warnings() -> None:
    result = lint_files([LIBRARY])
    english = [p for p in result.problems if p.path.endswith(".en.md")]
    assert english == [], "\n".join(str(p) for p in english)


@pytest.mark.parametrize("code", sorted(STARTER_CODES))
def test_every_part_reads_at_grade_6_or_lower(code: str) -> None:
    grades = {label: language.grade(text) for _, label, text in readability_parts(SHEETS[code])}
    assert max(grades.values()) <= 6.0, grades


def _vocabulary_phrases() -> set[str]:
    entries = yaml.safe_load((LIBRARY / "vocabulary.yaml").read_text(encoding="utf-8"))
    return {str(phrase).casefold() for entry in entries for phrase in entry}


@pytest.mark.parametrize("code", sorted(STARTER_CODES))
def test_every_alias_is_in_the_lay_vocabulary(code: str) -> None:
    phrases = _vocabulary_phrases()
    missing = [a for a in SHEETS[code].aliases if a.casefold() not in phrases]
    assert missing == []


@pytest.mark.parametrize(
    "words",
    [
        ("belly", "abdomen"),
        ("throw up", "vomit"),
        ("pee", "urine"),
        ("poop", "bowel movement"),
        ("shot", "injection"),
        ("numb", "numbness"),
        ("passed out", "syncope"),
    ],
)
def test_the_vocabulary_joins_patients_words_to_clinical_ones(words: tuple[str, str]) -> None:
    entries = yaml.safe_load((LIBRARY / "vocabulary.yaml").read_text(encoding="utf-8"))
    lay, clinical = words
    assert any(lay in entry and clinical in entry for entry in entries)


def test_caresheet_init_loads_all_twelve_sheets(db_url: str, tmp_path: Path) -> None:
    """The real command on a fresh database (SQLite file, then PostgreSQL) stores them as parsed."""
    env = {**os.environ, "CARESHEET_DATABASE_URL": db_url}
    done = subprocess.run(
        [*caresheet_command(), "init"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    store = Store.open(db_url)
    try:
        with store.session(write=False) as session:
            loaded = {s.code: s for s in stored_sheets.list_current(session, language="en")}
    finally:
        store.close()
    assert set(loaded) == STARTER_CODES
    for code, stored in loaded.items():
        # Installed as published samples; otherwise exactly the parsed file.
        assert stored.sample and stored.sheet.sample
        assert stored.sheet.status is Status.PUBLISHED
        assert stored.sheet.model_copy(update={
            "status": SHEETS[code].status, "sample": False}) == SHEETS[code]


def _pdf_pages(pdf: bytes, tmp_path: Path) -> int:
    require(shutil.which("pdfinfo"), "pdfinfo (apt-get install poppler-utils)")
    path = tmp_path / "sheet.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True)
    found = re.search(r"^Pages:\s+(\d+)", info.stdout, re.MULTILINE)
    assert found is not None
    return int(found.group(1))


def _filled_values(sheet: Sheet) -> dict[str, str]:
    """Every param set, numbers at their maximum, to print the longest likely handout."""
    values = {}
    for name, param in sheet.params.items():
        if param.max is not None:
            values[name] = f"{param.max:g}"
        else:
            values[name] = {"phone": "555-0100"}.get(param.type, "tomorrow morning")
    return values


@pytest.mark.parametrize("paper", ["letter", "a4"])
@pytest.mark.parametrize("code", sorted(STARTER_CODES))
def test_every_sheet_prints_on_two_pages(code: str, paper: str, tmp_path: Path) -> None:
    sheet = SHEETS[code]
    qr = f"https://caresheet.example.org/sheets/{code}"
    for values in ({}, _filled_values(sheet)):
        pdf = render_pdf(sheet_page(sheet, values, qr_url=qr), paper=paper)
        assert _pdf_pages(pdf, tmp_path) <= 2, (code, paper, values)


TRANSLATED = sorted(p for p in LIBRARY.glob("*.md") if p.name.split(".")[1] != "en")


def test_every_starter_sheet_has_a_spanish_translation() -> None:
    """Issue 16: the whole starter library in Spanish, not only P586."""
    assert {p.name.split(".")[0] for p in TRANSLATED if p.name.endswith(".es.md")} == STARTER_CODES


@pytest.mark.parametrize("path", TRANSLATED, ids=lambda p: p.name)
def test_a_translation_leaves_no_english_words_behind(path: Path) -> None:
    """A question, label or normal sign left out of a translation falls back to English
    silently; a patient reading Spanish would then meet an English question mid-check."""
    english = SHEETS[path.name.split(".")[0]]
    sheet = read_file(path, english).sheet
    assert sheet.title != english.title
    for name, finding in sheet.findings.items():
        assert finding.ask != english.findings[name].ask, name
    for name, param in sheet.params.items():
        assert param.label != english.params[name].label, name
        assert param.unset != english.params[name].unset or param.unset.isdigit(), name
    assert [s.kind for s in sheet.sections] == [s.kind for s in english.sections]
    for ours, theirs in zip(sheet.sections, english.sections, strict=True):
        assert ours.heading != theirs.heading


@pytest.mark.parametrize("path", TRANSLATED, ids=lambda p: p.name)
def test_a_translation_is_marked_for_review_in_its_language(path: Path) -> None:
    english = SHEETS[path.name.split(".")[0]]
    sheet = read_file(path, english).sheet
    assert sheet.status is Status.DRAFT
    assert sheet.reviewer is None
    assert sheet.review_note is not None
    if sheet.language == "es" and sheet.code != "P586":
        assert "Spanish-speaking clinician" in sheet.review_note


def test_the_translations_lint_with_no_errors() -> None:
    result = lint_files([LIBRARY])
    errors = [p for p in result.problems if not p.path.endswith(".en.md") and p.level == "error"]
    assert errors == [], "\n".join(str(p) for p in errors)
