"""The rule language: grammar, durations, error columns and three-valued evaluation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caresheet.errors import BadElapsedError, ConditionError
from caresheet.model.condition import (
    And,
    Compare,
    Facts,
    Finding,
    Not,
    Or,
    Time,
    Truth,
    format_hours,
    negated_findings,
    parse_condition,
    parse_duration_hours,
)

A, B, C = Finding("a"), Finding("b"), Finding("c")

PARSES = [
    ("a", A),
    ("a and b", And((A, B))),
    ("a or b", Or((A, B))),
    ("a or b and c", Or((A, And((B, C))))),
    ("a and b or c", Or((And((A, B)), C))),
    ("(a or b) and c", And((Or((A, B)), C))),
    ("a and (b or c)", And((A, Or((B, C))))),
    ("not a and b", And((Not(A), B))),
    ("not (a and b)", Not(And((A, B)))),
    ("not not a", Not(Not(A))),
    ("a and b and c", And((A, B, C))),
    ("a or b or c", Or((A, B, C))),
    ("after 2d", Time("after", 48.0)),
    ("within 6h", Time("within", 6.0)),
    ("within 90m", Time("within", 1.5)),
    ("after 1d6h", Time("after", 30.0)),
    ("AFTER 2d", Time("after", 48.0)),
    ("a AND b", And((A, B))),
    ("not within 2d", Not(Time("within", 48.0))),
    (
        "(headache or sore_back) and after 2d",
        And((Or((Finding("headache"), Finding("sore_back"))), Time("after", 48.0))),
    ),
    ("temp >= 100.4", Compare("temp", ">=", 100.4)),
    ("temp>100", Compare("temp", ">", 100.0)),
    ("temp <= 95", Compare("temp", "<=", 95.0)),
    ("temp < 95.5", Compare("temp", "<", 95.5)),
    ("fever and temp >= 100.4", And((Finding("fever"), Compare("temp", ">=", 100.4)))),
    ("  a  ", A),
]


@pytest.mark.parametrize(("source", "tree"), PARSES, ids=[s for s, _ in PARSES])
def test_parses_with_precedence(source: str, tree: object) -> None:
    assert parse_condition(source) == tree


@pytest.mark.parametrize("source", [s for s, _ in PARSES])
def test_printing_parses_back_to_the_same_tree(source: str) -> None:
    tree = parse_condition(source)
    assert parse_condition(str(tree)) == tree


DURATIONS = [
    ("90m", 1.5),
    ("30h", 30.0),
    ("2d", 48.0),
    ("1d6h", 30.0),
    ("0h", 0.0),
    ("1.5h", 1.5),
    (" 2D ", 48.0),
    ("1d 6h", 30.0),
    ("2d30m", 48.5),
]


@pytest.mark.parametrize(("text", "hours"), DURATIONS)
def test_durations(text: str, hours: float) -> None:
    assert parse_duration_hours(text) == pytest.approx(hours)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("-2h", "negative"),
        ("", "not a duration"),
        ("2", "not a duration"),
        ("2x", "not a duration"),
        ("soon", "not a duration"),
        ("h", "not a duration"),
        ("2h-", "not a duration"),
    ],
)
def test_bad_durations_say_how_to_write_one(text: str, reason: str) -> None:
    with pytest.raises(BadElapsedError) as caught:
        parse_duration_hours(text)
    assert reason in str(caught.value)
    assert "90m, 30h, 2d or 1d6h" in str(caught.value)


@pytest.mark.parametrize(
    ("hours", "text"), [(48.0, "2d"), (30.0, "30h"), (1.5, "90m"), (6.0, "6h")]
)
def test_format_hours(hours: float, text: str) -> None:
    assert format_hours(hours) == text
    assert parse_duration_hours(text) == hours


ERRORS = [
    ("", 1, "empty"),
    ("   ", 1, "empty"),
    ("a and", 6, "ends too soon"),
    ("a and and b", 7, "expected a finding, got 'and'"),
    ("a b", 3, "expected 'and', 'or' or the end, got 'b'"),
    ("(a or b", 8, "ends too soon"),
    ("(a or b c", 9, "expected ')'"),
    ("a & b", 3, "unexpected '&'"),
    ("after 2x", 7, "'2x' is neither a number nor a time"),
    ("after fever", 7, "expected a time like 2d or 48h after 'after'"),
    ("within", 7, "ends too soon"),
    ("temp >= high", 9, "expected a number"),
    ("temp >= 10x", 9, "'10x' is neither a number nor a time"),
    ("a or )", 6, "expected a finding, got ')'"),
]


@pytest.mark.parametrize(
    ("source", "column", "words"), ERRORS, ids=[e[0] or "empty" for e in ERRORS]
)
def test_errors_name_the_column(source: str, column: int, words: str) -> None:
    with pytest.raises(ConditionError) as caught:
        parse_condition(source)
    assert caught.value.column == column
    assert words in caught.value.message
    assert f"at column {column}" in str(caught.value)


T, F, M = True, False, None  # M: maybe
TRUTHS: list[Truth] = [T, F, M]

# Kleene's strong three-valued logic, written out as the tables a reviewer would check.
AND_TABLE = {
    (T, T): T,
    (T, F): F,
    (T, M): M,
    (F, T): F,
    (F, F): F,
    (F, M): F,
    (M, T): M,
    (M, F): F,
    (M, M): M,
}
OR_TABLE = {
    (T, T): T,
    (T, F): T,
    (T, M): T,
    (F, T): T,
    (F, F): F,
    (F, M): M,
    (M, T): T,
    (M, F): M,
    (M, M): M,
}
NOT_TABLE = {T: F, F: T, M: M}


def facts(a: Truth, b: Truth) -> Facts:
    return Facts({"a": a, "b": b}, elapsed_hours=None)


@pytest.mark.parametrize(("a", "b"), list(AND_TABLE))
def test_three_valued_and_or(a: Truth, b: Truth) -> None:
    assert parse_condition("a and b").evaluate(facts(a, b)) is AND_TABLE[(a, b)]
    assert parse_condition("a or b").evaluate(facts(a, b)) is OR_TABLE[(a, b)]


@pytest.mark.parametrize("a", TRUTHS)
def test_three_valued_not(a: Truth) -> None:
    assert Not(A).evaluate(facts(a, F)) is NOT_TABLE[a]


def test_an_unanswered_finding_is_false() -> None:
    assert A.evaluate(Facts({}, None)) is False
    assert Compare("temp", ">=", 100.4).evaluate(Facts({}, None)) is False


@pytest.mark.parametrize(("answer", "expected"), [(100.4, T), (100.3, F), (None, M), (101.0, T)])
def test_number_comparison(answer: float | None, expected: Truth) -> None:
    assert Compare("temp", ">=", 100.4).evaluate(Facts({"temp": answer}, None)) is expected


@pytest.mark.parametrize(
    ("elapsed", "after", "within"),
    [
        (47 + 59 / 60, F, T),
        (48.0, T, F),
        (48.01, T, F),
        (0.0, F, T),
        (None, M, M),
    ],
)
def test_time_splits_cleanly_at_the_boundary(
    elapsed: float | None, after: Truth, within: Truth
) -> None:
    at = Facts({}, elapsed)
    assert parse_condition("after 2d").evaluate(at) is after
    assert parse_condition("within 2d").evaluate(at) is within
    assert parse_condition("not within 2d").evaluate(at) is after


def test_findings_and_negations_are_found_under_nesting() -> None:
    tree = parse_condition("(a or not (b and after 2d)) and not not c and not within 6h")
    assert tree.findings() == {"a", "b", "c"}
    assert negated_findings(tree) == {"b"}


names = st.sampled_from(["a", "b", "fever", "temp"])
numbers = st.builds(
    lambda whole, fraction: f"{whole}.{fraction}" if fraction else str(whole),
    st.integers(min_value=0, max_value=10**12),
    st.sampled_from(["", "0", "5", "00001", "4", "125"]),
)
atoms = st.one_of(
    names,
    st.builds(
        lambda n, op, v: f"{n} {op} {v}", names, st.sampled_from([">=", ">", "<=", "<"]), numbers
    ),
    st.builds(
        lambda k, h: f"{k} {h}h",
        st.sampled_from(["after", "within"]),
        st.integers(min_value=0, max_value=500),
    ),
)
sources = st.recursive(
    atoms,
    lambda inner: st.one_of(
        inner.map(lambda c: f"not ({c})"),
        st.builds(
            lambda a, op, b: f"({a}) {op} ({b})", inner, st.sampled_from(["and", "or"]), inner
        ),
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(sources)
def test_any_condition_prints_back_to_the_same_tree(source: str) -> None:
    tree = parse_condition(source)
    assert parse_condition(str(tree)) == tree
