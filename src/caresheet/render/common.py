"""What every output shows, built once: the filled-in sheet and "When should you call for help?".

The call-for-help section is generated from the sheet's rules, so the printed page, the SMS,
FHIR and the patient guide cannot disagree with triage. Texts here are plain (params filled
in, not escaped); each renderer escapes for its own format.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from caresheet.model.sheet import Paragraph, SectionKind, Sheet, Step, StepList, Tier, fill_params
from caresheet.model.wording import action_for, wording_for

# Highest first: a reader who skims sees the 911 signs before anything else.
TIER_ORDER = (Tier.EMERGENCY, Tier.URGENT, Tier.CONTACT)
TIER_SYMBOL = {Tier.EMERGENCY: "911", Tier.URGENT: "!", Tier.CONTACT: "i", Tier.SELF_CARE: ""}


@dataclass(frozen=True, slots=True)
class TierBlock:
    """One tier of warning signs: its heading, the signs, and the one action to take."""

    tier: Tier
    heading: str
    signs: tuple[str, ...]
    action: str
    rule_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CallForHelp:
    heading: str
    emergency_line: str
    tiers: tuple[TierBlock, ...]


@dataclass(frozen=True, slots=True)
class NormalList:
    """The "What is normal" reassurance, from the sheet's ``expected:`` items."""

    heading: str
    items: tuple[str, ...]


def call_for_help(sheet: Sheet, values: Mapping[str, str] | None = None) -> CallForHelp:
    """The generated section: the 911 line, then each tier with signs, highest tier first."""
    values = dict(values or {})
    words = wording_for(sheet.language)
    phone_param = sheet.phone_param()
    phone = values.get(phone_param) if phone_param else None
    blocks = []
    for tier in TIER_ORDER:
        rules = [r for r in sheet.rules if r.tier == tier]
        if not rules:
            continue
        blocks.append(
            TierBlock(
                tier=tier,
                heading=words.tiers[tier].heading,
                signs=tuple(fill_params(r.text, values, sheet.params) for r in rules),
                action=action_for(tier, sheet.language, phone),
                rule_ids=tuple(r.id for r in rules),
            )
        )
    return CallForHelp(words.call_for_help, words.emergency_line, tuple(blocks))


def what_is_normal(sheet: Sheet, values: Mapping[str, str] | None = None) -> NormalList:
    """What the patient may feel that is expected, in the sheet's own words."""
    values = dict(values or {})
    items = tuple(fill_params(e.text, values, sheet.params) for e in sheet.expected)
    return NormalList(wording_for(sheet.language).normal_heading, items)


# ---------------------------------------------------------------- the filled-in sheet


@dataclass(frozen=True, slots=True)
class StepView:
    text: str
    steps: tuple[StepView, ...] = ()


@dataclass(frozen=True, slots=True)
class BlockView:
    """A paragraph (``text``) or a list of steps (``steps``), never both."""

    text: str | None = None
    steps: tuple[StepView, ...] = ()


@dataclass(frozen=True, slots=True)
class GroupView:
    heading: str
    blocks: tuple[BlockView, ...]


@dataclass(frozen=True, slots=True)
class SectionView:
    kind: str
    heading: str
    blocks: tuple[BlockView, ...]
    groups: tuple[GroupView, ...]

    @property
    def is_call_for_help(self) -> bool:
        return self.kind == SectionKind.CALL_FOR_HELP.value


@dataclass(frozen=True, slots=True)
class ParamView:
    name: str
    label: str
    type: str
    value: str | None
    unset: str
    allowed: str

    @property
    def shown(self) -> str:
        return self.value if self.value is not None else self.unset


@dataclass(frozen=True, slots=True)
class SheetView:
    """A sheet with its params filled in, ready for any output."""

    code: str
    language: str
    title: str
    version: int
    status: str
    reviewer: str | None
    reviewed_on: str | None
    review_note: str | None
    aliases: tuple[str, ...]
    sections: tuple[SectionView, ...]
    call_for_help: CallForHelp
    normal: NormalList
    params: tuple[ParamView, ...]
    sample: bool = False

    @property
    def needs_review(self) -> bool:
        """Not yet published: only staff see such a version (a preview)."""
        return self.status in ("draft", "reviewed")


def sheet_view(sheet: Sheet, values: Mapping[str, str] | None = None) -> SheetView:
    """Fill every text of the sheet; the call-for-help section is placed where authored."""
    values = dict(values or {})

    def fill(text: str) -> str:
        return fill_params(text, values, sheet.params)

    def step(s: Step) -> StepView:
        return StepView(fill(s.text), tuple(step(c) for c in s.steps))

    def blocks(items: tuple[Paragraph | StepList, ...]) -> tuple[BlockView, ...]:
        return tuple(
            BlockView(text=fill(b.text))
            if isinstance(b, Paragraph)
            else BlockView(steps=tuple(step(s) for s in b.steps))
            for b in items
        )

    sections = [
        SectionView(
            s.kind.value,
            fill(s.heading),
            blocks(s.blocks),
            tuple(GroupView(fill(g.heading), blocks(g.blocks)) for g in s.groups),
        )
        for s in sheet.sections
    ]
    help_section = call_for_help(sheet, values)
    if not any(s.is_call_for_help for s in sections):
        sections.append(SectionView(SectionKind.CALL_FOR_HELP.value, help_section.heading, (), ()))
    return SheetView(
        code=sheet.code,
        language=sheet.language,
        title=fill(sheet.title),
        version=sheet.version,
        status=sheet.status.value,
        reviewer=sheet.reviewer,
        reviewed_on=sheet.reviewed_on.isoformat() if sheet.reviewed_on else None,
        review_note=sheet.review_note,
        aliases=sheet.aliases,
        sections=tuple(sections),
        call_for_help=help_section,
        normal=what_is_normal(sheet, values),
        params=tuple(
            ParamView(name, p.label, p.type, values.get(name), p.unset, p.allowed())
            for name, p in sheet.params.items()
        ),
        sample=sheet.sample,
    )
