"""The safety laws of triage, for P586 and for randomly generated valid sheets.

Conditions are drawn from the whole grammar, with ``not`` only over time atoms (the sheet
model refuses a negated finding, which is what makes the monotone laws hold).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from caresheet.authoring.parse import read_file
from caresheet.care.triage import Disposition, triage
from caresheet.model.sheet import Sheet, Tier

P586: Sheet = read_file(
    Path(__file__).resolve().parents[2] / "src" / "caresheet" / "library" / "P586.en.md"
).sheet
EMERGENCY_LINE = "If you think it could be an emergency, call 911 at any time."
YES_NO = ["yes", "no", "unsure"]
TIERS = [Tier.EMERGENCY, Tier.URGENT, Tier.CONTACT]

# ------------------------------------------------------------------ random sheets

durations = st.sampled_from(["90m", "6h", "1d", "30h", "2d", "1d6h", "3d"])
time_atoms = st.builds(
    lambda kind, d: f"{kind} {d}", st.sampled_from(["after", "within"]), durations
)


def conditions(yes_no: list[str], numbers: list[str]) -> st.SearchStrategy[str]:
    atoms = [st.sampled_from(yes_no), time_atoms, time_atoms.map(lambda t: f"not {t}")]
    if numbers:
        atoms.append(
            st.builds(
                lambda n, op, v: f"{n} {op} {v}",
                st.sampled_from(numbers),
                st.sampled_from([">=", ">", "<=", "<"]),
                st.sampled_from(["99", "100.4", "37.5"]),
            )
        )
    return st.recursive(
        st.one_of(atoms),
        lambda inner: st.builds(
            lambda a, op, b: f"({a} {op} {b})", inner, st.sampled_from(["and", "or"]), inner
        ),
        max_leaves=6,
    )


@st.composite
def sheets(draw: st.DrawFn) -> Sheet:
    yes_no = draw(
        st.lists(st.sampled_from([f"f{i}" for i in range(6)]), min_size=1, max_size=5, unique=True)
    )
    numbers = draw(st.lists(st.just("temp"), max_size=1))
    findings: dict[str, Any] = {name: {"ask": f"Question {name}?"} for name in yes_no}
    findings.update({name: {"ask": "What is it?", "kind": "number"} for name in numbers})
    when = conditions(yes_no, numbers)
    rules = draw(st.lists(st.tuples(st.sampled_from(TIERS), when), min_size=1, max_size=6))
    return Sheet.model_validate(
        {
            "code": "R1",
            "language": "en",
            "title": "Random",
            "version": 1,
            "findings": findings,
            "rules": [
                {"id": f"r{i}", "tier": tier, "when": w, "text": f"Rule {i}."}
                for i, (tier, w) in enumerate(rules)
            ],
        }
    )


@st.composite
def checks(
    draw: st.DrawFn, sheet_strategy: st.SearchStrategy[Sheet]
) -> tuple[Sheet, dict[str, str], float | None]:
    sheet = draw(sheet_strategy)
    answers: dict[str, str] = {}
    for name, finding in sheet.findings.items():
        if finding.kind == "number":
            value = draw(
                st.one_of(
                    st.none(), st.just("unsure"), st.sampled_from(["98.6", "99", "100.4", "103"])
                )
            )
        else:
            value = draw(st.one_of(st.none(), st.sampled_from(YES_NO)))
        if value is not None:
            answers[name] = value
    elapsed = draw(
        st.one_of(
            st.none(),
            st.sampled_from([0.0, 1.5, 6.0, 24.0, 30.0, 47.99, 48.0, 72.0]),
            st.floats(min_value=0, max_value=200, allow_nan=False),
        )
    )
    return sheet, answers, elapsed


any_sheet = st.one_of(st.just(P586), sheets())
any_check = checks(any_sheet)


def tier(sheet: Sheet, answers: dict[str, str], elapsed: float | None) -> int:
    return triage(sheet, answers, elapsed).tier.rank


# ------------------------------------------------------------------ the laws


@settings(max_examples=300, deadline=None)
@given(any_check, st.data())
def test_no_to_yes_or_unsure_never_lowers_the_tier(check: Any, data: st.DataObject) -> None:
    sheet, answers, elapsed = check
    yes_no = [n for n, f in sheet.findings.items() if f.kind == "yes_no"]
    name = data.draw(st.sampled_from(yes_no))
    as_no = {**answers, name: "no"}
    for worse in ("yes", "unsure"):
        assert tier(sheet, {**as_no, name: worse}, elapsed) >= tier(sheet, as_no, elapsed)


@settings(max_examples=300, deadline=None)
@given(any_check, st.data())
def test_unsure_is_at_least_yes_and_no(check: Any, data: st.DataObject) -> None:
    sheet, answers, elapsed = check
    name = data.draw(st.sampled_from(sorted(sheet.findings)))
    unsure = tier(sheet, {**answers, name: "unsure"}, elapsed)
    if sheet.findings[name].kind == "number":
        knowns = ["98.6", "99", "100.4", "103"]
    else:
        knowns = ["yes", "no"]
    for known in knowns:
        assert unsure >= tier(sheet, {**answers, name: known}, elapsed)


@settings(max_examples=300, deadline=None)
@given(any_check)
def test_unknown_time_is_at_least_any_known_time(check: Any) -> None:
    sheet, answers, elapsed = check
    if elapsed is not None:
        assert tier(sheet, answers, None) >= tier(sheet, answers, elapsed)


@settings(max_examples=200, deadline=None)
@given(any_check)
def test_the_result_is_deterministic_and_complete(check: Any) -> None:
    sheet, answers, elapsed = check
    first: Disposition = triage(sheet, answers, elapsed)
    assert triage(sheet, dict(reversed(list(answers.items()))), elapsed) == first
    assert first.emergency_line == EMERGENCY_LINE
    highest = max((m.tier for m in first.matched), key=lambda t: t.rank, default=Tier.SELF_CARE)
    assert first.tier == highest
    ids = [m.id for m in first.matched]
    assert len(ids) == len(set(ids)) and set(ids) <= {r.id for r in sheet.rules}
