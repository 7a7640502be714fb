"""The inbox by handout: the most urgent open item leads its handout, the handout with the
most urgent lead comes first, times are in the clinic's zone with an age, and an unsure
answer is shown as "not sure", never as a fact. On SQLite and PostgreSQL (``store``)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from caresheet import guide
from caresheet.model.contact import checked
from caresheet.store.db import Store
from caresheet.team import clinics, escalations
from caresheet.team.accounts import Role, User
from helpers import import_published

from .conftest import NOW, P586, add

NEW_YORK = ZoneInfo("America/New_York")


def _issue(store: Store, name: str, zone: dt.tzinfo, mrn: str | None = None,
           phone: str | None = None) -> guide.Issued:
    nurse = add(store, f"{name.lower()}@inbox.example", Role.CLINICIAN)
    with store.session() as session:
        import_published(session, [P586])
        return guide.issue(session, nurse, code="P586", language="en",
                           params={"lie_flat_hours": "2"}, procedure_time=NOW.astimezone(zone),
                           now=NOW, display_name=name, contact=checked(mrn=mrn, phone=phone))


def _viewer(store: Store) -> User:
    """A clinician of the default clinic, where these handouts are issued."""
    return add(store, "viewer@inbox.example", Role.CLINICIAN)


def _check_in(store: Store, issued: guide.Issued, answers: dict[str, str], hours: float) -> None:
    outcome = guide.check_in(store, issued.token, answers, NOW + dt.timedelta(hours=hours))
    assert outcome.checkin is not None


def test_groups_lead_with_the_most_urgent_open_item(store: Store) -> None:
    with store.session() as session:  # the clinic's clock, not the procedure's (New York)
        clinics.update_default(session, time_zone="America/Chicago")
    ana = _issue(store, "Ana", NEW_YORK, mrn="MRN-42", phone="555 010 4242")
    bo = _issue(store, "Bo", dt.UTC)
    viewer = _viewer(store)
    _check_in(store, ana, {"headache": "yes"}, 60)  # contact: a headache past 2 days
    _check_in(store, ana, {"passed_out": "unsure", "headache": "yes"}, 61)  # emergency
    _check_in(store, bo, {"severe_headache": "yes"}, 62)  # urgent
    now = NOW + dt.timedelta(hours=62, minutes=12)
    with store.session() as session:
        groups = escalations.grouped_inbox(session, viewer, now)
    assert [g.patient for g in groups] == ["Ana", "Bo"]
    ana_group, bo_group = groups
    assert [e.escalation.tier.value for e in ana_group.entries] == ["emergency", "contact"]
    lead = ana_group.lead
    assert lead.findings == ("not sure: passed out", "headache")
    assert ana_group.history[0].findings == ("headache",)
    assert ana_group.time_zone == bo_group.time_zone == "America/Chicago"
    assert lead.local_time == lead.escalation.created_at
    assert lead.local_time.utcoffset() == dt.timedelta(hours=-6)  # January: CST
    assert lead.age == "1 h ago" and bo_group.lead.age == "12 min ago"
    assert ana_group.record_number == "MRN-42" and ana_group.phone == "555 010 4242"
    assert bo_group.record_number is None and bo_group.phone is None

    # Once the emergency is acknowledged, Ana's lead is her open contact item, and Bo's
    # open urgent one comes first.
    nurse = add(store, "charge@inbox.example", Role.CLINICIAN)
    with store.session() as session:
        escalations.acknowledge(session, lead.escalation.id, nurse, None, now)
        groups = escalations.grouped_inbox(session, viewer, now)
    assert [g.patient for g in groups] == ["Bo", "Ana"]
    assert [e.escalation.tier.value for e in groups[1].entries] == ["contact", "emergency"]


def test_teach_back_misses_are_listed_by_question(store: Store) -> None:
    ana = _issue(store, "Ana", dt.UTC)
    viewer = _viewer(store)
    with store.session() as session:
        escalations.on_teach_back(session, handout_id=ana.handout.id, result_id="r1",
                                  missed=["When do you call 911?", "What is normal?"],
                                  sheet_code="P586", now=NOW)
        (group,) = escalations.grouped_inbox(session, viewer, NOW + dt.timedelta(days=3))
    assert group.lead.missed == ("When do you call 911?", "What is normal?")
    assert group.lead.findings == () and group.lead.age == "3 days ago"


@pytest.mark.parametrize(("minutes", "words"), [
    (0, "just now"), (1, "1 min ago"), (59, "59 min ago"), (60, "1 h ago"),
    (47 * 60 + 59, "47 h ago"), (48 * 60, "2 days ago"), (-5, "just now"),
])
def test_age_words(minutes: int, words: str) -> None:
    assert escalations.age_words(NOW, NOW + dt.timedelta(minutes=minutes)) == words


def test_only_yes_and_unsure_answers_are_findings() -> None:
    answers = {"fever": "no", "stiff_neck": "yes", "passed_out": "unsure"}
    assert escalations.finding_words(answers) == ("stiff neck", "not sure: passed out")
