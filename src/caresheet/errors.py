"""Every error caresheet raises on purpose, under one base class.

    CaresheetError
    ├── SheetFormatError    an authored sheet file is malformed (carries file and line)
    ├── ConditionError      a rule's ``when:`` condition does not parse
    ├── BadInputError       a user's input is wrong (exit code 2, HTTP 400/422)
    │   ├── AnswerError     answers a check cannot use, by finding (HTTP 422, the form re-asks)
    │   │   ├── UnknownFindingError
    │   │   └── BadAnswerError
    │   ├── BadElapsedError
    │   └── BadParamError
    ├── NotFoundError       no such sheet, version or handout (HTTP 404)
    │   └── HandoutGoneError    a handout's link was real but has ended (HTTP 410)
    ├── AuthenticationError a caller's credential is missing or not valid (HTTP 401)
    ├── PrefetchMissingError a CDS Hooks call lacks data we cannot fetch ourselves (HTTP 412)
    └── FhirServerError     the EHR's FHIR server did not give what we asked (HTTP 502)

Each message says what is wrong and, where the valid choices are few, lists them, so the
CLI and the web app can show it as one line without adding anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal


class CaresheetError(Exception):
    """Base class: the message is complete and safe to show a user."""


class SheetFormatError(CaresheetError):
    """An authored sheet is malformed; points at the file and line to fix."""

    def __init__(self, path: str, line: int, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message
        super().__init__(f"{path}:{line}: {message}")


class ConditionError(CaresheetError, ValueError):
    """A rule condition is not valid; ``column`` is 1-based within the condition text.

    Also a ValueError so that pydantic reports it as a field error with its location.
    """

    def __init__(self, condition: str, column: int, message: str) -> None:
        self.condition = condition
        self.column = column
        self.message = message
        super().__init__(f"in condition {condition!r} at column {column}: {message}")


class BadInputError(CaresheetError):
    """A user's input cannot be used as given."""


def _choices(valid: Iterable[str]) -> str:
    return ", ".join(sorted(valid))


class AnswerError(BadInputError):
    """Answers that cannot be used, by finding: ``problems`` maps each finding at fault to
    its message, so a form can re-ask just those questions and keep every other answer.
    The message is all of them on one line (the CLI prints it as is)."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        self.problems = dict(problems)
        super().__init__("; ".join(self.problems.values()))


class UnknownFindingError(AnswerError):
    """An answer names a finding the sheet does not have."""

    def __init__(self, finding: str, valid: Iterable[str]) -> None:
        self.finding = finding
        self.valid = sorted(valid)
        super().__init__(
            {finding: f"unknown finding {finding!r}; valid findings: {_choices(self.valid)}"})


class BadAnswerError(AnswerError):
    """An answer value is not one the finding accepts."""

    def __init__(self, finding: str, value: str, valid: Iterable[str]) -> None:
        self.finding = finding
        self.value = value
        super().__init__(
            {finding: f"bad answer {value!r} for {finding!r}; use one of: {_choices(valid)}"})


class BadElapsedError(BadInputError, ValueError):
    """A time since the procedure cannot be read or is negative (a ValueError for pydantic)."""

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        super().__init__(f"bad elapsed time {text!r}: {reason}; write it like 90m, 30h, 2d or 1d6h")


class BadParamError(BadInputError):
    """A personalization value is unknown, of the wrong type, or out of range."""


class NotFoundError(CaresheetError):
    """The thing asked for does not exist (or is not visible to the asker)."""


class HandoutGoneError(NotFoundError):
    """The link was real but is expired or revoked: the page says whom to call (HTTP 410)."""

    def __init__(self, reason: Literal["expired", "revoked"]) -> None:
        self.reason = reason
        super().__init__(
            "this link was revoked" if reason == "revoked" else "this link has expired")


class AuthenticationError(CaresheetError):
    """A caller's credential is missing or not valid; the message says which check failed
    (safe to show: it names the check, never a key or the token)."""


class PrefetchMissingError(CaresheetError):
    """A CDS Hooks request lacks data the service needs and gives no FHIR server to fetch it."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(
            f"the prefetch {key!r} is missing and the request gives no fhirServer to fetch it from"
        )


class FhirServerError(CaresheetError):
    """The EHR's FHIR server could not be reached or refused what we asked."""
