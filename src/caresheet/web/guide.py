"""The patient's guide at a private link: timeline and sheet, symptom check, teach-back, .ics.

Plain HTML forms, no JavaScript needed. The symptom check is a few short pages, highest tier
first (``symptom_check``); earlier answers ride along as hidden fields, so no server state
is kept between steps. A check-in is saved before its result page is sent. A revoked or
expired link gets a kind page with a generic "call your clinic" and the 911 line, nothing else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from caresheet import guide
from caresheet.care import reminders
from caresheet.care.symptom_check import next_questions, stops_now
from caresheet.care.teachback import grade, quiz
from caresheet.errors import NotFoundError
from caresheet.i18n import _, gettext_for
from caresheet.model.wording import wording_for
from caresheet.render.html import environment, sheet_page
from caresheet.store.db import Store
from caresheet.web.deps import chrome_for, get_store
from caresheet.web.guide_api import router as api_router
from caresheet.web.guide_support import (
    Opened,
    client_ip,
    now,
    open_handout,
    private,
    tel,
)

router = APIRouter()
router.include_router(api_router)

StoreDep = Annotated[Store, Depends(get_store)]
ANSWER_PREFIX = "a."
ANSWERS = ("yes", "no", "unsure")


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A guide page: the sheet's gettext environment, base.html's helpers, private headers."""
    context.setdefault("lang", "en")
    html = environment(context["lang"]).get_template(template).render(
        request=request, chrome_for=chrome_for, wording_for=wording_for, **context)
    response = HTMLResponse(html, status_code=status)
    private(response)
    return response


def gone_page(request: Request, error: NotFoundError) -> HTMLResponse:
    """Expired, revoked or unknown: whom to call and the 911 line, never the handout's data."""
    gone = isinstance(error, guide.HandoutGoneError)
    return render(request, "guide/gone.html", status=410 if gone else 404, gone=gone)


def base_context(opened: Opened, token: str) -> dict[str, Any]:
    return {
        "lang": opened.sheet.language, "token": token, "handout": opened.handout,
        "sheet": opened.sheet, "phone": opened.phone, "phone_tel": tel(opened.phone),
        "draft": opened.sheet.status in ("draft", "reviewed"),
    }


# ---------------------------------------------------------------- the guide page


@router.get("/h/{token}", response_class=HTMLResponse, include_in_schema=False)
def guide_page(request: Request, token: str, store: StoreDep) -> Response:
    try:
        opened = open_handout(store, request, token, "page", recent_checkins=True)
    except NotFoundError as error:
        return gone_page(request, error)
    page = replace(sheet_page(opened.sheet, opened.handout.params), id_prefix="sheet-")
    return render(
        request, "guide/guide.html", **base_context(opened, token), page=page,
        timeline=opened.timeline,
        elapsed=elapsed_words(opened.timeline.elapsed_hours, opened.sheet.language),
        checkins=opened.checkins,
        when=lambda moment: checkin_when(moment, opened),
    )


def elapsed_words(hours: float, language: str = "en") -> str:
    """``2 days and 3 hours since your procedure``: the "now" line of the timeline."""
    words = gettext_for(language)
    if hours < 0:
        return words.gettext("Before your procedure")
    days, minutes = divmod(int(hours * 60), 24 * 60)
    hours_left, minutes_left = divmod(minutes, 60)
    parts = []
    if days:
        parts.append(words.ngettext("%(n)s day", "%(n)s days", days) % {"n": days})
    if hours_left:
        parts.append(words.ngettext("%(n)s hour", "%(n)s hours", hours_left) % {"n": hours_left})
    if (minutes_left and not days) or not parts:  # "0 minutes" right at the procedure time
        parts.append(
            words.ngettext("%(n)s minute", "%(n)s minutes", minutes_left) % {"n": minutes_left})
    # At most two parts: days and hours, or hours and minutes.
    span = parts[0] if len(parts) == 1 else words.gettext("%(first)s and %(second)s") % {
        "first": parts[0], "second": parts[1]}
    return words.gettext("%(span)s since your procedure") % {"span": span}


def checkin_when(moment: dt.datetime, opened: Opened) -> str:
    from caresheet.care.timeline import when_words

    local = moment.astimezone(opened.handout.procedure_time.tzinfo)
    return when_words(local, opened.moment, opened.sheet.language)


# ---------------------------------------------------------------- the symptom check


@router.get("/h/{token}/check", response_class=HTMLResponse, include_in_schema=False)
def check_start(request: Request, token: str, store: StoreDep) -> Response:
    try:
        opened = open_handout(store, request, token, "check")
    except NotFoundError as error:
        return gone_page(request, error)
    return check_stage(request, opened, token, {})


async def form_answers(request: Request) -> dict[str, str]:
    """The answer fields of a posted form (``a.<id>``), by id."""
    form = await request.form()
    return {k.removeprefix(ANSWER_PREFIX): str(v) for k, v in form.items()
            if k.startswith(ANSWER_PREFIX)}


@router.post("/h/{token}/check", response_class=HTMLResponse, include_in_schema=False)
async def check_step(request: Request, token: str, store: StoreDep) -> Response:
    raw = await form_answers(request)
    return await run_in_threadpool(check_answered, request, token, store, raw)


def check_answered(request: Request, token: str, store: Store,
                   raw: Mapping[str, str]) -> Response:
    try:
        opened = open_handout(store, request, token, "check")
    except NotFoundError as error:
        return gone_page(request, error)
    sheet = opened.sheet
    answers, problem = read_form_answers(opened, raw)
    if problem:
        return check_stage(request, opened, token, answers, problem, status=400)
    if not stops_now(sheet, answers, max(opened.timeline.elapsed_hours, 0.0)):
        return check_stage(request, opened, token, answers)
    outcome = guide.check_in(store, opened.handout, sheet, answers, now(), client_ip(request))
    return render(request, "guide/result.html", **base_context(opened, token),
                  disposition=outcome.disposition, saved=outcome.checkin is not None,
                  checkin_id=outcome.checkin.id if outcome.checkin else None)


def read_form_answers(opened: Opened, raw: Mapping[str, str]) -> tuple[dict[str, str], str]:
    """The valid answers to known findings, and a message about the first invalid one
    (which is left out, so it is asked again). A number left empty means "not sure"."""
    answers: dict[str, str] = {}
    problem = ""
    language = opened.sheet.language
    for name, value in raw.items():
        finding = opened.sheet.findings.get(name)
        if finding is None:
            continue
        value = value.strip().lower()
        if finding.kind == "number":
            value = value or "unsure"
            if value != "unsure" and not _is_number(value):
                problem = problem or _("Please write a number for: %(question)s", language) % {
                    "question": finding.ask}
                continue
        elif value not in ANSWERS:
            problem = problem or _(
                "Please choose yes, no or not sure for: %(question)s", language) % {
                "question": finding.ask}
            continue
        answers[name] = value
    return answers, problem


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def check_stage(request: Request, opened: Opened, token: str, answers: Mapping[str, str],
                problem: str = "", status: int = 200) -> HTMLResponse:
    questions = [(name, opened.sheet.findings[name])
                 for name in next_questions(opened.sheet, answers)]
    return render(request, "guide/check.html", status=status, **base_context(opened, token),
                  questions=questions, prior=dict(answers), problem=problem,
                  first=not answers)


# ---------------------------------------------------------------- teach-back


@router.get("/h/{token}/teachback", response_class=HTMLResponse, include_in_schema=False)
def teachback_page(request: Request, token: str, store: StoreDep) -> Response:
    try:
        opened = open_handout(store, request, token, "teachback")
    except NotFoundError as error:
        return gone_page(request, error)
    questions = quiz(opened.sheet, opened.handout.params, seed=opened.handout.id)
    return render(request, "guide/teachback.html", **base_context(opened, token),
                  questions=questions)


@router.post("/h/{token}/teachback", response_class=HTMLResponse, include_in_schema=False)
async def teachback_answered(request: Request, token: str, store: StoreDep) -> Response:
    answers = await form_answers(request)
    return await run_in_threadpool(teachback_saved, request, token, store, answers)


def teachback_saved(request: Request, token: str, store: Store,
                    answers: Mapping[str, str]) -> Response:
    try:
        opened = open_handout(store, request, token, "teachback")
    except NotFoundError as error:
        return gone_page(request, error)
    questions = quiz(opened.sheet, opened.handout.params, seed=opened.handout.id)
    results = grade(questions, answers, opened.sheet.language)
    saved = True
    try:
        with store.session() as session:
            guide.save_teachback(session, opened.handout, questions, results, now(),
                                    client_ip(request))
    except Exception as error:
        guide.log.error("could not save teach-back for handout %s: %s", opened.handout.id,
                           guide.describe(error))
        saved = False
    pairs = list(zip(questions, results, strict=True))
    return render(request, "guide/teachback-result.html", **base_context(opened, token),
                  pairs=pairs, saved=saved, right=sum(r.correct for r in results))


# ---------------------------------------------------------------- reminders


@router.get("/h/{token}/calendar.ics", include_in_schema=False)
def calendar_file(request: Request, token: str, store: StoreDep) -> Response:
    try:
        opened = open_handout(store, request, token, "ics")
    except NotFoundError as error:
        return gone_page(request, error)
    data = reminders.calendar(
        opened.timeline, handout_id=str(opened.handout.id), title=opened.sheet.title,
        url=str(request.url_for("guide_page", token=token)), stamp=opened.moment)
    response = Response(data, media_type="text/calendar; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{opened.sheet.code}-reminders.ics"'})
    return private(response)
