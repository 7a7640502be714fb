"""The order of a symptom check: which of a sheet's questions to ask next, and when to stop.

Questions come in stages, highest tier first (``Sheet.finding_tier``, raised to the tier of
any follow-up question a finding opens), so the emergency questions are always asked first;
a follow-up question (``ask_if``) joins only once its finding was answered yes or not sure.
The check stops as soon as the answers so far reach ``emergency``: the patient must see
"Call 911 now" at once. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping

from caresheet.care.triage import triage
from caresheet.model.sheet import Sheet, Tier

YES_LIKE = frozenset({"yes", "unsure"})


def next_questions(sheet: Sheet, answers: Mapping[str, str]) -> list[str]:
    """The finding ids of the next stage, in sheet order; empty when the check is complete."""
    pending = [
        name for name, finding in sheet.findings.items()
        if name not in answers
        and (finding.ask_if is None or answers.get(finding.ask_if, "").lower() in YES_LIKE)
    ]
    if not pending:
        return []
    top = max((ask_tier(sheet, name) for name in pending), key=lambda t: t.rank)
    return [name for name in pending if ask_tier(sheet, name) is top]


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
