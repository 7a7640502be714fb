"""Clinics: who works where, which handouts and escalations each person may see, and the
defaults (phone, time zone, quiet hours) a clinic gives its handouts.

The embedded default clinic (id 1, made by the migration) holds every handout when no other
clinic is set up, and a clinician who belongs to no clinic works in it: an installation with
one clinic needs no set-up. Visibility is decided here, in the service, and every team read
goes through ``visible_clinics``: a clinician sees only their clinics, an admin sees all.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from caresheet.errors import BadInputError, NotFoundError
from caresheet.model.contact import checked
from caresheet.model.personalize import normalized_phone
from caresheet.store.clinics import DEFAULT_CLINIC_ID, ClinicMemberRow, ClinicRow
from caresheet.store.handouts import Handout, HandoutRow
from caresheet.team.accounts import Role, User
from caresheet.zones import zone_named

DEFAULT_QUIET = (21 * 60, 8 * 60)  # 21:00 to 08:00 local
_NAME = re.compile(r"^[\w][\w .,'&()/-]{0,119}$")


@dataclass(frozen=True)
class Clinic:
    id: int
    name: str
    phone: str | None
    time_zone: str
    email: str | None
    webhook_url: str | None
    quiet_start: int  # minutes after local midnight
    quiet_end: int

    @property
    def zone(self) -> dt.tzinfo:
        return zone_named(self.time_zone)

    @property
    def quiet_words(self) -> str:
        return f"{_hhmm(self.quiet_start)}-{_hhmm(self.quiet_end)}"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_quiet_hours(text: str) -> tuple[int, int]:
    """``21:00-08:00`` -> (1260, 480); the same start and end means no quiet hours."""
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", text)
    if not match:
        raise BadInputError(f"quiet hours must look like 21:00-08:00 (got {text!r})")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise BadInputError(f"quiet hours must be times of day like 21:00-08:00 (got {text!r})")
    return h1 * 60 + m1, h2 * 60 + m2


def _clinic(row: ClinicRow) -> Clinic:
    return Clinic(id=row.id, name=row.name, phone=row.phone, time_zone=row.time_zone,
                  email=row.email, webhook_url=row.webhook_url, quiet_start=row.quiet_start,
                  quiet_end=row.quiet_end)


def _checked_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not _NAME.match(cleaned):
        raise BadInputError(
            f"a clinic's name must be 1 to 120 letters, digits, spaces or .,'&()/- (got {name!r})")
    return cleaned


def _checked_webhook(url: str | None) -> str | None:
    text = (url or "").strip()
    if not text:
        return None
    if not re.match(r"^https?://[^\s/]+", text) or len(text) > 2000:
        raise BadInputError(f"the webhook must be an http:// or https:// address (got {text!r})")
    return text


def add_clinic(
    session: Session, name: str, *, phone: str, time_zone: str, now: dt.datetime,
    email: str | None = None, webhook_url: str | None = None,
    quiet_hours: tuple[int, int] = DEFAULT_QUIET,
) -> Clinic:
    """A new clinic; refuses a taken name, a phone that is not one, an unknown time zone."""
    cleaned = _checked_name(name)
    zone_named(time_zone)  # refuses an unknown zone with the valid forms
    number = normalized_phone("the clinic's phone", phone)
    address = checked(email=email).email
    if session.scalar(select(ClinicRow.id).where(func.lower(ClinicRow.name) == cleaned.lower())):
        raise BadInputError(f"a clinic named {cleaned!r} already exists")
    row = ClinicRow(name=cleaned, phone=number, time_zone=time_zone.strip(), email=address,
                    webhook_url=_checked_webhook(webhook_url), quiet_start=quiet_hours[0],
                    quiet_end=quiet_hours[1], created_at=now)
    session.add(row)
    session.flush()
    return _clinic(row)


def update_default(
    session: Session, *, phone: str | None = None, time_zone: str | None = None,
) -> Clinic:
    """Give the embedded default clinic a phone or time zone (its name stays ``default``)."""
    row = session.get(ClinicRow, DEFAULT_CLINIC_ID)
    if row is None:
        raise NotFoundError("the default clinic is missing; run caresheet init")
    if phone:
        row.phone = normalized_phone("the clinic's phone", phone)
    if time_zone:
        zone_named(time_zone)
        row.time_zone = time_zone.strip()
    return _clinic(row)


def list_clinics(session: Session) -> list[Clinic]:
    return [_clinic(r) for r in session.scalars(select(ClinicRow).order_by(ClinicRow.id))]


def get_clinic(session: Session, clinic_id: int | None) -> Clinic:
    """A clinic by id; None (a handout from before clinics) is the default clinic."""
    row = session.get(ClinicRow, clinic_id or DEFAULT_CLINIC_ID)
    if row is None:
        raise NotFoundError(f"there is no clinic {clinic_id}")
    return _clinic(row)


def clinic_named(session: Session, name: str) -> Clinic:
    """The clinic of this name (any case); the message lists the clinics there are."""
    cleaned = " ".join(name.split()).lower()
    row = session.scalar(select(ClinicRow).where(func.lower(ClinicRow.name) == cleaned))
    if row is None:
        names = ", ".join(c.name for c in list_clinics(session))
        raise BadInputError(f"unknown clinic {name!r}; the clinics are: {names}")
    return _clinic(row)


def remove_clinic(session: Session, name: str) -> Clinic:
    """Remove a clinic that has no handouts; the default clinic stays."""
    clinic = clinic_named(session, name)
    if clinic.id == DEFAULT_CLINIC_ID:
        raise BadInputError("the default clinic cannot be removed")
    used = session.scalar(select(func.count()).select_from(HandoutRow)
                          .where(HandoutRow.clinic_id == clinic.id))
    if used:
        raise BadInputError(f"the clinic {clinic.name!r} has {used} handout(s); it stays")
    session.execute(delete(ClinicMemberRow).where(ClinicMemberRow.clinic_id == clinic.id))
    session.execute(delete(ClinicRow).where(ClinicRow.id == clinic.id))
    return clinic


# ---------------------------------------------------------------- staff and visibility


def join(session: Session, user_id: int, clinic_id: int) -> None:
    """Make a staff member one of a clinic's staff (again is fine)."""
    if session.get(ClinicMemberRow, (clinic_id, user_id)) is None:
        session.add(ClinicMemberRow(clinic_id=clinic_id, user_id=user_id))
        session.flush()


def member_of(session: Session, user_id: int) -> list[Clinic]:
    """The clinics a staff member belongs to; none named means the default clinic."""
    query = (select(ClinicRow).join(ClinicMemberRow, ClinicMemberRow.clinic_id == ClinicRow.id)
             .where(ClinicMemberRow.user_id == user_id).order_by(ClinicRow.id))
    found = [_clinic(r) for r in session.scalars(query)]
    return found or [get_clinic(session, DEFAULT_CLINIC_ID)]


def visible_clinics(session: Session, user: User) -> frozenset[int] | None:
    """The clinic ids whose handouts ``user`` may see; None means every clinic (an admin)."""
    if user.role is Role.ADMIN:
        return None
    return frozenset(c.id for c in member_of(session, user.id))


def can_see(session: Session, user: User, handout: Handout) -> bool:
    allowed = visible_clinics(session, user)
    return allowed is None or (handout.clinic_id or DEFAULT_CLINIC_ID) in allowed


def check_can_see(session: Session, user: User, handout: Handout) -> None:
    """Refuse a handout of another clinic as if it did not exist (its id says nothing)."""
    if not can_see(session, user, handout):
        raise NotFoundError(f"there is no handout {handout.id}")


def zone_of(session: Session, handout: Handout) -> str:
    """The time zone a handout's times are shown in to staff: its clinic's."""
    return get_clinic(session, handout.clinic_id).time_zone


def viewer_zone(session: Session, user: User) -> str:
    """The time zone of lists shown to ``user`` (inbox notices, handouts, audit, dashboard):
    their first clinic's (an admin in none: the default clinic's)."""
    return member_of(session, user.id)[0].time_zone


def issuing_clinic(session: Session, user: User, name: str | None = None) -> Clinic:
    """The clinic a new handout of ``user`` belongs to: the one named (it must be theirs,
    unless they are an admin), else their only clinic; with several, they must choose."""
    if name and name.strip():
        chosen = clinic_named(session, name)
        if user.role is not Role.ADMIN and chosen.id not in {
                c.id for c in member_of(session, user.id)}:
            raise BadInputError(f"{user.email} does not work in the clinic {chosen.name!r}")
        return chosen
    mine = member_of(session, user.id)
    if len(mine) > 1:
        raise BadInputError("choose the clinic: " + ", ".join(c.name for c in mine))
    return mine[0]
