"""Commands for the EHR side: the CDS clients allowed to call the CDS Hooks service
(``caresheet cds-client add|list|remove``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from caresheet.cli.app import app
from caresheet.config import database_url
from caresheet.ehr import clients
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
