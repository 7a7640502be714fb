"""Clinics: the embedded default, adding one with clear refusals, a handout's clinic and its
defaults, and that a clinician sees only their clinics' handouts (an admin sees all), on
SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from caresheet import guide
from caresheet.errors import BadInputError, BadParamError, NotFoundError
from caresheet.model.contact import checked
from caresheet.store import handouts as rows
from caresheet.store.db import Store
from caresheet.team import clinics
from caresheet.team import handouts as team_handouts
from caresheet.team.accounts import Role, User
from caresheet.team.notify.settings import Settings
from helpers import import_published

from .conftest import NOW, P586, add

NO_SENDING = Settings()


def _north(store: Store) -> clinics.Clinic:
    with store.session() as session:
        return clinics.add_clinic(session, "North Clinic", phone="555-0100",
                                  time_zone="America/Chicago", email="north@clinic.example",
                                  now=NOW)


def _issue(store: Store, who: User, clinic: str | None = None, **extra: object) -> guide.Issued:
    with store.session() as session:
        import_published(session, [P586])
        return guide.issue(session, who, code="P586", language="en", params={},
                           procedure_time=extra.pop("procedure_time", NOW),  # type: ignore[arg-type]
                           now=NOW, clinic=clinic, settings=NO_SENDING, **extra)  # type: ignore[arg-type]


def test_an_installation_has_the_default_clinic_without_set_up(store: Store) -> None:
    with store.session() as session:
        found = clinics.list_clinics(session)
    assert [(c.id, c.name, c.time_zone, c.quiet_words) for c in found] == [
        (1, "default", "UTC", "21:00-08:00")]
    nurse = add(store, "nurse@clinic.example", Role.CLINICIAN)
    issued = _issue(store, nurse)
    assert issued.handout.clinic_id == 1


def test_adding_a_clinic_refuses_bad_input_with_the_reason(store: Store) -> None:
    north = _north(store)
    assert north.id == 2  # the default clinic keeps 1, also on PostgreSQL's sequence
    with store.session() as session:
        with pytest.raises(BadInputError, match="already exists"):
            clinics.add_clinic(session, "north clinic", phone="555-0100", time_zone="UTC",
                               now=NOW)
        with pytest.raises(BadParamError, match="phone number"):
            clinics.add_clinic(session, "South", phone="call us", time_zone="UTC", now=NOW)
        with pytest.raises(BadInputError, match="unknown time zone 'Mars/Base'"):
            clinics.add_clinic(session, "South", phone="555-0101", time_zone="Mars/Base",
                               now=NOW)
        with pytest.raises(BadInputError, match="email must look like"):
            clinics.add_clinic(session, "South", phone="555-0101", time_zone="UTC",
                               email="nobody", now=NOW)
        with pytest.raises(BadInputError, match=r"unknown clinic 'East'.*default, North Clinic"):
            clinics.clinic_named(session, "East")
        with pytest.raises(BadInputError, match="cannot be removed"):
            clinics.remove_clinic(session, "default")
    with pytest.raises(BadInputError, match="21:00-08:00"):
        clinics.parse_quiet_hours("late")


def test_a_handout_takes_its_clinics_phone_zone_and_now(store: Store) -> None:
    north = _north(store)
    nurse = add(store, "nurse@north.example", Role.CLINICIAN)
    with store.session() as session:
        clinics.join(session, nurse.id, north.id)
    issued = _issue(store, nurse, procedure_time=None,
                    contact=checked(mrn="MRN-7", phone="555-0199", email="pat@example.org"))
    handout = issued.handout
    assert handout.clinic_id == north.id
    assert handout.params["clinic_phone"] == "555-0100"
    assert handout.procedure_zone == "America/Chicago"
    assert handout.procedure_time == NOW
    with store.session(write=False) as session:
        again = rows.get(session, handout.id)
        by_link = rows.by_token_hash(session, rows.hash_token(issued.token))
    assert again.contact == by_link.contact == checked(mrn="MRN-7", phone="555-0199",
                                                       email="pat@example.org")
    assert "MRN-7" not in repr(again)


def test_a_preferred_language_without_a_translation_falls_back_with_a_notice(
        store: Store) -> None:
    nurse = add(store, "nurse@clinic.example", Role.CLINICIAN)
    issued = _issue(store, nurse, contact=checked(language="fr"))
    assert issued.handout.language == "en"
    assert issued.notices == ("P586 has no translation in 'fr'; the handout is in 'en'",)


def test_clinicians_see_only_their_clinics_handouts(store: Store) -> None:
    north = _north(store)
    with store.session() as session:
        south = clinics.add_clinic(session, "South", phone="555-0102", time_zone="UTC",
                                   now=NOW)
    ana = add(store, "ana@north.example", Role.CLINICIAN)
    bo = add(store, "bo@south.example", Role.CLINICIAN)
    both = add(store, "cy@both.example", Role.CLINICIAN)
    admin = add(store, "admin@clinic.example", Role.ADMIN)
    with store.session() as session:
        clinics.join(session, ana.id, north.id)
        clinics.join(session, bo.id, south.id)
        clinics.join(session, both.id, north.id)
        clinics.join(session, both.id, south.id)
    in_north = _issue(store, ana).handout
    in_south = _issue(store, bo).handout
    with pytest.raises(BadInputError, match="choose the clinic: North Clinic, South"):
        _issue(store, both)
    with pytest.raises(BadInputError, match="does not work in the clinic 'South'"):
        _issue(store, ana, clinic="South")
    later = NOW + dt.timedelta(hours=1)
    with store.session() as session:
        def seen(user: User) -> set[int]:
            return {s.handout.id for s in team_handouts.statuses(session, user, later, True)}

        assert seen(ana) == {in_north.id}
        assert seen(bo) == {in_south.id}
        assert seen(both) == {in_north.id, in_south.id}
        assert seen(admin) == {in_north.id, in_south.id}
        assert team_handouts.get(session, in_north.id, ana, None, later).handout.id == in_north.id
        with pytest.raises(NotFoundError):
            team_handouts.get(session, in_south.id, ana, None, later)
        with pytest.raises(NotFoundError):
            team_handouts.revoke(session, in_south.id, ana, None, later)
        with pytest.raises(NotFoundError):
            team_handouts.extend(session, in_south.id, 3, ana, None, later)
        with pytest.raises(BadInputError, match="has 1 handout"):
            clinics.remove_clinic(session, "South")


def test_escalations_notify_their_clinics_own_email_and_webhook(store: Store) -> None:
    from caresheet.model.sheet import Tier
    from caresheet.team import escalations
    from caresheet.team.notify import outbox

    from .receivers import SmtpSink, WebhookSink

    smtp, clinic_hook, main_hook = SmtpSink().start(), WebhookSink().start(), WebhookSink().start()
    try:
        settings = Settings.from_env({
            "CARESHEET_SMTP_HOST": "127.0.0.1", "CARESHEET_SMTP_PORT": str(smtp.port),
            "CARESHEET_NOTIFY_EMAIL": "everyone@clinic.example",
            "CARESHEET_WEBHOOK_URL": main_hook.url})
        with store.session() as session:
            north = clinics.add_clinic(session, "North Clinic", phone="555-0100",
                                       time_zone="UTC", email="north@clinic.example",
                                       webhook_url=clinic_hook.url, now=NOW)
        nurse = add(store, "nurse@north.example", Role.CLINICIAN)
        with store.session() as session:
            clinics.join(session, nurse.id, north.id)
        handout = _issue(store, nurse).handout
        with store.session() as session:
            escalations.open_escalation(
                session, handout_id=handout.id, source="checkin", source_id=1,
                tier=Tier.URGENT, reasons=["You have a very bad headache."], sheet_code="P586",
                now=NOW, settings=settings)
        assert outbox.deliver_due(store.session, settings, now=NOW).delivered == 2
    finally:
        smtp.stop()
        clinic_hook.stop()
        main_hook.stop()
    assert [m["X-Envelope-To"] for m in smtp.messages] == ["north@clinic.example"]
    assert len(clinic_hook.received) == 1 and main_hook.received == []
    assert b"_target" not in clinic_hook.received[0].body


def test_the_inbox_shows_a_clinician_their_clinics_escalations_only(store: Store) -> None:
    from caresheet.model.sheet import Tier
    from caresheet.team import escalations

    north = _north(store)
    ana = add(store, "ana@north.example", Role.CLINICIAN)
    other = add(store, "bo@clinic.example", Role.CLINICIAN)  # no clinic named: the default
    admin = add(store, "admin@clinic.example", Role.ADMIN)
    with store.session() as session:
        clinics.join(session, ana.id, north.id)
    opened = {}
    for who in (ana, other):
        handout = _issue(store, who).handout
        with store.session() as session:
            opened[who.id] = escalations.open_escalation(
                session, handout_id=handout.id, source="checkin", source_id=handout.id,
                tier=Tier.URGENT, reasons=["You have a very bad headache."],
                sheet_code="P586", now=NOW, settings=NO_SENDING).id
    with store.session() as session:
        assert [e.id for e in escalations.inbox_for(session, ana)] == [opened[ana.id]]
        assert [e.id for e in escalations.inbox_for(session, other)] == [opened[other.id]]
        assert len(escalations.inbox_for(session, admin)) == 2
        with pytest.raises(NotFoundError):
            escalations.acknowledge(session, opened[other.id], ana, None, NOW)
        with pytest.raises(NotFoundError):
            escalations.close(session, opened[other.id], ana, "done", None, NOW)
        assert escalations.acknowledge(session, opened[ana.id], ana, None, NOW).status.value \
            == "acknowledged"


def _names_in(diff: object) -> set[str]:
    """The table names one autogenerate diff entry (or list of entries) touches."""
    found: set[str] = set()
    items = diff if isinstance(diff, list) else [diff]
    for item in items:
        for part in item if isinstance(item, tuple) else (item,):
            if isinstance(part, str):
                found.add(part)
            table = getattr(part, "table", None)
            if table is not None:
                found.add(str(getattr(table, "name", "")))
            name = getattr(part, "name", None)
            if isinstance(name, str):
                found.add(name)
    return found


def test_migration_0010_matches_the_models(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import caresheet.store.clinics  # noqa: F401  (registers the clinic tables)
    from caresheet.store.tables import Base

    own = {"clinics", "clinic_members", "api_tokens", "handouts", "outbox"}
    opened = Store.open(db_url)
    try:
        with opened.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diffs = compare_metadata(context, Base.metadata)
    finally:
        opened.close()
    assert [d for d in diffs if _names_in(d) & own] == []
