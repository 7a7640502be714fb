"""A patient's handout, for every face (web page, JSON API, CLI, and later SMS or the EHR):
issue it, open it by its private link, check in, do the teach-back, and record each read.

The link's token has 256 bits from ``secrets`` and only its SHA-256 hash is stored, so a copy
of the database does not open anyone's guide. A handout pins one stored sheet version and
keeps the procedure time in UTC with its zone name, so deadlines are exact and are shown in
the patient's own clock. Issuing records who issued it and audits it; every read by the
patient is audited in the same transaction as the read.

Check-ins have one path, ``check_in`` (``submit_check_in`` is the same work, answered by a
future for callers that must not hold a thread). The answers are checked once, by triage,
which names each finding at fault; a check-in is saved in its own savepoint of a group commit
before the result is shown. The care team's hooks (audit, escalations) run inside it under a
further savepoint, so a fault there is logged but never loses the check-in; a failure to save
still gives the patient the result, marked not saved.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Generic, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from caresheet.care import safety_net
from caresheet.care.symptom_check import next_questions, same_step, step_back, stops_now
from caresheet.care.teachback import Question, Result, grade, quiz
from caresheet.care.timeline import Timeline, elapsed_hours, timeline
from caresheet.care.triage import Disposition, decide, read_answers
from caresheet.errors import (
    AnswerError,
    BadInputError,
    HandoutGoneError,
    NotFoundError,
    StoreUnavailableError,
)
from caresheet.i18n import normalize
from caresheet.model import personalize
from caresheet.model.compare import same_logic
from caresheet.model.condition import parse_duration_hours
from caresheet.model.contact import PatientContact
from caresheet.model.sheet import Sheet, Status
from caresheet.store import handouts as rows
from caresheet.store import sheets as stored_sheets
from caresheet.store.db import Store
from caresheet.store.group_commit import writer_for
from caresheet.store.handouts import Checkin, Handout, hash_token
from caresheet.store.team import HandoutIssuerRow
from caresheet.team import audit, clinics, escalations
from caresheet.team.accounts import Role, User
from caresheet.team.clinics import Clinic
from caresheet.team.handouts import DEFAULT_LIFETIME, check_lifetime
from caresheet.team.notify import inbound, patients
from caresheet.team.notify import settings as notify_settings
from caresheet.team.notify.settings import Settings
from caresheet.zones import zone_name

log = logging.getLogger("caresheet.guide")

MAX_NAME = 60
TOKEN_BYTES = 32  # 256 bits; the issue asks for at least 128
ISSUING_ROLES = frozenset({Role.CLINICIAN, Role.ADMIN})
SAVE_TIMEOUT_SECONDS = 30.0
NOT_SAVED = "We could not save this. Please call your clinic."

@dataclass(frozen=True, slots=True)
class Issued:
    token: str  # shown once, never stored
    handout: Handout
    clinic: Clinic | None = None
    # Per channel asked for: queued, or why not (the handout is issued either way).
    sending: tuple[patients.Sending, ...] = ()
    prompts: int = 0  # follow-up prompts scheduled
    notices: tuple[str, ...] = ()  # e.g. "no Spanish translation; the handout is in English"


@dataclass(frozen=True, slots=True)
class Opened:
    """A handout opened by its link, with what every page of it needs."""

    handout: Handout
    sheet: Sheet
    timeline: Timeline
    checkins: tuple[Checkin, ...]
    moment: dt.datetime
    # Every language the patient may read this handout in (``sheet`` is in one of them).
    languages: tuple[str, ...] = ()

    @property
    def phone(self) -> str | None:
        name = self.sheet.phone_param()
        return self.handout.params.get(name) if name else None


@dataclass(frozen=True, slots=True)
class CheckinOutcome:
    disposition: Disposition
    checkin: Checkin | None  # None when it could not be saved: tell the patient to call


@dataclass(frozen=True, slots=True)
class SavedCheckin:
    """A saved check-in as its result page shows it: what to do, and whether the care team
    was told (an escalation was raised for it)."""

    opened: Opened
    checkin: Checkin
    disposition: Disposition
    team_told: bool


@dataclass(frozen=True, slots=True)
class CheckStep:
    """One step of a symptom check: the answers kept, the findings to ask next and the
    problem with each answer refused (by finding, so it is asked again); or, once the check
    has ended, the saved (or not saved) check-in."""

    opened: Opened
    answers: dict[str, str]
    ask: list[str]
    problems: dict[str, str]
    outcome: CheckinOutcome | None = None
    kept: dict[str, str] = field(default_factory=dict)  # answers to show already chosen


@dataclass(frozen=True, slots=True)
class TeachbackOutcome:
    questions: tuple[Question, ...]
    results: tuple[Result, ...]
    attempt: str | None  # None when it could not be saved

    @property
    def right(self) -> int:
        return sum(r.correct for r in self.results)


# ---------------------------------------------------------------- tokens and lifetimes


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def link(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/h/{token}"


def parse_expiry(text: str | None) -> dt.timedelta:
    """``30d``, ``12h``: how long the link works; the default is 30 days."""
    if text is None or not text.strip():
        return DEFAULT_LIFETIME
    try:
        span = dt.timedelta(hours=parse_duration_hours(text))
    except (BadInputError, ValueError, OverflowError):
        span = dt.timedelta(0)  # refused below with the one rule's message
    return check_lifetime(span, text)


def clean_display_name(name: str | None) -> str | None:
    """A first name or nickname to greet the patient; no other personal data is kept."""
    if name is None or not name.strip():
        return None
    cleaned = " ".join(name.split())
    if len(cleaned) > MAX_NAME or any(ord(c) < 32 for c in cleaned):
        raise BadInputError(f"the display name must be plain text of at most {MAX_NAME} characters")
    return cleaned


# ---------------------------------------------------------------- issuing


def issue(
    session: Session,
    issuer: User,
    *,
    code: str,
    language: str,
    params: Mapping[str, str],
    procedure_time: dt.datetime | None,
    now: dt.datetime,
    ip: str | None = None,
    version: int | None = None,
    display_name: str | None = None,
    expires_in: dt.timedelta = DEFAULT_LIFETIME,
    contact: PatientContact | None = None,
    clinic: str | None = None,
    send: Sequence[str] = (),
    settings: Settings | None = None,
    base_url: str | None = None,
) -> Issued:
    """Pin the sheet version, check the params, create the handout in its clinic with the
    patient's contact, record who issued it and audit it, queue the link to the patient on the
    channels in ``send`` and schedule the follow-up prompts, all in the caller's transaction;
    the token in the result is the link's only copy.

    The procedure time defaults to now, in the clinic's zone; the clinic's phone fills an
    unset phone param. A preferred language the sheet is written in picks that translation;
    one it is not falls back to ``language`` with a notice. The messages' link starts with
    ``base_url`` when the face knows the address it was reached at (the settings' otherwise).
    """
    if issuer.role not in ISSUING_ROLES or not issuer.active:
        raise BadInputError(f"{issuer.email} cannot issue handouts: only an active clinician "
                            "or admin can")
    if procedure_time is not None and procedure_time.tzinfo is None:
        raise BadInputError("the procedure time needs a time zone, e.g. 2026-11-25T09:00-05:00")
    channels = patients.check_channels(send)
    reach = contact or PatientContact()
    lifetime = check_lifetime(expires_in, f"{expires_in.total_seconds() / 86400:g}d")
    home = clinics.issuing_clinic(session, issuer, clinic)
    when = procedure_time or now.astimezone(home.zone)
    notices: list[str] = []
    language = _language_for(session, code, language, version, reach.language, notices)
    stored = (stored_sheets.current(session, code, language) if version is None
              else stored_sheets.get(session, code, language, version))
    if stored.status is not Status.PUBLISHED:
        # Drafts and reviewed versions are for staff; only reviewed-and-published words reach
        # a patient (four eyes).
        raise BadInputError(
            f"{stored.code} ({stored.language}) version {stored.version} is "
            f"{stored.status.value}: only a published version can be issued to a patient"
        )
    given = dict(params)
    phone_param = stored.sheet.phone_param()
    if phone_param and home.phone and not given.get(phone_param, "").strip():
        given[phone_param] = home.phone
    values = personalize.check(stored.sheet, given)
    token = new_token()
    handout = rows.add(
        session, token_hash=hash_token(token), sheet_version_id=stored.id,
        sheet_code=stored.code, language=stored.language, version=stored.version,
        params=values, procedure_time=when, procedure_zone=zone_name(when),
        display_name=clean_display_name(display_name), created_at=now,
        expires_at=now + lifetime, clinic_id=home.id, contact=reach,
    )
    session.add(HandoutIssuerRow(handout_id=handout.id, issued_by=issuer.id, issued_at=now))
    audit.record(session, issuer.actor, "handout.issued", f"handout:{handout.id}", ip,
                 {"sheet": f"{handout.sheet_code}/{handout.language}/{handout.version}",
                  "clinic": home.id}, now)
    chosen = settings or notify_settings.configured()
    if base_url:  # the address the issuing face was reached at: the link the patient gets
        chosen = replace(chosen, base_url=base_url.rstrip("/"))
    sending = patients.queue_handover(session, handout, token, channels, home, chosen, now)
    prompts = patients.schedule_prompts(
        session, handout, token, timeline(stored.sheet, values, when, now), home, chosen, now)
    return Issued(token=token, handout=handout, clinic=home, sending=tuple(sending),
                  prompts=prompts, notices=tuple(notices))


def _language_for(session: Session, code: str, language: str, version: int | None,
                  preferred: str | None, notices: list[str]) -> str:
    """The sheet's language for a patient who prefers ``preferred``."""
    if not preferred or preferred == language:
        return language
    try:
        if version is None:  # only a published translation can be issued
            stored_sheets.current(session, code, preferred)
        else:
            stored_sheets.get(session, code, preferred, version)
    except NotFoundError:
        notices.append(f"{code} has no translation in {preferred!r}; the handout is in "
                       f"{language!r}")
        return language
    return preferred


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


def open_handout(store: Store, token: str, now: dt.datetime, what: str, ip: str | None,
                 recent_checkins: int = 0, language: str | None = None,
                 browser: Sequence[str] = ()) -> Opened:
    """Open the link for a patient and audit the read (``what``: page, check, api, ics...).

    The sheet is shown in the first language the handout can be read in (``readable_in``)
    of: ``language`` (the patient's choice on the page), the language they told their
    clinic, ``browser`` (their browser's languages, best first); else the pinned version's.
    ``Opened.languages`` lists them all, for a switch.
    """
    with store.session() as session:
        handout = open_link(session, token, now)
        readable = readable_in(store, session, handout)
        preferred = normalize(handout.contact.language) if handout.contact.language else None
        wanted = [language, preferred, *browser]
        sheet = next((readable[w] for w in wanted if w in readable), readable[handout.language])
        recent = rows.checkins(session, handout.id, recent_checkins) if recent_checkins else []
        record_read(session, handout, what, ip, now)
    return Opened(handout=handout, sheet=sheet,
                  timeline=timeline(sheet, handout.params, handout.procedure_time, now),
                  checkins=tuple(recent), moment=now, languages=tuple(sorted(readable)))


def record_read(session: Session, handout: Handout, what: str, ip: str | None,
                now: dt.datetime) -> None:
    """Every read of a handout by its patient goes to the audit log."""
    _hook(session, "audit read", lambda: audit.handout_read(
        session, handout.id, audit.PATIENT, ip, what, now))


def saved_checkin(store: Store, token: str, checkin_id: int, now: dt.datetime,
                  ip: str | None, language: str | None = None) -> SavedCheckin:
    """A saved check-in of this link, to show its result again (an audited read).

    Its disposition is the one decided then, in the words of the sheet now shown: the same
    answers at the same hour under the same rules (``readable_in`` guarantees them) give the
    same tier and reasons; should they not, the words saved then are shown unchanged.
    """
    opened = open_handout(store, token, now, "checkin", ip, language=language)
    with store.session(write=False) as session:
        checkin = rows.checkin(session, opened.handout.id, checkin_id)
        told = escalations.raised_for_checkin(session, checkin.id)
    saved = Disposition.model_validate(checkin.disposition)
    again = decide(opened.sheet, read_answers(opened.sheet, checkin.answers),
                   checkin.elapsed_hours, opened.handout.params)
    same = (again.tier is saved.tier
            and [m.id for m in again.matched] == [m.id for m in saved.matched])
    return SavedCheckin(opened, checkin, again if same else saved, told)


def revoke(session: Session, token: str, now: dt.datetime) -> Handout:
    """End a link at once (it then shows the kind "call your clinic" page)."""
    handout = rows.by_token_hash(session, hash_token(token))
    rows.revoke(session, handout.id, now)
    return handout


def stop_prompts(session: Session, token: str, now: dt.datetime, ip: str | None) -> Handout:
    """The patient's one tap on "stop these messages": no follow-up prompt goes out after it
    (the outbox drops those still waiting). Works on an ended link too."""
    if not 16 <= len(token) <= 128:
        raise NotFoundError("there is no handout at this link")
    handout = rows.by_token_hash(session, hash_token(token))
    rows.set_prompts_stopped(session, [handout.id], now)
    audit.record(session, audit.PATIENT, "prompts.stopped", f"handout:{handout.id}", ip,
                 None, now)
    return handout


def answer_text(session: Session, phone: str, body: str, now: dt.datetime,
                ip: str | None) -> str:
    """A patient's text message to the gateway, acted on and answered (TwiML).

    STOP and its kin stop the prompts of every open handout at ``phone``; START resumes them;
    anything else changes nothing and tells them to call the clinic or 911 (never triage).
    The answer is in the language of their latest open handout, else English.
    """
    reply = inbound.meaning(body)
    if reply is inbound.Reply.OTHER:
        handout_ids = rows.open_ids_by_phone(session, phone, now)
    else:
        handout_ids = _set_prompts_by_phone(session, phone, now, ip,
                                            stop=reply is inbound.Reply.STOP)
    language = rows.get(session, handout_ids[-1]).language if handout_ids else None
    return inbound.answer(reply, language)


def _set_prompts_by_phone(session: Session, phone: str, now: dt.datetime, ip: str | None,
                          *, stop: bool) -> list[int]:
    """Stop (or resume) the prompts of every open handout reachable at ``phone``, as
    ``stop_prompts`` does for one; audited per handout, the number in no record."""
    handout_ids = rows.open_ids_by_phone(session, phone, now)
    rows.set_prompts_stopped(session, handout_ids, now if stop else None)
    action = "prompts.stopped" if stop else "prompts.resumed"
    for handout_id in handout_ids:
        audit.record(session, audit.PATIENT, action, f"handout:{handout_id}", ip,
                     {"channel": "sms"}, now)
    return handout_ids


K = TypeVar("K")
V = TypeVar("V")


class _PerStore(Generic[K, V]):
    """Facts that a store's rows fix for good (a stored version's words never change), kept
    per store, at most ``bound`` of each kind. Per store: row ids are the store's own, and two
    stores in one process (tests, a migration tool) must never share them."""

    def __init__(self, bound: int) -> None:
        self.bound = bound
        self._by_store: weakref.WeakKeyDictionary[Store, dict[K, V]] = (
            weakref.WeakKeyDictionary())
        self._lock = threading.Lock()

    def get(self, store: Store, key: K, make: Callable[[], V]) -> V:
        """The kept value, else ``make()`` (outside the lock), kept from now on."""
        with self._lock:
            kept = self._by_store.setdefault(store, {})
            found = kept.get(key)
        if found is None:
            found = make()
            with self._lock:
                if len(kept) >= self.bound:
                    kept.clear()
                kept[key] = found
        return found


MAX_CACHED_SHEETS = 256
# Parsed sheets by row id: parsing one costs ~0.8 ms, paid in the one writer thread.
_SHEETS: _PerStore[int, Sheet] = _PerStore(MAX_CACHED_SHEETS)
# Whether two versions (by row id) follow the same logic: asked on every check-in and page.
_SAME_LOGIC: _PerStore[tuple[int, int], bool] = _PerStore(MAX_CACHED_SHEETS * 4)


def pinned_sheet(store: Store, session: Session, handout: Handout) -> Sheet:
    """The handout's sheet version, from this store's cache or read in ``session``."""
    return stored_sheet(store, session, handout.sheet_version_id)


def stored_sheet(store: Store, session: Session, sheet_version_id: int) -> Sheet:
    """One stored sheet version by row id, from this store's cache or read in ``session``."""
    return _SHEETS.get(store, sheet_version_id,
                       lambda: stored_sheets.get_by_id(session, sheet_version_id).sheet)


def readable_in(store: Store, session: Session, handout: Handout) -> dict[str, Sheet]:
    """The handout's sheet in each language the patient may read it in, by language.

    The pinned version always (under ``handout.language``); besides it, in each other
    language, the newest published version whose rules, findings and times are the pinned
    one's (``same_logic``), so switching language never changes what the patient is told to
    do. A language with no such version (its translation follows other rules) is not offered.
    """
    pinned = pinned_sheet(store, session, handout)
    found = {pinned.language: pinned}
    for language, ids in stored_sheets.published_ids(session, handout.sheet_code).items():
        if language in found:
            continue
        for other_id in ids:
            other = stored_sheet(store, session, other_id)
            if _SAME_LOGIC.get(store, (handout.sheet_version_id, other_id),
                               partial(same_logic, pinned, other)):
                found[language] = other
                break
    return found


# ---------------------------------------------------------------- the symptom check


def hours_for_triage(handout: Handout, now: dt.datetime) -> float:
    """Hours since the procedure as triage takes them: before it counts as at it."""
    return max(elapsed_hours(handout.procedure_time, now), 0.0)


def start_check(store: Store, token: str, now: dt.datetime, ip: str | None,
                language: str | None = None, browser: Sequence[str] = ()) -> CheckStep:
    """The first questions of a symptom check (nothing is saved yet)."""
    opened = open_handout(store, token, now, "check", ip, language=language, browser=browser)
    return CheckStep(opened, {}, next_questions(opened.sheet, {}), {})


def check_step(store: Store, token: str, raw_answers: Mapping[str, str], now: dt.datetime,
               ip: str | None, *, kept: Mapping[str, str] | None = None,
               back_from: list[str] | None = None, stay_on: list[str] | None = None,
               language: str | None = None) -> CheckStep:
    """One step of a symptom check asked a few questions at a time (the web form; SMS).

    Answers triage refuses are dropped and asked again with their problem; answers to
    findings this sheet does not have cannot be asked again and are dropped. When the
    answers so far call for 911, or nothing is left to ask, the check-in is saved.
    ``kept`` are answers given on later steps before going back: they are only shown
    already chosen, never triaged. ``back_from`` (the ids the patient's step showed) goes
    one step back instead, keeping every answer; ``stay_on`` shows the same step again
    (after the patient switched language or print size), its answers kept, none triaged.
    """
    opened = open_handout(store, token, now, "check", ip, language=language)
    sheet = opened.sheet
    known = set(sheet.findings) | safety_net.KEYS
    answers = {k: v for k, v in raw_answers.items() if k in known}
    later = {k: v for k, v in (kept or {}).items() if k in known and k not in answers}
    if back_from is not None:
        back = step_back(sheet, answers, [n for n in back_from if n in known])
        return CheckStep(opened, back.answers, back.ask, {}, kept={**later, **back.kept})
    if stay_on is not None:
        here = same_step(sheet, answers, [n for n in stay_on if n in known])
        return CheckStep(opened, here.answers, here.ask, {}, kept={**later, **here.kept})
    problems: dict[str, str] = {}
    try:
        read_answers(sheet, answers)
    except AnswerError as error:
        problems = {k: v for k, v in error.problems.items() if k in known}
        answers = {k: v for k, v in answers.items() if k not in error.problems}
    if problems:
        ask = next_questions(sheet, answers)
        ask += [name for name in [*sheet.findings, safety_net.QUESTION]
                if name in problems and name not in ask]
        if safety_net.NOTE in problems and safety_net.QUESTION not in ask:
            ask.append(safety_net.QUESTION)  # the note is asked with its question
            answers.pop(safety_net.QUESTION, None)
        return CheckStep(opened, answers, ask, problems, kept=later)
    if not stops_now(sheet, answers, hours_for_triage(opened.handout, now)):
        return CheckStep(opened, answers, next_questions(sheet, answers), {}, kept=later)
    return CheckStep(opened, answers, [], {},
                     check_in(store, token, answers, now, ip, language=opened.sheet.language))


def check_in(store: Store, token: str, raw_answers: Mapping[str, str], now: dt.datetime,
             ip: str | None = None, language: str | None = None) -> CheckinOutcome:
    """Triage the answers and save them as a check-in, committed before this returns.

    Raises NotFoundError / HandoutGoneError for a link that does not work and AnswerError
    (naming each finding at fault) before anything is saved. A failure to save returns the
    disposition anyway with ``checkin=None``: the patient must still see what to do.
    """
    return submit_check_in(store, token, raw_answers, now, ip, language).result(
        SAVE_TIMEOUT_SECONDS)


def submit_check_in(store: Store, token: str, raw_answers: Mapping[str, str],
                    now: dt.datetime, ip: str | None = None,
                    language: str | None = None) -> Future[CheckinOutcome]:
    """``check_in`` answered by a future: open, triage and save in the store's next group
    commit, as one unit, with no request thread waiting on the database. The result's words
    are in ``language`` when the handout can be read in it (``readable_in``)."""
    triaged: list[Disposition] = []

    def work(session: Session) -> CheckinOutcome:
        handout = open_link(session, token, now)
        readable = readable_in(store, session, handout)
        sheet = readable.get(language or "", readable[handout.language])
        hours = hours_for_triage(handout, now)
        disposition = decide(sheet, read_answers(sheet, raw_answers), hours, handout.params)
        triaged.append(disposition)
        checkin = _save(session, handout, disposition, raw_answers, hours, now, ip)
        return CheckinOutcome(disposition=disposition, checkin=checkin)

    outcome: Future[CheckinOutcome] = Future()

    def finished(saving: Future[CheckinOutcome]) -> None:
        error = saving.exception()
        if error is None:
            outcome.set_result(saving.result())
        elif triaged:  # the answers were good and triaged: only the save failed
            # No answers, names or tokens in the log (a database error's text would carry the
            # row's values): only the kind of error.
            log.error("could not save a check-in: %s", describe(error))
            outcome.set_result(CheckinOutcome(disposition=triaged[0], checkin=None))
        elif isinstance(error, DBAPIError):
            log.error("could not open a link to check in: %s", describe(error))
            outcome.set_exception(StoreUnavailableError("the database failed"))
        else:
            outcome.set_exception(error)

    writer_for(store).submit(work).add_done_callback(finished)
    return outcome


def _save(session: Session, handout: Handout, disposition: Disposition,
          answers: Mapping[str, str], hours: float, now: dt.datetime,
          ip: str | None) -> Checkin:
    own, net = safety_net.split(answers)
    checkin = rows.add_checkin(
        session, handout_id=handout.id, created_at=now, elapsed_hours=hours,
        # The safety net's note is kept as written, for the care team's eyes only.
        answers={**{k: v.strip().lower() or "unsure" for k, v in own.items()},
                 **safety_net.kept_answers(net)},
        tier=disposition.tier.value, matched=[m.id for m in disposition.matched],
        disposition=disposition.model_dump(mode="json"),
    )
    # The inbox's reasons are the same honest lines the patient read (never the note).
    _hook(session, "escalation", lambda: escalations.on_checkin(
        session, handout_id=handout.id, checkin_id=checkin.id, tier=disposition.tier,
        reasons=[m.said for m in disposition.matched], sheet_code=handout.sheet_code,
        ip=ip, now=now))
    return checkin


# ---------------------------------------------------------------- teach-back


def teach_back_questions(opened: Opened) -> tuple[Question, ...]:
    """The handout's teach-back questions, choices in a stable shuffled order."""
    return tuple(quiz(opened.sheet, opened.handout.params, seed=opened.handout.id))


def teach_back(store: Store, token: str, raw_answers: Mapping[str, str], now: dt.datetime,
               ip: str | None = None,
               language: str | None = None) -> tuple[Opened, TeachbackOutcome]:
    """Grade one teach-back attempt and save it; missed warning signs go to the care team.

    A failure to save is logged (its kind only) and gives ``attempt=None``: the feedback
    still teaches, and the face says it was not saved.
    """
    opened = open_handout(store, token, now, "teachback", ip, language=language)
    questions = teach_back_questions(opened)
    results = tuple(grade(questions, raw_answers, opened.sheet.language))
    try:
        with store.session() as session:
            attempt: str | None = save_teachback(session, opened.handout, questions, results,
                                                 now, ip)
    except Exception as error:
        log.error("could not save teach-back for handout %s: %s", opened.handout.id,
                  describe(error))
        attempt = None
    return opened, TeachbackOutcome(questions, results, attempt)


def save_teachback(
    session: Session,
    handout: Handout,
    questions: tuple[Question, ...],
    results: tuple[Result, ...],
    now: dt.datetime,
    ip: str | None = None,
) -> str:
    """Save one teach-back attempt in ``session``; returns its id."""
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


# ---------------------------------------------------------------- care-team hooks


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
