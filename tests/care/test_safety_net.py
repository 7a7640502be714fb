"""The safety net and honest "not sure", for every shipped sheet and generated answers.

Laws: the check asks the safety net last (unless it already ended at 911), a yes or "not
sure" to it gives at least ``contact`` and says to call the clinic, and no line a patient or
the care team reads states as fact a finding the patient was not sure of.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caresheet.authoring.batch import load_paths
from caresheet.care import safety_net
from caresheet.care.symptom_check import next_questions, stops_now
from caresheet.care.triage import Disposition, triage
from caresheet.errors import AnswerError, SheetReferenceError
from caresheet.library import LIBRARY_DIR
from caresheet.model.sheet import Sheet, Tier

SHEETS: list[Sheet] = [item.sheet for item in load_paths([LIBRARY_DIR])]
CHOICES = ["yes", "no", "unsure"]
ELAPSED = st.one_of(st.none(), st.floats(min_value=0, max_value=24 * 14))


def answer_for(sheet: Sheet, name: str, draw: st.DrawFn) -> str:
    if name in sheet.findings and sheet.findings[name].kind == "number":
        return draw(st.sampled_from(["", "98.6", "100.5", "102", "37.0"]))
    return draw(st.sampled_from(CHOICES))


@st.composite
def checks(draw: st.DrawFn) -> tuple[Sheet, dict[str, str], list[list[str]], float | None]:
    """A sheet, and a patient going through its check step by step as a form asks."""
    sheet = draw(st.sampled_from(SHEETS))
    elapsed = draw(ELAPSED)
    answers: dict[str, str] = {}
    steps: list[list[str]] = []
    while not stops_now(sheet, answers, elapsed):
        step = next_questions(sheet, answers)
        steps.append(step)
        answers.update({name: answer_for(sheet, name, draw) for name in step})
    return sheet, answers, steps, elapsed


def reads(disposition: Disposition) -> list[str]:
    """Every line the result page, the CLI and the inbox show for a disposition."""
    lines = [disposition.action, *(m.said for m in disposition.matched)]
    return lines + ([disposition.unsure_note] if disposition.unsure_note else [])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(checks())
def test_the_safety_net_is_asked_last_and_lifts_to_contact(
        case: tuple[Sheet, dict[str, str], list[list[str]], float | None]) -> None:
    sheet, answers, steps, elapsed = case
    result = triage(sheet, answers, elapsed)
    asked = [name for step in steps for name in step]
    if safety_net.QUESTION in asked:
        assert steps[-1] == [safety_net.QUESTION]  # alone, after every other question
        assert set(asked) - {safety_net.QUESTION} <= set(sheet.findings)
    else:  # only a 911 answer ends a check before its safety net
        assert result.tier is Tier.EMERGENCY
    if answers.get(safety_net.QUESTION) in ("yes", "unsure"):
        assert result.tier.rank >= Tier.CONTACT.rank
        assert safety_net.QUESTION in [m.id for m in result.matched]
        if result.tier is Tier.CONTACT:
            assert "Call your clinic" in result.action or "Llame a su clínica" in result.action
    # The safety net never lowers what the sheet's own answers give.
    without = {k: v for k, v in answers.items() if k != safety_net.QUESTION}
    assert result.tier.rank >= triage(sheet, without, elapsed).tier.rank


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(checks())
def test_no_line_states_an_unsure_finding_as_fact(
        case: tuple[Sheet, dict[str, str], list[list[str]], float | None]) -> None:
    sheet, answers, _steps, elapsed = case
    result = triage(sheet, answers, elapsed)
    for matched in result.matched:
        if matched.certain:
            continue
        # A match resting on "not sure" (or an unknown time) never shows the rule's own line
        # as the reason, unless only the time was unknown; it names what was unsure.
        unsure = [r for r in matched.reasons if r.answer == "unsure"]
        if unsure:
            assert matched.text not in matched.said
            for reason in unsure:
                question = (safety_net.question(sheet, reason.finding).ask
                            if reason.finding else "")
                assert question in matched.said or reason.finding == safety_net.QUESTION
    # An answer of "not sure" never turns up as "you answered yes".
    for matched in result.matched:
        for reason in matched.reasons:
            if reason.finding in answers and answers[reason.finding] == "unsure":
                assert reason.answer == "unsure"
    assert all(line.strip() for line in reads(result))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(SHEETS), st.data())
def test_one_unsure_answer_behind_911_says_so(sheet: Sheet, data: st.DataObject) -> None:
    """An emergency resting on one "not sure" says so; a sure yes never gets that note."""
    emergency = [n for n in sheet.findings if sheet.finding_tier(n) is Tier.EMERGENCY
                 and sheet.findings[n].kind == "yes_no"]
    if not emergency:
        return
    name = data.draw(st.sampled_from(emergency))
    others = {n: "no" for n, f in sheet.findings.items() if f.kind == "yes_no" and n != name}
    elapsed = data.draw(st.floats(min_value=0, max_value=24 * 10))
    sure = triage(sheet, {**others, name: "yes"}, elapsed)
    unsure = triage(sheet, {**others, name: "unsure"}, elapsed)
    assert unsure.tier is sure.tier  # conservative: unsure counts as yes
    if sure.tier is Tier.EMERGENCY:
        assert sure.unsure_note is None
        assert unsure.unsure_note is not None
        assert sheet.findings[name].ask in unsure.unsure_note
        assert "911" in unsure.unsure_note


def test_the_p586_words_for_not_sure() -> None:
    p586 = next(s for s in SHEETS if s.code == "P586" and s.language == "en")
    result = triage(p586, {"passed_out": "unsure"}, 3.0)
    assert [m.said for m in result.matched] == [
        "You were not sure how to answer: Did you pass out or faint?"]
    assert "You passed out." not in reads(result)
    assert result.unsure_note == (
        "We say to call 911 only because you were not sure how to answer one question: "
        "Did you pass out or faint? If there is any chance that it happened, call 911 now.")
    # Two reasons for 911: the note would not be true, so it is not given.
    both = triage(p586, {"passed_out": "unsure", "severe_headache": "yes"}, 3.0)
    assert both.tier is Tier.EMERGENCY and both.unsure_note is not None  # headache is urgent
    sure = triage(p586, {"passed_out": "yes"}, 3.0)
    assert sure.matched[0].said == "You passed out." and sure.unsure_note is None


def test_the_spanish_words_come_from_the_catalog() -> None:
    p586 = next(s for s in SHEETS if s.code == "P586" and s.language == "es")
    result = triage(p586, {"passed_out": "unsure", "other_concern": "yes"}, 3.0)
    said = [m.said for m in result.matched]
    assert said[0].startswith("No sabía con certeza cómo responder: ")
    assert said[1] == "Nos dijo que algo más de su recuperación le preocupa."
    assert result.unsure_note and result.unsure_note.startswith("Le decimos que llame al 911")
    alone = triage(p586, {"other_concern": "unsure"}, 3.0, {"clinic_phone": "555-0100"})
    assert alone.tier is Tier.CONTACT
    assert alone.action == "Llame a su clínica al 555-0100 y cuénteles qué le preocupa."


def test_the_note_is_checked_and_never_echoed() -> None:
    p586 = SHEETS[0]
    secret = "x" * (safety_net.MAX_NOTE + 1)
    try:
        triage(p586, {"other_concern": "yes", "other_concern_note": secret}, 3.0)
    except AnswerError as error:
        assert secret not in str(error) and "at most 500" in str(error)
    else:
        raise AssertionError("a note over the limit was taken")
    kept = triage(p586, {"other_concern": "yes", "other_concern_note": " Leg hurts "}, 3.0)
    assert "Leg hurts" not in kept.model_dump_json()  # the note is no part of the result


def test_no_sheet_may_declare_the_safety_nets_ids() -> None:
    data = SHEETS[0].model_dump()
    data["findings"]["other_concern"] = {"ask": "Anything else?"}
    try:
        Sheet.model_validate(data)
    except ValueError as error:
        assert "reserved" in str(error)
        assert isinstance(error, SheetReferenceError) or "other_concern" in str(error)
    else:
        raise AssertionError("a sheet declared other_concern")


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(SHEETS), st.data())
def test_an_implied_finding_counts_as_the_yes_it_would_be(sheet: Sheet,
                                                          data: st.DataObject) -> None:
    """implied_by: leaving the implied question out after a yes to its implier gives what a
    yes to both gives, and the check never asks it."""
    pairs = [(n, f.implied_by) for n, f in sheet.findings.items() if f.implied_by]
    if not pairs:
        return
    name, implier = data.draw(st.sampled_from(pairs))
    others = {n: data.draw(st.sampled_from(CHOICES)) for n, f in sheet.findings.items()
              if f.kind == "yes_no" and n not in (name, implier)}
    elapsed = data.draw(ELAPSED)
    left_out = triage(sheet, {**others, implier: "yes"}, elapsed)
    both = triage(sheet, {**others, implier: "yes", name: "yes"}, elapsed)
    assert left_out.tier is both.tier
    assert [m.id for m in left_out.matched] == [m.id for m in both.matched]
    assert name not in next_questions(sheet, {**others, implier: "yes"})


def test_p586_declares_headache_implied_by_a_very_bad_headache() -> None:
    for sheet in SHEETS:
        if sheet.code == "P586":
            assert sheet.findings["headache"].implied_by == "severe_headache"
