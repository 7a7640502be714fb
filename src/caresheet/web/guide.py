"""The patient's guide at a private link: timeline and sheet, symptom check, teach-back, .ics.

Plain HTML forms, no JavaScript needed; each route parses, calls one function of
``caresheet.guide`` and renders. The symptom check is a few short pages, highest tier first
(``symptom_check``); earlier answers ride along as hidden fields, so no server state is kept
between steps. A refused answer is asked again with its message beside the question, every
other answer kept. The check-in is saved before the POST is answered, and the answer is a 303
to the saved check-in's own page, so a refresh shows it again instead of saving it twice.

An unknown or ended link raises NotFoundError / HandoutGoneError; the one error handler
(``web.errors``) answers with ``link_ended_page``. The private headers (``no-store``,
``no-referrer``, ``noindex``) are set for every patient response by ``web.headers``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from caresheet import guide
from caresheet.care import reminders, safety_net
from caresheet.care.timeline import when_words
from caresheet.care.triage import Disposition
from caresheet.i18n import _, gettext_for
from caresheet.model.sheet import Sheet
from caresheet.model.wording import wording_for
from caresheet.render.html import environment, sheet_page
from caresheet.store.db import Store
from caresheet.web.client import client_ip
from caresheet.web.deps import chrome_for, get_store

router = APIRouter()

StoreDep = Annotated[Store, Depends(get_store)]
CheckinId = Annotated[int, Path(ge=1, le=2**31 - 1)]  # within every database's integer
ANSWER_PREFIX = "a."
KEPT_PREFIX = "k."  # answers of later steps, kept after going back: shown, never triaged
RECENT_CHECKINS = 5


def now() -> dt.datetime:
    """The one place the guide's pages read the clock; the core takes ``now`` as an argument."""
    return dt.datetime.now(dt.UTC)


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A guide page: the sheet's gettext environment and base.html's helpers."""
    context.setdefault("lang", "en")
    html = environment(context["lang"]).get_template(template).render(
        request=request, chrome_for=chrome_for, wording_for=wording_for, **context)
    return HTMLResponse(html, status_code=status)


def link_ended_page(request: Request, gone: bool) -> HTMLResponse:
    """Expired, revoked (410) or unknown (404): whom to call and the 911 line, never the
    handout's data. The error handler answers every such error under /h/ with it."""
    return render(request, "guide/gone.html", status=410 if gone else 404, gone=gone)


def base_context(opened: guide.Opened, token: str) -> dict[str, Any]:
    return {
        "lang": opened.sheet.language, "token": token, "handout": opened.handout,
        "sheet": opened.sheet, "phone": opened.phone, "phone_tel": tel(opened.phone),
        "draft": opened.sheet.status in ("draft", "reviewed") or opened.sheet.sample,
    }


def tel(phone: str | None) -> str | None:
    """A ``tel:`` URI from a phone as written ("(555) 010-0100 ext 2" -> tel:5550100100,2)."""
    if not phone:
        return None
    main, _sep, extension = phone.lower().replace("ext.", "x").replace("ext", "x").partition("x")
    digits = "".join(c for c in main if c.isdigit() or c == "+")
    if not digits.strip("+"):
        return None
    extra = "".join(c for c in extension if c.isdigit())
    return f"tel:{digits}" + (f",{extra}" if extra else "")


# ---------------------------------------------------------------- the guide page


@router.get("/h/{token}", response_class=HTMLResponse, include_in_schema=False)
def guide_page(request: Request, token: str, store: StoreDep) -> Response:
    opened = guide.open_handout(store, token, now(), "page", client_ip(request),
                                recent_checkins=RECENT_CHECKINS)
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


def checkin_when(moment: dt.datetime, opened: guide.Opened) -> str:
    local = moment.astimezone(opened.handout.procedure_time.tzinfo)
    return when_words(local, opened.moment, opened.sheet.language)


# ---------------------------------------------------------------- the symptom check


@router.get("/h/{token}/check", response_class=HTMLResponse, include_in_schema=False)
def check_start(request: Request, token: str, store: StoreDep) -> Response:
    step = guide.start_check(store, token, now(), client_ip(request))
    return check_page(request, step, token)


async def form_answers(request: Request) -> dict[str, str]:
    """The answer fields of a posted form (``a.<id>``), by id."""
    form = await request.form()
    return {k.removeprefix(ANSWER_PREFIX): str(v) for k, v in form.items()
            if k.startswith(ANSWER_PREFIX)}


@router.post("/h/{token}/check", response_class=HTMLResponse, include_in_schema=False)
async def check_step(request: Request, token: str, store: StoreDep) -> Response:
    """Next (or, with the form's Back button, one step back, keeping every answer)."""
    form = await request.form()
    raw = {k.removeprefix(ANSWER_PREFIX): str(v) for k, v in form.items()
           if k.startswith(ANSWER_PREFIX)}
    kept = {k.removeprefix(KEPT_PREFIX): str(v) for k, v in form.items()
            if k.startswith(KEPT_PREFIX)}
    back_from = [str(v) for v in form.getlist("shown")] if "back" in form else None
    step = await run_in_threadpool(
        partial(guide.check_step, kept=kept, back_from=back_from),
        store, token, raw, now(), client_ip(request))
    return check_page(request, step, token)


def check_page(request: Request, step: guide.CheckStep, token: str) -> Response:
    """The next questions; or, once the check-in is saved, a 303 to its result page."""
    outcome = step.outcome
    if outcome is not None and outcome.checkin is not None:
        return RedirectResponse(f"/h/{token}/checkins/{outcome.checkin.id}", status_code=303)
    if outcome is not None:  # not saved: nothing to show again, so the result is shown here
        return result_page(request, step.opened, token, outcome.disposition, None)
    sheet = step.opened.sheet
    shown = set(step.ask) | ({safety_net.NOTE} if safety_net.QUESTION in step.ask else set())
    return render(
        request, "guide/check.html", status=400 if step.problems else 200,
        **base_context(step.opened, token),
        questions=[(name, safety_net.question(sheet, name)) for name in step.ask],
        prior={k: v for k, v in step.answers.items() if k not in shown},
        kept=step.kept, later={k: v for k, v in step.kept.items() if k not in shown},
        problems={name: ask_again(sheet, name) for name in step.problems},
        net=safety_net.QUESTION, note=safety_net.NOTE, max_note=safety_net.MAX_NOTE,
        note_label=safety_net.words_for(sheet.language).note_label,
        first=not step.answers and not step.problems)


def ask_again(sheet: Sheet, name: str) -> str:
    """The patient's words for an answer triage refused, in the sheet's language."""
    if name == safety_net.NOTE:
        return _("Please keep your note to %(n)s characters or fewer, in plain text.",
                 sheet.language) % {"n": safety_net.MAX_NOTE}
    finding = safety_net.question(sheet, name)
    if finding.kind == "number":
        message = _("Please write a number for: %(question)s", sheet.language)
    else:
        message = _("Please choose yes, no or not sure for: %(question)s", sheet.language)
    return message % {"question": finding.ask}


@router.get("/h/{token}/checkins/{checkin_id}", response_class=HTMLResponse,
            include_in_schema=False)
def checkin_result(request: Request, token: str, checkin_id: CheckinId,
                   store: StoreDep) -> Response:
    """A saved check-in's result, as it was decided then (an audited read)."""
    opened, checkin = guide.saved_checkin(store, token, checkin_id, now(), client_ip(request))
    disposition = Disposition.model_validate(checkin.disposition)
    return result_page(request, opened, token, disposition, checkin.id)


def result_page(request: Request, opened: guide.Opened, token: str, disposition: Disposition,
                checkin_id: int | None) -> HTMLResponse:
    return render(request, "guide/result.html", **base_context(opened, token),
                  disposition=disposition, saved=checkin_id is not None, checkin_id=checkin_id)


# ---------------------------------------------------------------- teach-back


@router.get("/h/{token}/teachback", response_class=HTMLResponse, include_in_schema=False)
def teachback_page(request: Request, token: str, store: StoreDep) -> Response:
    opened = guide.open_handout(store, token, now(), "teachback", client_ip(request))
    return render(request, "guide/teachback.html", **base_context(opened, token),
                  questions=guide.teach_back_questions(opened))


@router.post("/h/{token}/teachback", response_class=HTMLResponse, include_in_schema=False)
async def teachback_answered(request: Request, token: str, store: StoreDep) -> Response:
    answers = await form_answers(request)
    return await run_in_threadpool(teachback_saved, request, token, store, answers)


def teachback_saved(request: Request, token: str, store: Store,
                    answers: Mapping[str, str]) -> Response:
    opened, outcome = guide.teach_back(store, token, answers, now(), client_ip(request))
    pairs = list(zip(outcome.questions, outcome.results, strict=True))
    return render(request, "guide/teachback-result.html", **base_context(opened, token),
                  pairs=pairs, saved=outcome.attempt is not None, right=outcome.right)


# ---------------------------------------------------------------- reminders


@router.get("/h/{token}/calendar.ics", include_in_schema=False)
def calendar_file(request: Request, token: str, store: StoreDep) -> Response:
    opened = guide.open_handout(store, token, now(), "ics", client_ip(request))
    data = reminders.calendar(
        opened.timeline, handout_id=str(opened.handout.id), title=opened.sheet.title,
        url=str(request.url_for("guide_page", token=token)), stamp=opened.moment)
    return Response(data, media_type="text/calendar; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{opened.sheet.code}-reminders.ics"'})
