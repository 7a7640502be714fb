"""Every error caresheet raises on purpose, under one base class.

    CaresheetError                  status  CLI exit
    ├── SheetFormatError             400      2   an authored sheet file is malformed (file:line)
    ├── SheetFilesError              400      2   files of a batch are malformed (a line each)
    ├── SheetReferenceError          400      2   a sheet names something it does not define
    ├── ConditionError               400      2   a rule's ``when:`` condition does not parse
    ├── BadInputError                400      2   a user's input is wrong
    │   ├── AnswerError          422          answers a check cannot use, by finding
    │   │   ├── UnknownFindingError
    │   │   └── BadAnswerError
    │   ├── BadElapsedError
    │   ├── BadParamError
    │   ├── HandoutFileError                   a handout ``caresheet convert`` cannot read
    │   └── TooManyAttemptsError     429          too many failed logins; try again later
    ├── NotFoundError                404      2   no such sheet, version or handout
    │   └── GoneError                410          it existed and has ended
    │       └── HandoutGoneError                  a patient's link was revoked or expired
    ├── AuthenticationError          401          a caller's credential is missing or not valid
    ├── PrefetchMissingError         412          a CDS Hooks call lacks data we cannot fetch
    ├── FhirServerError              502          the EHR's FHIR server failed us
    ├── SmartLaunchError             400          a SMART launch went wrong (state, code, token)
    │   ├── SmartAccessError         403          the EHR user has no caresheet account here
    │   └── SmartSessionError        401          a launched screen used without a live launch
    ├── ServerBusyError              503          too much CPU work queued; retry in seconds
    └── StoreUnavailableError        503      2   the database cannot be reached or migrated

Each message says what is wrong and, where the valid choices are few, lists them, so the
CLI and the web app can show it as one line without adding anything. Each class carries its
HTTP ``status`` and short ``code`` (as fava's API errors do), so the web's one handler reads
them instead of keeping its own table; the CLI's one translator turns any of them into
``error: message`` on stderr and exit code 2. ``public`` is False where the message names
something a patient must not see (the database); the web then shows ``public_message``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import ClassVar, Literal


class CaresheetError(Exception):
    """Base class: the message is complete and safe to show a user."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_input"
    public: ClassVar[bool] = True
    public_message: ClassVar[str] = ""


class SheetFormatError(CaresheetError):
    """An authored sheet is malformed; points at the file and line to fix."""

    def __init__(self, path: str, line: int, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message
        super().__init__(f"{path}:{line}: {message}")


class SheetFilesError(CaresheetError):
    """One or more files of a batch are malformed; one ``file:line: message`` line each."""

    def __init__(self, errors: Sequence[SheetFormatError]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(str(error) for error in self.errors))


class SheetReferenceError(CaresheetError, ValueError):
    """A sheet refers to something it does not define; ``path`` locates the fault.

    Also a ValueError so that pydantic reports it as a field error with its location.
    """

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        self.path = path
        super().__init__(message)


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

    status = 422
    code = "bad_answer"

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


class HandoutFileError(BadInputError):
    """A clinic's existing handout cannot be converted: empty, unreadable, too big, no text."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class TooManyAttemptsError(BadInputError):
    """Too many failed logins for this account from this address; try again later."""

    status = 429
    code = "too_many_requests"


class NotFoundError(CaresheetError):
    """The thing asked for does not exist (or is not visible to the asker)."""

    status = 404
    code = "not_found"


class GoneError(NotFoundError):
    """The thing asked for existed and has ended (a revoked or expired link)."""

    status = 410
    code = "gone"


class StoreUnavailableError(CaresheetError):
    """The database cannot be reached, or its schema cannot be brought up to date."""

    status = 503
    code = "service_unavailable"
    # The message names the database; a patient needs only what to do now.
    public = False
    public_message = (
        "This service is not working right now. Please try again in a few minutes. "
        "If you need care now, call your clinic."
    )


class HandoutGoneError(GoneError):
    """The link was real but is expired or revoked: the page says whom to call."""

    def __init__(self, reason: Literal["expired", "revoked"]) -> None:
        self.reason = reason
        super().__init__(
            "this link was revoked" if reason == "revoked" else "this link has expired")


class AuthenticationError(CaresheetError):
    """A caller's credential is missing or not valid; the message says which check failed
    (safe to show: it names the check, never a key or the token)."""

    status = 401
    code = "unauthorized"


class ForbiddenError(CaresheetError):
    """The caller is known but may not do this (a token of the wrong role, or a revoked one)."""

    status = 403
    code = "forbidden"


class PrefetchMissingError(CaresheetError):
    """A CDS Hooks request lacks data the service needs and gives no FHIR server to fetch it."""

    status = 412
    code = "precondition_failed"

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(
            f"the prefetch {key!r} is missing and the request gives no fhirServer to fetch it from"
        )


class FhirServerError(CaresheetError):
    """The EHR's FHIR server could not be reached or refused what we asked."""

    status = 502
    code = "bad_gateway"


class SmartLaunchError(CaresheetError):
    """A SMART App Launch could not go on: an unknown EHR, a wrong state, a refused code, an
    id_token that does not verify, no patient in context. The message names the check (never a
    token); the launch is audited before this is raised."""

    status = 400
    code = "smart_launch_failed"

    def __init__(self, message: str, check: str = "launch") -> None:
        self.check = check  # the audit's short name for the check that failed
        super().__init__(message)


class SmartAccessError(SmartLaunchError):
    """The EHR's user maps to no active caresheet account that may issue handouts."""

    status = 403
    code = "forbidden"


class SmartSessionError(SmartLaunchError):
    """A launched screen was asked for without a live, authorized SMART launch in the browser
    (no cookie, an ended launch): a staff login does not stand in for one."""

    status = 401
    code = "unauthorized"


class ServerBusyError(CaresheetError):
    """Every worker process (PDFs, uploads) is busy and the queue is full: refuse now rather
    than stall everyone.

    ``retry_after`` is the seconds a client should wait (the web sends it as Retry-After).
    """

    status = 503
    code = "server_busy"
    retry_after: ClassVar[int] = 5

    def __init__(self, queued: int) -> None:
        self.queued = queued
        super().__init__(
            f"the server is busy with {queued} jobs (documents, uploads); "
            "try again in a few seconds"
        )
