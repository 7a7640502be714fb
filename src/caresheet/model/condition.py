"""The rule condition language: what a sheet's ``when:`` lines say, parsed and evaluated.

Grammar (lowest precedence first)::

    condition := either ( "or" either )*
    either    := both ( "and" both )*
    both      := "not" both | "(" condition ")" | time | finding
    time      := ("after" | "within") DURATION           e.g. after 2d, within 90m
    finding   := NAME                                     a yes/no finding
               | NAME (">=" | ">" | "<=" | "<") NUMBER    a number finding, e.g. temp >= 100.4

``after 2d`` holds from exactly 48 hours on; ``within 2d`` holds before that, so the two
split time cleanly at the boundary.

Evaluation is three-valued (Kleene): an atom is True, False or None for "maybe" (an
"unsure" answer, or an unknown time since the procedure). A rule *matches* unless its
condition is definitely False. Kleene logic never turns "maybe" into a definite answer
that a known value could contradict, so an unsure answer matches every rule that a yes
or a no would match: the conservative direction.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from caresheet.errors import BadElapsedError, ConditionError

Truth = bool | None  # None means "maybe"

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([dhm])")
_UNIT_HOURS = {"d": 24.0, "h": 1.0, "m": 1.0 / 60.0}


def parse_duration_hours(text: str) -> float:
    """Read ``90m``, ``30h``, ``2d`` or ``1d6h`` as hours; raise BadElapsedError otherwise."""
    compact = text.strip().lower().replace(" ", "")
    if compact.startswith("-"):
        raise BadElapsedError(text, "it is negative")
    if not compact or _DURATION_PART.sub("", compact) != "":
        raise BadElapsedError(text, "it is not a duration")
    return sum(float(n) * _UNIT_HOURS[unit] for n, unit in _DURATION_PART.findall(compact))


def format_hours(hours: float) -> str:
    """Write hours back in the shortest exact unit (48 -> '2d', 1.5 -> '90m')."""
    if hours and hours % 24 == 0:
        return f"{int(hours // 24)}d"
    if hours == int(hours):
        return f"{int(hours)}h"
    return f"{round(hours * 60)}m"


@dataclass(frozen=True, slots=True)
class Facts:
    """What the evaluator knows: answers per finding and hours since the procedure."""

    answers: dict[str, Truth | float]
    elapsed_hours: float | None


@dataclass(frozen=True, slots=True)
class Finding:
    name: str

    def evaluate(self, facts: Facts) -> Truth:
        value = facts.answers.get(self.name, False)
        return value if value is None or isinstance(value, bool) else bool(value)

    def findings(self) -> set[str]:
        return {self.name}

    def __str__(self) -> str:
        return self.name


_COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b,
}


@dataclass(frozen=True, slots=True)
class Compare:
    name: str
    op: Literal[">=", ">", "<=", "<"]
    value: float

    def evaluate(self, facts: Facts) -> Truth:
        answer = facts.answers.get(self.name, False)
        if answer is None:
            return None
        if isinstance(answer, bool):  # a number finding left unanswered
            return False
        return _COMPARE[self.op](answer, self.value)

    def findings(self) -> set[str]:
        return {self.name}

    def __str__(self) -> str:
        # Not ':g' or repr: 1234567 -> 1.23457e+06 and 0.00001 -> 1e-05 are not in the grammar.
        number = format(Decimal(repr(self.value)), "f")
        return f"{self.name} {self.op} {number.removesuffix('.0')}"


@dataclass(frozen=True, slots=True)
class Time:
    kind: Literal["after", "within"]
    hours: float

    def evaluate(self, facts: Facts) -> Truth:
        if facts.elapsed_hours is None:
            return None
        after = facts.elapsed_hours >= self.hours
        return after if self.kind == "after" else not after

    def findings(self) -> set[str]:
        return set()

    def __str__(self) -> str:
        return f"{self.kind} {format_hours(self.hours)}"


@dataclass(frozen=True, slots=True)
class Not:
    operand: Condition

    def evaluate(self, facts: Facts) -> Truth:
        value = self.operand.evaluate(facts)
        return None if value is None else not value

    def findings(self) -> set[str]:
        return self.operand.findings()

    def __str__(self) -> str:
        return f"not {_wrap(self.operand)}"


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Condition, ...]

    def evaluate(self, facts: Facts) -> Truth:
        result: Truth = True
        for operand in self.operands:
            value = operand.evaluate(facts)
            if value is False:
                return False
            if value is None:
                result = None
        return result

    def findings(self) -> set[str]:
        return set().union(*(o.findings() for o in self.operands))

    def __str__(self) -> str:
        return " and ".join(_wrap(o) for o in self.operands)


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Condition, ...]

    def evaluate(self, facts: Facts) -> Truth:
        result: Truth = False
        for operand in self.operands:
            value = operand.evaluate(facts)
            if value is True:
                return True
            if value is None:
                result = None
        return result

    def findings(self) -> set[str]:
        return set().union(*(o.findings() for o in self.operands))

    def __str__(self) -> str:
        return " or ".join(_wrap(o) for o in self.operands)


Condition = Finding | Compare | Time | Not | And | Or


def _wrap(condition: Condition) -> str:
    return f"({condition})" if isinstance(condition, And | Or) else str(condition)


def negated_findings(condition: Condition, negated: bool = False) -> set[str]:
    """Findings that appear under a ``not``: a yes to them could lower the tier."""
    if isinstance(condition, Not):
        return negated_findings(condition.operand, not negated)
    if isinstance(condition, And | Or):
        return set().union(*(negated_findings(o, negated) for o in condition.operands))
    if isinstance(condition, Finding | Compare) and negated:
        return {condition.name}
    return set()


def walk(condition: Condition) -> list[Finding | Compare | Time]:
    """Every atom of the condition, left to right."""
    if isinstance(condition, Not):
        return walk(condition.operand)
    if isinstance(condition, And | Or):
        return [atom for o in condition.operands for atom in walk(o)]
    return [condition]


def disjuncts(condition: Condition) -> list[Condition]:
    """The alternatives a top-level ``or`` joins, flattened: each can match on its own.

    A rule that joins related signs (``cold_foot or (numb_foot and after 1d)``) is timed for
    one finding and not the other; checks and boundary tests look at the alternative that
    names the finding, not at the whole rule.
    """
    if isinstance(condition, Or):
        return [part for o in condition.operands for part in disjuncts(o)]
    return [condition]


def time_limits(condition: Condition) -> list[Time]:
    """Every time atom in the condition, for timelines and boundary tests."""
    return [atom for atom in walk(condition) if isinstance(atom, Time)]


_TOKEN = re.compile(
    r"\s*(?:(?P<op>>=|<=|>|<)|(?P<paren>[()])|(?P<number>\d+(?:\.\d+)?(?![\w.]))"
    r"|(?P<duration>(?:\d+(?:\.\d+)?[dhm])+\b)|(?P<word>[A-Za-z_][A-Za-z0-9_]*))"
)
_KEYWORDS = {"and", "or", "not", "after", "within"}


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str
    column: int


def _tokenize(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(source):
        if source[position:].strip() == "":
            break
        match = _TOKEN.match(source, position)
        if match is None or match.end() == position:
            column = len(source) - len(source[position:].lstrip()) + 1
            raise ConditionError(source, column, _unexpected(source[column - 1 :]))
        kind = match.lastgroup or ""
        text = match.group(kind)
        tokens.append(_Token(kind, text, match.start(kind) + 1))
        position = match.end()
    return tokens


def _unexpected(rest: str) -> str:
    """Say what is wrong at the start of ``rest``; a bad number is most often a bad time."""
    if rest[:1].isdigit():
        word = re.split(r"[\s()]", rest, maxsplit=1)[0]
        return f"{word!r} is neither a number nor a time; write a time like 90m, 30h, 2d or 1d6h"
    return f"unexpected {rest[:1]!r}"


class _Parser:
    """Recursive descent over the token list; one method per grammar line."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = _tokenize(source)
        self.index = 0

    def parse(self) -> Condition:
        if not self.tokens:
            raise ConditionError(self.source, 1, "the condition is empty")
        condition = self.condition()
        if self.index < len(self.tokens):
            token = self.tokens[self.index]
            raise ConditionError(
                self.source, token.column, f"expected 'and', 'or' or the end, got {token.text!r}"
            )
        return condition

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise ConditionError(self.source, len(self.source) + 1, "the condition ends too soon")
        self.index += 1
        return token

    def at_word(self, word: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "word" and token.text.lower() == word

    def condition(self) -> Condition:
        operands = [self.either()]
        while self.at_word("or"):
            self.take()
            operands.append(self.either())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def either(self) -> Condition:
        operands = [self.both()]
        while self.at_word("and"):
            self.take()
            operands.append(self.both())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def both(self) -> Condition:
        token = self.take()
        word = token.text.lower()
        if token.kind == "paren" and token.text == "(":
            inner = self.condition()
            closing = self.take()
            if closing.text != ")":
                raise ConditionError(self.source, closing.column, "expected ')'")
            return inner
        if token.kind == "word" and word == "not":
            return Not(self.both())
        if token.kind == "word" and word in ("after", "within"):
            duration = self.take()
            if duration.kind != "duration":
                raise ConditionError(
                    self.source, duration.column, f"expected a time like 2d or 48h after {word!r}"
                )
            kind: Literal["after", "within"] = "after" if word == "after" else "within"
            return Time(kind, parse_duration_hours(duration.text))
        if token.kind == "word" and word not in _KEYWORDS:
            operator = self.peek()
            if operator is not None and operator.kind == "op":
                self.take()
                number = self.take()
                if number.kind != "number":
                    raise ConditionError(self.source, number.column, "expected a number")
                op: Literal[">=", ">", "<=", "<"] = operator.text  # type: ignore[assignment]
                return Compare(token.text, op, float(number.text))
            return Finding(token.text)
        raise ConditionError(self.source, token.column, f"expected a finding, got {token.text!r}")


def parse_condition(source: str) -> Condition:
    """Parse a ``when:`` line into a condition tree; raise ConditionError with the column."""
    return _Parser(source).parse()
