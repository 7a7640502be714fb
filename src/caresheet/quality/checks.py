"""The per-sheet and per-library checks of ``caresheet lint``.

The model already refuses what would make triage wrong (unknown findings in a rule, a
negated finding, a bad condition); these checks catch what makes a sheet unclear,
incomplete or unsafe to publish, and point at the line to fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

from caresheet.authoring.parse import Parsed, SourcePath
from caresheet.model.condition import Facts, disjuncts, time_limits
from caresheet.model.sheet import Rule, SectionKind, Sheet, Status, Tier, fill_params, params_used
from caresheet.model.wording import wording_for
from caresheet.quality import language
from caresheet.quality.problems import Level, Problem
from caresheet.render.common import call_for_help
from caresheet.render.text import SMS_LIMIT, render_sms

REQUIRED_SECTIONS = (
    SectionKind.RECOVERY, SectionKind.HOME_CARE, SectionKind.FOLLOW_UP, SectionKind.CALL_FOR_HELP,
)

# Signs that are often normal early and a danger when severe or worse (English and Spanish).
# "Sore" is left out on purpose: soreness is the mild, expected form, not the warning sign.
WARNING_WORDS = {
    "pain": re.compile(
        r"\b(pain|pains|painful|hurts?|hurting|dolor|dolores|doloros[oa]s?|duele|duelen)\b",
        re.IGNORECASE,
    ),
    "bleeding": re.compile(
        r"\b(bleeds?|bleeding|bled|sangra|sangran|sangrado|sangrando|hemorragia)\b", re.IGNORECASE
    ),
    "weakness": re.compile(
        r"\b(weak|weaker|weakness|d[ée]bil(es)?|debilidad)\b", re.IGNORECASE
    ),
    "numbness": re.compile(
        r"\b(numb|numbness|entumecid[oa]s?|entumecimiento|adormecid[oa]s?|adormecimiento)\b",
        re.IGNORECASE,
    ),
}
CHILLS = re.compile(r"\b(chills?|escalofr[íi]os?)\b", re.IGNORECASE)
TEMPERATURE_UNITS = {"f", "°f", "c", "°c"}
# Checks a converted handout may fail on the day it is converted without the converter
# inventing clinical content to pass them: no 911 sign in the handout, a timed pain sign with
# no severe form, chills not asked beside a temperature, the handout's own hard words, a long
# urgent list, a section the handout never had. While such a sheet is a draft they are
# warnings (the author's to-do list); once it leaves draft they are errors again, so nothing
# that fails them can be reviewed or published.
CONVERTED_DRAFT_WARNINGS = frozenset({
    "no-emergency-rule", "severity-any-hour", "chills-like-fever", "readability",
    "sms-too-long", "missing-section",
})
# The clinic phone the SMS check fills in: a whole 10-digit number as clinics print it.
SAMPLE_PHONE = "(555) 555-0100"


class _Report:
    """Collects problems for one parsed sheet, turning source paths into lines."""

    def __init__(self, parsed: Parsed) -> None:
        self.parsed = parsed
        self.problems: list[Problem] = []

    def add(self, where: SourcePath, level: Level, code: str, message: str) -> None:
        line = self.parsed.line_of(where)
        self.problems.append(Problem(self.parsed.path, line, level, code, message))


def lint(parsed: Parsed, library: list[Parsed] | None = None) -> list[Problem]:
    """Every problem of one sheet; ``library`` (which may include it) adds duplicate checks."""
    report = _Report(parsed)
    _sections(report)
    _params(report)
    _findings_and_rules(report)
    _severity_at_any_hour(report)
    _chills_like_fever(report)
    _implied_by_keeps_tiers(report)
    _sms_keeps_urgent_signs(report)
    _status(report)
    if parsed.sheet.language.split("-")[0] == "en":
        _readability(report)
        _jargon(report)
        _actions(report)
    _long_sentences(report)
    _duplicates(report, library or [])
    _converted(report)
    return sorted(report.problems, key=lambda p: (p.line, p.level, p.code, p.message))


def _converted(report: _Report) -> None:
    """A draft made by ``caresheet convert``: its clinical gaps are the author's to-do list."""
    sheet = report.parsed.sheet
    if sheet.converted_from is None:
        return
    if sheet.status is Status.DRAFT:
        report.problems = [
            replace(p, level="warning", message=f"{p.message} (converted draft: fix before review)")
            if p.is_error and p.code in CONVERTED_DRAFT_WARNINGS else p
            for p in report.problems
        ]
    sourced = [r for r in sheet.rules if r.source]
    if sourced:
        report.add(
            ("converted_from",), "warning", "converted",
            f"converted from {sheet.converted_from}: check each of the {len(sourced)} "
            f"rule{'' if len(sourced) == 1 else 's'} against the handout line in its 'source:', "
            "then remove 'converted_from:'",
        )


def _sections(report: _Report) -> None:
    sheet = report.parsed.sheet
    present = {s.kind for s in sheet.sections}
    for kind in REQUIRED_SECTIONS:
        if kind not in present:
            report.add(
                ("sections", 0), "error", "missing-section",
                f"no {{#{kind.value}}} section; add a '## Heading {{#{kind.value}}}' line",
            )


def _params(report: _Report) -> None:
    sheet = report.parsed.sheet
    used: set[str] = {m.at for m in sheet.milestones if m.at in sheet.params}
    for where, text in sheet.texts():
        for name in params_used(text):
            used.add(name)
            if name not in sheet.params:
                defined = ", ".join(sheet.params) or "(none)"
                report.add(
                    where, "error", "unknown-param",
                    f"{{{{ {name} }}}} is not a param of this sheet; define it under 'params:' "
                    f"or use one of: {defined}",
                )
    for name in sheet.params:
        if name not in used:
            report.add(
                ("params", name), "warning", "unused-param",
                f"param {name!r} is never used; write {{{{ {name} }}}} in a text or remove it",
            )


def _findings_and_rules(report: _Report) -> None:
    sheet = report.parsed.sheet
    used: set[str] = set()
    for rule in sheet.rules:
        used |= rule.condition.findings()
    for name in sheet.findings:
        if name not in used:
            report.add(
                ("findings", name), "warning", "unused-finding",
                f"no rule uses finding {name!r}; name it in a rule's 'when:' or remove it, "
                "so the check asks only what changes the advice",
            )
    if not any(rule.tier is Tier.EMERGENCY for rule in sheet.rules):
        report.add(
            ("rules",), "error", "no-emergency-rule",
            "no rule has tier 'emergency'; add one for the signs that need 911 "
            "(e.g. passing out, trouble breathing)",
        )


def _warning_signs(sheet: Sheet, name: str, rules: list[Rule]) -> set[str]:
    """Which of pain, bleeding, weakness and numbness a finding's question or rules name."""
    words = " ".join([sheet.findings[name].ask, *(r.text for r in rules)])
    return {sign for sign, pattern in WARNING_WORDS.items() if pattern.search(words)}


def _severity_at_any_hour(report: _Report) -> None:
    """A sign that counts only inside a time window needs a severe form that counts at any hour.

    Pain, bleeding, weakness and numbness are often normal early and a danger later, but a
    severe or worsening one is a danger at every hour: a rule gated by 'after'/'within' alone
    would tell a patient with the severe form less than the published advice does.
    """
    sheet = report.parsed.sheet
    rules_of = {name: [r for r in sheet.rules if name in r.condition.findings()]
                for name in sheet.findings}
    any_hour: set[str] = set()  # signs some untimed rule at urgent or above covers
    for name, rules in rules_of.items():
        severe = [r for r in rules if not _timed_for(r, name) and _at_least_urgent(r)]
        if severe:
            any_hour |= _warning_signs(sheet, name, severe)
    for name, rules in rules_of.items():
        if not rules or not all(_timed_for(r, name) for r in rules):
            continue
        if all(_at_least_urgent(r) for r in rules) or _lasting_only(sheet, name, rules):
            continue
        for sign in sorted(_warning_signs(sheet, name, rules) - any_hour):
            report.add(
                ("findings", name), "error", "severity-any-hour",
                f"finding {name!r} names {sign} but counts only inside a time window and below "
                f"'urgent'; add a separate finding for severe or worsening {sign} with a rule "
                "at 'urgent' or 'emergency' and no 'after'/'within', so it counts at any hour",
            )


def _timed_for(rule: Rule, name: str) -> bool:
    """Whether every alternative of the rule that names the finding has an 'after'/'within'.

    ``(bleeding and after 12h) or heavy_bleeding`` is timed for ``bleeding`` only: a yes to
    ``heavy_bleeding`` matches it at any hour.
    """
    return all(time_limits(part) for part in disjuncts(rule.condition) if name in part.findings())


def _at_least_urgent(rule: Rule) -> bool:
    return rule.tier.rank >= Tier.URGENT.rank


def _lasting_only(sheet: Sheet, name: str, rules: list[Rule]) -> bool:
    """The sign is listed as normal for a time and counts only from then on: its length is the
    warning (a lip still numb a day after a dental block), not a severity hidden by a window."""
    normal = [e.lasts_hours for e in sheet.expected if e.finding == name and e.lasts_hours]
    if not normal:
        return False
    limits = [atom for r in rules for atom in time_limits(r.condition)]
    return all(a.kind == "after" and a.hours >= max(normal) for a in limits)


def _chills_like_fever(report: _Report) -> None:
    """Where a temperature is measured, chills must be asked and weigh as much as a fever.

    Shaking chills can come before the temperature rises, or with a normal reading; a sheet
    that sends a measured fever to 'urgent' but chills only to 'contact' under-triages them.
    """
    sheet = report.parsed.sheet
    temperatures = [
        name for name, f in sheet.findings.items()
        if f.kind == "number"
        and ((f.unit or "").strip().lower() in TEMPERATURE_UNITS or "temperat" in name)
    ]
    if not temperatures:
        return
    fever_tier = max((sheet.finding_tier(n) for n in temperatures), key=lambda t: t.rank)
    chills = [n for n, f in sheet.findings.items() if f.kind == "yes_no" and CHILLS.search(f.ask)]
    if not chills:
        report.add(
            ("findings", temperatures[0]), "error", "chills-like-fever",
            f"the sheet measures {temperatures[0]!r} but never asks about chills; add a "
            f"finding that asks about chills with a rule at {fever_tier.value!r}, as for a fever",
        )
        return
    alone = {name: _tier_alone(sheet, name) for name in chills}
    best = max(chills, key=lambda n: alone[n].rank)
    if alone[best].rank < fever_tier.rank:
        report.add(
            ("findings", best), "error", "chills-like-fever",
            f"a yes to chills (finding {best!r}) alone gives only {alone[best].value!r}, but a "
            f"fever reaches {fever_tier.value!r}; give chills their own rule at "
            f"{fever_tier.value!r}",
        )


def _implied_by_keeps_tiers(report: _Report) -> None:
    """``implied_by`` may only point from a finding to a more severe one.

    The implied finding is not asked once its implier is yes. If its own rules could reach a
    higher tier than the implier's, it would be the more severe of the two, asked later or
    never, and the implication would read backwards ("a headache implies a very bad one").
    Both the tier a yes gives alone (at any hour) and the highest tier of any rule naming the
    finding must stay at or below the implier's.
    """
    sheet = report.parsed.sheet
    for name, finding in sheet.findings.items():
        implier = finding.implied_by
        if implier is None or implier not in sheet.findings:
            continue
        mine = (_tier_alone(sheet, name), sheet.finding_tier(name))
        theirs = (_tier_alone(sheet, implier), sheet.finding_tier(implier))
        if mine[0].rank > theirs[0].rank or mine[1].rank > theirs[1].rank:
            report.add(
                ("findings", name, "implied_by"), "error", "implied-by-tier",
                f"{name!r} reaches {max(mine, key=lambda t: t.rank).value!r} but the finding "
                f"that implies it, {implier!r}, only {max(theirs, key=lambda t: t.rank).value!r}"
                f"; implied_by must point to the more severe finding",
            )


def _tier_alone(sheet: Sheet, name: str) -> Tier:
    """The tier a yes to one finding gives with every other answer no, at any hour."""
    facts = Facts({name: True}, None)
    matched = [r.tier for r in sheet.rules if r.condition.evaluate(facts) is not False]
    return max(matched, key=lambda t: t.rank, default=Tier.SELF_CARE)


def _sms_keeps_urgent_signs(report: _Report) -> None:
    """The SMS form must carry the 911 line and every urgent sign under the limit, whole.

    ``render_sms`` drops the title, link, watch signs and 911 signs to fit, but never an
    urgent sign; a sheet whose urgent signs alone overflow sends a message that a carrier
    splits or cuts, so the patient may never read the last signs.
    """
    sheet = report.parsed.sheet
    urgent = [i for i, rule in enumerate(sheet.rules) if rule.tier is Tier.URGENT]
    phone = sheet.phone_param()
    for values in ({}, {phone: SAMPLE_PHONE} if phone else {}):
        sms = render_sms(sheet, values)
        cfh = call_for_help(sheet, values)
        signs = [s for block in cfh.tiers if block.tier is Tier.URGENT for s in block.signs]
        if len(sms) < SMS_LIMIT and cfh.emergency_line in sms and all(s in sms for s in signs):
            continue
        with_phone = f" with the phone {SAMPLE_PHONE}" if values else ""
        report.add(
            ("rules", urgent[0]) if urgent else ("rules",), "error", "sms-too-long",
            f"the SMS form is {len(sms)} characters{with_phone} at its shortest (the 911 line, "
            f"the urgent heading, every urgent sign and the phone); keep it under {SMS_LIMIT}: "
            "shorten the urgent rules' text, or join related signs into one rule with 'or'",
        )
        return


def _status(report: _Report) -> None:
    sheet = report.parsed.sheet
    if sheet.status is Status.DRAFT and sheet.reviewer:
        report.add(
            ("reviewer",), "warning", "draft-reviewed",
            "a draft has a reviewer; set 'status: reviewed' once the review is done, "
            "or clear 'reviewer:'",
        )
    if sheet.status is Status.PUBLISHED:
        for key in ("reviewer", "reviewed_on"):
            if getattr(sheet, key) is None:
                report.add(
                    ("status",), "error", "unreviewed-published",
                    f"a published sheet needs '{key}:'; fill it in, or set 'status: draft'",
                )


def _filled(sheet: Sheet, text: str) -> str:
    """The text as a patient reads it with no param set: ``{{ x }}`` becomes its unset words."""
    return fill_params(text, {}, sheet.params)


def readability_parts(sheet: Sheet) -> Iterator[tuple[SourcePath, str, str]]:
    """(where, label, text) for each part graded on its own: each section, rules, questions."""
    for index, section in enumerate(sheet.sections):
        prefix = ("sections", index)
        texts = [_filled(sheet, t) for w, t in sheet.texts() if w[:2] == prefix]
        label = f"section {section.kind.value!r} ({section.heading})"
        yield prefix, label, language.readable_text(texts)
    yield ("rules",), "the rule texts (when to call for help)", _call_for_help_text(sheet)
    asks = [_filled(sheet, f.ask) for f in sheet.findings.values()]
    yield ("findings",), "the questions (findings' 'ask:')", language.readable_text(asks)
    normal = [_filled(sheet, e.text) for e in sheet.expected]
    normal += [_filled(sheet, m.text) for m in sheet.milestones]
    yield ("expected",), "what is normal and the milestones", language.readable_text(normal)


def _call_for_help_text(sheet: Sheet) -> str:
    """"When should you call for help?" as printed: the 911 line, each tier's heading, its rules."""
    words = wording_for(sheet.language)
    texts = [words.emergency_line]
    for tier in (Tier.EMERGENCY, Tier.URGENT, Tier.CONTACT):
        rules = [_filled(sheet, r.text) for r in sheet.rules if r.tier is tier]
        if rules:
            texts += [words.tiers[tier].heading, *rules]
    return language.readable_text(texts)


def _readability(report: _Report) -> None:
    for where, label, text in readability_parts(report.parsed.sheet):
        grade = language.grade(text)
        if grade <= language.GRADE_WARNING:
            continue
        level: Level = "error" if grade > language.GRADE_ERROR else "warning"
        report.add(
            where, level, "readability",
            f"{label} reads at grade {grade:.1f} (Flesch-Kincaid); aim for "
            f"{language.GRADE_WARNING:g} or lower with shorter sentences and shorter words",
        )


def _patient_texts(sheet: Sheet) -> Iterator[tuple[SourcePath, str]]:
    for where, text in sheet.texts():
        if where != ("title",):
            yield where, _filled(sheet, text)


def _long_sentences(report: _Report) -> None:
    for where, text in _patient_texts(report.parsed.sheet):
        for count in language.long_sentences(text):
            report.add(
                where, "warning", "long-sentence",
                f"a sentence of {count} words; split it so each has "
                f"{language.LONG_SENTENCE_WORDS} words or fewer",
            )


def _jargon(report: _Report) -> None:
    sheet = report.parsed.sheet
    own_names = " | ".join(
        [sheet.title, *sheet.aliases, *(c.display for c in sheet.clinical_codes if c.display)]
    )
    for where, text in _patient_texts(sheet):
        for word, plain in language.jargon_in(text, own_names):
            message = f"{word!r} is medical jargon; write {plain!r} instead"
            report.add(where, "warning", "jargon", message)


def _actions(report: _Report) -> None:
    for where, text in report.parsed.sheet.texts():
        if "steps" in where:
            why = language.action_problem(text)
            if why is not None:
                report.add(where, "warning", "step-action", why)


def _duplicates(report: _Report, library: list[Parsed]) -> None:
    sheet = report.parsed.sheet
    others = [p for p in library if p.path != report.parsed.path]
    for other in others:
        if (other.sheet.code, other.sheet.language) == (sheet.code, sheet.language):
            report.add(
                ("code",), "error", "duplicate-code",
                f"code {sheet.code} in language {sheet.language!r} is also in {other.path}; "
                "give one of them another code or language",
            )
    for index, alias in enumerate(sheet.aliases):
        for other in others:
            if other.sheet.code == sheet.code:
                continue  # the same sheet in another language may share a name
            if alias.casefold() in {a.casefold() for a in other.sheet.aliases}:
                report.add(
                    ("aliases", index), "error", "duplicate-alias",
                    f"alias {alias!r} is also an alias of {other.sheet.code} ({other.path}); "
                    "a search for it must find one sheet, so keep it on one of them",
                )
