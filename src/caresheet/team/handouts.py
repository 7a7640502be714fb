"""The care team's view of handouts: see how each is going, revoke or extend it, and reprint
its PDF while the private link is still at hand; and the one rule of how long a link works.

Issuing is the guide's (``caresheet.guide.issue``, which records the issuer and audits it);
this module reads the rows (``caresheet.store.handouts``) and never imports the guide, so the
arrow runs one way: guide -> team. Every step is in the audit log with the staff member, the
address and the handout.
"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from caresheet.errors import BadInputError, NotFoundError
from caresheet.store import handouts as rows
from caresheet.store.handouts import Checkin, Handout, HandoutRow
from caresheet.store.team import HandoutIssuerRow
from caresheet.team import audit, clinics
from caresheet.team.accounts import User

DEFAULT_LIFETIME = dt.timedelta(days=30)
MIN_LIFETIME = dt.timedelta(hours=1)
# A year and a day: long enough for the latest follow-up a sheet names (a yearly check) and
# for every link issued before this rule was one; revoking ends a link sooner at any time.
MAX_LIFETIME = dt.timedelta(days=366)


@dataclass(frozen=True)
class TeachBackScore:
    correct: int
    total: int
    missed_warning_signs: int

    def __str__(self) -> str:
        return f"{self.correct} of {self.total}"


@dataclass(frozen=True)
class HandoutStatus:
    """One line of a clinician's handout list."""

    handout: Handout
    opened: int  # reads by the patient
    last_checkin: Checkin | None
    teach_back: TeachBackScore | None
    state: str  # active | expired | revoked

    @property
    def patient(self) -> str:
        return self.handout.display_name or f"Handout #{self.handout.id}"


def check_lifetime(span: dt.timedelta, given: str) -> dt.timedelta:
    """The one rule for how long a link works from now, at issue and at every extension."""
    if not MIN_LIFETIME <= span <= MAX_LIFETIME:
        raise BadInputError(
            f"bad expiry {given!r}: a link can work for 1 hour, or 1 to 366 days from now; "
            "write it like 30d or 36h")
    return span


def issued_by(session: Session, user_id: int | None, limit: int = 100,
              clinic_ids: frozenset[int] | None = None) -> list[Handout]:
    """Handouts issued by one staff member (all, for None), newest first; only those of
    ``clinic_ids`` when given."""
    query = select(HandoutRow.id).order_by(HandoutRow.id.desc()).limit(limit)
    if clinic_ids is not None:
        query = query.where(HandoutRow.clinic_id.in_(sorted(clinic_ids)))
    if user_id is not None:
        query = query.join(HandoutIssuerRow, HandoutIssuerRow.handout_id == HandoutRow.id).where(
            HandoutIssuerRow.issued_by == user_id
        )
    return [rows.get(session, handout_id) for handout_id in session.scalars(query)]


def state_of(handout: Handout, now: dt.datetime) -> str:
    if handout.revoked_at is not None:
        return "revoked"
    return "expired" if now >= handout.expires_at else "active"


def teach_back_score(session: Session, handout_id: int) -> TeachBackScore | None:
    """The latest teach-back attempt's score, or None when the patient has not done one."""
    results = rows.teachback_results(session, handout_id)
    if not results:
        return None
    latest = results[-1].attempt
    attempt = [r for r in results if r.attempt == latest]
    return TeachBackScore(
        correct=sum(r.correct for r in attempt), total=len(attempt),
        missed_warning_signs=sum(r.warning_sign and not r.correct for r in attempt),
    )


def status(session: Session, handout: Handout, now: dt.datetime) -> HandoutStatus:
    recent = rows.checkins(session, handout.id, limit=1)
    return HandoutStatus(
        handout=handout, opened=audit.patient_reads(session, handout.id),
        last_checkin=recent[0] if recent else None,
        teach_back=teach_back_score(session, handout.id), state=state_of(handout, now),
    )


def statuses(session: Session, viewer: User, now: dt.datetime, everyone: bool = False
             ) -> list[HandoutStatus]:
    """The viewer's own handouts (``everyone``: all staff's), of the viewer's clinics only
    (an admin sees every clinic)."""
    found = issued_by(session, None if everyone else viewer.id,
                      clinic_ids=clinics.visible_clinics(session, viewer))
    return [status(session, h, now) for h in found]


def visible(session: Session, handout_id: int, user: User) -> Handout:
    """A handout ``user`` may see; one of another clinic is not found, as if it did not exist."""
    handout = rows.get(session, handout_id)
    clinics.check_can_see(session, user, handout)
    return handout


def get(session: Session, handout_id: int, user: User, ip: str | None,
        now: dt.datetime) -> HandoutStatus:
    """One handout for a staff member: a read of the handout (and of the patient's contact),
    so it is audited."""
    handout = visible(session, handout_id, user)
    audit.handout_read(session, handout_id, user.actor, ip, "team", now)
    return status(session, handout, now)


def revoke(session: Session, handout_id: int, user: User, ip: str | None,
           now: dt.datetime) -> None:
    visible(session, handout_id, user)
    rows.revoke(session, handout_id, now)
    audit.record(session, user.actor, "handout.revoked", f"handout:{handout_id}", ip, None, now)


def extend(session: Session, handout_id: int, days: int, user: User, ip: str | None,
           now: dt.datetime) -> dt.datetime:
    """Keep the link working ``days`` more from now (or from its end, if that is later)."""
    check_lifetime(dt.timedelta(days=days), f"{days}d")
    handout = visible(session, handout_id, user)
    if handout.revoked_at is not None:
        raise BadInputError("this link was revoked; issue a new handout instead")
    new_end = max(handout.expires_at, now) + dt.timedelta(days=days)
    check_lifetime(new_end - now, f"{days}d more")
    session.execute(update(HandoutRow).where(HandoutRow.id == handout_id)
                    .values(expires_at=new_end))
    audit.record(session, user.actor, "handout.extended", f"handout:{handout_id}", ip,
                 {"expires_at": new_end.isoformat()}, now)
    return new_end


def checkins_read_by(
    session: Session, handout_id: int, actor: str, ip: str | None, now: dt.datetime,
    limit: int, offset: int,
) -> tuple[Handout, list[Checkin], int]:
    """A page of a handout's check-ins, newest first, and how many there are; the read is
    audited with ``actor`` (a staff member, or a system such as an EHR's CDS client)."""
    handout = rows.get(session, handout_id)
    audit.handout_read(session, handout_id, actor, ip, "fhir", now)
    found = rows.checkins(session, handout_id, limit, offset)
    return handout, found, rows.checkin_count(session, handout_id)


def checkin_read_by(
    session: Session, checkin_id: int, actor: str, ip: str | None, now: dt.datetime
) -> tuple[Handout, Checkin]:
    """One check-in with its handout; audited as a read of the handout."""
    found = rows.checkin_by_id(session, checkin_id)
    audit.handout_read(session, found.handout_id, actor, ip, "fhir", now)
    return rows.get(session, found.handout_id), found


def with_token(session: Session, handout_id: int, token: str) -> Handout:
    """The handout if ``token`` is its link's token (to reprint the PDF with its QR code)."""
    handout = rows.get(session, handout_id)
    if not hmac.compare_digest(rows.hash_token(token), handout.token_hash):
        raise NotFoundError("that link does not belong to this handout")
    return handout


def count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(HandoutRow)) or 0)
