"""The check asks emergency questions first, follow-ups only when relevant, stops at 911."""

from __future__ import annotations

import pytest

from caresheet.care.symptom_check import next_questions, stages, step_back, stops_now
from caresheet.model.sheet import Sheet

URGENT_STAGE = ["fever", "severe_headache", "site_drainage", "numb_or_weak"]

STAGES = [
    ("start-with-911-questions", {}, ["passed_out"]),
    ("then-urgent", {"passed_out": "no"}, URGENT_STAGE),
    ("fever-no-skips-stiff-neck",
     {"passed_out": "no", **dict.fromkeys(URGENT_STAGE, "no")}, ["headache", "sore_back"]),
    ("fever-yes-asks-stiff-neck",
     {"passed_out": "no", **dict.fromkeys(URGENT_STAGE, "no"), "fever": "yes"}, ["stiff_neck"]),
    ("fever-unsure-asks-stiff-neck",
     {"passed_out": "no", **dict.fromkeys(URGENT_STAGE, "no"), "fever": "unsure"}, ["stiff_neck"]),
    ("safety-net-last", {"passed_out": "no", **dict.fromkeys(URGENT_STAGE, "no"),
                         "headache": "no", "sore_back": "no"}, ["other_concern"]),
    ("done", {"passed_out": "no", **dict.fromkeys(URGENT_STAGE, "no"), "headache": "no",
              "sore_back": "no", "other_concern": "no"}, []),
]


@pytest.mark.parametrize(("answers", "expected"), [s[1:] for s in STAGES],
                         ids=[s[0] for s in STAGES])
def test_stages(p586: Sheet, answers: dict[str, str], expected: list[str]) -> None:
    assert next_questions(p586, answers) == expected


@pytest.mark.parametrize(("answer", "stops"), [("yes", True), ("unsure", True), ("no", False)])
def test_a_911_answer_stops_the_check(p586: Sheet, answer: str, stops: bool) -> None:
    assert stops_now(p586, {"passed_out": answer}, 3.0) is stops


def test_a_question_that_opens_a_911_follow_up_is_asked_first() -> None:
    from caresheet.authoring.parse import read_file
    from caresheet.library import LIBRARY_DIR

    sheet = read_file(LIBRARY_DIR / "CS108.en.md").sheet
    assert next_questions(sheet, {}) == ["bleeding"]
    assert next_questions(sheet, {"bleeding": "yes"}) == ["bleeding_wont_stop"]
    assert stops_now(sheet, {"bleeding": "yes", "bleeding_wont_stop": "yes"}, 1.0)
    assert "bleeding_wont_stop" not in next_questions(sheet, {"bleeding": "no"})


ALL_NO = {"passed_out": "no", **dict.fromkeys(URGENT_STAGE, "no"), "headache": "no",
          "sore_back": "no"}


def test_stages_replay_the_steps_the_answers_complete(p586: Sheet) -> None:
    assert stages(p586, ALL_NO) == [["passed_out"], URGENT_STAGE, ["headache", "sore_back"]]
    assert stages(p586, {**ALL_NO, "other_concern": "no"})[-1] == ["other_concern"]
    assert stages(p586, {"passed_out": "no", "fever": "no"}) == [["passed_out"]]


def test_back_from_the_safety_net_shows_the_step_before_with_every_answer_kept(
        p586: Sheet) -> None:
    answers = {**ALL_NO, "headache": "yes", "other_concern": "yes",
               "other_concern_note": "my leg feels odd"}
    back = step_back(p586, answers, ["other_concern"])
    assert back.ask == ["headache", "sore_back"]
    assert back.answers == {"passed_out": "no", **dict.fromkeys(URGENT_STAGE, "no")}
    assert back.kept == {"headache": "yes", "sore_back": "no", "other_concern": "yes",
                         "other_concern_note": "my leg feels odd"}


def test_back_from_a_follow_up_returns_to_the_step_that_opened_it(p586: Sheet) -> None:
    answers = {**ALL_NO, "fever": "yes"}
    del answers["headache"], answers["sore_back"]
    back = step_back(p586, {**answers, "stiff_neck": "no"}, ["stiff_neck"])
    assert back.ask == URGENT_STAGE
    assert back.kept["fever"] == "yes" and back.kept["stiff_neck"] == "no"
    assert back.answers == {"passed_out": "no"}


def test_back_on_the_first_step_stays_there(p586: Sheet) -> None:
    back = step_back(p586, {"passed_out": "no"}, ["passed_out"])
    assert (back.ask, back.answers, back.kept) == (["passed_out"], {}, {"passed_out": "no"})


def test_a_finding_implied_by_a_yes_is_not_asked_again(p586: Sheet) -> None:
    """P586: headache is implied_by severe_headache; "not sure" implies nothing."""
    answered = {"passed_out": "no", **dict.fromkeys(URGENT_STAGE, "no")}
    assert next_questions(p586, {**answered, "severe_headache": "yes"}) == ["sore_back"]
    assert next_questions(p586, {**answered, "severe_headache": "unsure"}) == [
        "headache", "sore_back"]
