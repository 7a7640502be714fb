"""One meaning for the rules: an engine no one here wrote agrees with triage.

Every shipped sheet's PlanDefinition conditions are evaluated by ``fhirpathpy`` (the R4 model,
so ``answer.value`` resolves) over the QuestionnaireResponse that caresheet writes for a
generated answer set, "not sure" and an unknown time included; the tier it implies (the
highest tier of any rule whose expression is not ``false``) must be triage's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caresheet.care.triage import triage
from caresheet.model.condition import time_limits
from caresheet.model.sheet import Sheet, Tier
from caresheet.render import fhir
from render.conftest import library_sheets
from render.fhir_check import validate

fhirpathpy = pytest.importorskip("fhirpathpy")
from fhirpathpy.models import models  # noqa: E402

SHEETS = library_sheets()
NOT_ASKED = object()


def rule_expressions(plan: dict[str, Any]) -> list[tuple[Tier, str]]:
    """(tier, FHIRPath) of every action that carries a condition, at any depth."""
    found: list[tuple[Tier, str]] = []

    def walk(actions: list[dict[str, Any]]) -> None:
        for action in actions:
            for condition in action.get("condition", []):
                tier = Tier(action["code"][0]["coding"][0]["code"])
                found.append((tier, condition["expression"]["expression"]))
            walk(action.get("action", []))

    walk(plan["action"])
    return found


COMPILED: dict[tuple[str, str], list[tuple[Tier, str, Callable[..., list[Any]]]]] = {}


def compiled_rules(sheet: Sheet) -> list[tuple[Tier, str, Callable[..., list[Any]]]]:
    """Each rule's expression, compiled once by fhirpathpy (its parser is the slow part)."""
    key = (sheet.code, sheet.language)
    if key not in COMPILED:
        COMPILED[key] = [
            (tier, expression, fhirpathpy.compile(expression, models["r4"]))
            for tier, expression in rule_expressions(fhir.plan_definition(sheet))
        ]
    return COMPILED[key]


def fhirpath_tier(sheet: Sheet, response: dict[str, Any], elapsed: float | None) -> Tier:
    """The tier by the independent engine: a rule matches unless it is definitely false."""
    environment = {"elapsedHours": [] if elapsed is None else elapsed}
    matched = Tier.SELF_CARE
    for tier, expression, evaluate in compiled_rules(sheet):
        result = evaluate(response, environment)
        assert result in ([], [True], [False]), (expression, result)
        if result != [False] and tier.rank > matched.rank:
            matched = tier
    return matched


def answer_sets(sheet: Sheet) -> st.SearchStrategy[dict[str, str]]:
    """Each finding: not asked, yes, no, not sure; number findings a value near each limit."""
    per_finding = {}
    for name, finding in sheet.findings.items():
        if finding.kind == "number":
            choices = st.one_of(
                st.sampled_from(["unsure", "not sure", NOT_ASKED]),
                st.sampled_from([95.0, 99.0, 100.4, 101.0, 103.5, 37.5, 38.0]).map(str),
                st.floats(min_value=0, max_value=200, allow_nan=False).map(repr),
            )
        else:
            choices = st.sampled_from(["yes", "no", "unsure", "not sure", NOT_ASKED])
        per_finding[name] = choices
    return st.fixed_dictionaries(per_finding).map(
        lambda drawn: {k: v for k, v in drawn.items() if v is not NOT_ASKED}
    )


def elapsed_times(sheet: Sheet) -> st.SearchStrategy[float | None]:
    """Unknown, anywhere, and exactly at or beside each of the sheet's time limits."""
    limits = sorted({t.hours for r in sheet.rules for t in time_limits(r.condition)})
    edges = [h + d for h in limits for d in (-0.01, 0.0, 0.01)] or [0.0]
    return st.one_of(
        st.none(),
        st.sampled_from([e for e in edges if e >= 0]),
        st.floats(min_value=0, max_value=24 * 30, allow_nan=False),
    )


@pytest.mark.parametrize("sheet", SHEETS, ids=[f"{s.code}.{s.language}" for s in SHEETS])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fhirpathpy_gives_the_tier_triage_gives(sheet: Sheet, data: st.DataObject) -> None:
    answers = data.draw(answer_sets(sheet), label="answers")
    elapsed = data.draw(elapsed_times(sheet), label="elapsed hours")
    response = fhir.questionnaire_response(sheet, answers, elapsed_hours=elapsed)
    assert fhirpath_tier(sheet, response, elapsed) == triage(sheet, answers, elapsed).tier


@pytest.mark.parametrize(
    ("answers", "elapsed", "tier"),
    [
        ({}, 10.0, Tier.SELF_CARE),  # nothing asked: every finding counts as no
        ({"headache": "yes"}, 50.0, Tier.CONTACT),
        ({"headache": "yes"}, 10.0, Tier.SELF_CARE),
        ({"headache": "yes"}, None, Tier.CONTACT),  # unknown time: the limit counts as reached
        ({"headache": "unsure"}, 50.0, Tier.CONTACT),  # not sure counts as yes
        ({"passed_out": "unsure"}, 1.0, Tier.EMERGENCY),
        ({"fever": "yes", "stiff_neck": "no"}, 5.0, Tier.SELF_CARE),
        ({"fever": "yes", "stiff_neck": "unsure"}, 5.0, Tier.URGENT),
    ],
)
def test_p586_cases_by_hand(answers: dict[str, str], elapsed: float | None, tier: Tier) -> None:
    sheet = next(s for s in SHEETS if s.code == "P586" and s.language == "en")
    response = fhir.questionnaire_response(sheet, answers, elapsed_hours=elapsed)
    assert triage(sheet, answers, elapsed).tier == tier
    assert fhirpath_tier(sheet, response, elapsed) == tier


def test_not_sure_is_an_answer_without_a_value() -> None:
    sheet = next(s for s in SHEETS if s.code == "P586" and s.language == "en")
    response = fhir.questionnaire_response(
        sheet, {"headache": "unsure", "fever": "no"}, response_id="7", elapsed_hours=30,
        handout_id=3,
    )
    validate(response)
    items = {i["linkId"]: i["answer"][0] for i in response["item"]}
    assert items == {
        "fever": {"valueBoolean": False},
        "headache": {"extension": [{"url": fhir.DATA_ABSENT_REASON, "valueCode": "asked-unknown"}]},
    }
    assert response["questionnaire"].endswith("/Questionnaire/P586|1")
