"""The care team's pages: log in and out, the start page, the escalation inbox, the audit log
and staff accounts. Handouts and the library have their own modules (``team_handouts``,
``team_library``), included here so the app has one team router.

Every route but the login form takes ``require_role``; the pages are HTML forms that work
without JavaScript, each posting the session's CSRF token. The pages are not in the OpenAPI
document (they are for people); the JSON API in ``team_api`` is.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from caresheet.errors import BadInputError, TooManyAttemptsError
from caresheet.team import accounts, audit, clinics, dashboard, escalations
from caresheet.team.accounts import Login, Role
from caresheet.team.notify import outbox
from caresheet.web import team_api, team_handouts, team_library
from caresheet.web.client import client_ip
from caresheet.web.deps import RowId, get_store
from caresheet.web.security import (
    check_csrf,
    clear_session_cookie,
    cookie_cannot_stick,
    current_login,
    install_log_redaction,
    login_csrf,
    login_csrf_ok,
    require_role,
    safe_next,
    set_login_csrf_cookie,
    set_session_cookie,
    utcnow,
)
from caresheet.web.team_pages import back_to, page
from caresheet.zones import zone_named

router = APIRouter()
# No handout token in the access log (see security.RedactTokens).
install_log_redaction()

ANY_STAFF = require_role(Role.ADMIN, Role.CLINICIAN, Role.AUTHOR, Role.REVIEWER)
CLINICAL = require_role(Role.CLINICIAN, Role.ADMIN)
ADMIN = require_role(Role.ADMIN)

# ---------------------------------------------------------------- log in and out


@router.get("/team/login", response_class=HTMLResponse, include_in_schema=False)
async def login_form(request: Request, next: str = "/team") -> Response:
    existing = await current_login(request)
    if existing is not None:
        return back_to(safe_next(next))
    token = login_csrf(request)
    response = page(request, "login.html", None, next_url=safe_next(next), email="",
                    login_csrf=token)
    set_login_csrf_cookie(response, request, token)
    return response


@router.post("/team/login", response_class=HTMLResponse, include_in_schema=False)
def login_submit(
    request: Request,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/team",
) -> Response:
    ip = client_ip(request)
    target = safe_next(next)

    def again(message: str, status: int) -> Response:
        token = login_csrf(request)
        response = page(request, "login.html", None, status, next_url=target,
                        email=email[:320], login_csrf=token, error=message)
        set_login_csrf_cookie(response, request, token)
        return response

    if not login_csrf_ok(request, csrf_token):
        problem = cookie_cannot_stick(request)
        if problem is not None:  # not an expired form: the cookie could never arrive
            return again(problem, 400)
        return again("The form expired. Please try again.", 403)
    store = get_store(request)
    now = utcnow()
    try:
        with store.session() as session:
            user = accounts.authenticate(session, email, password, ip, now)
            if user is None:
                audit.record(session, f"login:{email.strip().lower()[:80]}", "login.failed",
                             "login", ip, None, now)
                new_login = None
            else:
                new_login = accounts.start_session(session, user, ip, now)
                audit.record(session, user.actor, "login", f"user:{user.id}", ip, None, now)
    except TooManyAttemptsError as error:
        return again(str(error), 429)
    if new_login is None:
        return again(accounts.LOGIN_FAILED, 400)
    response = back_to(target)
    set_session_cookie(response, request, new_login)
    return response


@router.post("/team/logout", include_in_schema=False)
async def logout(request: Request) -> Response:
    login = await current_login(request)
    response = back_to("/team/login")
    if login is not None:
        await check_csrf(request, login)
        store = get_store(request)

        def end() -> None:
            with store.session() as session:
                accounts.end_session(session, login.token)
                audit.record(session, login.user.actor, "logout", f"user:{login.user.id}",
                             client_ip(request))

        await run_in_threadpool(end)
    clear_session_cookie(response, request)
    return response


@router.get("/team/password", response_class=HTMLResponse, include_in_schema=False)
def password_form(
    request: Request, login: Annotated[Login, Depends(ANY_STAFF)], changed: str = "",
) -> Response:
    return page(request, "password.html", login, changed=changed == "1")


@router.post("/team/password", response_class=HTMLResponse, include_in_schema=False)
def password_change(
    request: Request, login: Annotated[Login, Depends(ANY_STAFF)],
    current: Annotated[str, Form()] = "", new: Annotated[str, Form()] = "",
    again: Annotated[str, Form()] = "",
) -> Response:
    """Change one's own password: the current one is checked (and rate-limited, like a log
    in), every other session of the account ends, and this browser gets a fresh one."""
    ip, now = client_ip(request), utcnow()
    try:
        if new != again:
            raise BadInputError("the two new passwords are not the same")
        accounts.check_password(new)
        with get_store(request).session() as session:
            user = accounts.authenticate(session, login.user.email, current, ip, now)
            if user is not None:
                accounts.set_password(session, user.id, new)
                fresh = accounts.start_session(session, user, ip, now)
                audit.record(session, user.actor, "password.changed", f"user:{user.id}", ip,
                             None, now)
        if user is None:
            raise BadInputError("your current password is not right")
    except BadInputError as error:  # TooManyAttemptsError included
        return page(request, "password.html", login, 400, error=str(error))
    response = back_to("/team/password?changed=1")
    set_session_cookie(response, request, fresh)
    return response


# ---------------------------------------------------------------- start page and inbox


@router.get("/team", response_class=HTMLResponse, include_in_schema=False)
def team_home(request: Request, login: Annotated[Login, Depends(ANY_STAFF)]) -> Response:
    with get_store(request).session(write=False) as session:
        open_count = len(escalations.inbox_for(session, login.user))
        overdue = outbox.overdue(session, utcnow())
    return page(request, "home.html", login, open_count=open_count, overdue=overdue)


@router.get("/team/inbox", response_class=HTMLResponse, include_in_schema=False)
def inbox(
    request: Request, login: Annotated[Login, Depends(CLINICAL)], closed: str = "",
) -> Response:
    show_closed = closed.lower() in {"1", "true", "yes"}
    now = utcnow()
    with get_store(request).session() as session:
        groups = escalations.grouped_inbox(session, login.user, now, show_closed)
        found = [entry.escalation for group in groups for entry in group.entries]
        items = {item.escalation.id: item
                 for item in team_handouts.inbox_items(session, found)}
        overdue = outbox.overdue(session, now)
        audit.record(session, login.user.actor, "inbox.viewed", "inbox", client_ip(request),
                     {"shown": len(items)})
    return page(request, "inbox.html", login, groups=groups, items=items,
                show_closed=show_closed, overdue=overdue)


@router.post("/team/inbox/{escalation_id}/acknowledge", include_in_schema=False)
def acknowledge(
    request: Request, escalation_id: RowId, login: Annotated[Login, Depends(CLINICAL)]
) -> Response:
    with get_store(request).session() as session:
        escalations.acknowledge(session, escalation_id, login.user, client_ip(request),
                                utcnow())
    return back_to(f"/team/inbox#escalation-{escalation_id}")


@router.post("/team/inbox/{escalation_id}/close", response_class=HTMLResponse,
             include_in_schema=False)
def close(
    request: Request, escalation_id: RowId, login: Annotated[Login, Depends(CLINICAL)],
    note: Annotated[str, Form()] = "",
) -> Response:
    with get_store(request).session() as session:
        escalations.close(session, escalation_id, login.user, note, client_ip(request), utcnow())
    return back_to("/team/inbox")


@router.get("/team/dashboard", response_class=HTMLResponse, include_in_schema=False)
def dashboard_page(
    request: Request, login: Annotated[Login, Depends(CLINICAL)], days: str = "",
) -> Response:
    """Check-ins, waits for acknowledgement, teach-back misses and handouts, as charts."""
    period = dashboard.period_days(days)
    now = utcnow()
    with get_store(request).session() as session:
        zone = clinics.viewer_zone(session, login.user)
        found = dashboard.build(session, now, period, zone_named(zone),
                                clinic_ids=clinics.visible_clinics(session, login.user))
        audit.record(session, login.user.actor, "dashboard.viewed", "dashboard",
                     client_ip(request), {"days": period}, now)
    return page(request, "dashboard.html", login, dashboard=found, periods=dashboard.PERIODS,
                zone=zone)


# ---------------------------------------------------------------- audit log and users


@router.get("/team/audit", response_class=HTMLResponse, include_in_schema=False)
def audit_log(
    request: Request, login: Annotated[Login, Depends(ADMIN)], action: str = "",
    actor: str = "", before: int | None = None,
) -> Response:
    with get_store(request).session() as session:
        events = audit.events(session, action=action.strip() or None,
                              actor=actor.strip() or None, limit=100, before_id=before)
        audit.record(session, login.user.actor, "audit.viewed", "audit_events",
                     client_ip(request))
    next_before = events[-1].id if len(events) == 100 else None
    return page(request, "audit.html", login, events=events, action=action, actor=actor,
                next_before=next_before)


@router.get("/team/users", response_class=HTMLResponse, include_in_schema=False)
def users(request: Request, login: Annotated[Login, Depends(ADMIN)]) -> Response:
    with get_store(request).session(write=False) as session:
        staff = accounts.list_users(session)
    return page(request, "users.html", login, users=staff, roles=[r.value for r in Role])


@router.post("/team/users", response_class=HTMLResponse, include_in_schema=False)
def add_user(
    request: Request, login: Annotated[Login, Depends(ADMIN)],
    email: Annotated[str, Form()] = "", role: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    now = utcnow()
    with get_store(request).session() as session:
        user = accounts.add_user(session, email, password, accounts.parse_role(role), now)
        audit.record(session, login.user.actor, "user.added", f"user:{user.id}",
                     client_ip(request), {"role": user.role.value}, now)
    return back_to("/team/users")


@router.post("/team/users/{user_id}/active", response_class=HTMLResponse,
             include_in_schema=False)
def set_active(
    request: Request, user_id: RowId, login: Annotated[Login, Depends(ADMIN)],
    active: Annotated[str, Form()] = "",
) -> Response:
    if user_id == login.user.id:
        raise BadInputError("you cannot disable your own account")
    enable = active.lower() in {"1", "true", "yes"}
    with get_store(request).session() as session:
        accounts.set_active(session, user_id, enable)
        audit.record(session, login.user.actor, "user.enabled" if enable else "user.disabled",
                     f"user:{user_id}", client_ip(request))
    return back_to("/team/users")


@router.post("/team/users/password", response_class=HTMLResponse, include_in_schema=False)
def set_password(
    request: Request, login: Annotated[Login, Depends(ADMIN)],
    user_id: Annotated[int, Form()], password: Annotated[str, Form()] = "",
) -> Response:
    """An admin sets a new password for someone who forgot theirs; their sessions end."""
    with get_store(request).session() as session:
        accounts.set_password(session, user_id, password)
        audit.record(session, login.user.actor, "user.password_set", f"user:{user_id}",
                     client_ip(request))
    return back_to("/team/users")


# ---------------------------------------------------------------- clinics


@router.get("/team/clinics", response_class=HTMLResponse, include_in_schema=False)
def clinic_list(request: Request, login: Annotated[Login, Depends(ADMIN)]) -> Response:
    with get_store(request).session(write=False) as session:
        found = clinics.list_clinics(session)
    return page(request, "clinics.html", login, clinics=found, error=None)


@router.post("/team/clinics", response_class=HTMLResponse, include_in_schema=False)
def clinic_add(
    request: Request, login: Annotated[Login, Depends(ADMIN)],
    name: Annotated[str, Form()] = "", phone: Annotated[str, Form()] = "",
    time_zone: Annotated[str, Form()] = "", email: Annotated[str, Form()] = "",
    webhook: Annotated[str, Form()] = "", quiet_hours: Annotated[str, Form()] = "21:00-08:00",
) -> Response:
    """Add a clinic; a refusal shows the form again with the reason."""
    now = utcnow()
    store = get_store(request)
    try:
        with store.session() as session:
            clinic = clinics.add_clinic(
                session, name, phone=phone, time_zone=time_zone, email=email or None,
                webhook_url=webhook or None, quiet_hours=clinics.parse_quiet_hours(quiet_hours),
                now=now)
            audit.record(session, login.user.actor, "clinic.added", f"clinic:{clinic.id}",
                         client_ip(request), None, now)
    except BadInputError as error:
        with store.session(write=False) as session:
            found = clinics.list_clinics(session)
        return page(request, "clinics.html", login, 400, clinics=found, error=str(error))
    return back_to("/team/clinics")


router.include_router(team_handouts.router)
router.include_router(team_library.router)
router.include_router(team_api.router)
