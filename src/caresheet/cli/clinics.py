"""Commands for clinics (``caresheet clinic add|list|remove``) and API tokens
(``caresheet token add|list|revoke``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from caresheet.cli.app import app
from caresheet.config import database_url
from caresheet.store.db import Store
from caresheet.team import accounts, audit, clinics, tokens

clinic_app = typer.Typer(help="Clinics: add, list, remove.\n\nExample: caresheet clinic list",
                         no_args_is_help=True)
app.add_typer(clinic_app, name="clinic")
token_app = typer.Typer(
    help="API tokens for systems: add, list, revoke.\n\nExample: caresheet token list",
    no_args_is_help=True)
app.add_typer(token_app, name="token")


def _store() -> Store:
    return Store.open(database_url())


@clinic_app.command("add")
def clinic_add(
    name: Annotated[str, typer.Argument(help="The clinic's name, as staff will pick it.")],
    phone: Annotated[str, typer.Option(help="The number patients call.")],
    time_zone: Annotated[str, typer.Option(
        "--time-zone", help="The clinic's IANA time zone, e.g. America/Chicago.")],
    email: Annotated[str | None, typer.Option(
        help="Where the clinic's escalation emails go.")] = None,
    webhook: Annotated[str | None, typer.Option(
        help="Where the clinic's escalation webhook goes (http or https).")] = None,
    quiet_hours: Annotated[str, typer.Option(
        "--quiet-hours", help="No follow-up prompts in these local hours.")] = "21:00-08:00",
) -> None:
    """Add a clinic: its phone and time zone become its handouts' defaults.

    Example: caresheet clinic add "North Clinic" --phone 555-0100 --time-zone America/Chicago
    --email nurses@north.example
    """
    quiet = clinics.parse_quiet_hours(quiet_hours)
    store = _store()
    try:
        now = dt.datetime.now(dt.UTC)
        with store.session() as session:
            clinic = clinics.add_clinic(session, name, phone=phone, time_zone=time_zone,
                                        email=email, webhook_url=webhook, quiet_hours=quiet,
                                        now=now)
            audit.record(session, "cli", "clinic.added", f"clinic:{clinic.id}", None, None, now)
    finally:
        store.close()
    typer.echo(f"added clinic {clinic.name} ({clinic.time_zone})")


@clinic_app.command("list")
def clinic_list() -> None:
    """List clinics: name, phone, time zone, quiet hours, email, webhook.

    Example: caresheet clinic list
    """
    store = _store()
    try:
        with store.session(write=False) as session:
            found = clinics.list_clinics(session)
    finally:
        store.close()
    for c in found:
        typer.echo("\t".join([c.name, c.phone or "-", c.time_zone, c.quiet_words,
                              c.email or "-", c.webhook_url or "-"]))


@clinic_app.command("remove")
def clinic_remove(
    name: Annotated[str, typer.Argument(help="The clinic to remove (it must have no handouts).")],
) -> None:
    """Remove a clinic that has no handouts (the default clinic stays).

    Example: caresheet clinic remove "North Clinic"
    """
    store = _store()
    try:
        with store.session() as session:
            clinic = clinics.remove_clinic(session, name)
            audit.record(session, "cli", "clinic.removed", f"clinic:{clinic.id}")
    finally:
        store.close()
    typer.echo(f"removed clinic {clinic.name}")


@token_app.command("add")
def token_add(
    name: Annotated[str, typer.Argument(help="The system's name, e.g. ehr-north.")],
    role: Annotated[str, typer.Option(help="admin, clinician or author.")] = "clinician",
    clinic: Annotated[str | None, typer.Option(help="The clinic whose handouts it sees.")] = None,
) -> None:
    """Add an API token and print it once (only its hash is kept): send it as
    ``Authorization: Bearer <token>``.

    Example: caresheet token add ehr-north --role clinician --clinic "North Clinic"
    """
    chosen = accounts.parse_role(role)
    store = _store()
    try:
        now = dt.datetime.now(dt.UTC)
        with store.session() as session:
            home = clinics.clinic_named(session, clinic) if clinic else None
            token, record = tokens.add_token(session, name, chosen, home, now)
            audit.record(session, "cli", "token.added", f"token:{record.name}", None,
                         {"role": record.role.value}, now)
    finally:
        store.close()
    typer.echo(token)
    typer.echo(f"token {record.name} ({record.role.value}, {', '.join(record.clinics)}): "
               "shown once, keep it secret", err=True)


@token_app.command("list")
def token_list() -> None:
    """List API tokens: name, role, clinics, active or revoked (never the token).

    Example: caresheet token list
    """
    store = _store()
    try:
        with store.session(write=False) as session:
            found = tokens.list_tokens(session)
    finally:
        store.close()
    for t in found:
        state = "revoked" if t.revoked_at else "active"
        typer.echo(f"{t.name}\t{t.role.value}\t{', '.join(t.clinics)}\t{state}")


@token_app.command("revoke")
def token_revoke(
    name: Annotated[str, typer.Argument(help="The token to end.")],
) -> None:
    """End an API token at once: calls with it get 403.

    Example: caresheet token revoke ehr-north
    """
    store = _store()
    try:
        now = dt.datetime.now(dt.UTC)
        with store.session() as session:
            record = tokens.revoke_token(session, name, now)
            audit.record(session, "cli", "token.revoked", f"token:{record.name}", None, None, now)
    finally:
        store.close()
    typer.echo(f"revoked token {record.name}")
