"""Answers + time since the procedure -> a Disposition. Pure, deterministic, conservative.

The laws this module keeps (property-tested in tests/test_triage_laws.py):
- "unsure" counts as yes: it matches every rule a yes or a no would match;
- an unknown elapsed time makes every time condition count as met;
- the highest matched tier wins, and the 911 line is always in the result;
- turning any "no" into "yes" or "unsure" never lowers the tier (the sheet model refuses
  conditions that negate a finding, which is what makes this hold).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from caresheet.errors import (
    AnswerError,
    BadAnswerError,
    BadElapsedError,
    UnknownFindingError,
)
from caresheet.model.condition import Facts, Truth, parse_duration_hours, time_limits
from caresheet.model.sheet import Sheet, Tier
from caresheet.model.wording import action_for, wording_for


class Answer(StrEnum):
    YES = "yes"
    NO = "no"
    UNSURE = "unsure"


_YES_NO_VALUES = {"yes": True, "no": False, "unsure": None, "not sure": None, "not_sure": None}


class MatchedRule(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    tier: Tier
    text: str
    certain: bool  # False when the match rests on an unsure answer or an unknown time


class Assumption(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str  # "unsure_counted_as_yes" | "not_asked_counted_as_no" | "time_unknown"
    finding: str | None
    text: str


class Disposition(BaseModel):
    """What the patient should do now, and every reason for it."""

    model_config = ConfigDict(frozen=True)

    tier: Tier
    action: str
    matched: tuple[MatchedRule, ...]
    assumed: tuple[Assumption, ...]
    normal: tuple[str, ...]  # what is expected at this time: reassurance
    emergency_line: str
    elapsed_hours: float | None


def read_answers(sheet: Sheet, answers: Mapping[str, str]) -> dict[str, Truth | float]:
    """Check raw answers against the sheet and turn them into evaluator values.

    Every answer is checked before anything is refused, so the error names each finding at
    fault (``AnswerError.problems``): a form re-asks those and keeps the others. One problem
    raises its own kind (UnknownFindingError, BadAnswerError); several, an AnswerError.
    """
    values: dict[str, Truth | float] = {}
    faults: list[AnswerError] = []
    for name, raw in answers.items():
        try:
            values[name] = _answer(sheet, name, raw)
        except AnswerError as fault:
            faults.append(fault)
    if len(faults) == 1:
        raise faults[0]
    if faults:
        raise AnswerError({k: v for fault in faults for k, v in fault.problems.items()})
    return values


def _answer(sheet: Sheet, name: str, raw: str) -> Truth | float:
    finding = sheet.findings.get(name)
    if finding is None:
        raise UnknownFindingError(name, sheet.findings)
    text = raw.strip().lower()
    if finding.kind == "number":
        return _number_answer(name, text)
    if text in _YES_NO_VALUES:
        return _YES_NO_VALUES[text]
    raise BadAnswerError(name, raw, [a.value for a in Answer])


def _number_answer(name: str, text: str) -> float | None:
    # Left empty means not known ("Leave it empty if you do not know"): counted as unsure.
    if text in ("", "unsure", "not sure", "not_sure"):
        return None
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):  # "nan" compares False with every limit: never safe
        raise BadAnswerError(name, text, ["a number", "unsure"])
    return number


def elapsed_hours(text: str | None) -> float | None:
    """Read an elapsed time such as ``30h``; None (unknown) stays None."""
    return None if text is None else parse_duration_hours(text)


def triage(
    sheet: Sheet,
    answers: Mapping[str, str],
    elapsed: float | None,
    params: Mapping[str, str] | None = None,
) -> Disposition:
    """Apply the sheet's rules to the answers at ``elapsed`` hours after the procedure."""
    if elapsed is not None and not elapsed >= 0:  # negative, or NaN: no time would be safe
        raise BadElapsedError(str(elapsed), "it is negative or not a number")
    values = read_answers(sheet, answers)
    return decide(sheet, values, elapsed, params or {})


def decide(
    sheet: Sheet,
    values: dict[str, Truth | float],
    elapsed: float | None,
    params: Mapping[str, str],
) -> Disposition:
    """The rule evaluation itself, on answers already checked by ``read_answers``."""
    facts = Facts(values, elapsed)
    matched = []
    for rule in sheet.rules:
        result = rule.condition.evaluate(facts)
        if result is not False:
            matched.append(
                MatchedRule(id=rule.id, tier=rule.tier, text=rule.text, certain=result is True)
            )
    matched.sort(key=lambda m: -m.tier.rank)
    tier = matched[0].tier if matched else Tier.SELF_CARE
    phone_param = sheet.phone_param()
    phone = params.get(phone_param) if phone_param else None
    return Disposition(
        tier=tier,
        action=action_for(tier, sheet.language, phone),
        matched=tuple(matched),
        assumed=_assumptions(sheet, values, elapsed),
        normal=_normal_now(sheet, elapsed),
        emergency_line=wording_for(sheet.language).emergency_line,
        elapsed_hours=elapsed,
    )


def _assumptions(
    sheet: Sheet, values: dict[str, Truth | float], elapsed: float | None
) -> tuple[Assumption, ...]:
    assumed = [
        Assumption(
            kind="unsure_counted_as_yes", finding=name, text=f"{name}: not sure, counted as yes"
        )
        for name in sheet.findings  # the sheet's order: the same answers give the same result
        if name in values and values[name] is None
    ]
    assumed += [
        Assumption(
            kind="not_asked_counted_as_no", finding=name, text=f"{name}: not asked, counted as no"
        )
        for name in sheet.findings
        if name not in values
    ]
    if elapsed is None and any(time_limits(r.condition) for r in sheet.rules):
        assumed.append(
            Assumption(
                kind="time_unknown",
                finding=None,
                text="time since the procedure unknown: every time limit counted as reached",
            )
        )
    return tuple(assumed)


def _normal_now(sheet: Sheet, elapsed: float | None) -> tuple[str, ...]:
    """The expected symptoms still within their usual time (all of them if time is unknown)."""
    return tuple(
        e.text
        for e in sheet.expected
        if elapsed is None or e.lasts_hours is None or elapsed < e.lasts_hours
    )
