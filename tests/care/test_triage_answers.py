"""Reading a patient's answers: the words accepted, and the ones refused with the valid list."""

from __future__ import annotations

import pytest

from caresheet.authoring.parse import parse
from caresheet.care.triage import read_answers, triage
from caresheet.errors import AnswerError, BadAnswerError, UnknownFindingError
from caresheet.model.sheet import Tier
from doc_examples import fenced

SHEET = parse(fenced("caresheet")[0]).sheet  # the guide's example: it has a number finding


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("yes", True),
        ("YES", True),
        (" no ", False),
        ("unsure", None),
        ("Not sure", None),
        ("not_sure", None),
    ],
)
def test_yes_no_answers(raw: str, value: bool | None) -> None:
    assert read_answers(SHEET, {"pain": raw}) == {"pain": value}


@pytest.mark.parametrize(("raw", "value"), [("100.4", 100.4), ("99", 99.0), ("unsure", None)])
def test_number_answers(raw: str, value: float | None) -> None:
    assert read_answers(SHEET, {"temperature": raw}) == {"temperature": value}


@pytest.mark.parametrize("raw", ["nan", "inf", "-inf", "hot", "100.4F", "yes"])
def test_a_number_answer_must_be_a_finite_number(raw: str) -> None:
    with pytest.raises(BadAnswerError, match="a number, unsure"):
        read_answers(SHEET, {"temperature": raw})


@pytest.mark.parametrize("raw", ["maybe", "y", "1", ""])
def test_a_yes_no_answer_must_be_yes_no_or_unsure(raw: str) -> None:
    with pytest.raises(BadAnswerError, match="use one of: no, unsure, yes"):
        read_answers(SHEET, {"pain": raw})


def test_an_unknown_finding_lists_the_valid_ones() -> None:
    with pytest.raises(UnknownFindingError) as caught:
        read_answers(SHEET, {"pian": "yes"})
    assert str(caught.value) == (
        "unknown finding 'pian'; valid findings: bleeding, chills, fever, opened, "
        "other_concern, pain, pus, red_streaks, temperature"
    )


@pytest.mark.parametrize(
    ("temperature", "tier", "certain"),
    [("100.4", Tier.URGENT, True), ("100.3", Tier.SELF_CARE, None), ("unsure", Tier.URGENT, False)],
)
def test_a_number_rule_at_its_limit(temperature: str, tier: Tier, certain: bool | None) -> None:
    result = triage(SHEET, {"fever": "yes", "temperature": temperature}, 10.0)
    assert result.tier == tier
    infection = [m for m in result.matched if m.id == "infection"]
    assert (infection[0].certain if infection else None) == certain


@pytest.mark.parametrize("raw", ["nan", "abc", "1e999", "inf"])
def test_a_bad_number_is_named_by_its_finding(raw: str) -> None:
    with pytest.raises(AnswerError) as caught:
        read_answers(SHEET, {"pain": "yes", "temperature": raw})
    assert set(caught.value.problems) == {"temperature"}
    assert "a number, unsure" in caught.value.problems["temperature"]


def test_an_empty_number_means_not_known() -> None:
    """The form says "Leave it empty if you do not know": every face reads it the same way."""
    assert read_answers(SHEET, {"temperature": " "}) == {"temperature": None}


def test_every_bad_answer_is_named_at_once_on_one_line() -> None:
    with pytest.raises(AnswerError) as caught:
        read_answers(SHEET, {"pain": "maybe", "temperature": "nan", "fever": "no",
                             "severe_headache": "yes"})
    error = caught.value
    assert set(error.problems) == {"pain", "temperature", "severe_headache"}
    assert "valid findings" in error.problems["severe_headache"]
    assert "\n" not in str(error) and all(m in str(error) for m in error.problems.values())
