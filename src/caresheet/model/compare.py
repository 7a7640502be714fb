"""What changed between two versions of a sheet, as a reviewer needs to see it.

Two things matter before a version goes to patients: the words (which words were taken out
and which put in, text by text) and the rules of "When should you call for help?" (added,
removed, or moved to another tier). A rule moved to a *lower* tier tells a patient to wait
where the version before told them to act, so it is flagged: publishing such a version needs
a reason in the review note (``caresheet.sheets.review`` holds that rule).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal

from caresheet.model.sheet import Sheet, Tier

Op = Literal["same", "ins", "del"]


@dataclass(frozen=True, slots=True)
class Piece:
    """A run of words kept, inserted or deleted."""

    op: Op
    text: str


@dataclass(frozen=True, slots=True)
class TextChange:
    """One patient-facing text that differs: where it is, and its words as pieces."""

    where: str
    pieces: tuple[Piece, ...]


@dataclass(frozen=True, slots=True)
class RuleChange:
    """One rule added, removed or moved between tiers (``before``/``after`` None when absent)."""

    rule_id: str
    before: Tier | None
    after: Tier | None
    text: str

    @property
    def kind(self) -> Literal["added", "removed", "tier"]:
        if self.before is None:
            return "added"
        if self.after is None:
            return "removed"
        return "tier"

    @property
    def lowered(self) -> bool:
        """True when the rule now asks for less urgent action than before."""
        return (self.before is not None and self.after is not None
                and self.after.rank < self.before.rank)


@dataclass(frozen=True, slots=True)
class SheetDiff:
    """Everything that changed from ``before`` to ``after`` (``before`` None: a first version)."""

    texts: tuple[TextChange, ...]
    rules: tuple[RuleChange, ...]

    @property
    def lowered(self) -> tuple[RuleChange, ...]:
        return tuple(r for r in self.rules if r.lowered)

    @property
    def empty(self) -> bool:
        return not self.texts and not self.rules


def diff_words(before: str, after: str) -> tuple[Piece, ...]:
    """The words of ``after`` against ``before``: runs kept, deleted and inserted, in order."""
    old, new = before.split(), after.split()
    pieces: list[Piece] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pieces.append(Piece("same", " ".join(old[i1:i2])))
            continue
        if i2 > i1:
            pieces.append(Piece("del", " ".join(old[i1:i2])))
        if j2 > j1:
            pieces.append(Piece("ins", " ".join(new[j1:j2])))
    return tuple(pieces)


def compare(before: Sheet | None, after: Sheet) -> SheetDiff:
    """The changes a reviewer reads; against nothing, every text and rule counts as added."""
    old_texts = dict(before.texts()) if before is not None else {}
    new_texts = dict(after.texts())
    texts: list[TextChange] = []
    for path, text in new_texts.items():
        old = old_texts.get(path, "")
        if old != text:
            texts.append(TextChange(_where(path), diff_words(old, text)))
    for path, text in old_texts.items():
        if path not in new_texts:
            texts.append(TextChange(_where(path), diff_words(text, "")))
    old_rules = {r.id: r for r in before.rules} if before is not None else {}
    new_rules = {r.id: r for r in after.rules}
    rules: list[RuleChange] = []
    for rule in after.rules:
        was = old_rules.get(rule.id)
        if was is None:
            rules.append(RuleChange(rule.id, None, rule.tier, rule.text))
        elif was.tier is not rule.tier:
            rules.append(RuleChange(rule.id, was.tier, rule.tier, rule.text))
    rules += [RuleChange(r.id, r.tier, None, r.text) for r in old_rules.values()
              if r.id not in new_rules]
    return SheetDiff(tuple(texts), tuple(rules))


def _where(path: tuple[str | int, ...]) -> str:
    """A text's path as a reviewer reads it: ``sections 2 groups 1 steps 3``, counting from 1."""
    return " ".join(str(p + 1) if isinstance(p, int) else p.replace("_", " ") for p in path)


def logic(sheet: Sheet) -> tuple[object, ...]:
    """What decides a patient's tier and timeline, without a word of the sheet's language:
    the findings (kind, unit, when asked, what implies them), the rules (tier and condition),
    the expected symptoms' limits, the milestones' times and the params' bounds."""
    return (
        tuple(sorted((name, f.kind, f.ask_if, f.implied_by)
                     for name, f in sheet.findings.items())),
        tuple((r.id, r.tier.value, r.when) for r in sheet.rules),
        tuple((e.id, e.finding, e.lasts) for e in sheet.expected),
        tuple((m.id, m.at) for m in sheet.milestones),
        tuple(sorted((name, p.type, p.min, p.max) for name, p in sheet.params.items())),
    )


def same_logic(one: Sheet, other: Sheet) -> bool:
    """True when the two sheets (e.g. a handout's pinned version and its translation) triage
    every answer alike and time every event alike, so the patient may read either."""
    return logic(one) == logic(other)
