"""Teach-back: a short quiz generated from a sheet, so a patient can show what they understood.

Questions come from the sheet alone: each rule ("You passed out. What do you do?" with the
tier actions as choices), each milestone set by an hours param ("How long after the test?"),
and each home-care group ("Which of these should you do?"). Choices are shuffled with a seed
(the handout's id), so a reload shows the same order. Pure: no clock, no store.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from caresheet.i18n import gettext_for, per_language
from caresheet.model.sheet import SectionKind, Sheet, Step, StepList, Tier, fill_params
from caresheet.model.wording import action_for


class QuestionKind(StrEnum):
    RULE = "rule"
    TIMING = "timing"
    HOME_CARE = "home_care"


class Choice(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    text: str


class Question(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    kind: QuestionKind
    prompt: str
    choices: tuple[Choice, ...]
    correct: str  # a choice id
    warning_sign: bool  # a rule question: not knowing it is a safety gap
    teach: str  # what to say after any answer: the right answer in plain words


class Result(BaseModel):
    model_config = ConfigDict(frozen=True)

    question_id: str
    kind: QuestionKind
    chosen: str | None
    correct: bool
    warning_sign: bool
    feedback: str


@dataclass(frozen=True, slots=True)
class _Words:
    language: str
    what_do_you_do: str  # %(situation)s
    how_long: str  # %(text)s
    which_step: str  # %(group)s
    right: str
    not_quite: str
    not_answered: str
    sheet_says: str  # %(step)s
    wrong_steps: tuple[str, ...]

    def hours(self, n: int) -> str:
        """``1 hour``, ``3 hours``: one plural message, with the language's own plural forms."""
        return gettext_for(self.language).ngettext("%(n)s hour", "%(n)s hours", n) % {"n": n}


@per_language
def _words(language: str) -> _Words:
    gettext = gettext_for(language).gettext
    return _Words(
        language=language,
        what_do_you_do=gettext("%(situation)s What do you do?"),
        how_long=gettext('"%(text)s" How many hours after the test is that?'),
        which_step=gettext("%(group)s: which of these should you do?"),
        right=gettext("Right."),
        not_quite=gettext("Not quite."),
        not_answered=gettext("You did not choose an answer."),
        sheet_says=gettext("Your sheet says: %(step)s"),
        # Generic wrong advice, shown beside a sheet's real home-care step.
        wrong_steps=(
            gettext("Stop all of your medicines on your own."),
            gettext("Wait until your next visit to tell anyone about a problem."),
            gettext("Skip meals and fluids for a few days."),
            gettext("Do more than your doctor said, to heal faster."),
        ),
    )


def quiz(sheet: Sheet, params: Mapping[str, str], seed: str | int) -> tuple[Question, ...]:
    """The questions for one handout; the same seed gives the same order of choices."""
    rng = random.Random(str(seed))
    values = dict(params)
    questions = [_rule_question(sheet, values, i, rng) for i in range(len(sheet.rules))]
    questions += _timing_questions(sheet, values, rng)
    questions += _home_care_questions(sheet, values, rng)
    return tuple(questions)


def _rule_question(
    sheet: Sheet, values: dict[str, str], index: int, rng: random.Random
) -> Question:
    rule = sheet.rules[index]
    phone_param = sheet.phone_param()
    phone = values.get(phone_param) if phone_param else None
    choices = [Choice(id=tier.value, text=action_for(tier, sheet.language, phone))
               for tier in (Tier.EMERGENCY, Tier.URGENT, Tier.CONTACT, Tier.SELF_CARE)]
    rng.shuffle(choices)
    situation = fill_params(rule.text, values, sheet.params)
    return Question(
        id=f"rule-{rule.id}", kind=QuestionKind.RULE,
        prompt=_words(sheet.language).what_do_you_do % {"situation": situation},
        choices=tuple(choices), correct=rule.tier.value, warning_sign=True,
        teach=f"{situation} {action_for(rule.tier, sheet.language, phone)}",
    )


def _timing_questions(sheet: Sheet, values: dict[str, str], rng: random.Random) -> list[Question]:
    """A milestone set by an hours param the clinician filled in: is the number known?"""
    words = _words(sheet.language)
    questions = []
    for milestone in sheet.milestones:
        param = sheet.params.get(milestone.at)
        if param is None or milestone.at not in values:
            continue
        right = int(float(values[milestone.at]))
        options = _hour_options(right, param.min, param.max)
        choices = [Choice(id=str(n), text=words.hours(n)) for n in options]
        rng.shuffle(choices)
        text = fill_params(milestone.text, values, sheet.params)
        answer = next(c.text for c in choices if c.id == str(right))
        questions.append(Question(
            id=f"timing-{milestone.id}", kind=QuestionKind.TIMING,
            prompt=words.how_long % {"text": text}, choices=tuple(choices), correct=str(right),
            warning_sign=False, teach=f"{param.label}: {answer}.",
        ))
    return questions


def _hour_options(right: int, low: float | None, high: float | None) -> list[int]:
    """The right number of hours and up to three others, near it and in the allowed range."""
    bottom = max(1, int(low) if low is not None else 1)
    top = int(high) if high is not None else right + 4
    others = [n for n in range(bottom, max(top, right + 3) + 1) if n != right]
    others.sort(key=lambda n: (abs(n - right), n))
    return sorted([right, *others[:3]])


def _home_care_questions(
    sheet: Sheet, values: dict[str, str], rng: random.Random
) -> list[Question]:
    """One question per home-care group: its real step among generic wrong advice."""
    section = sheet.section(SectionKind.HOME_CARE)
    if section is None:
        return []
    words = _words(sheet.language)
    questions = []
    for number, group in enumerate(section.groups):
        steps = [s for b in group.blocks if isinstance(b, StepList) for s in b.steps]
        if not steps:
            continue
        step: Step = rng.choice(steps)
        right = fill_params(step.text, values, sheet.params)
        wrong = rng.sample(words.wrong_steps, k=min(2, len(words.wrong_steps)))
        choices = [Choice(id="right", text=right)]
        choices += [Choice(id=f"wrong{i}", text=text) for i, text in enumerate(wrong)]
        rng.shuffle(choices)
        questions.append(Question(
            id=f"home-{number}", kind=QuestionKind.HOME_CARE,
            prompt=words.which_step % {"group": group.heading}, choices=tuple(choices),
            correct="right", warning_sign=False, teach=words.sheet_says % {"step": right},
        ))
    return questions


def grade(
    questions: tuple[Question, ...], answers: Mapping[str, str], language: str = "en"
) -> tuple[Result, ...]:
    """Mark each question; feedback always restates the right answer, to teach it."""
    words = _words(language)
    results = []
    for question in questions:
        chosen = answers.get(question.id) or None
        if chosen is not None and chosen not in {c.id for c in question.choices}:
            chosen = None  # a forged or stale choice counts as no answer, never as right
        right = chosen == question.correct
        wrong = words.not_answered if chosen is None else words.not_quite
        opening = words.right if right else wrong
        results.append(Result(
            question_id=question.id, kind=question.kind, chosen=chosen, correct=right,
            warning_sign=question.warning_sign, feedback=f"{opening} {question.teach}",
        ))
    return tuple(results)
