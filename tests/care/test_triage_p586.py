"""P586 triage against the reference sheet: every warning sign and time, boundaries included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from caresheet.authoring.parse import read_file
from caresheet.care.triage import Disposition, triage
from caresheet.errors import BadElapsedError
from caresheet.model.condition import parse_duration_hours
from caresheet.model.sheet import Sheet, Tier
from caresheet.model.wording import wording_for

ROOT = Path(__file__).resolve().parents[2]
SHEET: Sheet = read_file(ROOT / "src" / "caresheet" / "library" / "P586.en.md").sheet
CASES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "p586_cases.yaml").read_text()
)
EMERGENCY_LINE = "If you think it could be an emergency, call 911 at any time."


def run(case: dict[str, Any], params: dict[str, str] | None = None) -> Disposition:
    elapsed = None if case["elapsed"] is None else parse_duration_hours(case["elapsed"])
    return triage(SHEET, case["answers"], elapsed, params)


def test_the_table_covers_every_rule_and_tier() -> None:
    matched = {rule for case in CASES for rule in case["matched"]}
    assert matched == {rule.id for rule in SHEET.rules} | {"other_concern"}  # + the safety net
    assert {case["tier"] for case in CASES} == {tier.value for tier in Tier}
    assert set(SHEET.findings) <= {name for case in CASES for name in case["answers"]}


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_p586_case(case: dict[str, Any]) -> None:
    result = run(case)
    assert result.tier.value == case["tier"]
    assert sorted(m.id for m in result.matched) == sorted(case["matched"])
    assert [m.tier.rank for m in result.matched] == sorted(
        (m.tier.rank for m in result.matched), reverse=True
    )
    assert result.emergency_line == EMERGENCY_LINE
    if "normal" in case:
        texts = {e.id: e.text for e in SHEET.expected}
        assert list(result.normal) == [texts[i] for i in case["normal"]]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_what_was_assumed_is_reported(case: dict[str, Any]) -> None:
    result = run(case)
    unsure = {a.finding for a in result.assumed if a.kind == "unsure_counted_as_yes"}
    assert unsure == {name for name, value in case["answers"].items() if value == "unsure"}
    not_asked = {a.finding for a in result.assumed if a.kind == "not_asked_counted_as_no"}
    implied = {a.finding for a in result.assumed if a.kind == "implied_by_yes"}
    assert not_asked == set(SHEET.findings) - set(case["answers"]) - implied
    # headache is implied_by severe_headache: not asked after a yes to it, and counted as yes
    assert implied == ({"headache"} if case["answers"].get("severe_headache") == "yes"
                       and "headache" not in case["answers"] else set())
    time_unknown = any(a.kind == "time_unknown" for a in result.assumed)
    assert time_unknown is (case["elapsed"] is None)
    for match in result.matched:
        if match.id == "other_concern":  # the safety net: no rule of the sheet
            assert match.certain is ("other_concern" not in unsure)
            continue
        rule = SHEET.rule(match.id)
        in_doubt = bool(rule.condition.findings() & unsure) or (
            case["elapsed"] is None and "after" in rule.when
        )
        # A match is certain exactly when it rests on no unsure answer and no unknown time.
        if not in_doubt:
            assert match.certain is True
        if not match.certain:
            assert in_doubt


@pytest.mark.parametrize(
    ("tier_case", "phone", "action"),
    [
        (
            "severe_headache",
            "555-0100",
            "Call your doctor now at 555-0100. If you cannot reach them, get care right away.",
        ),
        (
            "severe_headache",
            None,
            "Call your doctor now. If you cannot reach them, get care right away.",
        ),
        (
            "headache_at_exactly_two_days",
            "555-0100",
            "Watch closely. Call your doctor at 555-0100 if this goes on or gets worse.",
        ),
        (
            "headache_at_exactly_two_days",
            None,
            "Watch closely. Call your doctor if this goes on or gets worse.",
        ),
        ("passed_out", "555-0100", "Call 911 now."),
        ("passed_out", None, "Call 911 now."),
        (
            "nothing_wrong_day_one",
            "555-0100",
            "You do not need to call now. Keep following your home care steps.",
        ),
    ],
)
def test_the_action_fills_in_the_clinic_phone(
    tier_case: str, phone: str | None, action: str
) -> None:
    case = next(c for c in CASES if c["id"] == tier_case)
    result = run(case, {"clinic_phone": phone} if phone else None)
    assert result.action == action
    assert wording_for("en").emergency_line == result.emergency_line == EMERGENCY_LINE


def test_matched_rules_carry_their_patient_text() -> None:
    result = triage(SHEET, {"passed_out": "yes"}, 1.0)
    assert result.matched[0].text == SHEET.rule("passed_out").text


@pytest.mark.parametrize("elapsed", [-1.0, float("nan")])
def test_a_negative_or_unreadable_time_is_refused_not_read_as_early(elapsed: float) -> None:
    with pytest.raises(BadElapsedError):
        triage(SHEET, {"headache": "yes"}, elapsed)
