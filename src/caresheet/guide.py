"""Issuing a sheet to one patient, opening it by its private link, and saving what they do.

The link's token has 256 bits from ``secrets`` and only its SHA-256 hash is stored, so a copy
of the database does not open anyone's guide. A handout pins one stored sheet version and
keeps the procedure time in UTC with its zone name, so deadlines are exact and are shown in
the patient's own clock. Check-ins are saved in their own transaction before the result is
shown (in a group commit, each under its own savepoint); the care team's hooks (audit,
escalations) run inside it under a further savepoint, so a fault there is logged but never
loses the check-in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session

from caresheet.care.teachback import Question, Result
from caresheet.care.triage import Disposition, triage
from caresheet.errors import BadInputError, CaresheetError, NotFoundError
from caresheet.model import personalize
from caresheet.model.condition import parse_duration_hours
from caresheet.model.sheet import Sheet
from caresheet.store import handouts as rows
from caresheet.store import sheets as stored_sheets
from caresheet.store.db import Store
from caresheet.store.group_commit import writer_for
from caresheet.store.handouts import Checkin, Handout
from caresheet.zones import zone_name

log = logging.getLogger("caresheet.guide")

DEFAULT_EXPIRY = dt.timedelta(days=30)
MAX_EXPIRY = dt.timedelta(days=366)
MAX_NAME = 60
TOKEN_BYTES = 32  # 256 bits; the issue asks for at least 128


class HandoutGoneError(NotFoundError):
    """The link was real but is expired or revoked: the page says whom to call (HTTP 410)."""

    def __init__(self, reason: Literal["expired", "revoked"]) -> None:
        self.reason = reason
        super().__init__(f"this link has {reason}")


@dataclass(frozen=True, slots=True)
class Issued:
    token: str  # shown once, never stored
    handout: Handout


@dataclass(frozen=True, slots=True)
class CheckinOutcome:
    disposition: Disposition
    checkin: Checkin | None  # None when it could not be saved: tell the patient to call


# ---------------------------------------------------------------- tokens


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """SHA-256 is enough here: the token is random, not a password, so no salt or stretching."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def link(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/h/{token}"


# ---------------------------------------------------------------- issuing


def parse_expiry(text: str | None) -> dt.timedelta:
    """``30d``, ``12h``: how long the link works; the default is 30 days."""
    if text is None or not text.strip():
        return DEFAULT_EXPIRY
    span = dt.timedelta(hours=parse_duration_hours(text))
    if span <= dt.timedelta(0) or span > MAX_EXPIRY:
        raise BadInputError(f"bad expiry {text!r}: use a time from 1h to 366d, e.g. 30d")
    return span


def clean_display_name(name: str | None) -> str | None:
    """A first name or nickname to greet the patient; no other personal data is kept."""
    if name is None or not name.strip():
        return None
    cleaned = " ".join(name.split())
    if len(cleaned) > MAX_NAME or any(ord(c) < 32 for c in cleaned):
        raise BadInputError(f"the display name must be plain text of at most {MAX_NAME} characters")
    return cleaned


def issue(
    session: Session,
    *,
    code: str,
    language: str,
    params: Mapping[str, str],
    procedure_time: dt.datetime,
    now: dt.datetime,
    version: int | None = None,
    display_name: str | None = None,
    expires_in: dt.timedelta = DEFAULT_EXPIRY,
) -> Issued:
    """Pin the sheet version, check the params and create the handout; returns the token."""
    if procedure_time.tzinfo is None:
        raise BadInputError("the procedure time needs a time zone, e.g. 2026-11-25T09:00-05:00")
    stored = stored_sheets.get(session, code, language, version)
    values = personalize.check(stored.sheet, params)
    token = new_token()
    handout = rows.add(
        session, token_hash=hash_token(token), sheet_version_id=stored.id,
        sheet_code=stored.code, language=stored.language, version=stored.version,
        params=values, procedure_time=procedure_time, procedure_zone=zone_name(procedure_time),
        display_name=clean_display_name(display_name), created_at=now,
        expires_at=now + expires_in,
    )
    return Issued(token=token, handout=handout)


# ---------------------------------------------------------------- opening


def open_link(session: Session, token: str, now: dt.datetime) -> Handout:
    """The handout behind a token; NotFoundError if none, HandoutGoneError if it ended."""
    if not 16 <= len(token) <= 128:
        raise NotFoundError("there is no handout at this link")
    handout = rows.by_token_hash(session, hash_token(token))
    if handout.revoked_at is not None:
        raise HandoutGoneError("revoked")
    if now >= handout.expires_at:
        raise HandoutGoneError("expired")
    return handout


def revoke(session: Session, token: str, now: dt.datetime) -> Handout:
    """End a link at once (it then shows the kind "call your clinic" page)."""
    handout = rows.by_token_hash(session, hash_token(token))
    rows.revoke(session, handout.id, now)
    return handout


_SHEETS: dict[int, Sheet] = {}


def pinned_sheet(session: Session, handout: Handout) -> Sheet:
    """The handout's sheet version; cached, since a stored version's words never change."""
    sheet = _SHEETS.get(handout.sheet_version_id)
    if sheet is None:
        sheet = stored_sheets.get_by_id(session, handout.sheet_version_id).sheet
        if len(_SHEETS) > 256:
            _SHEETS.clear()
        _SHEETS[handout.sheet_version_id] = sheet
    return sheet


def record_read(session: Session, handout: Handout, what: str, ip: str | None,
                now: dt.datetime) -> None:
    """Every read of a handout goes to the audit log (``caresheet.team.audit``)."""
    from caresheet.team import audit

    _hook(session, "audit read", lambda: audit.handout_read(
        session, handout.id, audit.PATIENT, ip, what, now))


# ---------------------------------------------------------------- check-ins


def check_in(
    store: Store,
    handout: Handout,
    sheet: Sheet,
    answers: Mapping[str, str],
    now: dt.datetime,
    ip: str | None = None,
) -> CheckinOutcome:
    """Triage the answers and save them as a check-in, committed before this returns.

    The check-in has its own savepoint in a group commit (``group_commit``): it commits
    or fails alone, and shares only the disk flush with check-ins arriving at the same time.
    Bad answers raise BadInputError before anything is saved. A failure to save returns the
    disposition anyway with ``checkin=None``: the patient must still see what to do.
    """
    hours = hours_since(handout, now)
    disposition = triage(sheet, answers, hours, handout.params)
    try:
        checkin = writer_for(store).run(
            lambda session: _save(session, handout, disposition, answers, hours, now, ip))
    except Exception as error:
        # No answers, names or tokens in the log (a database error's text would carry the
        # row's values): only which handout, and the kind of error.
        log.error("could not save a check-in for handout %s: %s", handout.id, describe(error))
        return CheckinOutcome(disposition=disposition, checkin=None)
    return CheckinOutcome(disposition=disposition, checkin=checkin)


def submit_check_in(
    store: Store, token: str, answers: Mapping[str, str], now: dt.datetime,
    ip: str | None = None,
) -> Future[CheckinOutcome]:
    """Open the link, triage and save in the writer's next group commit, as one unit.

    For the API's hot path: one transaction per check-in and no request thread waiting on
    the database. The future raises NotFoundError / HandoutGoneError / BadInputError as
    ``check_in`` would; a failure to save still gives the disposition, with ``checkin=None``.
    """
    triaged: list[Disposition] = []

    def work(session: Session) -> CheckinOutcome:
        handout = open_link(session, token, now)
        sheet = pinned_sheet(session, handout)
        hours = hours_since(handout, now)
        disposition = triage(sheet, answers, hours, handout.params)
        triaged.append(disposition)
        checkin = _save(session, handout, disposition, answers, hours, now, ip)
        return CheckinOutcome(disposition=disposition, checkin=checkin)

    outcome: Future[CheckinOutcome] = Future()

    def finished(saving: Future[CheckinOutcome]) -> None:
        error = saving.exception()
        if error is None:
            outcome.set_result(saving.result())
        elif triaged and not isinstance(error, CaresheetError):
            log.error("could not save a check-in: %s", describe(error))
            outcome.set_result(CheckinOutcome(disposition=triaged[0], checkin=None))
        else:
            outcome.set_exception(error)

    writer_for(store).submit(work).add_done_callback(finished)
    return outcome


def hours_since(handout: Handout, now: dt.datetime) -> float:
    """Real hours since the procedure (UTC arithmetic), never below zero."""
    elapsed = now.astimezone(dt.UTC) - handout.procedure_time.astimezone(dt.UTC)
    return max(elapsed.total_seconds() / 3600.0, 0.0)


def _save(session: Session, handout: Handout, disposition: Disposition,
          answers: Mapping[str, str], hours: float, now: dt.datetime,
          ip: str | None) -> Checkin:
    checkin = rows.add_checkin(
        session, handout_id=handout.id, created_at=now, elapsed_hours=hours,
        answers={k: v.strip().lower() for k, v in answers.items()},
        tier=disposition.tier.value, matched=[m.id for m in disposition.matched],
        disposition=disposition.model_dump(mode="json"),
    )
    _escalate(session, handout, checkin, disposition, ip, now)
    return checkin


def _escalate(session: Session, handout: Handout, checkin: Checkin, disposition: Disposition,
              ip: str | None, now: dt.datetime) -> None:
    from caresheet.team import escalations

    _hook(session, "escalation", lambda: escalations.on_checkin(
        session, handout_id=handout.id, checkin_id=checkin.id, tier=disposition.tier,
        reasons=[m.text for m in disposition.matched], sheet_code=handout.sheet_code,
        ip=ip, now=now))


def save_teachback(
    session: Session,
    handout: Handout,
    questions: tuple[Question, ...],
    results: tuple[Result, ...],
    now: dt.datetime,
    ip: str | None = None,
) -> str:
    """Save one teach-back attempt; missed warning signs go to the care team. Returns its id."""
    from caresheet.team import escalations

    attempt = secrets.token_hex(8)
    saved = rows.add_teachback(
        session, handout_id=handout.id, attempt=attempt, created_at=now,
        results=[(r.question_id, r.kind.value, r.chosen, r.correct, r.warning_sign)
                 for r in results],
    )
    prompts = {q.id: q.prompt for q in questions}
    missed = [prompts.get(r.question_id, r.question_id)
              for r in results if r.warning_sign and not r.correct]
    first = saved[0].id if saved else 0
    _hook(session, "teach-back escalation", lambda: escalations.on_teach_back(
        session, handout_id=handout.id, result_id=first, missed=missed,
        sheet_code=handout.sheet_code, ip=ip, now=now))
    return attempt


def _hook(session: Session, what: str, call: Callable[[], object]) -> None:
    """Run a care-team hook under a savepoint: its failure is logged, ours goes on."""
    try:
        with session.begin_nested():
            call()
    except Exception as error:
        log.error("the %s hook failed (%s); the guide went on without it", what, describe(error))


def describe(error: BaseException) -> str:
    """An error for the application log: its kind only, since a database error's text
    carries the SQL parameters (answers, names) that must stay out of logs."""
    cause = getattr(error, "orig", None)
    return type(error).__name__ + (f" from {type(cause).__name__}" if cause is not None else "")
