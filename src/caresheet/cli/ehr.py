"""Commands for the EHR side: the CDS clients allowed to call the CDS Hooks service
(``caresheet cds-client add|list|remove``), the EHRs that may launch caresheet
(``caresheet ehr add|list|remove``) and which account an EHR user is (``user link-ehr``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from caresheet.cli.app import app
from caresheet.cli.team import user_app
from caresheet.config import database_url
from caresheet.ehr import clients, smart
from caresheet.store.db import Store

cds_client_app = typer.Typer(
    help="EHRs allowed to call the CDS Hooks service: add, list, remove.\n\n"
    "Example: caresheet cds-client list",
    no_args_is_help=True,
)
app.add_typer(cds_client_app, name="cds-client")


@cds_client_app.command("add")
def cds_client_add(
    iss: Annotated[str, typer.Option(help="The EHR's JWT issuer (its iss claim), exactly.")],
    jwks_url: Annotated[str, typer.Option(help="Where the EHR publishes its public keys.")],
) -> None:
    """Trust CDS Hooks calls whose JWT has this iss and is signed by a key at the JWKS URL.

    Example: caresheet cds-client add --iss https://ehr.example.org --jwks-url https://ehr.example.org/.well-known/jwks.json
    """
    store = Store.open(database_url())
    try:
        client = clients.register(store, iss, jwks_url, dt.datetime.now(dt.UTC))
    finally:
        store.close()
    typer.echo(f"added CDS client {client.iss} (keys at {client.jwks_url})")


@cds_client_app.command("list")
def cds_client_list() -> None:
    """List the registered CDS clients: iss, JWKS URL, when added.

    Example: caresheet cds-client list
    """
    store = Store.open(database_url())
    try:
        found = clients.registered(store)
    finally:
        store.close()
    for client in found:
        typer.echo(f"{client.iss}\t{client.jwks_url}\t{client.created_at:%Y-%m-%d}")


@cds_client_app.command("remove")
def cds_client_remove(
    iss: Annotated[str, typer.Option(help="The issuer to stop trusting.")],
) -> None:
    """Stop trusting an EHR: its next call gets 401.

    Example: caresheet cds-client remove --iss https://ehr.example.org
    """
    store = Store.open(database_url())
    try:
        clients.unregister(store, iss)
    finally:
        store.close()
    typer.echo(f"removed CDS client {iss}")


# ---------------------------------------------------------------- SMART App Launch

ehr_app = typer.Typer(
    help="EHRs that may launch caresheet (SMART App Launch): add, list, remove.\n\n"
    "Example: caresheet ehr list",
    no_args_is_help=True,
)
app.add_typer(ehr_app, name="ehr")


@ehr_app.command("add")
def ehr_add(
    name: Annotated[str, typer.Argument(help="A short name for the EHR, e.g. main-hospital.")],
    iss: Annotated[str, typer.Option(help="The EHR's FHIR base URL (the iss of its launches).")],
    client_id: Annotated[str, typer.Option(help="caresheet's client id in the EHR.")],
    client_secret: Annotated[str | None, typer.Option(
        help="The secret, for a confidential client (else a public client with PKCE).")] = None,
    clinic: Annotated[str | None, typer.Option(help="The clinic this EHR belongs to.")] = None,
    scope: Annotated[str | None, typer.Option(
        help="The scopes to ask for, space-separated (default: what caresheet needs).")] = None,
) -> None:
    """Let an EHR launch caresheet for a patient.

    Example: caresheet ehr add main --iss https://ehr.example.org/fhir --client-id caresheet
    """
    store = Store.open(database_url())
    try:
        ehr = smart.register(store, name=name, iss=iss, client_id=client_id,
                             client_secret=client_secret, scope=scope, clinic=clinic,
                             now=dt.datetime.now(dt.UTC))
    finally:
        store.close()
    typer.echo(f"added EHR {ehr.name} (iss {ehr.iss}, client {ehr.client_id})")


@ehr_app.command("list")
def ehr_list() -> None:
    """List the EHRs that may launch caresheet: name, iss, client id, clinic, scopes.

    Example: caresheet ehr list
    """
    store = Store.open(database_url())
    try:
        found = smart.registered(store)
    finally:
        store.close()
    for ehr in found:
        kind = "confidential" if ehr.client_secret else "public"
        typer.echo(f"{ehr.name}\t{ehr.iss}\t{ehr.client_id} ({kind})\t{ehr.clinic or '-'}"
                   f"\t{ehr.scope}")


@ehr_app.command("remove")
def ehr_remove(
    name: Annotated[str, typer.Argument(help="The EHR's name.")],
) -> None:
    """Stop an EHR from launching caresheet (its launches in flight end too).

    Example: caresheet ehr remove main
    """
    store = Store.open(database_url())
    try:
        smart.unregister(store, name)
    finally:
        store.close()
    typer.echo(f"removed EHR {name}")


@user_app.command("link-ehr")
def user_link_ehr(
    email: Annotated[str, typer.Argument(help="The caresheet account.")],
    ehr: Annotated[str, typer.Option(help="The EHR's name (caresheet ehr list).")],
    fhir_user: Annotated[str, typer.Option(
        help="The user's fhirUser in that EHR, e.g. https://ehr.example.org/fhir/Practitioner/7")],
) -> None:
    """Say which caresheet account an EHR user is, for SMART launches.

    Example: caresheet user link-ehr nurse@clinic.example --ehr main --fhir-user https://ehr.example.org/fhir/Practitioner/7
    """
    store = Store.open(database_url())
    try:
        user = smart.link_user(store, email=email, ehr_name=ehr, fhir_user=fhir_user)
    finally:
        store.close()
    typer.echo(f"linked {fhir_user} in {ehr} to {user.email}")
