"""Helpers for the care-team web tests: accounts made with the real CLI, logins over HTTP."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from helpers import LiveServer, caresheet_command

PASSWORD = "correct horse battery staple"
ROLES = ("admin", "clinician", "author", "reviewer")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def email_for(role: str) -> str:
    return f"{role}@clinic.example"


def add_user(db_url: str, email: str, role: str, workdir: Path | None = None,
             exist_ok: bool = False) -> None:
    """``caresheet user add`` with the password from CARESHEET_PASSWORD, as a script would."""
    done = subprocess.run(
        [*caresheet_command(), "user", "add", email, "--role", role],
        env={**os.environ, "CARESHEET_DATABASE_URL": db_url, "CARESHEET_PASSWORD": PASSWORD},
        capture_output=True, text=True, timeout=120, check=False, cwd=workdir,
    )
    if exist_ok and "already exists" in done.stderr:
        return
    assert done.returncode == 0, done.stderr


def add_staff(server: LiveServer) -> None:
    for role in ROLES:
        add_user(server.db_url, email_for(role), role, server.workdir)


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no csrf_token field on the page"
    return found.group(1)


def log_in(client: httpx.Client, email: str, password: str = PASSWORD) -> httpx.Response:
    form = client.get("/team/login")
    return client.post("/team/login", data={
        "email": email, "password": password, "csrf_token": csrf_of(form.text), "next": "/team",
    })


@contextmanager
def client_for(server: LiveServer, role: str | None = None) -> Iterator[httpx.Client]:
    """An HTTP client on the server, logged in as the staff member of ``role`` (or anonymous)."""
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=30) as client:
        if role is not None:
            answer = log_in(client, email_for(role))
            assert answer.status_code == 303, answer.text[:500]
        yield client


def csrf_for(client: httpx.Client) -> str:
    return csrf_of(client.get("/team").text)


class Clinicians:
    """Clients logged in as a clinician, one per server database; the account is made once.

    Issuing a handout needs a clinician's login, as it would at a clinic.
    """

    def __init__(self) -> None:
        self.clients: dict[str, httpx.Client] = {}

    def client(self, server: LiveServer) -> httpx.Client:
        client = self.clients.get(server.db_url)
        if client is None:
            add_user(server.db_url, email_for("clinician"), "clinician", server.workdir,
                     exist_ok=True)
            client = httpx.Client(base_url=server.url, timeout=30)
            answer = log_in(client, email_for("clinician"))
            assert answer.status_code == 303, answer.text[:300]
            self.clients[server.db_url] = client
        return client

    def close(self) -> None:
        for client in self.clients.values():
            client.close()
