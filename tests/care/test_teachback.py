"""Teach-back questions come from the sheet, shuffle stably, and grade safely."""

from __future__ import annotations

import pytest

from caresheet.care.teachback import QuestionKind, grade, quiz
from caresheet.model.sheet import Sheet, Tier

PARAMS = {"lie_flat_hours": "2", "clinic_phone": "555-0100"}


def test_every_rule_is_a_warning_sign_question(p586: Sheet) -> None:
    questions = quiz(p586, PARAMS, seed=7)
    rules = [q for q in questions if q.kind is QuestionKind.RULE]
    assert [q.id for q in rules] == [f"rule-{r.id}" for r in p586.rules]
    passed_out = rules[0]
    assert passed_out.prompt == "You passed out. What do you do?"
    assert passed_out.correct == Tier.EMERGENCY.value
    assert passed_out.warning_sign
    assert {c.id for c in passed_out.choices} == {t.value for t in Tier}
    assert any("555-0100" in c.text for c in passed_out.choices)


def test_how_long_to_lie_flat(p586: Sheet) -> None:
    timing = next(q for q in quiz(p586, PARAMS, seed=7) if q.kind is QuestionKind.TIMING)
    assert "You can stop lying flat." in timing.prompt
    assert timing.correct == "2"
    assert [c.text for c in sorted(timing.choices, key=lambda c: int(c.id))] == [
        "1 hour", "2 hours", "3 hours", "4 hours"]


def test_no_timing_question_when_the_clinician_left_it_unset(p586: Sheet) -> None:
    assert not [q for q in quiz(p586, {}, seed=1) if q.kind is QuestionKind.TIMING]


def test_home_care_questions_hold_one_real_step(p586: Sheet) -> None:
    home = [q for q in quiz(p586, PARAMS, seed=3) if q.kind is QuestionKind.HOME_CARE]
    assert [q.prompt.split(":")[0] for q in home] == ["Activity", "Diet", "Medicines"]
    diet = home[1]
    right = next(c for c in diet.choices if c.id == diet.correct)
    assert right.text == "Drink extra fluids today. This can make a headache less bad."
    assert len(diet.choices) == 3


def test_same_seed_same_order_and_seeds_differ(p586: Sheet) -> None:
    def orders(seed: int) -> list[list[str]]:
        return [[c.id for c in q.choices] for q in quiz(p586, PARAMS, seed=seed)]

    assert orders(42) == orders(42)
    assert any(orders(42) != orders(s) for s in range(1, 5))


GRADES = [
    # (question, chosen, correct?, feedback starts)
    ("rule-passed_out", "emergency", True, "Right. You passed out. Call 911 now."),
    ("rule-passed_out", "self_care", False, "Not quite. You passed out. Call 911 now."),
    ("rule-passed_out", None, False, "You did not choose an answer."),
    ("rule-passed_out", "forged", False, "You did not choose an answer."),
    ("rule-lasting_headache_or_sore_back", "contact", True, "Right."),
    ("timing-lie_flat", "3", False, "Not quite. Hours to lie flat after the test: 2 hours."),
    ("home-1", "right", True, "Right. Your sheet says: Drink extra fluids"),
]


@pytest.mark.parametrize(("question", "chosen", "correct", "feedback"), GRADES)
def test_grading_teaches_the_right_answer(
    p586: Sheet, question: str, chosen: str | None, correct: bool, feedback: str
) -> None:
    questions = quiz(p586, PARAMS, seed=9)
    answers = {} if chosen is None else {question: chosen}
    result = next(r for r in grade(questions, answers) if r.question_id == question)
    assert result.correct is correct
    assert result.feedback.startswith(feedback)
    assert result.warning_sign is question.startswith("rule-")
