"""The care sheet model: plain, frozen values that know nothing of files, stores or the web.

A Sheet is one care sheet in one language at one version. Its rules are the single source
of the "When should you call for help?" section and of the symptom check, so the words a
patient reads and the logic triage runs cannot disagree.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from caresheet.codes import BY_NAME as CODE_SYSTEMS
from caresheet.errors import SheetReferenceError
from caresheet.model.condition import (
    Compare,
    Condition,
    Time,
    negated_findings,
    parse_condition,
    parse_duration_hours,
    walk,
)

IDENTIFIER = r"^[a-z][a-z0-9_]*$"
# Answer keys the system asks in every symptom check (``care/safety_net.py``): no sheet may
# declare a finding by these names, so a sheet's own answers can never collide with them.
RESERVED_FINDINGS = frozenset({"other_concern", "other_concern_note"})
PARAM_REFERENCE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


class Tier(StrEnum):
    """How urgent a matched rule is; ordered, highest wins."""

    SELF_CARE = "self_care"
    CONTACT = "contact"
    URGENT = "urgent"
    EMERGENCY = "emergency"

    @property
    def rank(self) -> int:
        return _TIER_RANK[self]


_TIER_RANK = {tier: rank for rank, tier in enumerate(Tier)}


class Status(StrEnum):
    """Where a sheet is in review; only ``published`` is meant for patients."""

    DRAFT = "draft"
    REVIEWED = "reviewed"
    PUBLISHED = "published"
    RETIRED = "retired"


class SectionKind(StrEnum):
    RECOVERY = "recovery"
    HOME_CARE = "home_care"
    FOLLOW_UP = "follow_up"
    CALL_FOR_HELP = "call_for_help"
    LEARN_MORE = "learn_more"
    OTHER = "other"


class Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ClinicalCode(Value):
    system: str = Field(description="short name: snomed, cpt, icd10pcs, icd10cm, loinc")
    code: str = Field(min_length=1)
    display: str | None = None

    @field_validator("code", mode="before")
    @classmethod
    def _code_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) else value

    @field_validator("system")
    @classmethod
    def _known_system(cls, value: str) -> str:
        if value not in CODE_SYSTEMS:
            raise ValueError(
                f"unknown code system {value!r}; use one of: {', '.join(CODE_SYSTEMS)}"
            )
        return value

    @property
    def uri(self) -> str:
        return CODE_SYSTEMS[self.system].uri


class Source(Value):
    """Published material a sheet's advice rests on: shown to reviewers, never to patients."""

    title: str = Field(min_length=1)
    url: Annotated[str, Field(pattern=r"^https?://\S+$")]


class Param(Value):
    """A value a clinician sets for one patient; text refers to it as ``{{ name }}``."""

    label: str
    type: Literal["integer", "number", "text", "phone", "date"] = "text"
    min: float | None = None
    max: float | None = None
    unset: str = Field(description="shown when no value is given, e.g. '1 to 4'")

    @model_validator(mode="after")
    def _range_fits_type(self) -> Param:
        if (self.min is not None or self.max is not None) and self.type not in (
            "integer",
            "number",
        ):
            raise ValueError("min and max only apply to integer and number params")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min:g} is above max {self.max:g}")
        return self

    def allowed(self) -> str:
        """The allowed values in words, for error messages and forms."""
        if self.min is not None and self.max is not None:
            return f"{self.min:g} to {self.max:g}"
        if self.min is not None:
            return f"{self.min:g} or more"
        if self.max is not None:
            return f"{self.max:g} or less"
        return {"phone": "a phone number", "date": "a date (YYYY-MM-DD)"}.get(self.type, "any text")


class Finding(Value):
    """Something the patient can tell us, asked as one plain question."""

    ask: str = Field(min_length=1)
    kind: Literal["yes_no", "number"] = "yes_no"
    unit: str | None = None
    ask_if: str | None = Field(default=None, description="only ask when this finding is yes")
    implied_by: str | None = Field(
        default=None,
        description="a more severe finding whose yes means this one is yes too: it is then "
                    "not asked, and counts as yes",
    )


class Expected(Value):
    """Something normal after the procedure, and for how long: reassurance, not a warning."""

    model_config = ConfigDict(frozen=True, extra="forbid", ignored_types=(cached_property,))

    id: Annotated[str, Field(pattern=IDENTIFIER)]
    text: str = Field(min_length=1)
    finding: str | None = None
    lasts: str | None = Field(default=None, description="e.g. 2d; none means no set limit")

    @field_validator("lasts")
    @classmethod
    def _readable_duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration_hours(value)
        return value

    @cached_property
    def lasts_hours(self) -> float | None:
        return None if self.lasts is None else parse_duration_hours(self.lasts)


class Milestone(Value):
    """A moment on the patient's timeline: ``at`` is a duration (6h) or an hours param's name."""

    id: Annotated[str, Field(pattern=IDENTIFIER)]
    at: str = Field(min_length=1, description="e.g. 2d, or lie_flat_hours")
    text: str = Field(min_length=1, description="what happens then, e.g. You can get up.")

    def hours(self, params: dict[str, Param], values: dict[str, str]) -> float:
        """When it falls, in hours after the procedure; an unset param uses its maximum."""
        param = params.get(self.at)
        if param is None:
            return parse_duration_hours(self.at)
        if self.at in values:
            return float(values[self.at])
        # Unset: the longest allowed time is the safe end of "stay flat" or "do not drive".
        return float(param.max if param.max is not None else param.min or 0)


class Rule(Value):
    """One line of "When should you call for help?": a tier, its words and its condition."""

    model_config = ConfigDict(frozen=True, extra="forbid", ignored_types=(cached_property,))

    id: Annotated[str, Field(pattern=IDENTIFIER)]
    tier: Tier
    when: str = Field(min_length=1)
    text: str = Field(min_length=1)
    source: str | None = Field(
        default=None,
        description="where a converted rule came from (file:line), for reviewers only",
    )

    @field_validator("tier")
    @classmethod
    def _not_self_care(cls, value: Tier) -> Tier:
        if value is Tier.SELF_CARE:
            raise ValueError(
                "a rule's tier is emergency, urgent or contact; self_care is the default"
            )
        return value

    @field_validator("when")
    @classmethod
    def _parses(cls, value: str) -> str:
        parse_condition(value)
        return value

    @cached_property
    def condition(self) -> Condition:
        return parse_condition(self.when)


class Step(Value):
    """One instruction, with optional sub-steps that explain how."""

    text: str = Field(min_length=1)
    steps: tuple[Step, ...] = ()


class Paragraph(Value):
    text: str = Field(min_length=1)


class StepList(Value):
    steps: tuple[Step, ...]


class Group(Value):
    """A heading inside home care (Activity, Diet, Medicines…) with its steps."""

    heading: str
    blocks: tuple[Paragraph | StepList, ...] = ()


class Section(Value):
    kind: SectionKind
    heading: str
    blocks: tuple[Paragraph | StepList, ...] = ()
    groups: tuple[Group, ...] = ()


class Sheet(Value):
    """One care sheet, in one language, at one version."""

    code: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]{1,15}$")]
    language: Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$")]
    title: str = Field(min_length=1)
    version: int = Field(ge=1)
    status: Status = Status.DRAFT
    reviewer: str | None = None
    reviewed_on: dt.date | None = None
    review_note: str | None = None
    sample: bool = Field(
        default=False,
        description="shipped example content, not reviewed for patient use: set by the store "
        "when ``caresheet init`` installs it, never by an author's file",
    )
    sources: tuple[Source, ...] = Field(
        default=(), description="where the warning signs come from, for reviewers only"
    )
    translation_of: str | None = Field(
        default=None, description="for a translation: the language of the sheet it translates"
    )
    converted_from: str | None = Field(
        default=None,
        description="the handout `caresheet convert` read; its draft's clinical checks warn",
    )
    aliases: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    clinical_codes: tuple[ClinicalCode, ...] = ()
    params: dict[Annotated[str, Field(pattern=IDENTIFIER)], Param] = {}
    findings: dict[Annotated[str, Field(pattern=IDENTIFIER)], Finding] = {}
    expected: tuple[Expected, ...] = ()
    milestones: tuple[Milestone, ...] = ()
    rules: tuple[Rule, ...] = ()
    sections: tuple[Section, ...] = ()

    @model_validator(mode="after")
    def _references_resolve(self, info: ValidationInfo) -> Sheet:
        # The linter asks for every problem at once: it checks references itself, after.
        if isinstance(info.context, dict) and info.context.get("references_later"):
            return self
        for problem in reference_problems(self):
            raise problem
        return self

    def section(self, kind: SectionKind) -> Section | None:
        return next((s for s in self.sections if s.kind == kind), None)

    def rule(self, rule_id: str) -> Rule:
        return next(r for r in self.rules if r.id == rule_id)

    def phone_param(self) -> str | None:
        """The name of the clinic phone param, used to fill in "call your doctor"."""
        return next((name for name, p in self.params.items() if p.type == "phone"), None)

    def finding_tier(self, finding: str) -> Tier:
        """The highest tier of any rule that mentions the finding (emergency questions first)."""
        tiers = [r.tier for r in self.rules if finding in r.condition.findings()]
        return max(tiers, key=lambda t: t.rank, default=Tier.SELF_CARE)

    def texts(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Every patient-facing text with its path: for params, linting and translation."""
        found: list[tuple[tuple[str | int, ...], str]] = [(("title",), self.title)]
        found += [(("findings", k, "ask"), f.ask) for k, f in self.findings.items()]
        found += [(("expected", i, "text"), e.text) for i, e in enumerate(self.expected)]
        found += [(("milestones", i, "text"), m.text) for i, m in enumerate(self.milestones)]
        found += [(("rules", i, "text"), r.text) for i, r in enumerate(self.rules)]
        for s, section in enumerate(self.sections):
            found += _block_texts(("sections", s), section.blocks)
            for g, group in enumerate(section.groups):
                found += _block_texts(("sections", s, "groups", g), group.blocks)
        return found


def _block_texts(
    path: tuple[str | int, ...], blocks: tuple[Paragraph | StepList, ...]
) -> list[tuple[tuple[str | int, ...], str]]:
    found: list[tuple[tuple[str | int, ...], str]] = []

    def steps_of(prefix: tuple[str | int, ...], steps: tuple[Step, ...]) -> None:
        for i, step in enumerate(steps):
            found.append(((*prefix, i), step.text))
            steps_of((*prefix, i, "steps"), step.steps)

    for b, block in enumerate(blocks):
        if isinstance(block, Paragraph):
            found.append(((*path, "blocks", b), block.text))
        else:
            steps_of((*path, "blocks", b, "steps"), block.steps)
    return found


def reference_problems(sheet: Sheet) -> list[SheetReferenceError]:
    """Cross-references a valid sheet must satisfy; each problem carries its path."""
    problems: list[SheetReferenceError] = []
    findings = sheet.findings
    valid = ", ".join(sorted(findings)) or "(none defined)"
    for name in sorted(RESERVED_FINDINGS & set(findings)):
        problems.append(
            SheetReferenceError(
                ("findings", name),
                f"finding id {name!r} is reserved: every symptom check asks it itself",
            )
        )
    seen: set[str] = set()
    for i, rule in enumerate(sheet.rules):
        if rule.id in seen:
            problems.append(
                SheetReferenceError(("rules", i, "id"), f"rule id {rule.id!r} is used twice")
            )
        seen.add(rule.id)
        for name in sorted(rule.condition.findings() - set(findings)):
            problems.append(
                SheetReferenceError(
                    ("rules", i, "when"), f"unknown finding {name!r}; defined findings: {valid}"
                )
            )
        for name in sorted(negated_findings(rule.condition)):
            problems.append(
                SheetReferenceError(
                    ("rules", i, "when"),
                    f"'not {name}' would make a yes to {name!r} lower the advice; write a separate "
                    "rule instead ('not' may only be used on 'after' and 'within')",
                )
            )
        problems += _kind_problems(sheet, i, rule)
    for name, finding in findings.items():
        if finding.ask_if is not None and finding.ask_if not in findings:
            problems.append(
                SheetReferenceError(
                    ("findings", name, "ask_if"),
                    f"unknown finding {finding.ask_if!r}; defined findings: {valid}",
                )
            )
        elif finding.ask_if is not None:
            problems += _ask_if_problems(findings, name)
        if finding.implied_by is not None:
            problems += _implied_by_problems(findings, name, valid)
    for i, expected in enumerate(sheet.expected):
        if expected.finding is not None and expected.finding not in findings:
            problems.append(
                SheetReferenceError(
                    ("expected", i, "finding"),
                    f"unknown finding {expected.finding!r}; defined findings: {valid}",
                )
            )
    for i, milestone in enumerate(sheet.milestones):
        param = sheet.params.get(milestone.at)
        if param is not None and param.type not in ("integer", "number"):
            problems.append(
                SheetReferenceError(
                    ("milestones", i, "at"), f"param {milestone.at!r} is not a number of hours"
                )
            )
        elif param is None:
            try:
                parse_duration_hours(milestone.at)
            except ValueError:
                problems.append(
                    SheetReferenceError(
                        ("milestones", i, "at"),
                        f"{milestone.at!r} is neither a param nor a time like 6h or 2d; "
                        f"params: {', '.join(sheet.params) or '(none)'}",
                    )
                )
    return problems


def _ask_if_problems(findings: dict[str, Finding], name: str) -> list[SheetReferenceError]:
    """``ask_if`` names a yes/no finding, and following it never comes back: else never asked."""
    where = ("findings", name, "ask_if")
    parent = findings[name].ask_if
    if parent is not None and findings[parent].kind != "yes_no":
        return [
            SheetReferenceError(
                where, f"ask_if must name a yes/no finding; {parent!r} asks for a number"
            )
        ]
    seen = [name]
    while parent is not None and parent in findings:
        if parent in seen:
            chain = " -> ".join([*seen, parent])
            return [
                SheetReferenceError(
                    where,
                    f"ask_if goes round in a circle ({chain}), so none of "
                    "these would ever be asked; remove one 'ask_if:'",
                )
            ]
        seen.append(parent)
        parent = findings[parent].ask_if
    return []


def _implied_by_problems(findings: dict[str, Finding], name: str,
                         valid: str) -> list[SheetReferenceError]:
    """``implied_by`` names another yes/no finding, from a yes/no one, and never loops."""
    where = ("findings", name, "implied_by")
    implier = findings[name].implied_by
    if implier not in findings:
        return [SheetReferenceError(where, f"unknown finding {implier!r}; defined findings: "
                                           f"{valid}")]
    if findings[name].kind != "yes_no" or findings[implier].kind != "yes_no":
        return [SheetReferenceError(where, "implied_by joins two yes/no findings; "
                                           f"{name!r} or {implier!r} asks for a number")]
    seen = [name]
    while implier is not None:
        if implier in seen:
            chain = " -> ".join([*seen, implier])
            return [SheetReferenceError(where, f"implied_by goes round in a circle ({chain}); "
                                               "remove one 'implied_by:'")]
        seen.append(implier)
        implier = findings[implier].implied_by if implier in findings else None
    return []


def _kind_problems(sheet: Sheet, index: int, rule: Rule) -> list[SheetReferenceError]:
    """A yes/no finding is named alone; a number finding is compared with a number."""
    problems = []
    for atom in walk(rule.condition):
        if isinstance(atom, Time) or atom.name not in sheet.findings:
            continue
        finding = sheet.findings[atom.name]
        compared = isinstance(atom, Compare)
        if compared and finding.kind != "number":
            message = f"{atom.name!r} is a yes/no finding; name it without a comparison"
        elif not compared and finding.kind == "number":
            message = f"{atom.name!r} is a number finding; compare it, e.g. {atom.name} >= 100.4"
        else:
            continue
        problems.append(SheetReferenceError(("rules", index, "when"), message))
    return problems


def fill_params(text: str, values: dict[str, str], params: dict[str, Param]) -> str:
    """Put param values (or their unset text) into ``{{ name }}`` places; plain text out."""

    def value_for(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in values:
            return values[name]
        param = params.get(name)
        return param.unset if param is not None else match.group(0)

    return PARAM_REFERENCE.sub(value_for, text)


def params_used(text: str) -> list[str]:
    return PARAM_REFERENCE.findall(text)
