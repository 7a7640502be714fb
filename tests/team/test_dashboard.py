"""The dashboard's counts, on SQLite and PostgreSQL: check-ins by tier per day, waits for
acknowledgement, teach-back misses by question, handouts per sheet, CDS Hooks card outcomes;
only the chosen period."""

from __future__ import annotations

import datetime as dt

import pytest

from caresheet import guide
from caresheet.errors import BadInputError
from caresheet.store import ehr as ehr_rows
from caresheet.store.db import Store
from caresheet.team import dashboard, escalations
from caresheet.team.accounts import Role

from .conftest import NOW, add, issue_link


def _chart(found: dashboard.Dashboard, key: str) -> dict[str, tuple[int, ...]]:
    (chart,) = [c for c in found.charts if c.key == key]
    return {bar.label: bar.parts for bar in chart.bars}


def test_counts_in_the_period(store: Store) -> None:
    first, second = issue_link(store), issue_link(store)
    day = dt.timedelta(days=1)
    guide.check_in(store, first.token, {"fever": "no"}, NOW + dt.timedelta(hours=5))
    guide.check_in(store, first.token, {"severe_headache": "yes"}, NOW + dt.timedelta(hours=6))
    guide.check_in(store, second.token, {"passed_out": "yes"}, NOW + day + dt.timedelta(hours=1))
    nurse = add(store, "dash@team.example", Role.CLINICIAN)
    with store.session() as session:
        urgent, _emergency = sorted(
            (e for h in (first, second) for e in escalations.for_handout(session, h.handout.id)),
            key=lambda e: e.id)
        escalations.acknowledge(session, urgent.id, nurse, None,
                                urgent.created_at + dt.timedelta(minutes=20))
    _, outcome = guide.teach_back(store, first.token, {}, NOW + dt.timedelta(hours=7))
    missed = [r.question_id for r in outcome.results if not r.correct]
    assert missed  # no answer given: every question missed

    now = NOW + 2 * day
    with store.session() as session:
        found = dashboard.build(session, now, 7)
    assert _chart(found, "checkins") == {
        "2025-01-15": (0, 1, 0, 1),  # emergency, urgent, contact, self care
        "2025-01-16": (1, 0, 0, 0),
    }
    waits = _chart(found, "waits")
    assert waits["15 to 60 min"] == (1,) and waits["not acknowledged yet"] == (2,)
    assert sum(n for (n,) in waits.values()) == 3  # the teach-back miss escalated too
    misses = _chart(found, "misses")
    assert all(n == (1,) for n in misses.values())
    assert sorted(misses) == sorted(q.replace("_", " ") for q in missed)
    assert _chart(found, "handouts") == {"P586": (2,)}

    # A clinician sees their clinics only: these handouts are the default clinic's (id 1).
    with store.session() as session:
        other = dashboard.build(session, now, 7, clinic_ids=frozenset({999}))
        own = dashboard.build(session, now, 7, clinic_ids=frozenset({1}))
    assert all(not chart.bars or chart.largest == 0 for chart in other.charts)
    assert _chart(own, "handouts") == {"P586": (2,)}
    assert _chart(own, "checkins") == _chart(found, "checkins")

    # A week later, a 7-day period holds none of it; 30 days still does.
    with store.session() as session:
        later = dashboard.build(session, now + 7 * day, 7)
        month = dashboard.build(session, now + 7 * day, 30)
    assert all(not chart.bars or chart.largest == 0 for chart in later.charts)
    assert _chart(month, "handouts") == {"P586": (2,)}


@pytest.mark.parametrize("value", ["5", "abc", "-7", "365"])
def test_a_period_not_offered_is_bad_input(value: str) -> None:
    with pytest.raises(BadInputError, match="7, 30, 90"):
        dashboard.period_days(value)


def test_the_period_defaults_to_30_days() -> None:
    assert dashboard.period_days("") == 30 and dashboard.period_days("90") == 90


def test_cds_card_outcomes_by_sheet(store: Store) -> None:
    """The EHR's feedback on CDS Hooks cards shows per sheet, inside the period only."""
    def feedback(uuid: str, code: str, outcome: str, at: dt.datetime) -> None:
        with store.session() as session:
            ehr_rows.add_feedback(session, ehr_rows.Feedback(
                card_uuid=uuid, service_id="caresheet-order-select", sheet_code=code,
                client_iss="https://ehr.example", outcome=outcome, override_reason=None,
                user_comment=None, outcome_at=at), at)

    feedback("u1", "P586", "accepted", NOW)
    feedback("u2", "P586", "overridden", NOW)
    feedback("u3", "P586", "accepted", NOW)
    feedback("u4", "CS101", "overridden", NOW - dt.timedelta(days=40))
    with store.session() as session:
        found = dashboard.build(session, NOW + dt.timedelta(days=1), 30)
    assert _chart(found, "cards") == {"P586": (2, 1)}
