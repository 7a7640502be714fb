"""Check a clinician's values for a sheet's params before anything is rendered with them.

Values arrive as text (a CLI ``--param NAME=VALUE``, a web form, a query string), so every
renderer gets the same checked, normalized strings. Escaping is not done here: each output
escapes for its own format (HTML autoescape, PDF from that HTML, plain text as is).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping

from caresheet.errors import BadParamError
from caresheet.model.sheet import Param, Sheet

MAX_TEXT = 200
_PHONE_ALLOWED = re.compile(r"^\+?[0-9 ().\-/]+(?:\s*(?:x|ext\.?)\s*[0-9]+)?$", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check(sheet: Sheet, raw: Mapping[str, str]) -> dict[str, str]:
    """Checked, normalized values by param name; empty values count as unset."""
    values: dict[str, str] = {}
    for name, text in raw.items():
        param = sheet.params.get(name)
        if param is None:
            valid = ", ".join(sorted(sheet.params)) or "(this sheet has none)"
            raise BadParamError(f"unknown param {name!r}; valid params: {valid}")
        text = text.strip()
        if text:
            values[name] = _checked(name, param, text)
    return values


def parse_assignments(items: Iterable[str]) -> dict[str, str]:
    """``NAME=VALUE`` strings (from the command line) as a mapping; a bad one is an error."""
    values: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise BadParamError(
                f"write a param as NAME=VALUE, e.g. lie_flat_hours=2 (got {item!r})"
            )
        values[name.strip()] = value
    return values


def _checked(name: str, param: Param, text: str) -> str:
    if _CONTROL.search(text):
        raise BadParamError(f"{name} must not hold control characters")
    if param.type in ("integer", "number"):
        return _number(name, param, text)
    if param.type == "phone":
        return normalized_phone(name, text)
    if param.type == "date":
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            raise BadParamError(f"{name} must be a date like 2026-03-01 (got {text!r})") from None
    if len(text) > MAX_TEXT:
        raise BadParamError(f"{name} must be at most {MAX_TEXT} characters")
    return " ".join(text.split())


def _number(name: str, param: Param, text: str) -> str:
    kind = "a whole number" if param.type == "integer" else "a number"
    try:
        number = float(text)
    except ValueError:
        raise BadParamError(f"{name} must be {kind}, {param.allowed()} (got {text!r})") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise BadParamError(f"{name} must be {kind}, {param.allowed()} (got {text!r})")
    if param.type == "integer" and not number.is_integer():
        raise BadParamError(f"{name} must be a whole number, {param.allowed()} (got {text!r})")
    too_low = param.min is not None and number < param.min
    too_high = param.max is not None and number > param.max
    if too_low or too_high:
        raise BadParamError(f"{name} must be {param.allowed()} (got {text})")
    return str(int(number)) if number.is_integer() else f"{number:g}"


def normalized_phone(name: str, text: str) -> str:
    """Light touch: allow the usual punctuation, tidy spaces; never reformat a number."""
    text = " ".join(text.split())
    digits = sum(c.isdigit() for c in text)
    if not _PHONE_ALLOWED.match(text) or not 3 <= digits <= 20:
        raise BadParamError(
            f"{name} must be a phone number with digits, spaces, ( ) - . + (got {text!r})"
        )
    return text
