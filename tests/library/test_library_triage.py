"""Every shipped sheet's symptom check, as clinical case tables (tests/library/cases/<CODE>.yaml).

Each table gives answers, the time since the procedure, the tier the sheet must give and
every rule that must match. The checks below also prove the tables are complete: every
rule matches somewhere, and every time limit is tried one hour before and exactly at it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from caresheet.authoring.parse import read_file
from caresheet.care.triage import Disposition, triage
from caresheet.model.condition import Time, disjuncts, parse_duration_hours, time_limits
from caresheet.model.sheet import Sheet, Tier
from caresheet.model.wording import wording_for

LIBRARY = Path(__file__).resolve().parents[2] / "src" / "caresheet" / "library"
CASE_DIR = Path(__file__).parent / "cases"
EMERGENCY_LINE = "If you think it could be an emergency, call 911 at any time."


def _load_tables() -> dict[str, list[dict[str, Any]]]:
    return {path.stem: yaml.safe_load(path.read_text()) for path in sorted(CASE_DIR.glob("*.yaml"))}


TABLES = _load_tables()
SHEETS: dict[str, Sheet] = {
    path.name.removesuffix(".en.md"): read_file(path).sheet for path in LIBRARY.glob("*.en.md")
}
# Each translation, read over its English sheet: its rules must come out the same.
TRANSLATIONS: dict[tuple[str, str], Sheet] = {
    (path.name.split(".")[0], path.name.split(".")[1]): read_file(
        path, SHEETS[path.name.split(".")[0]]
    ).sheet
    for path in sorted(LIBRARY.glob("*.md"))
    if path.name.split(".")[1] != "en"
}
CASES = [(code, case) for code, table in TABLES.items() for case in table]
TRANSLATED_CASES = [
    (code, language, case)
    for (code, language) in TRANSLATIONS
    for case in TABLES.get(code, [])
]


def _hours(case: dict[str, Any]) -> float | None:
    return None if case["elapsed"] is None else parse_duration_hours(case["elapsed"])


def run(code: str, case: dict[str, Any], params: dict[str, str] | None = None) -> Disposition:
    return triage(SHEETS[code], case["answers"], _hours(case), params)


def test_every_english_sheet_but_p586_has_a_case_table() -> None:
    # P586's table is the core's: tests/care/p586_cases.yaml.
    assert set(TABLES) == set(SHEETS) - {"P586"}


@pytest.mark.parametrize(("code", "case"), CASES, ids=[f"{code}-{c['id']}" for code, c in CASES])
def test_case(code: str, case: dict[str, Any]) -> None:
    result = run(code, case)
    assert result.tier.value == case["tier"]
    assert sorted(m.id for m in result.matched) == sorted(case["matched"])
    assert result.emergency_line == EMERGENCY_LINE
    if "normal" in case:
        texts = {e.id: e.text for e in SHEETS[code].expected}
        assert list(result.normal) == [texts[i] for i in case["normal"]]


@pytest.mark.parametrize(
    ("code", "language", "case"),
    TRANSLATED_CASES,
    ids=[f"{code}.{lang}-{c['id']}" for code, lang, c in TRANSLATED_CASES],
)
def test_case_in_translation(code: str, language: str, case: dict[str, Any]) -> None:
    """A patient reading the translation gets the same tier and rules, in their own words."""
    sheet = TRANSLATIONS[(code, language)]
    english = run(code, case)
    result = triage(sheet, case["answers"], _hours(case))
    assert result.tier.value == case["tier"] == english.tier.value
    assert sorted(m.id for m in result.matched) == sorted(case["matched"])
    assert result.emergency_line == wording_for(language).emergency_line != EMERGENCY_LINE
    texts = {rule.id: rule.text for rule in sheet.rules}
    assert [m.text for m in result.matched] == [texts[m.id] for m in result.matched]
    assert not {m.text for m in result.matched} & {m.text for m in english.matched}
    if "normal" in case:
        normal = {e.id: e.text for e in sheet.expected}
        assert list(result.normal) == [normal[i] for i in case["normal"]]


def test_every_sheet_with_a_table_is_in_spanish() -> None:
    """Issue 16: the whole starter library reads in Spanish, so every table runs twice."""
    assert {code for code, language in TRANSLATIONS if language == "es"} >= set(TABLES)


@pytest.mark.parametrize("code", sorted(TABLES))
def test_table_ids_are_unique(code: str) -> None:
    ids = [case["id"] for case in TABLES[code]]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("code", sorted(TABLES))
def test_every_rule_matches_in_some_case(code: str) -> None:
    matched = {rule for case in TABLES[code] for rule in case["matched"]}
    assert matched == {rule.id for rule in SHEETS[code].rules}


@pytest.mark.parametrize("code", sorted(TABLES))
def test_every_tier_and_finding_is_tried(code: str) -> None:
    sheet = SHEETS[code]
    tiers = {case["tier"] for case in TABLES[code]}
    assert tiers == {rule.tier.value for rule in sheet.rules} | {Tier.SELF_CARE.value}
    assert set(sheet.findings) <= {name for case in TABLES[code] for name in case["answers"]}


def _limits(sheet: Sheet) -> list[tuple[str, set[str], Time]]:
    """(rule, the findings of the alternative that holds the limit, the limit)."""
    return [
        (rule.id, part.findings(), atom)
        for rule in sheet.rules
        for part in disjuncts(rule.condition)
        for atom in time_limits(part)
    ]


@pytest.mark.parametrize("code", sorted(TABLES))
def test_every_time_limit_is_tried_on_both_sides(code: str) -> None:
    """The findings beside a limit said yes, one case within the hour before it and one at it.

    In ``(bleeding and after 12h) or heavy_bleeding`` that is ``bleeding`` alone: with
    ``heavy_bleeding`` yes too the rule matches at every hour and the limit is never tried.
    """
    sheet = SHEETS[code]
    for rule_id, findings, limit in _limits(sheet):
        others = sheet.rule(rule_id).condition.findings() - findings
        tried = [
            _hours(case)
            for case in TABLES[code]
            if findings
            and all(case["answers"].get(f) == "yes" for f in findings)
            and not any(case["answers"].get(f) in ("yes", "unsure") for f in others)
        ]
        assert limit.hours in tried, f"{rule_id}: no case at exactly {limit}"
        before = [h for h in tried if h is not None and limit.hours - 1 <= h < limit.hours]
        assert before, f"{rule_id}: no case in the hour before {limit}"


@pytest.mark.parametrize("code", sorted(TABLES))
def test_time_unknown_counts_limits_as_reached(code: str) -> None:
    """With every finding yes and no known time, every rule matches and 911 wins."""
    sheet = SHEETS[code]
    answers = {name: "yes" for name, f in sheet.findings.items() if f.kind == "yes_no"}
    answers |= {name: "unsure" for name, f in sheet.findings.items() if f.kind == "number"}
    result = triage(sheet, answers, None)
    assert result.tier is Tier.EMERGENCY
    assert {m.id for m in result.matched} == {rule.id for rule in sheet.rules}


@pytest.mark.parametrize("code", sorted(TABLES))
def test_the_urgent_action_carries_the_clinic_phone(code: str) -> None:
    sheet = SHEETS[code]
    case = next(c for c in TABLES[code] if c["tier"] == "urgent")
    phone = sheet.phone_param()
    assert phone == "clinic_phone"
    result = run(code, case, {phone: "555-0100"})
    assert "555-0100" in result.action
    assert "555-0100" not in run(code, case).action


NUMBER_CASES = [
    ("CS104", "99.9", Tier.CONTACT),
    ("CS104", "100.4", Tier.URGENT),
    ("CS104", "unsure", Tier.URGENT),
    ("CS107", "100.3", Tier.CONTACT),
    ("CS107", "100.9", Tier.CONTACT),  # CS107 calls now from 101 F (issue 12)
    ("CS107", "101", Tier.URGENT),
    ("CS111", "98.6", Tier.CONTACT),
    ("CS111", "100.4", Tier.URGENT),
]


@pytest.mark.parametrize(("code", "temperature", "tier"), NUMBER_CASES)
def test_a_measured_temperature_decides_fever(code: str, temperature: str, tier: Tier) -> None:
    """Feeling hot is 'watch'; a fever at the sheet's line, or none taken, is 'call now'."""
    answers = {"feel_feverish": "yes", "temperature": temperature}
    assert triage(SHEETS[code], answers, 30.0).tier is tier
