"""The care team's dashboard: how the care loop went over a period, as counts to chart.

Four questions a charge nurse asks of the last week or month: how many check-ins came in each
day, at which tier; how long escalations waited for someone to acknowledge them; which
teach-back questions patients miss; and which sheets were handed out. Each is a ``Chart`` of
labelled bars (a bar may be split by tier); the web face draws them as SVG with a data table.
Days are counted in the zone the caller passes (the web face: the viewer's clinic's).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from caresheet.errors import BadInputError
from caresheet.model.sheet import Tier
from caresheet.store.ehr import CdsFeedbackRow
from caresheet.store.handouts import CheckinRow, HandoutRow, TeachbackResultRow
from caresheet.store.team import EscalationRow

PERIODS = (7, 30, 90)  # the period chooser's choices, in days
TIERS = (Tier.EMERGENCY, Tier.URGENT, Tier.CONTACT, Tier.SELF_CARE)
# How long an escalation waited before someone acknowledged it: (label, up to this long).
WAIT_BUCKETS: tuple[tuple[str, dt.timedelta], ...] = (
    ("under 15 min", dt.timedelta(minutes=15)),
    ("15 to 60 min", dt.timedelta(hours=1)),
    ("1 to 4 hours", dt.timedelta(hours=4)),
    ("4 to 24 hours", dt.timedelta(hours=24)),
    ("over 24 hours", dt.timedelta.max),
)
NOT_YET = "not acknowledged yet"


@dataclass(frozen=True)
class Bar:
    """One labelled bar; ``parts`` are its counts by series (one series for a plain bar)."""

    label: str
    parts: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.parts)


@dataclass(frozen=True)
class Chart:
    """A bar chart and the table beside it: ``series`` names the parts of every bar."""

    key: str
    title: str
    label_heading: str  # what the bars are: "Day", "Question"...
    series: tuple[str, ...]
    bars: tuple[Bar, ...]

    @property
    def largest(self) -> int:
        return max((bar.total for bar in self.bars), default=0)


@dataclass(frozen=True)
class Dashboard:
    days: int
    since: dt.datetime
    until: dt.datetime
    charts: tuple[Chart, ...]


CARD_OUTCOMES = ("accepted", "overridden")


def period_days(value: str | int | None) -> int:
    """The chosen period: one of ``PERIODS`` (30 when none is given)."""
    if value in (None, ""):
        return 30
    try:
        days = int(value)
    except (TypeError, ValueError):
        days = -1
    if days not in PERIODS:
        choices = ", ".join(str(p) for p in PERIODS)
        raise BadInputError(f"the period must be one of {choices} days, not {value!r}")
    return days


def build(session: Session, now: dt.datetime, days: int, zone: dt.tzinfo = dt.UTC,
          clinic_ids: frozenset[int] | None = None) -> Dashboard:
    """The four charts for the ``days`` before ``now``, over the handouts of ``clinic_ids``
    (every clinic when None: an admin's view)."""
    since = now - dt.timedelta(days=days)
    return Dashboard(days, since, now, (
        checkins_by_day(session, since, zone, clinic_ids),
        waits_for_acknowledgement(session, since, now, clinic_ids),
        teach_back_misses(session, since, clinic_ids),
        handouts_by_sheet(session, since, clinic_ids),
        card_outcomes(session, since),
    ))


_Query = TypeVar("_Query", bound=Select[*tuple[Any, ...]])


def _in_clinics(query: _Query, handout_id: Any, clinic_ids: frozenset[int] | None) -> _Query:
    """The query narrowed to rows whose handout belongs to one of ``clinic_ids``."""
    if clinic_ids is None:
        return query
    return query.where(handout_id.in_(
        select(HandoutRow.id).where(HandoutRow.clinic_id.in_(sorted(clinic_ids)))))


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def checkins_by_day(session: Session, since: dt.datetime, zone: dt.tzinfo,
                    clinic_ids: frozenset[int] | None = None) -> Chart:
    """Check-ins per day (in ``zone``), split by tier; only days with any are listed."""
    rows = session.execute(_in_clinics(
        select(CheckinRow.created_at, CheckinRow.tier).where(CheckinRow.created_at >= since),
        CheckinRow.handout_id, clinic_ids))
    counts: Counter[tuple[dt.date, str]] = Counter()
    for created_at, tier in rows:
        counts[(_aware(created_at).astimezone(zone).date(), tier)] += 1
    days = sorted({day for day, _ in counts})
    bars = tuple(
        Bar(day.isoformat(), tuple(counts[(day, tier.value)] for tier in TIERS)) for day in days
    )
    return Chart("checkins", "Check-ins by tier per day", "Day",
                 tuple(tier.value.replace("_", " ") for tier in TIERS), bars)


def waits_for_acknowledgement(session: Session, since: dt.datetime, now: dt.datetime,
                              clinic_ids: frozenset[int] | None = None) -> Chart:
    """Escalations opened in the period, by how long they waited to be acknowledged."""
    rows = session.execute(_in_clinics(
        select(EscalationRow.created_at, EscalationRow.acknowledged_at)
        .where(EscalationRow.created_at >= since), EscalationRow.handout_id, clinic_ids))
    counts: Counter[str] = Counter()
    for created_at, acknowledged_at in rows:
        if acknowledged_at is None:
            counts[NOT_YET] += 1
            continue
        waited = _aware(acknowledged_at) - _aware(created_at)
        counts[next(label for label, limit in WAIT_BUCKETS if waited < limit)] += 1
    labels = [label for label, _ in WAIT_BUCKETS] + [NOT_YET]
    return Chart("waits", "Escalations by time waited for acknowledgement", "Waited",
                 ("escalations",), tuple(Bar(label, (counts[label],)) for label in labels))


def teach_back_misses(session: Session, since: dt.datetime,
                      clinic_ids: frozenset[int] | None = None) -> Chart:
    """Wrong teach-back answers in the period, by question, the most missed first."""
    rows = session.execute(_in_clinics(
        select(TeachbackResultRow.question_id, func.count())
        .where(TeachbackResultRow.created_at >= since, TeachbackResultRow.correct.is_(False))
        .group_by(TeachbackResultRow.question_id), TeachbackResultRow.handout_id, clinic_ids))
    found = sorted(((question, int(n)) for question, n in rows), key=lambda r: (-r[1], r[0]))
    return Chart("misses", "Teach-back misses by question", "Question", ("misses",),
                 tuple(Bar(question.replace("_", " "), (n,)) for question, n in found))


def handouts_by_sheet(session: Session, since: dt.datetime,
                      clinic_ids: frozenset[int] | None = None) -> Chart:
    """Handouts issued in the period, by sheet code, the most issued first."""
    rows = session.execute(_in_clinics(
        select(HandoutRow.sheet_code, func.count())
        .where(HandoutRow.created_at >= since).group_by(HandoutRow.sheet_code),
        HandoutRow.id, clinic_ids))
    found = sorted(((code, int(n)) for code, n in rows), key=lambda r: (-r[1], r[0]))
    return Chart("handouts", "Handouts issued per sheet", "Sheet", ("handouts",),
                 tuple(Bar(code, (n,)) for code, n in found))


def card_outcomes(session: Session, since: dt.datetime) -> Chart:
    """What clinicians did with the CDS Hooks cards in the period, as the EHR reported it
    (``/cds-services/{id}/feedback``), by sheet. Counts only: feedback names no patient."""
    rows = session.execute(
        select(CdsFeedbackRow.sheet_code, CdsFeedbackRow.outcome, func.count())
        .where(CdsFeedbackRow.outcome_at >= since)
        .group_by(CdsFeedbackRow.sheet_code, CdsFeedbackRow.outcome)
    )
    counts: Counter[tuple[str, str]] = Counter()
    for code, outcome, n in rows:
        counts[(code, outcome)] += int(n)
    codes = sorted({code for code, _ in counts})
    bars = tuple(Bar(code, tuple(counts[(code, o)] for o in CARD_OUTCOMES)) for code in codes)
    return Chart("cards", "CDS Hooks cards by what the clinician did, per sheet", "Sheet",
                 CARD_OUTCOMES, bars)
