"""The patient's guide at a private link: timeline and sheet, symptom check, teach-back, .ics.

Plain HTML forms, no JavaScript needed; each route parses, calls one function of
``caresheet.guide`` and renders. The symptom check is a few short pages, highest tier first
(``symptom_check``); earlier answers ride along as hidden fields, so no server state is kept
between steps. A refused answer is asked again with its message beside the question, every
other answer kept. The check-in is saved before the POST is answered, and the answer is a 303
to the saved check-in's own page, so a refresh shows it again instead of saving it twice.

Every page has a language switch and a large-print switch (``View``): ``?lang=`` and
``?large=1`` like the public pages, carried on every link and form of the guide. Without
``?lang=`` the patient's preferred language (given when the handout was issued) decides, then
the browser's ``Accept-Language``. On a step of the symptom check the switches are buttons of
its form, so the step is shown again in the new language or size with every answer kept.

An unknown or ended link raises NotFoundError / HandoutGoneError; the one error handler
(``web.errors``) answers with ``link_ended_page``. The private headers (``no-store``,
``no-referrer``, ``noindex``) are set for every patient response by ``web.headers``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import partial
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from caresheet import config, guide
from caresheet.care import reminders, safety_net
from caresheet.care.timeline import when_words
from caresheet.care.triage import Disposition
from caresheet.i18n import _, fallback_notice, gettext_for, language_name
from caresheet.model.sheet import Sheet
from caresheet.model.wording import wording_for
from caresheet.render.html import environment, sheet_page, upper_first
from caresheet.store.db import Store
from caresheet.web.client import client_ip
from caresheet.web.deps import (
    LANGUAGES,
    StoreDep,
    accepted_languages,
    chrome_for,
    page_language,
    supported_language,
)

router = APIRouter()

CheckinId = Annotated[int, Path(ge=1, le=2**31 - 1)]  # within every database's integer
ANSWER_PREFIX = "a."
KEPT_PREFIX = "k."  # answers of later steps, kept after going back: shown, never triaged
RECENT_CHECKINS = 5


@dataclass(frozen=True, slots=True)
class View:
    """How the patient asked to see their guide: a language they chose (None: not chosen),
    their browser's languages, and large print. From the query or a posted form's fields."""

    lang: str | None = None
    large: bool = False
    browser: tuple[str, ...] = ()

    def query(self, lang: str, large: bool | None = None) -> str:
        """The query string every guide link carries: ``?lang=es&large=1``."""
        large = self.large if large is None else large
        return "?" + urlencode({"lang": lang, **({"large": "1"} if large else {})})


def view_for(request: Request, fields: Mapping[str, Any] | None = None) -> View:
    """The patient's choice: ``?lang=``/``?large=`` (or the form's fields of the same names),
    and the browser's ``Accept-Language`` for when they have not chosen."""
    given = fields if fields is not None else request.query_params
    browser = (supported_language(tag)
               for tag in accepted_languages(request.headers.get("accept-language", "")))
    return View(lang=supported_language(str(given.get("lang") or "")),
                large=config.is_true(given.get("large")),
                browser=tuple(found for found in browser if found))


def opened_for(store: Store, token: str, request: Request, what: str, view: View,
               recent_checkins: int = 0) -> guide.Opened:
    """Open the handout for one of the guide's pages, in the language the view asks for."""
    return guide.open_handout(store, token, now(), what, client_ip(request),
                              recent_checkins=recent_checkins, language=view.lang,
                              browser=view.browser)


def switches(opened: guide.Opened, view: View, path: str) -> dict[str, Any]:
    """The context of the language and print switches, and the query every link carries."""
    shown = opened.sheet.language
    return {
        "view_query": view.query(shown), "large": view.large, "here": path,
        "notice": fallback_notice(view.lang, shown) if view.lang and view.lang != shown else None,
        # Each language named in itself: a Spanish reader looks for "Español".
        "other_languages": [(code, upper_first(language_name(code, code)), view.query(code))
                            for code in opened.languages if code != shown and code in LANGUAGES],
        "print_switch": view.query(shown, large=not view.large),
    }


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
    return render(request, "guide/gone.html", status=410 if gone else 404, gone=gone,
                  lang=page_language(request),
                  large=config.is_true(request.query_params.get("large")))


def base_context(request: Request, opened: guide.Opened, token: str,
                 view: View) -> dict[str, Any]:
    """What every page of an opened handout shows: its language and print switches, whom to
    call, and the sample/draft note."""
    return {
        "lang": opened.sheet.language, "token": token, "handout": opened.handout,
        "sheet": opened.sheet, "phone": opened.phone, "phone_tel": tel(opened.phone),
        "draft": opened.sheet.status in ("draft", "reviewed") or opened.sheet.sample,
        **switches(opened, view, request.url.path),
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
    view = view_for(request)
    opened = opened_for(store, token, request, "page", view, RECENT_CHECKINS)
    page = replace(sheet_page(opened.sheet, opened.handout.params), id_prefix="sheet-")
    return render(
        request, "guide/guide.html", **base_context(request, opened, token, view), page=page,
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
    view = view_for(request)
    step = guide.start_check(store, token, now(), client_ip(request), view.lang, view.browser)
    return check_page(request, step, token, view)


def fields(form: Mapping[str, Any], prefix: str) -> dict[str, str]:
    """The fields of a posted form named ``<prefix><id>`` (answers ``a.``, kept ``k.``), by id."""
    return {k.removeprefix(prefix): str(v) for k, v in form.items() if k.startswith(prefix)}


@router.post("/h/{token}/check", response_class=HTMLResponse, include_in_schema=False)
async def check_step(request: Request, token: str, store: StoreDep) -> Response:
    """Next; or, with the form's Back button, one step back; or, with a language or print
    switch (buttons of the same form), the same step again in the new view. Every answer is
    kept either way."""
    form = await request.form()
    raw, kept = fields(form, ANSWER_PREFIX), fields(form, KEPT_PREFIX)
    shown = [str(v) for v in form.getlist("shown")]
    current = view_for(request, form)
    switched = switched_view(form, current)
    view = switched or current
    step = await run_in_threadpool(
        partial(guide.check_step, kept=kept, back_from=shown if "back" in form else None,
                stay_on=shown if switched else None, language=view.lang),
        store, token, raw, now(), client_ip(request))
    return check_page(request, step, token, view)


def switched_view(form: Mapping[str, Any], current: View) -> View | None:
    """The view a switch button asks for (``switch=lang:es`` or ``switch=large:1``), or None
    when the form was sent with Next or Back."""
    kind, _sep, value = str(form.get("switch", "")).partition(":")
    language = supported_language(value) if kind == "lang" else None
    if language:
        return replace(current, lang=language)
    if kind == "large":
        return replace(current, large=config.is_true(value))
    return None


def check_page(request: Request, step: guide.CheckStep, token: str, view: View) -> Response:
    """The next questions; or, once the check-in is saved, a 303 to its result page."""
    outcome = step.outcome
    shown_in = step.opened.sheet.language
    if outcome is not None and outcome.checkin is not None:
        return RedirectResponse(
            f"/h/{token}/checkins/{outcome.checkin.id}{view.query(shown_in)}", status_code=303)
    if outcome is not None:  # not saved: nothing to show again, so the result is shown here
        return result_page(request, step.opened, token, view, outcome.disposition, None)
    sheet = step.opened.sheet
    on_page = set(step.ask) | ({safety_net.NOTE} if safety_net.QUESTION in step.ask else set())
    return render(
        request, "guide/check.html", status=400 if step.problems else 200,
        **base_context(request, step.opened, token, view),
        questions=[(name, safety_net.question(sheet, name)) for name in step.ask],
        prior={k: v for k, v in step.answers.items() if k not in on_page},
        kept=step.kept, later={k: v for k, v in step.kept.items() if k not in on_page},
        problems={name: ask_again(sheet, name) for name in step.problems},
        net=safety_net.QUESTION, note=safety_net.NOTE, max_note=safety_net.MAX_NOTE,
        note_label=safety_net.words_for(sheet.language).note_label,
        first=not step.answers and not step.problems, form_id="check-form")


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
    view = view_for(request)
    saved = guide.saved_checkin(store, token, checkin_id, now(), client_ip(request), view.lang)
    return result_page(request, saved.opened, token, view, saved.disposition, saved.checkin.id,
                       team_told=saved.team_told)


def result_page(request: Request, opened: guide.Opened, token: str, view: View,
                disposition: Disposition, checkin_id: int | None,
                team_told: bool = False) -> HTMLResponse:
    """What to do now, why, and what happens next: whether the care team was told."""
    return render(request, "guide/result.html", **base_context(request, opened, token, view),
                  disposition=disposition, saved=checkin_id is not None, checkin_id=checkin_id,
                  team_told=team_told)


# ---------------------------------------------------------------- teach-back


@router.get("/h/{token}/teachback", response_class=HTMLResponse, include_in_schema=False)
def teachback_page(request: Request, token: str, store: StoreDep) -> Response:
    view = view_for(request)
    opened = opened_for(store, token, request, "teachback", view)
    return render(request, "guide/teachback.html", **base_context(request, opened, token, view),
                  questions=guide.teach_back_questions(opened))


@router.post("/h/{token}/teachback", response_class=HTMLResponse, include_in_schema=False)
async def teachback_answered(request: Request, token: str, store: StoreDep) -> Response:
    form = await request.form()
    return await run_in_threadpool(teachback_saved, request, token, store,
                                   fields(form, ANSWER_PREFIX),
                                   view_for(request, form))


def teachback_saved(request: Request, token: str, store: Store,
                    answers: Mapping[str, str], view: View) -> Response:
    opened, outcome = guide.teach_back(store, token, answers, now(), client_ip(request),
                                       view.lang)
    pairs = list(zip(outcome.questions, outcome.results, strict=True))
    return render(request, "guide/teachback-result.html",
                  **base_context(request, opened, token, view),
                  pairs=pairs, saved=outcome.attempt is not None, right=outcome.right)


# ---------------------------------------------------------------- reminders


@router.get("/h/{token}/calendar.ics", include_in_schema=False)
def calendar_file(request: Request, token: str, store: StoreDep) -> Response:
    opened = opened_for(store, token, request, "ics", view_for(request))
    data = reminders.calendar(
        opened.timeline, handout_id=str(opened.handout.id), title=opened.sheet.title,
        url=str(request.url_for("guide_page", token=token)), stamp=opened.moment)
    return Response(data, media_type="text/calendar; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{opened.sheet.code}-reminders.ics"'})
