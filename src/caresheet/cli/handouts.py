"""Commands for handouts: issue a sheet to a patient (link + PDF with its QR code), revoke one."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from caresheet import config
from caresheet.cli.app import app
from caresheet.model.sheet import Sheet
from caresheet.store.handouts import Handout


@app.command()
def handout(
    code: Annotated[str, typer.Argument(help="The sheet's code, e.g. P586.")],
    by: Annotated[str, typer.Option(
        "--by", help="The email of the clinician or admin issuing it (recorded and audited).")],
    procedure_time: Annotated[str | None, typer.Option(
        "--procedure-time",
        help="When the procedure was, with its time zone: 2026-11-25T09:00-05:00, "
             "optionally [America/New_York] after it (default: now, in the clinic's zone).")
    ] = None,
    param: Annotated[list[str] | None, typer.Option(
        "--param", help="A param value as NAME=VALUE; repeat for more.")] = None,
    zone: Annotated[str | None, typer.Option(
        "--zone", help="The IANA time zone, e.g. America/New_York (DST-correct times).")] = None,
    name: Annotated[str | None, typer.Option(
        "--name", help="A first name to greet the patient; nothing else personal is kept.")] = None,
    expires: Annotated[str, typer.Option(
        "--expires", help="How long the link works, e.g. 30d or 72h.")] = "30d",
    lang: Annotated[str, typer.Option("--lang", help="The sheet's language: en or es.")] = "en",
    version: Annotated[int | None, typer.Option(
        "--version", min=1, help="Pin this version instead of the current one.")] = None,
    base_url: Annotated[str | None, typer.Option(
        "--base-url", help=f"Where patients reach caresheet (or ${config.BASE_URL_ENV}).")] = None,
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", help="Write the personalized PDF, with the link's QR code.")] = None,
    clinic: Annotated[str | None, typer.Option(
        "--clinic", help="The clinic it belongs to (default: the issuer's only clinic).")] = None,
    mrn: Annotated[str | None, typer.Option("--mrn", help="The patient's record number.")] = None,
    encounter: Annotated[str | None, typer.Option(
        "--encounter", help="The encounter (visit) id.")] = None,
    phone: Annotated[str | None, typer.Option(
        "--phone", help="The patient's phone, for texts and call-backs.")] = None,
    email: Annotated[str | None, typer.Option("--email", help="The patient's email.")] = None,
    language: Annotated[str | None, typer.Option(
        "--language", help="The patient's preferred language (the sheet follows it if it "
                           "has that translation).")] = None,
    send: Annotated[list[str] | None, typer.Option(
        "--send", help="Send the link to the patient: email or sms; repeat for both.")] = None,
) -> None:
    """Issue a sheet to one patient: print the private link, and write the PDF with its QR code.

    Issued through the same path as the web's: the issuer is recorded and the issue audited.

    Example: caresheet handout P586 --by nurse@clinic.example --param lie_flat_hours=2
    --param clinic_phone=555-0100 --procedure-time 2026-11-25T09:00-05:00[America/New_York]
    --name Sam --mrn 12345 --phone 555-0199 --send sms -o sam.pdf
    """
    from caresheet import guide
    from caresheet.care.timeline import parse_procedure_time
    from caresheet.cli.sheets import open_store
    from caresheet.model.contact import checked
    from caresheet.model.personalize import parse_assignments
    from caresheet.team.accounts import user_by_email
    from caresheet.team.notify import settings

    moment = dt.datetime.now(dt.UTC)
    procedure = parse_procedure_time(procedure_time, zone) if procedure_time else None
    expiry = guide.parse_expiry(expires)
    values = parse_assignments(param or [])
    contact = checked(mrn=mrn, encounter_id=encounter, phone=phone, email=email,
                      language=language)
    base = base_url or config.link_base_url()
    chosen = settings.Settings.from_env()
    chosen = settings.configure(chosen if base_url is None else
                                replace(chosen, base_url=base.rstrip("/")))
    store = open_store()
    try:
        with store.session() as session:
            issuer = user_by_email(session, by)
            issued = guide.issue(
                session, issuer, code=code, language=lang, version=version, params=values,
                procedure_time=procedure, now=moment, display_name=name, expires_in=expiry,
                contact=contact, clinic=clinic, send=send or [], settings=chosen)
            sheet = guide.pinned_sheet(store, session, issued.handout)
    finally:
        store.close()
    url = guide.link(base, issued.token)
    if output is not None:
        _write_pdf(sheet, issued.handout, url, output)
    typer.echo(url)
    expires_on = issued.handout.expires_at.astimezone(issued.handout.procedure_time.tzinfo)
    typer.echo(f"handout {issued.handout.id}: {issued.handout.sheet_code} version "
               f"{issued.handout.version}, link works until {expires_on:%Y-%m-%d %H:%M %Z}"
               + (f", PDF in {output}" if output else ""), err=True)
    for notice in issued.notices:
        typer.echo(f"note: {notice}", err=True)
    for sending in issued.sending:
        typer.echo(f"{sending.channel}: queued" if sending.queued else
                   f"{sending.channel}: not queued: {sending.reason}", err=True)
    if issued.prompts:
        typer.echo(f"follow-up prompts scheduled: {issued.prompts}", err=True)


def _write_pdf(sheet: Sheet, handout: Handout, url: str, output: Path) -> None:
    """The patient's own handout: name, date, phone, when to call and the QR on page 1."""
    from caresheet.render.html import handout_facts, sheet_page
    from caresheet.render.pdf import render_pdf

    facts = handout_facts(sheet, handout.params, handout.procedure_time, handout.display_name)
    page = replace(sheet_page(sheet, handout.params, qr_url=url), handout=facts)
    try:
        output.write_bytes(render_pdf(page))
    except OSError as error:
        from caresheet.errors import BadInputError

        raise BadInputError(f"cannot write {output}: {error.strerror}") from None


@app.command("handout-revoke")
def handout_revoke(
    link: Annotated[str, typer.Argument(help="The private link, or just its token.")],
) -> None:
    """End a private link at once; it then shows a "call your clinic" page.

    Example: caresheet handout-revoke http://127.0.0.1:8000/h/AbC...
    """
    from caresheet import guide
    from caresheet.cli.sheets import open_store

    token = link.rstrip("/").rsplit("/", 1)[-1]
    store = open_store()
    try:
        with store.session() as session:
            revoked = guide.revoke(session, token, dt.datetime.now(dt.UTC))
    finally:
        store.close()
    typer.echo(f"handout {revoked.id} revoked")
