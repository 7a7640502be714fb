"""FHIR search over the resources of the library: parameters parsed, resources matched, and
the ``searchset`` Bundle with its paging links. Pure functions of plain resource dicts.

Per type, the standard parameter names (R4 search parameter registry):

    PlanDefinition     identifier, topic, context, title, _lastUpdated
    Questionnaire      identifier, code, context, title, _lastUpdated
    DocumentReference  identifier, event, description, _lastUpdated

Tokens are ``code``, ``system|code`` or ``|code`` (no system); strings match the start of the
value, ignoring case and accents (``:contains``, ``:exact`` as FHIR says); ``_lastUpdated``
takes the prefixes ``eq ne gt ge lt le`` and a date at any precision. A comma is "or", a
repeated parameter is "and". ``_count`` (1 to 100, default 20) and ``_offset`` page.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from caresheet.errors import BadInputError

Resource = dict[str, Any]
DEFAULT_COUNT = 20
MAX_COUNT = 100
IGNORED = frozenset({"_format", "_pretty"})

Values = Callable[[Resource], Iterable[Any]]


def _identifiers(resource: Resource) -> Iterator[tuple[str, str]]:
    for found in [*resource.get("identifier", []), resource.get("masterIdentifier")]:
        if found:
            yield found.get("system", ""), found.get("value", "")


def _codings(concepts: Iterable[Resource]) -> Iterator[tuple[str, str]]:
    for concept in concepts:
        for coding in concept.get("coding", []):
            yield coding.get("system", ""), coding.get("code", "")


def _use_context(resource: Resource) -> Iterator[tuple[str, str]]:
    yield from _codings(u["valueCodeableConcept"] for u in resource.get("useContext", [])
                        if "valueCodeableConcept" in u)


TOKENS: dict[str, dict[str, Values]] = {
    "PlanDefinition": {
        "identifier": _identifiers,
        "topic": lambda r: _codings(r.get("topic", [])),
        "context": _use_context,
    },
    "Questionnaire": {
        "identifier": _identifiers,
        "code": lambda r: ((c.get("system", ""), c.get("code", "")) for c in r.get("code", [])),
        "context": _use_context,
    },
    "DocumentReference": {
        "identifier": _identifiers,
        "event": lambda r: _codings(r.get("context", {}).get("event", [])),
    },
}
STRINGS: dict[str, dict[str, Values]] = {
    "PlanDefinition": {"title": lambda r: [r.get("title", "")]},
    "Questionnaire": {"title": lambda r: [r.get("title", "")]},
    "DocumentReference": {"description": lambda r: [r.get("description", "")]},
}


def parameters(kind: str) -> list[tuple[str, str]]:
    """(name, FHIR type) of every search parameter of ``kind``, for the CapabilityStatement."""
    return ([(n, "token") for n in TOKENS[kind]] + [(n, "string") for n in STRINGS[kind]]
            + [("_lastUpdated", "date")])


# ---------------------------------------------------------------- parsing


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed search: one test per parameter occurrence, all must hold; and the page."""

    kind: str
    tests: tuple[Callable[[Resource], bool], ...]
    count: int
    offset: int
    echo: tuple[tuple[str, str], ...]  # the parameters understood, for the self link

    def matches(self, resource: Resource) -> bool:
        return all(test(resource) for test in self.tests)


def parse(kind: str, pairs: Iterable[tuple[str, str]]) -> Query:
    """Read the query string's (name, value) pairs; an unknown parameter is bad input."""
    tests: list[Callable[[Resource], bool]] = []
    echo: list[tuple[str, str]] = []
    count, offset = DEFAULT_COUNT, 0
    for raw_name, value in pairs:
        name, _, modifier = raw_name.partition(":")
        if raw_name in IGNORED:
            continue
        if raw_name == "_count":
            count = _integer(raw_name, value, 1, MAX_COUNT)
            continue
        if raw_name == "_offset":
            offset = _integer(raw_name, value, 0, 1_000_000)
            continue
        if not value:
            raise BadInputError(f"the search parameter {raw_name} has no value")
        if name in TOKENS[kind] and not modifier:
            tests.append(_token_test(TOKENS[kind][name], value))
        elif name in STRINGS[kind] and modifier in ("", "contains", "exact"):
            tests.append(_string_test(STRINGS[kind][name], value, modifier))
        elif raw_name == "_lastUpdated":
            tests.append(_date_test(value))
        else:
            known = sorted([*TOKENS[kind], *STRINGS[kind], "_lastUpdated", "_count", "_offset"])
            raise BadInputError(
                f"{kind} has no search parameter {raw_name!r}; use: {', '.join(known)}"
            )
        echo.append((raw_name, value))
    return Query(kind, tuple(tests), count, offset, tuple(echo))


def _integer(name: str, value: str, low: int, high: int) -> int:
    if not re.fullmatch(r"\d{1,7}", value) or not low <= int(value) <= high:
        raise BadInputError(f"{name} must be a whole number from {low} to {high}")
    return int(value)


def _token_test(values: Values, text: str) -> Callable[[Resource], bool]:
    wanted: list[tuple[str | None, str]] = []
    for part in text.split(","):
        if "|" in part:
            system, code = part.split("|", 1)
            wanted.append((system, code))
        else:
            wanted.append((None, part))

    def test(resource: Resource) -> bool:
        have = list(values(resource))
        return any(
            code == have_code and (system is None or system == have_system)
            for system, code in wanted for have_system, have_code in have
        )

    return test


def fold(text: str) -> str:
    """Lower case without accents: FHIR string search ignores both."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _string_test(values: Values, text: str, modifier: str) -> Callable[[Resource], bool]:
    wanted = text.split(",")

    def one(have: str, want: str) -> bool:
        if modifier == "exact":
            return have == want
        if modifier == "contains":
            return fold(want) in fold(have)
        return fold(have).startswith(fold(want))

    return lambda resource: any(one(h, w) for h in values(resource) for w in wanted)


_DATE = re.compile(
    r"^(?P<prefix>eq|ne|gt|ge|lt|le)?(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:T(?P<time>\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(?P<zone>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


def _date_range(text: str) -> tuple[str, dt.datetime, dt.datetime]:
    """The prefix and the [start, end) the date covers at its own precision."""
    found = _DATE.match(text)
    if found is None:
        raise BadInputError(
            f"cannot read the date {text!r}; write e.g. ge2026-01-01 or lt2026-01-01T10:00:00Z"
        )
    year, month, day = found["year"], found["month"], found["day"]
    try:
        if found["time"]:
            zone = (found["zone"] or "Z").replace("Z", "+00:00")
            start = dt.datetime.fromisoformat(f"{year}-{month}-{day}T{found['time']}{zone}")
            seconds = found["time"].count(":") == 2
            return (found["prefix"] or "eq", start,
                    start + dt.timedelta(seconds=1 if seconds else 60))
        start = dt.datetime(int(year), int(month or 1), int(day or 1), tzinfo=dt.UTC)
    except ValueError:
        raise BadInputError(f"{text!r} is not a real date") from None
    if day:
        end = start + dt.timedelta(days=1)
    elif month:
        end = (start + dt.timedelta(days=32)).replace(day=1)
    else:
        end = start.replace(year=start.year + 1)
    return found["prefix"] or "eq", start, end


def _date_test(text: str) -> Callable[[Resource], bool]:
    prefix, start, end = _date_range(text)
    compare: dict[str, Callable[[dt.datetime], bool]] = {
        "eq": lambda v: start <= v < end, "ne": lambda v: not start <= v < end,
        "gt": lambda v: v >= end, "ge": lambda v: v >= start,
        "lt": lambda v: v < start, "le": lambda v: v < end,
    }

    def test(resource: Resource) -> bool:
        stamp = resource.get("meta", {}).get("lastUpdated")
        if not stamp:
            return False
        return compare[prefix](dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")))

    return test


# ---------------------------------------------------------------- the answer


def instant(moment: dt.datetime) -> str:
    """A FHIR instant in UTC, e.g. ``2026-01-05T10:00:00.123Z``."""
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def searchset(
    query: Query, matched: list[Resource], base: str, extra: Iterable[tuple[str, str]] = ()
) -> Resource:
    """One page of ``matched`` as a searchset Bundle with self, next and previous links."""
    page = matched[query.offset: query.offset + query.count]
    kept = [*query.echo, *extra]

    def link(relation: str, offset: int) -> Resource:
        params = [*kept, ("_count", str(query.count)), ("_offset", str(offset))]
        return {"relation": relation, "url": f"{base}/{query.kind}?{urlencode(params)}"}

    links = [link("self", query.offset)]
    if query.offset + query.count < len(matched):
        links.append(link("next", query.offset + query.count))
    if query.offset > 0:
        links.append(link("previous", max(0, query.offset - query.count)))
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(matched),
        "link": links,
        "entry": [
            {"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r,
             "search": {"mode": "match"}}
            for r in page
        ],
    }
