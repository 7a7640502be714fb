"""Answers + time since the procedure -> a Disposition. Pure, deterministic, conservative.

The laws this module keeps (property-tested in tests/test_triage_laws.py):
- "unsure" counts as yes: it matches every rule a yes or a no would match;
- an unknown elapsed time makes every time condition count as met;
- the highest matched tier wins, and the 911 line is always in the result;
- turning any "no" into "yes" or "unsure" never lowers the tier (the sheet model refuses
  conditions that negate a finding, which is what makes this hold);
- a yes or "not sure" to the safety net (``care/safety_net.py``) gives at least ``contact``;
- a rule matched only through "not sure" is never stated as fact: its ``why`` names the
  question the patient was unsure of (``Reason``), and an emergency that rests on one unsure
  answer says so (``Disposition.unsure_note``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from caresheet.care import safety_net
from caresheet.errors import (
    AnswerError,
    BadAnswerError,
    BadElapsedError,
    UnknownFindingError,
)
from caresheet.i18n import gettext_for
from caresheet.model.condition import Facts, Truth, parse_duration_hours, time_limits
from caresheet.model.sheet import Rule, Sheet, Tier
from caresheet.model.wording import action_for, wording_for


class Answer(StrEnum):
    YES = "yes"
    NO = "no"
    UNSURE = "unsure"


_YES_NO_VALUES = {"yes": True, "no": False, "unsure": None, "not sure": None, "not_sure": None}


class Reason(BaseModel):
    """One answer a matched rule rests on, in words that say what the patient really said."""

    model_config = ConfigDict(frozen=True)

    finding: str | None  # None: the time since the procedure
    answer: str  # "yes" | "unsure" | "number" | "time_unknown"
    text: str


class MatchedRule(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    tier: Tier
    text: str  # the rule's own line, as the sheet states it
    certain: bool  # False when the match rests on an unsure answer or an unknown time
    # What the result and the inbox say: the rule's line when certain, else what the patient
    # was unsure of. Empty in check-ins saved before it existed (then ``text`` is shown).
    why: str = ""
    reasons: tuple[Reason, ...] = ()

    @property
    def said(self) -> str:
        """The line to show a patient or the care team for this match."""
        return self.why or self.text


class Assumption(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str  # "unsure_counted_as_yes" | "not_asked_counted_as_no" | "implied_by_yes"
    #            | "time_unknown"
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
    # Set when the only reason for 911 is one "not sure": says so, and to call 911 anyway if
    # there is any chance it happened.
    unsure_note: str | None = None


def read_answers(sheet: Sheet, answers: Mapping[str, str]) -> dict[str, Truth | float]:
    """Check raw answers against the sheet and turn them into evaluator values.

    Every answer is checked before anything is refused, so the error names each finding at
    fault (``AnswerError.problems``): a form re-asks those and keeps the others. One problem
    raises its own kind (UnknownFindingError, BadAnswerError); several, an AnswerError.
    """
    values: dict[str, Truth | float] = {}
    faults: list[AnswerError] = []
    own, net = safety_net.split(answers)
    for name, raw in own.items():
        try:
            values[name] = _answer(sheet, name, raw)
        except AnswerError as fault:
            faults.append(fault)
    try:
        asked, value = safety_net.read(net)
        if asked:
            values[safety_net.QUESTION] = value
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
        raise UnknownFindingError(name, [*sheet.findings, safety_net.QUESTION])
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
    answered = values
    values = implied(sheet, answered)
    facts = Facts(values, elapsed)
    matched = [_matched(sheet, rule, values, elapsed, result)
               for rule in sheet.rules
               if (result := rule.condition.evaluate(facts)) is not False]
    net = _safety_net_match(sheet, values)
    if net is not None:
        matched.append(net)
    matched.sort(key=lambda m: -m.tier.rank)  # stable: the sheet's order within a tier
    tier = matched[0].tier if matched else Tier.SELF_CARE
    phone_param = sheet.phone_param()
    phone = params.get(phone_param) if phone_param else None
    action = action_for(tier, sheet.language, phone)
    if net is not None and tier is Tier.CONTACT:  # "call the clinic", not "watch and wait"
        words = safety_net.words_for(sheet.language)
        action = words.action % {"phone": phone} if phone else words.action_no_phone
    return Disposition(
        tier=tier,
        action=action,
        matched=tuple(matched),
        assumed=_assumptions(sheet, answered, elapsed),
        normal=_normal_now(sheet, elapsed),
        emergency_line=wording_for(sheet.language).emergency_line,
        elapsed_hours=elapsed,
        unsure_note=_unsure_emergency_note(sheet, values, elapsed),
    )


def implied(sheet: Sheet, values: dict[str, Truth | float]) -> dict[str, Truth | float]:
    """The answers with every ``implied_by`` applied: a yes to the more severe finding makes
    the finding it implies a yes (never lower: a yes is the highest answer), along chains."""
    out = dict(values)
    changed = True
    while changed:
        changed = False
        for name, finding in sheet.findings.items():
            if (finding.implied_by is not None and out.get(finding.implied_by) is True
                    and out.get(name) is not True):
                out[name] = True
                changed = True
    return out


def implier_of(sheet: Sheet, name: str, values: Mapping[str, Truth | float]) -> str | None:
    """The finding whose yes made ``name`` a yes, if any (the end of the chain)."""
    found = None
    current = sheet.findings[name].implied_by
    while current is not None and values.get(current) is True:
        found = current
        current = sheet.findings[current].implied_by
    return found


def _matched(sheet: Sheet, rule: Rule, values: dict[str, Truth | float],
             elapsed: float | None, result: Truth) -> MatchedRule:
    """A matched rule with the answers it rests on, in words true to those answers."""
    gettext = gettext_for(sheet.language).gettext
    reasons: list[Reason] = []
    for name in sheet.findings:  # the sheet's order
        if name not in rule.condition.findings() or name not in values:
            continue
        value = values[name]
        question = sheet.findings[name].ask
        implier = implier_of(sheet, name, values)
        if value is True and implier is not None:  # what the patient really said yes to
            question = sheet.findings[implier].ask
        if value is None:
            reasons.append(Reason(finding=name, answer="unsure", text=gettext(
                "You were not sure how to answer: %(question)s") % {"question": question}))
        elif value is True:
            reasons.append(Reason(finding=name, answer="yes", text=gettext(
                "You answered yes: %(question)s") % {"question": question}))
        elif not isinstance(value, bool):
            reasons.append(Reason(finding=name, answer="number", text=gettext(
                "You answered %(value)s: %(question)s") % {"value": f"{value:g}",
                                                           "question": question}))
    if elapsed is None and time_limits(rule.condition):
        reasons.append(Reason(finding=None, answer="time_unknown", text=gettext(
            "We do not know how long ago your procedure was, so we counted this as possible.")))
    certain = result is True
    if certain:
        why = rule.text
    else:
        # Never the rule's own line ("You passed out."): it would state a "not sure" as fact.
        why = " ".join(r.text for r in reasons if r.answer != "yes") or rule.text
    return MatchedRule(id=rule.id, tier=rule.tier, text=rule.text, certain=certain, why=why,
                       reasons=tuple(reasons))


def _safety_net_match(sheet: Sheet, values: dict[str, Truth | float]) -> MatchedRule | None:
    """The safety net as a matched reason: ``contact`` after a yes or a "not sure"."""
    if safety_net.QUESTION not in values or values[safety_net.QUESTION] is False:
        return None
    words = safety_net.words_for(sheet.language)
    unsure = values[safety_net.QUESTION] is None
    why = words.reason_unsure if unsure else words.reason_yes
    return MatchedRule(
        id=safety_net.QUESTION, tier=Tier.CONTACT, text=words.reason_yes, certain=not unsure,
        why=why, reasons=(Reason(finding=safety_net.QUESTION,
                                 answer="unsure" if unsure else "yes", text=why),))


def _unsure_emergency_note(sheet: Sheet, values: dict[str, Truth | float],
                           elapsed: float | None) -> str | None:
    """Words for an emergency whose only reason is one unsure answer, else None.

    The one answer is found by asking: which single "not sure", read as "no", would leave no
    emergency rule matched? If exactly one does, 911 rests on it alone.
    """
    def emergency(answers: dict[str, Truth | float]) -> bool:
        facts = Facts(answers, elapsed)
        return any(r.tier is Tier.EMERGENCY and r.condition.evaluate(facts) is not False
                   for r in sheet.rules)

    if not emergency(values):
        return None
    unsure = [name for name in sheet.findings if name in values and values[name] is None]
    deciding = [name for name in unsure if not emergency({**values, name: False})]
    if len(deciding) != 1:
        return None
    question = sheet.findings[deciding[0]].ask
    return gettext_for(sheet.language).gettext(
        "We say to call 911 only because you were not sure how to answer one question: "
        "%(question)s If there is any chance that it happened, call 911 now."
    ) % {"question": question}


def _assumptions(
    sheet: Sheet, values: dict[str, Truth | float], elapsed: float | None
) -> tuple[Assumption, ...]:
    assumed = [
        Assumption(
            kind="unsure_counted_as_yes", finding=name, text=f"{name}: not sure, counted as yes"
        )
        for name in [*sheet.findings, safety_net.QUESTION]  # the same order every time
        if name in values and values[name] is None
    ]
    full = implied(sheet, values)
    assumed += [
        Assumption(kind="implied_by_yes", finding=name,
                   text=f"{name}: not asked, counted as yes after a yes to {implier}")
        for name in sheet.findings
        if name not in values and (implier := implier_of(sheet, name, full)) is not None
    ]
    assumed += [
        Assumption(
            kind="not_asked_counted_as_no", finding=name, text=f"{name}: not asked, counted as no"
        )
        for name in sheet.findings
        if name not in full
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
