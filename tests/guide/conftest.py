"""Fixtures of the guide tests: the reference sheet, parsed once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from caresheet import guide
from caresheet.errors import NotFoundError
from caresheet.store.db import Store
from caresheet.team import accounts
from caresheet.team.accounts import Role, User
from helpers import LiveServer, import_published
from team.staff import Clinicians

LIBRARY = Path(__file__).resolve().parents[2] / "src" / "caresheet" / "library"


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A fresh store (SQLite file and PostgreSQL) with the reference sheet imported."""
    opened = Store.open(db_url)
    with opened.session() as session:
        import_published(session, [LIBRARY / "P586.en.md"])
    yield opened
    opened.close()


NY = ZoneInfo("America/New_York")
PROCEDURE = dt.datetime(2026, 11, 25, 9, 0, tzinfo=NY)
NOW = dt.datetime(2026, 11, 25, 15, 0, tzinfo=dt.UTC)
PARAMS = {"lie_flat_hours": "2", "clinic_phone": "555-0100"}
PASSWORD = "correct horse battery staple"


def issuer(store: Store, email: str = "nurse@guide.example") -> User:
    """A clinician in ``store`` to issue handouts (made on first use)."""
    with store.session() as session:
        try:
            return accounts.user_by_email(session, email)
        except NotFoundError:
            return accounts.add_user(session, email, PASSWORD, Role.CLINICIAN, NOW)


def issue(store: Store, **kwargs: object) -> guide.Issued:
    """A P586 handout issued through the guide's one issue path, by a clinician."""
    options: dict[str, object] = {
        "code": "P586", "language": "en", "params": PARAMS, "procedure_time": PROCEDURE,
        "now": NOW, **kwargs}
    nurse = issuer(store)
    with store.session() as session:
        return guide.issue(session, nurse, **options)  # type: ignore[arg-type]


def api_issue(
    clinician: httpx.Client, hours_ago: float = 3.0, **fields: Any
) -> dict[str, Any]:
    """Issue a P586 handout through the JSON API, the procedure ``hours_ago`` before now."""
    zone = ZoneInfo("America/New_York")
    procedure = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours_ago)).astimezone(zone)
    body = {
        "code": "P586",
        "params": {"lie_flat_hours": "2", "clinic_phone": "555-0100"},
        "procedure_time": procedure.replace(microsecond=0).isoformat() + "[America/New_York]",
        **fields,
    }
    response = clinician.post("/api/handouts", json=body)
    assert response.status_code == 201, response.text
    issued: dict[str, Any] = response.json()
    return issued


@pytest.fixture
def issue_handout(clinicians: Clinicians) -> Callable[..., dict[str, Any]]:
    """``issue_handout(server, hours_ago=3, display_name=...)`` -> the API's answer."""

    def issue(server: LiveServer, hours_ago: float = 3.0, **fields: Any) -> dict[str, Any]:
        return api_issue(clinicians.client(server), hours_ago, **fields)

    return issue
