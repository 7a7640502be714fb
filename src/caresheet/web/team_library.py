"""Library management for authors and reviewers: upload a sheet file, read the linter's
report, import it as a draft, preview and diff each version, and move it through review
(draft → reviewed → published → retired) under the four-eyes rules of ``caresheet.sheets``.

An uploaded file is linted before anything is stored; a file with lint errors is not imported.
A translation is linted beside the stored sheet it translates. Drafts are seen here only: the
previews are staff pages, never the public ones.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from caresheet import sheets
from caresheet.care.symptom_check import ask_tier
from caresheet.care.triage import Disposition, triage
from caresheet.errors import BadInputError, CaresheetError
from caresheet.model import personalize
from caresheet.model.sheet import Sheet
from caresheet.quality import Problem
from caresheet.quality.upload import CheckedUpload, check_upload
from caresheet.render import pool as work_pool
from caresheet.render.html import render_page, render_print, sheet_page
from caresheet.store import sheets as stored_sheets
from caresheet.store.sheets import ImportOutcome, StoredSheet
from caresheet.team import audit
from caresheet.team.accounts import Login, Role
from caresheet.web.client import client_ip
from caresheet.web.deps import RowId, chrome_for, get_store
from caresheet.web.security import require_role, utcnow
from caresheet.web.team_pages import PRIVATE_HEADERS, back_to, page

router = APIRouter(include_in_schema=False)
# Who works on the library: authors write, reviewers review, admins may do both. The
# four-eyes rules themselves (not your own work; a second reviewer) live in caresheet.sheets.
LIBRARY_STAFF = require_role(Role.AUTHOR, Role.REVIEWER, Role.ADMIN)
ADMIN = require_role(Role.ADMIN)
REVIEWING_ROLES = frozenset({Role.REVIEWER, Role.ADMIN})
MAX_UPLOAD = 512 * 1024
MAX_NOTE = 2000
NEXT_STATUS = sheets.NEXT_STATUS


@dataclass(frozen=True)
class UploadReport:
    filename: str
    problems: list[Problem]
    imported: list[ImportOutcome]
    error: str | None

    @property
    def errors(self) -> int:
        return sum(p.is_error for p in self.problems)


def _library(session: Session) -> list[StoredSheet]:
    return stored_sheets.list_latest(session)


@router.get("/team/library", response_class=HTMLResponse)
def library(request: Request, login: Annotated[Login, Depends(LIBRARY_STAFF)]) -> Response:
    with get_store(request).session(write=False) as session:
        current = _library(session)
        second = sheets.second_reviewer_required(session)
    return page(request, "library.html", login, current=current, report=None,
                second_reviewer=second)


@router.post("/team/library/settings")
def library_settings(
    request: Request, login: Annotated[Login, Depends(ADMIN)],
    second_reviewer: Annotated[str, Form()] = "",
) -> Response:
    """The admin's choice: does publishing need a second reviewer?"""
    required = second_reviewer.lower() in {"1", "on", "yes", "true"}
    now = utcnow()
    with get_store(request).session() as session:
        sheets.require_second_reviewer(session, required)
        audit.record(session, login.user.actor, "library.settings", "library",
                     client_ip(request), {"second_reviewer": required}, now)
    return back_to("/team/library")


@router.get("/team/library/translations", response_class=HTMLResponse)
def translations(request: Request, login: Annotated[Login, Depends(LIBRARY_STAFF)]) -> Response:
    """Which sheets lack a translation, and which translations are behind their English."""
    with get_store(request).session(write=False) as session:
        rows = sheets.translation_status(session)
    return page(request, "library_translations.html", login, rows=rows)


def upload_name(filename: str) -> str:
    """The uploaded file's name as the report shows it: its last part, safe characters, .md."""
    safe_name = re.sub(r"[^A-Za-z0-9._-]", "_", Path(filename).name)[:80] or "upload"
    return safe_name if safe_name.endswith(".md") else safe_name + ".md"


def import_checked(session: Session, name: str, checked: CheckedUpload,
                   read_against: Sheet | None, now: dt.datetime, author: str) -> UploadReport:
    """Store a checked upload when it is clean; the report shows every problem either way."""
    if not checked.clean:
        return UploadReport(name, checked.problems, [], checked.error)
    try:
        with session.begin_nested():
            outcomes = sheets.import_loaded(session, checked.loaded, read_against,
                                            now=now, author=author)
    except CaresheetError as error:
        return UploadReport(name, checked.problems, [], str(error))
    stale = [Problem(name, 1, "warning", "translation", message)
             for message in sheets.stale_translations(session, outcomes)]
    return UploadReport(name, [*checked.problems, *stale], outcomes, None)


@router.post("/team/library/upload", response_class=HTMLResponse)
async def upload(
    request: Request, login: Annotated[Login, Depends(LIBRARY_STAFF)],
    file: UploadFile | None = None, text: Annotated[str, Form()] = "",
    filename: Annotated[str, Form()] = "",
) -> Response:
    """Lint an uploaded sheet file and import it as a draft when it has no errors.

    Parsing and linting are CPU work: they run in the worker-process pool (a 503 with
    Retry-After when it is full), so neither the event loop nor the GIL is held meanwhile.
    Only the short database reads and the write run here, in a worker thread.
    """
    if file is not None and file.filename:
        data = await file.read(MAX_UPLOAD + 1)
        name = file.filename
    else:
        data, name = text.encode("utf-8"), filename or "pasted.md"
    if not data.strip():
        raise BadInputError("choose a sheet file (.md) or paste its text")
    if len(data) > MAX_UPLOAD:
        raise BadInputError(f"the file is too big: at most {MAX_UPLOAD // 1024} kB")
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInputError("the file is not UTF-8 text") from None
    store = get_store(request)
    now, ip, name = utcnow(), client_ip(request), upload_name(name)

    def read_base() -> Sheet | None:
        with store.session(write=False) as session:
            return sheets.translated_base(session, source)

    def import_and_audit(checked: CheckedUpload,
                         base: Sheet | None) -> tuple[UploadReport, list[StoredSheet]]:
        with store.session() as session:
            report = import_checked(session, name, checked, base, now, login.user.email)
            for outcome in report.imported:
                audit.record(session, login.user.actor, "sheet.imported",
                             f"sheet:{outcome.code}/{outcome.language}/{outcome.version}",
                             ip, {"action": outcome.action}, now)
            return report, _library(session)

    base = await run_in_threadpool(read_base)
    checked = await work_pool.shared().run_async(check_upload, name, source, base)
    report, current = await run_in_threadpool(import_and_audit, checked, base)
    status = 400 if report.errors or report.error else 200
    return page(request, "library.html", login, status, current=current, report=report,
                second_reviewer=None)


@router.get("/team/library/{code}/{language}", response_class=HTMLResponse)
def sheet_versions(
    request: Request, code: str, language: str, login: Annotated[Login, Depends(LIBRARY_STAFF)],
) -> Response:
    with get_store(request).session(write=False) as session:
        found = stored_sheets.versions(session, code[:16], language[:16])
        steps = {v.id: stored_sheets.reviews(session, v.id) for v in found}
        second = sheets.second_reviewer_required(session)
    return page(request, "library_sheet.html", login, versions=found, next_status=NEXT_STATUS,
                steps=steps, may_review=login.user.role in REVIEWING_ROLES,
                second_reviewer=second)


@router.post("/team/library/{code}/{language}/{version}/status")
def change_status(
    request: Request, code: str, language: str, version: RowId,
    login: Annotated[Login, Depends(LIBRARY_STAFF)], status: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    """One review step; the service refuses what the four-eyes rules forbid (400, why)."""
    now = utcnow()
    by = sheets.Reviewer(login.user.email, login.user.role in REVIEWING_ROLES)
    with get_store(request).session() as session:
        before = stored_sheets.get(session, code[:16], language[:16], version)
        changed = sheets.review(session, before.code, before.language, version, status[:20],
                                by=by, note=note[:MAX_NOTE], now=now)
        audit.record(session, login.user.actor, "sheet.status",
                     f"sheet:{changed.code}/{changed.language}/{changed.version}",
                     client_ip(request),
                     {"from": before.status.value, "to": changed.status.value}, now)
    return back_to(f"/team/library/{changed.code}/{changed.language}")


def _version(request: Request, code: str, language: str, version: int) -> StoredSheet:
    with get_store(request).session(write=False) as session:
        return stored_sheets.get(session, code[:16], language[:16], version)


def _params(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items()
            if not k.startswith("a.") and k not in {"elapsed", "large"}}


@router.get("/team/library/{code}/{language}/{version}/preview", response_class=HTMLResponse)
def preview(
    request: Request, code: str, language: str, version: RowId,
    login: Annotated[Login, Depends(LIBRARY_STAFF)],
) -> Response:
    """The patient page of any version, as a patient would see it once published."""
    stored = _version(request, code, language, version)
    values = personalize.check(stored.sheet, _params(request))
    html = render_page(sheet_page(stored.sheet, values), {"chrome_for": chrome_for})
    return HTMLResponse(html, headers={**PRIVATE_HEADERS, "X-Robots-Tag": "noindex"})


@router.get("/team/library/{code}/{language}/{version}/preview.pdf")
def preview_pdf(
    request: Request, code: str, language: str, version: RowId,
    login: Annotated[Login, Depends(LIBRARY_STAFF)],
) -> Response:
    stored = _version(request, code, language, version)
    values = personalize.check(stored.sheet, _params(request))
    pdf = work_pool.render_pdf_html(render_print(sheet_page(stored.sheet, values)))
    name = f"{stored.code}-{stored.language}-v{stored.version}-preview.pdf"
    headers = {**PRIVATE_HEADERS, "Content-Disposition": f'inline; filename="{name}"'}
    return Response(pdf, media_type="application/pdf", headers=headers)


@router.get("/team/library/{code}/{language}/{version}/check", response_class=HTMLResponse)
def preview_check(
    request: Request, code: str, language: str, version: RowId,
    login: Annotated[Login, Depends(LIBRARY_STAFF)], elapsed: str = "",
) -> Response:
    """The symptom check of any version: every question, and the result for the answers given
    (read-only: nothing is saved, nobody is alerted)."""
    stored = _version(request, code, language, version)
    sheet = stored.sheet
    answers = {k[2:]: v[:20] for k, v in request.query_params.items()
               if k.startswith("a.") and v.strip()}
    disposition: Disposition | None = None
    if "elapsed" in request.query_params:
        hours = _hours(elapsed)
        disposition = triage(sheet, answers, hours)
    # The patient's order: highest tier first (what the guided check asks first).
    order = sorted(sheet.findings, key=lambda name: -ask_tier(sheet, name).rank)
    return page(request, "library_check.html", login, stored=stored,
                questions=[(name, sheet.findings[name]) for name in order],
                answers=answers, elapsed=elapsed, disposition=disposition)


def _hours(text: str) -> float | None:
    if not text.strip():
        return None
    try:
        hours = float(text.strip()[:12])
    except ValueError:
        raise BadInputError(f"hours since the procedure must be a number, not {text[:12]!r}") \
            from None
    if not 0 <= hours <= 100_000:
        raise BadInputError("hours since the procedure must be between 0 and 100000")
    return hours


@router.get("/team/library/{code}/{language}/{version}/diff", response_class=HTMLResponse)
def version_diff(
    request: Request, code: str, language: str, version: RowId,
    login: Annotated[Login, Depends(LIBRARY_STAFF)],
) -> Response:
    """What this version changed from the one before: words, and rules added, removed or
    moved to another tier (a lowered tier marked)."""
    with get_store(request).session(write=False) as session:
        found = sheets.diff(session, code[:16], language[:16], version)
    return page(request, "library_diff.html", login, diff=found)
