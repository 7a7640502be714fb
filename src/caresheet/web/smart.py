"""The SMART App Launch face: ``/smart/launch``, ``/smart/callback`` and the launched screen.

The browser holds one random value, the HttpOnly cookie ``caresheet_smart``; everything else
(state, PKCE verifier, nonce, access token, patient, encounter) is in the launch's row on the
server (see ``caresheet.ehr.smart``). Failures are ``SmartLaunchError`` s, shown by the one
error handler as the plain error page (with the 911 line), after the service audited them.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from caresheet import config
from caresheet.care.timeline import parse_procedure_time
from caresheet.ehr import chart as charts
from caresheet.ehr import smart, writeback
from caresheet.errors import BadInputError, FhirServerError, NotFoundError, SmartLaunchError
from caresheet.model import contact as contacts
from caresheet.model.sheet import Sheet
from caresheet.render import qr
from caresheet.store import sheets
from caresheet.store.db import Store
from caresheet.web.client import client_ip
from caresheet.web.deps import StoreDep, page_context, supported_language, templates
from caresheet.web.security import cookie_secure, utcnow
from caresheet.web.team_handouts import PARAM_PREFIX, _days, default_zone, param_fields
from caresheet.web.team_pages import PRIVATE_HEADERS

router = APIRouter(include_in_schema=False)
COOKIE = "caresheet_smart"
Text = Annotated[str | None, Query(max_length=2000)]


def site_url(request: Request) -> str:
    """The address the EHR sends the browser back to: CARESHEET_BASE_URL, else the request's."""
    return config.public_base_url() or str(request.base_url).rstrip("/")


def redirect_uri(request: Request) -> str:
    return f"{site_url(request)}/smart/callback"


def _page(request: Request, template: str, status_code: int = 200,
          **values: Any) -> HTMLResponse:
    response = templates.TemplateResponse(
        request, f"team/{template}", page_context(request, "en", login=None, **values),
        status_code=status_code)
    response.headers.update(PRIVATE_HEADERS)
    return response


@router.get("/smart/launch")
def launch(request: Request, store: StoreDep, iss: Text = None, launch: Text = None,
           sheet: Annotated[str | None, Query(max_length=16)] = None) -> Response:
    """EHR launch (``iss`` and ``launch``) or standalone launch (``iss`` only)."""
    started = smart.begin(
        store, iss=iss or "", launch=launch, redirect_uri=redirect_uri(request),
        app_context=sheet, ip=client_ip(request), now=utcnow())
    response = RedirectResponse(started.redirect, status_code=302, headers=PRIVATE_HEADERS)
    response.set_cookie(COOKIE, started.cookie, max_age=smart.SESSION_HOURS * 3600, path="/",
                        httponly=True, secure=cookie_secure(request), samesite="lax")
    return response


@router.get("/smart/callback")
def callback(request: Request, store: StoreDep, code: Text = None, state: Text = None,
             error: Text = None) -> Response:
    smart.complete(
        store, cookie=request.cookies.get(COOKIE, ""), state=state, code=code, error=error,
        redirect_uri=redirect_uri(request), ip=client_ip(request), now=utcnow())
    # The code and state leave the address bar: the screen has a clean URL.
    return RedirectResponse("/smart/app", status_code=303, headers=PRIVATE_HEADERS)


def _sheet(store: Store, code: str, language: str | None) -> Sheet | None:
    with store.session(write=False) as session:
        for lang in dict.fromkeys([supported_language(language) or "en", "en"]):
            try:
                return sheets.current(session, code, lang).sheet
            except NotFoundError:
                continue
    return None


@router.get("/smart/app", response_class=HTMLResponse)
def app_screen(request: Request, store: StoreDep,
               code: Annotated[str, Query(max_length=16)] = "") -> Response:
    """One screen: banner, suggested sheets, the chart's prefill and the issue form."""
    now = utcnow()
    current, ehr, user = smart.current(store, request.cookies.get(COOKIE), now)
    assert current.access_token is not None and current.patient is not None
    try:
        chart = charts.read(ehr.iss, current.access_token, current.patient, now)
    except FhirServerError as error:
        raise SmartLaunchError(f"caresheet could not read this patient's chart: {error}") from None
    suggested = charts.suggestions(store, chart)
    chosen = code or current.app_context or (suggested[0].code if suggested else "")
    sheet = _sheet(store, chosen, chart.language) if chosen else None
    values = {"mrn": chart.mrn or "", "phone": chart.phone or "", "email": chart.email or "",
              "patient_language": chart.language or ""}
    return _form(request, current, ehr, user, chart, suggested, sheet, values, None)


def _form(request: Request, current: Any, ehr: Any, user: Any, chart: charts.Chart | None,
          suggested: list[Any], sheet: Sheet | None, values: dict[str, str],
          error: str | None, status_code: int = 200) -> HTMLResponse:
    return _page(
        request, "smart.html", status_code, launch=current, ehr=ehr, user=user, chart=chart,
        suggested=suggested, sheet=sheet, error=error, csrf=current.csrf_token,
        fields=param_fields(sheet, values) if sheet else [],
        procedure_time=values.get("procedure_time", ""),
        zone=values.get("zone", default_zone()), display_name=values.get("display_name", ""),
        expires_days=values.get("expires_days", "30"), mrn=values.get("mrn", ""),
        phone=values.get("phone", ""), email=values.get("email", ""),
        patient_language=values.get("patient_language", ""))


@router.post("/smart/handouts", response_class=HTMLResponse)
async def issue(request: Request, store: StoreDep) -> Response:
    form = await request.form()
    fields = {k: v[:500] for k, v in form.items() if isinstance(v, str)}
    now = utcnow()
    current, ehr, user = await run_in_threadpool(
        smart.current, store, request.cookies.get(COOKIE), now)
    if not current.csrf_token or not hmac.compare_digest(
            fields.get("csrf_token", ""), current.csrf_token):
        raise SmartLaunchError("The form has expired or did not come from this screen. "
                               "Open caresheet again from the chart.", "csrf")
    sheet = await run_in_threadpool(_sheet, store, fields.get("code", "")[:16],
                                    fields.get("language", "en")[:16])
    if sheet is None:
        raise NotFoundError("there is no current sheet with that code")
    params = {k.removeprefix(PARAM_PREFIX): v for k, v in fields.items()
              if k.startswith(PARAM_PREFIX)}
    try:
        contact = contacts.checked(
            mrn=fields.get("mrn"), encounter_id=current.encounter, phone=fields.get("phone"),
            email=fields.get("email"), language=fields.get("patient_language"))
        when = parse_procedure_time(fields.get("procedure_time", ""), fields.get("zone") or None)
        done = await run_in_threadpool(lambda: writeback.issue(
            store, current, ehr, user, code=sheet.code, language=sheet.language, params=params,
            procedure_time=when, display_name=fields.get("display_name"),
            expires_in=_days(fields.get("expires_days", "30")), contact=contact,
            base_url=site_url(request), ip=client_ip(request), now=now))
    except BadInputError as failure:
        kept = {**{k: v[:200] for k, v in params.items()},
                **{k: fields.get(k, "")[:200] for k in
                   ("procedure_time", "zone", "display_name", "expires_days", "mrn", "phone",
                    "email", "patient_language")}}
        return _form(request, current, ehr, user, None, [], sheet, kept, str(failure), 400)
    return _page(request, "smart_issued.html", launch=current, ehr=ehr, user=user, done=done,
                 handout=done.issued.handout, sheet=done.sheet, link=done.link,
                 qr_svg=qr.svg(done.link, scale=4), writeback=done.writeback)
