"""Walk the app's whole route table: every route that is not on the public list refuses an
anonymous request and a request from a role it does not allow."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from starlette.routing import Mount

from caresheet.team.accounts import Role
from caresheet.web.app import create_app
from caresheet.web.security import RoleRequirement
from helpers import LiveServer

from .staff import add_staff, client_for

# The explicit exceptions: pages and API reads anyone may use, and the patient's own routes,
# which the private link's token guards.
PUBLIC = [
    r"^/$", r"^/search", r"^/browse", r"^/sheets(/|$)", r"^/h/\{token\}",
    r"^/fhir(/(?!QuestionnaireResponse)|$)", r"^/infobutton", r"^/healthz$", r"^/openapi\.json$",
    r"^/docs", r"^/redoc", r"^/static", r"^/team/login$",
    r"^/cds-services$",  # CDS Hooks discovery: public, as the spec has it
    r"^/smart/(launch|callback)$",  # a SMART login's start and end: its state guards them
]
# Guarded by a live SMART launch (its HttpOnly cookie): no launch gives 401, a staff login does
# not stand in for one.
LAUNCHED = [r"^/smart/(app|handouts)$"]
# Guarded by a bearer credential a system signs (a CDS client's JWT), not by a staff role:
# anonymous requests get 401, with no login page (no person is there to log in).
SIGNED = [r"^/cds-services/", r"^/fhir/QuestionnaireResponse"]
# Signed by the SMS gateway with the shared auth token (X-Twilio-Signature): a request without
# a valid signature is 403, as the gateway's own convention has it.
GATEWAY_SIGNED = [r"^/sms/inbound$"]
PUBLIC_API_READS = [r"^/api/(sheets|search|fhir)"]
PATIENT_API = [r"^/api/handouts/\{token\}"]
SAMPLE = {"token": "x" * 43, "code": "P586", "language": "en", "lang": "en", "version": "1",
          "handout_id": "1", "escalation_id": "1", "user_id": "1", "path": "x"}


def is_public(path: str, method: str) -> bool:
    if any(re.search(p, path) for p in PUBLIC + PATIENT_API):
        return True
    return method in {"GET", "HEAD"} and any(re.search(p, path) for p in PUBLIC_API_READS)


def requirement(context: RouteContext) -> RoleRequirement | None:
    """The route's ``require_role`` dependency, wherever in its dependency tree it sits."""

    def walk(dependant: object) -> Iterator[object]:
        yield getattr(dependant, "call", None)
        for sub in getattr(dependant, "dependencies", []):
            yield from walk(sub)

    # FastAPI 0.16x includes routers lazily; the effective route carries the router's
    # dependencies too, so a login required with include_router(dependencies=...) counts.
    effective = getattr(context, "_effective_route", context.original_route)
    dependant = getattr(effective, "dependant", None) or getattr(
        context.original_route, "dependant", None)
    return next((c for c in walk(dependant) if isinstance(c, RoleRequirement)), None)


def all_routes() -> list[tuple[str, str, RouteContext]]:
    """(method, path, context) for every route of the app, routers flattened."""
    found = []
    for context in iter_route_contexts(create_app().routes):
        route, path = context.original_route, context.path or ""
        if isinstance(route, Mount):
            found.append(("GET", path, context))
            continue
        for method in sorted((getattr(route, "methods", None) or set()) - {"HEAD", "OPTIONS"}):
            found.append((method, path, context))
    return found


def is_signed(path: str) -> bool:
    return any(re.search(p, path) for p in SIGNED)


def is_gateway_signed(path: str) -> bool:
    return any(re.search(p, path) for p in GATEWAY_SIGNED)


def guarded_routes() -> list[tuple[str, str, RoleRequirement | None]]:
    return [(method, path, requirement(context)) for method, path, context in all_routes()
            if not is_public(path, method) and not is_signed(path) and not is_launched(path)
            and not is_gateway_signed(path)]


def is_launched(path: str) -> bool:
    return any(re.search(p, path) for p in LAUNCHED)


def test_only_api_routes_are_guarded_routes() -> None:
    """Plain routes and mounts (docs, static files) must all be on the public list."""
    plain = [f"{m} {p}" for m, p, c in all_routes()
             if not isinstance(c.original_route, APIRoute) and not is_public(p, m)]
    assert plain == []


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: SAMPLE.get(m.group(1), "1"), path)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("routes")
    live = LiveServer(f"sqlite:///{folder}/caresheet.db", workdir=folder).start()
    add_staff(live)
    yield live
    live.stop()


def test_the_route_table_has_team_routes() -> None:
    paths = {path for _, path, _ in guarded_routes()}
    assert {"/team", "/team/inbox", "/team/audit", "/team/handouts", "/team/library"} <= paths


def test_every_guarded_route_has_a_role_requirement() -> None:
    # /team/logout is the one exception: it ends whatever session there is, or none.
    missing = [f"{m} {p}" for m, p, req in guarded_routes() if req is None
               and p != "/team/logout"]
    assert missing == [], "routes with no login check: " + ", ".join(missing)


def test_anonymous_requests_are_refused(server: LiveServer) -> None:
    refused = []
    with client_for(server) as client:
        for method, path, _ in guarded_routes():
            answer = client.request(method, concrete(path))
            login_page = answer.status_code == 303 and answer.headers["location"].startswith(
                "/team/login")
            if not (answer.status_code in (401, 403) or login_page):
                refused.append(f"{method} {path} -> {answer.status_code}")
            if path == "/team/logout":
                continue
            if method == "GET" and not path.startswith("/api/"):
                assert login_page, f"{method} {path} should send a person to the login page"
    assert refused == [], "answered an anonymous request: " + ", ".join(refused)


def test_credential_routes_refuse_anonymous_requests(server: LiveServer) -> None:
    signed = [(m, p) for m, p, _ in all_routes() if is_signed(p)]
    assert len(signed) >= 4
    with client_for(server) as client:
        answers = {f"{m} {p}": client.request(m, concrete(p), json={}).status_code
                   for m, p in signed}
    assert answers == dict.fromkeys(answers, 401)


def test_gateway_routes_refuse_unsigned_requests(server: LiveServer) -> None:
    gateway = [(m, p) for m, p, _ in all_routes() if is_gateway_signed(p)]
    assert gateway == [("POST", "/sms/inbound")]
    with client_for(server) as client:
        answer = client.post("/sms/inbound", data={"From": "+15551234567", "Body": "STOP"})
    assert answer.status_code == 403


def test_launched_routes_need_a_smart_launch(server: LiveServer) -> None:
    launched = [(m, p) for m, p, _ in all_routes() if is_launched(p)]
    assert len(launched) == 2
    for role in (None, "clinician"):
        with client_for(server, role) as client:
            answers = {f"{m} {p}": client.request(m, p, data={"code": "P586"}).status_code
                       for m, p in launched}
        assert answers == dict.fromkeys(answers, 401), role


def test_wrong_roles_are_refused(server: LiveServer) -> None:
    clients = {}
    try:
        for role in Role:
            clients[role] = client_for(server, role.value)
        opened = {role: ctx.__enter__() for role, ctx in clients.items()}
        problems = []
        checked = 0
        for method, path, req in guarded_routes():
            if req is None:
                continue
            for role in Role:
                if role in req.roles:
                    continue
                answer = opened[role].request(method, concrete(path))
                checked += 1
                if answer.status_code != 403:
                    problems.append(f"{role.value}: {method} {path} -> {answer.status_code}")
        assert problems == []
        assert checked >= 10
    finally:
        for ctx in clients.values():
            ctx.__exit__(None, None, None)


@pytest.mark.parametrize("role", ["clinician", "author"])
def test_audit_log_is_for_admins_only(server: LiveServer, role: str) -> None:
    with client_for(server, role) as client:
        assert client.get("/team/audit").status_code == 403
    with client_for(server, "admin") as client:
        page = client.get("/team/audit")
        assert page.status_code == 200 and "Audit log" in page.text


def test_right_role_gets_in(server: LiveServer) -> None:
    expected = {"clinician": ["/team/inbox", "/team/handouts", "/team/handouts/new"],
                "author": ["/team/library"], "admin": ["/team/audit", "/team/users"]}
    for role, paths in expected.items():
        with client_for(server, role) as client:
            for path in paths:
                assert client.get(path).status_code == 200, (role, path)
