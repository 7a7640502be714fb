"""The order of a symptom check: which of a sheet's questions to ask next, and when to stop.

Questions come in stages, highest tier first (``Sheet.finding_tier``, raised to the tier of
any follow-up question a finding opens), so the emergency questions are always asked first;
a follow-up question (``ask_if``) joins only once its finding was answered yes or not sure.
The check stops as soon as the answers so far reach ``emergency``: the patient must see
"Call 911 now" at once. Otherwise its last step is always the safety net
(``care/safety_net.py``), after every question of the sheet.

Going back a step keeps no state either: the stages are replayed from the answers, so the
step before the one shown is found again (``step_back``). Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from caresheet.care import safety_net
from caresheet.care.triage import triage
from caresheet.model.sheet import Sheet, Tier

YES_LIKE = frozenset({"yes", "unsure"})


def next_questions(sheet: Sheet, answers: Mapping[str, str]) -> list[str]:
    """The finding ids of the next stage, in sheet order; empty when the check is complete."""
    pending = [
        name for name, finding in sheet.findings.items()
        if name not in answers
        and (finding.ask_if is None or answers.get(finding.ask_if, "").lower() in YES_LIKE)
        and not _implied(sheet, name, answers)
    ]
    if not pending:
        return [] if safety_net.QUESTION in answers else [safety_net.QUESTION]
    top = max((ask_tier(sheet, name) for name in pending), key=lambda t: t.rank)
    return [name for name in pending if ask_tier(sheet, name) is top]


def _implied(sheet: Sheet, name: str, answers: Mapping[str, str]) -> bool:
    """True when a yes to a more severe finding already answers this one (``implied_by``)."""
    implier = sheet.findings[name].implied_by
    while implier is not None:
        if answers.get(implier, "").strip().lower() == "yes":
            return True
        implier = sheet.findings[implier].implied_by if implier in sheet.findings else None
    return False


def ask_tier(sheet: Sheet, name: str, seen: frozenset[str] = frozenset()) -> Tier:
    """A finding's place in the order: its own tier, or that of a follow-up it opens.

    "Is the cut bleeding?" opens "Does it keep bleeding after 10 minutes of pressure?" (911),
    so it is asked with the emergency questions, not after the urgent ones.
    """
    tiers = [sheet.finding_tier(name)]
    tiers += [ask_tier(sheet, child, seen | {name}) for child, finding in sheet.findings.items()
              if finding.ask_if == name and child not in seen]
    return max(tiers, key=lambda t: t.rank)


def stops_now(sheet: Sheet, answers: Mapping[str, str], elapsed: float | None) -> bool:
    """True when the answers so far already call for 911, or nothing is left to ask."""
    if not next_questions(sheet, answers):
        return True
    return triage(sheet, answers, elapsed).tier is Tier.EMERGENCY


def stages(sheet: Sheet, answers: Mapping[str, str]) -> list[list[str]]:
    """The steps the answers complete, in the order the check asked them."""
    done: dict[str, str] = {}
    asked: list[list[str]] = []
    while (ask := next_questions(sheet, done)) and all(name in answers for name in ask):
        asked.append(ask)
        done.update({name: answers[name] for name in ask})
    return asked


@dataclass(frozen=True, slots=True)
class Back:
    """One step back: the answers still given, the step to show again, and every answer the
    patient gave on it or after it, to show them already chosen."""

    answers: dict[str, str]
    ask: list[str]
    kept: dict[str, str]


def same_step(sheet: Sheet, answers: Mapping[str, str], shown: Iterable[str]) -> Back:
    """Show the step that showed ``shown`` again (the patient changed language or print
    size): the answers before it stay given, its own and later ones are kept, shown chosen."""
    on_page = set(shown)
    if safety_net.QUESTION in on_page:
        on_page.add(safety_net.NOTE)
    before = {k: v for k, v in answers.items() if k not in on_page}
    given = {k: v for step in stages(sheet, before) for k, v in before.items() if k in step}
    kept = {k: v for k, v in answers.items() if k not in given}
    return Back(given, next_questions(sheet, given), kept)


def step_back(sheet: Sheet, answers: Mapping[str, str], shown: Iterable[str]) -> Back:
    """Go back from the step that showed ``shown`` (its answers, if any, are kept)."""
    on_page = set(shown)
    if safety_net.QUESTION in on_page:
        on_page.add(safety_net.NOTE)
    before = {k: v for k, v in answers.items() if k not in on_page}
    done = stages(sheet, before)
    if not done:  # already on the first step: show it again
        return Back({}, next_questions(sheet, {}), dict(answers))
    given = {k: v for step in done[:-1] for k, v in before.items() if k in step}
    kept = {k: v for k, v in answers.items() if k not in given}
    return Back(given, done[-1], kept)
