"""Commands for the care team: staff accounts (``caresheet user add|list|disable|password``) and the
notification worker (``caresheet worker``)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import threading
from typing import Annotated

import typer

from caresheet.cli.app import app
from caresheet.config import database_url
from caresheet.store.db import Store
from caresheet.team import accounts, audit, clinics
from caresheet.team.notify import outbox, settings
from caresheet.team.notify.worker import run_worker

user_app = typer.Typer(
    help="Care-team accounts: add, list, disable, password.", no_args_is_help=True
)
app.add_typer(user_app, name="user")

PASSWORD_ENV = "CARESHEET_PASSWORD"


def _store() -> Store:
    return Store.open(database_url())


def _password_from_env_or_prompt() -> str:
    """``CARESHEET_PASSWORD`` for scripts; otherwise asked twice, not echoed."""
    given = os.environ.get(PASSWORD_ENV)
    if given:
        return given
    value: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@user_app.command("add")
def user_add(
    email: Annotated[str, typer.Argument(help="The person's work email; it is their login.")],
    role: Annotated[str, typer.Option(help="admin, clinician or author.")] = "clinician",
    clinic: Annotated[list[str] | None, typer.Option(
        "--clinic", help="A clinic they work in; repeat for more (none: the default clinic).")
    ] = None,
) -> None:
    """Add a staff account; the password is asked twice (or read from CARESHEET_PASSWORD).

    Example: caresheet user add nurse@clinic.example --role clinician --clinic "North Clinic"
    """
    chosen = accounts.parse_role(role)
    accounts.normalize_email(email)  # refuse a bad address before asking for a password
    store = _store()
    try:
        with store.session(write=False) as session:  # refuse an unknown clinic before, too
            homes = [clinics.clinic_named(session, name) for name in clinic or []]
        password = _password_from_env_or_prompt()
        now = dt.datetime.now(dt.UTC)
        with store.session() as session:
            user = accounts.add_user(session, email, password, chosen, now)
            for home in homes:
                clinics.join(session, user.id, home.id)
            audit.record(session, "cli", "user.added", f"user:{user.id}", None,
                         {"role": user.role.value, "clinics": [h.id for h in homes]}, now)
    finally:
        store.close()
    where = f" in {', '.join(h.name for h in homes)}" if homes else ""
    typer.echo(f"added {user.email} ({user.role.value}){where}")


@user_app.command("list")
def user_list() -> None:
    """List staff accounts: email, role, active.

    Example: caresheet user list
    """
    store = _store()
    try:
        with store.session(write=False) as session:
            users = accounts.list_users(session)
    finally:
        store.close()
    for user in users:
        typer.echo(f"{user.email}\t{user.role.value}\t{'active' if user.active else 'disabled'}")


@user_app.command("disable")
def user_disable(
    email: Annotated[str, typer.Argument(help="The account to disable.")],
) -> None:
    """Disable an account and end its sessions (the record stays, for the audit log).

    Example: caresheet user disable nurse@clinic.example
    """
    store = _store()
    try:
        with store.session() as session:
            user = accounts.user_by_email(session, email)
            accounts.set_active(session, user.id, False)
            audit.record(session, "cli", "user.disabled", f"user:{user.id}")
    finally:
        store.close()
    typer.echo(f"disabled {user.email}")


@user_app.command("password")
def user_password(
    email: Annotated[str, typer.Argument(help="The account whose password to set.")],
) -> None:
    """Set a new password for an account (asked twice, or CARESHEET_PASSWORD) and end its
    sessions: for a forgotten password, or an admin locked out of the web.

    Example: caresheet user password nurse@clinic.example
    """
    store = _store()
    try:
        with store.session(write=False) as session:
            user = accounts.user_by_email(session, email)  # before asking for a password
        password = _password_from_env_or_prompt()
        with store.session() as session:
            accounts.set_password(session, user.id, password)
            audit.record(session, "cli", "user.password_set", f"user:{user.id}")
    finally:
        store.close()
    typer.echo(f"new password set for {user.email}; their sessions have ended")


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="Deliver what is due, then exit.")] = False,
    interval: Annotated[float | None, typer.Option(
        min=0.05, help="Seconds between passes when nothing wakes the worker (default: "
        "CARESHEET_NOTIFY_POLL, 2; 30 while it LISTENs on PostgreSQL).")] = None,
) -> None:
    """Deliver queued notifications (email, signed webhook) and patient messages (email, text
    message: hand-overs and follow-up prompts), retrying with backoff.

    Settings: CARESHEET_SMTP_HOST/PORT/USER/PASSWORD/FROM, CARESHEET_NOTIFY_EMAIL,
    CARESHEET_WEBHOOK_URL, CARESHEET_WEBHOOK_SECRET, CARESHEET_SMS_URL/ACCOUNT/TOKEN/FROM.
    On PostgreSQL it wakes on NOTIFY; it polls instead with CARESHEET_NOTIFY_LISTEN=off or
    behind PgBouncer in transaction mode (CARESHEET_PGBOUNCER=on).

    Example: caresheet worker --interval 5
    """
    chosen = settings.configure(settings.Settings.from_env())
    store = _store()
    try:
        if once:
            report = outbox.deliver_due(store.session, chosen)
            typer.echo(f"delivered {report.delivered}, failed {report.failed}")
            return
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        typer.echo(f"worker: delivering notifications from {store.display_url}", err=True)
        run_worker(store.session, chosen, stop, interval)
    finally:
        store.close()
