"""Library management for authors: upload a sheet file, read the linter's report, import it,
and move each version through review (draft → reviewed → published → retired) with the
reviewer and the date recorded.

An uploaded file is linted before anything is stored; a file with lint errors is not imported.
A translation is linted beside the stored sheet it translates.
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
from caresheet.authoring.batch import SheetText
from caresheet.errors import BadInputError, CaresheetError, NotFoundError
from caresheet.model.sheet import Sheet, Status
from caresheet.quality import Problem, lint_texts
from caresheet.store import sheets as stored_sheets
from caresheet.store.sheets import ImportOutcome, StoredSheet
from caresheet.team import audit
from caresheet.team.accounts import Login, Role
from caresheet.web.client import client_ip
from caresheet.web.deps import RowId, get_store
from caresheet.web.security import require_role, utcnow
from caresheet.web.team_pages import back_to, page

router = APIRouter(include_in_schema=False)
AUTHORING = require_role(Role.AUTHOR, Role.ADMIN)
MAX_UPLOAD = 512 * 1024
# Where a version may go next. Retiring is always possible; nothing comes back from retired
# except by importing a new version.
NEXT_STATUS: dict[Status, tuple[Status, ...]] = {
    Status.DRAFT: (Status.REVIEWED, Status.RETIRED),
    Status.REVIEWED: (Status.PUBLISHED, Status.DRAFT, Status.RETIRED),
    Status.PUBLISHED: (Status.RETIRED,),
    Status.RETIRED: (),
}


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
    return stored_sheets.list_current(session)


@router.get("/team/library", response_class=HTMLResponse)
def library(request: Request, login: Annotated[Login, Depends(AUTHORING)]) -> Response:
    with get_store(request).session(write=False) as session:
        current = _library(session)
    return page(request, "library.html", login, current=current, report=None)


def check_and_import(session: Session, filename: str, text: str,
                     now: dt.datetime) -> UploadReport:
    """Lint the text as a sheet file; import it when there are no errors.

    Read in memory through the same batch reader as ``caresheet lint`` and ``import``; a
    translation is read against the stored sheet it translates.
    """
    safe_name = re.sub(r"[^A-Za-z0-9._-]", "_", Path(filename).name)[:80] or "upload"
    if not safe_name.endswith(".md"):
        safe_name += ".md"
    texts = [SheetText(safe_name, text)]

    def stored_base(code: str, language: str) -> Sheet | None:
        try:
            return stored_sheets.current(session, code, language).sheet
        except NotFoundError:
            return None

    try:
        problems = lint_texts(texts, stored_base).problems
    except CaresheetError as error:
        return UploadReport(safe_name, [], [], str(error))
    if any(p.is_error for p in problems):
        return UploadReport(safe_name, problems, [], None)
    try:
        with session.begin_nested():
            outcomes = sheets.import_texts(session, texts, now=now)
    except CaresheetError as error:
        return UploadReport(safe_name, problems, [], str(error))
    return UploadReport(safe_name, problems, outcomes, None)


@router.post("/team/library/upload", response_class=HTMLResponse)
async def upload(
    request: Request, login: Annotated[Login, Depends(AUTHORING)],
    file: UploadFile | None = None, text: Annotated[str, Form()] = "",
    filename: Annotated[str, Form()] = "",
) -> Response:
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
    now, ip = utcnow(), client_ip(request)

    def check_import_and_audit() -> tuple[UploadReport, list[StoredSheet]]:
        with store.session() as session:
            report = check_and_import(session, name, source, now)
            for outcome in report.imported:
                audit.record(session, login.user.actor, "sheet.imported",
                             f"sheet:{outcome.code}/{outcome.language}/{outcome.version}",
                             ip, {"action": outcome.action}, now)
            return report, _library(session)

    # Parsing and linting take CPU time: a worker thread keeps the event loop (every other
    # request) free, whatever the file holds.
    report, current = await run_in_threadpool(check_import_and_audit)
    status = 400 if report.errors or report.error else 200
    return page(request, "library.html", login, status, current=current, report=report)


@router.get("/team/library/{code}/{language}", response_class=HTMLResponse)
def sheet_versions(
    request: Request, code: str, language: str, login: Annotated[Login, Depends(AUTHORING)],
) -> Response:
    with get_store(request).session(write=False) as session:
        found = stored_sheets.versions(session, code[:16], language[:16])
    if not found:
        raise NotFoundError(f"no sheet {code} in {language}")
    return page(request, "library_sheet.html", login, versions=found, next_status=NEXT_STATUS)


@router.post("/team/library/{code}/{language}/{version}/status")
def change_status(
    request: Request, code: str, language: str, version: RowId,
    login: Annotated[Login, Depends(AUTHORING)], status: Annotated[str, Form()] = "",
) -> Response:
    now = utcnow()
    with get_store(request).session() as session:
        stored = stored_sheets.get(session, code[:16], language[:16], version)
        try:
            wanted = Status(status)
        except ValueError:
            raise BadInputError(
                f"unknown status {status[:20]!r}; use one of: "
                f"{', '.join(s.value for s in Status)}"
            ) from None
        if wanted not in NEXT_STATUS[stored.status]:
            raise BadInputError(
                f"a {stored.status.value} version cannot become {wanted.value}; next: "
                f"{', '.join(s.value for s in NEXT_STATUS[stored.status]) or 'nothing'}"
            )
        reviewed = wanted in (Status.REVIEWED, Status.PUBLISHED)
        changed = sheets.set_status(
            session, stored.code, stored.language, version, wanted,
            reviewer=login.user.email if reviewed else None,
            reviewed_on=now.date() if reviewed else None,
        )
        audit.record(session, login.user.actor, "sheet.status",
                     f"sheet:{changed.code}/{changed.language}/{changed.version}",
                     client_ip(request), {"from": stored.status.value, "to": wanted.value}, now)
    return back_to(f"/team/library/{changed.code}/{changed.language}")
