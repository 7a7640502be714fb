"""Every shipped sheet, in every language, makes a timeline, a check, a quiz and a calendar."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from caresheet.authoring.batch import load_paths
from caresheet.care.reminders import calendar
from caresheet.care.symptom_check import ask_tier, next_questions
from caresheet.care.teachback import QuestionKind, grade, quiz
from caresheet.care.timeline import timeline
from caresheet.care.triage import triage
from caresheet.model.sheet import Sheet, Tier

from .conftest import LIBRARY

SHEETS = [item.sheet for item in load_paths([LIBRARY])]
PROCEDURE = dt.datetime(2026, 10, 31, 9, 0, tzinfo=ZoneInfo("America/Chicago"))


@pytest.mark.parametrize("sheet", SHEETS, ids=[f"{s.code}-{s.language}" for s in SHEETS])
def test_every_sheet_works_in_the_guide(sheet: Sheet) -> None:
    now = PROCEDURE + dt.timedelta(hours=30)
    line = timeline(sheet, {}, PROCEDURE, now)
    assert line.events[0].id == "procedure"
    Calendar.from_ical(calendar(line, handout_id="1", title=sheet.title, url=None, stamp=now))

    questions = quiz(sheet, {}, seed=1)
    rules = [q for q in questions if q.kind is QuestionKind.RULE]
    assert len(rules) == len(sheet.rules)
    right = {q.id: q.correct for q in questions}
    assert all(r.correct for r in grade(questions, right, sheet.language))

    # Answering "no" to everything ends the check, every finding asked is a real one, and
    # the last step is the safety net alone.
    answers: dict[str, str] = {}
    while stage := next_questions(sheet, answers):
        assert set(stage) <= set(sheet.findings) or stage == ["other_concern"]
        assert "other_concern" not in answers
        answers.update({name: "no" for name in stage})
    assert list(answers)[-1] == "other_concern"
    top_level = {n for n, f in sheet.findings.items() if f.ask_if is None}
    assert top_level <= set(answers)
    assert triage(sheet, answers, 30.0).tier is Tier.SELF_CARE


@pytest.mark.parametrize("sheet", SHEETS, ids=[f"{s.code}-{s.language}" for s in SHEETS])
def test_emergency_questions_come_first(sheet: Sheet) -> None:
    """Answering yes to each question as asked reaches every 911 finding before any other."""
    top = max((sheet.finding_tier(n) for n in sheet.findings), key=lambda t: t.rank)
    answers: dict[str, str] = {}
    while (stage := next_questions(sheet, answers)) and any(
        ask_tier(sheet, n) is top for n in stage
    ):
        assert all(ask_tier(sheet, n) is top for n in stage)
        answers.update({name: "yes" for name in stage})
    asked_first = set(answers)
    assert {n for n in sheet.findings if sheet.finding_tier(n) is top} <= asked_first
