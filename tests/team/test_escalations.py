"""Check-ins at contact or above open escalations, in inbox order; acknowledging and closing
record who and when; teach-back misses on warning signs are flagged; every step is audited."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from caresheet import guide
from caresheet.errors import BadInputError
from caresheet.model.sheet import Tier
from caresheet.store.db import Store
from caresheet.team import audit, escalations
from caresheet.team.accounts import Role
from caresheet.team.notify import outbox
from caresheet.team.notify.settings import Settings
from helpers import import_published

from .conftest import NOW, add, issue_handout

P586 = Path(__file__).resolve().parents[2] / "src" / "caresheet" / "library" / "P586.en.md"
NO_CHANNELS = Settings()


def open_at(store: Store, tier: Tier, source_id: int, minutes: int) -> int:
    handout_id = issue_handout(store)
    with store.session() as session:
        return escalations.open_escalation(
            session, handout_id=handout_id, source="checkin", source_id=source_id, tier=tier,
            reasons=[f"rule for {tier.value}"], now=NOW + dt.timedelta(minutes=minutes),
            settings=NO_CHANNELS,
        ).id


# (answers, hours after the procedure, the tier the check-in gets, escalated?)
CHECKINS = [
    pytest.param({"headache": "yes"}, 10, "self_care", False, id="mild-headache-day-1"),
    pytest.param({"headache": "yes"}, 60, "contact", True, id="headache-after-2-days"),
    pytest.param({"severe_headache": "yes"}, 5, "urgent", True, id="severe-headache"),
    pytest.param({"passed_out": "unsure"}, 5, "emergency", True, id="unsure-passed-out"),
    pytest.param({"fever": "no"}, 5, "self_care", False, id="no-fever"),
]


@pytest.mark.parametrize(("answers", "hours", "tier", "escalated"), CHECKINS)
def test_guide_checkins_open_escalations_from_contact_up(
    store: Store, answers: dict[str, str], hours: int, tier: str, escalated: bool
) -> None:
    """Through the guide's own ``guide.check_in``, which calls ``escalations.on_checkin``."""
    with store.session() as session:
        import_published(session, [P586])
    nurse = add(store, "nurse@guide.example", Role.CLINICIAN)
    with store.session() as session:
        issued = guide.issue(
            session, nurse, code="P586", language="en", params={"lie_flat_hours": "2"},
            procedure_time=NOW, now=NOW, display_name="Ana",
        )
    now = NOW + dt.timedelta(hours=hours)
    outcome = guide.check_in(store, issued.token, answers, now, ip="192.0.2.9")
    assert outcome.checkin is not None and outcome.disposition.tier.value == tier
    with store.session() as session:
        opened = escalations.for_handout(session, issued.handout.id)
        saved = audit.events(session, action="checkin.saved")
    assert [e.tier.value for e in opened] == ([tier] if escalated else [])
    assert [e.ip for e in saved] == ["192.0.2.9"]
    assert saved[0].target == f"handout:{issued.handout.id}"
    assert saved[0].detail == {"checkin": str(outcome.checkin.id), "tier": tier}
    if escalated:
        assert opened[0].sheet_code == "P586" and opened[0].status.value == "open"
        assert opened[0].reasons  # the matched rules' words, for the team


def test_inbox_order_is_open_first_then_tier_then_newest(store: Store) -> None:
    contact_new = open_at(store, Tier.CONTACT, 1, minutes=30)
    urgent_old = open_at(store, Tier.URGENT, 2, minutes=0)
    urgent_new = open_at(store, Tier.URGENT, 3, minutes=20)
    emergency = open_at(store, Tier.EMERGENCY, 4, minutes=10)
    nurse = add(store, "nurse@team_handouts.example", Role.CLINICIAN)
    with store.session() as session:
        escalations.acknowledge(session, emergency, nurse, "192.0.2.1", NOW)
        order = [e.id for e in escalations.inbox(session)]
    assert order == [urgent_new, urgent_old, contact_new, emergency]


def test_the_same_checkin_opens_one_escalation(store: Store) -> None:
    first = open_at(store, Tier.URGENT, 9, minutes=0)
    again = open_at(store, Tier.URGENT, 9, minutes=5)
    assert first == again
    with store.session() as session:
        assert len(escalations.inbox(session)) == 1


def test_acknowledge_and_close_record_who_and_when(store: Store) -> None:
    escalation_id = open_at(store, Tier.URGENT, 1, minutes=0)
    nurse = add(store, "nurse@team_handouts.example", Role.CLINICIAN)
    doctor = add(store, "doc@team_handouts.example", Role.CLINICIAN)
    acked_at = NOW + dt.timedelta(minutes=3)
    with store.session() as session:
        escalations.acknowledge(session, escalation_id, nurse, "192.0.2.1", acked_at)
        # A second acknowledgement keeps the first one's who and when.
        escalations.acknowledge(session, escalation_id, doctor, "192.0.2.2", acked_at)
    with store.session() as session, pytest.raises(BadInputError, match="write a note"):
        escalations.close(session, escalation_id, doctor, "   ", None, acked_at)
    closed_at = NOW + dt.timedelta(minutes=9)
    with store.session() as session:
        done = escalations.close(session, escalation_id, doctor, "Called her; headache easing.",
                                 "192.0.2.2", closed_at)
    assert (done.acknowledged_by, done.acknowledged_at) == (nurse.id, acked_at)
    assert (done.closed_by, done.closed_at) == (doctor.id, closed_at)
    assert done.close_note == "Called her; headache easing."
    with store.session() as session:
        assert escalations.inbox(session) == []
        assert [e.id for e in escalations.inbox(session, include_closed=True)] == [escalation_id]
        actions = [(e.action, e.actor) for e in audit.events(session)]
        with pytest.raises(BadInputError, match="already closed"):
            escalations.close(session, escalation_id, doctor, "again", None, closed_at)
    assert ("escalation.acknowledged", nurse.actor) in actions
    assert ("escalation.closed", doctor.actor) in actions


def test_teach_back_misses_on_warning_signs_are_flagged(store: Store, handout_id: int) -> None:
    with store.session() as session:
        none = escalations.on_teach_back(session, handout_id=handout_id, result_id=1, missed=[],
                                         now=NOW)
        flagged = escalations.on_teach_back(
            session, handout_id=handout_id, result_id=2, missed=["You passed out. What do you do?"],
            sheet_code="P586", now=NOW,
        )
    assert none is None and flagged is not None
    assert flagged.source == "teach_back" and flagged.tier is Tier.CONTACT
    assert flagged.reasons == ("Missed in teach-back: You passed out. What do you do?",)


def test_escalation_and_its_notifications_are_one_transaction(store: Store,
                                                             handout_id: int) -> None:
    settings = Settings(smtp_host="127.0.0.1", notify_email=("a@b.example",),
                               webhook_url="http://127.0.0.1:9/")
    with pytest.raises(RuntimeError), store.session() as session:
        escalations.open_escalation(session, handout_id=handout_id, source="checkin", source_id=1,
                                    tier=Tier.URGENT, reasons=[], now=NOW, settings=settings)
        raise RuntimeError("the check-in's transaction fails after the hook")
    with store.session() as session:
        assert escalations.inbox(session) == [] and outbox.messages(session) == []
    with store.session() as session:
        escalation = escalations.open_escalation(
            session, handout_id=handout_id, source="checkin", source_id=1, tier=Tier.URGENT,
            reasons=[],
            now=NOW, settings=settings)
    with store.session() as session:
        queued = outbox.messages(session, escalation.id)
    assert sorted(m.channel for m in queued) == ["email", "webhook"]


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET actor = 'someone else'",
    "DELETE FROM audit_events",
])
def test_the_database_refuses_to_change_the_audit_log(store: Store, statement: str) -> None:
    with store.session() as session:
        audit.record(session, "user:1:a@b.example", "test", "nothing", "192.0.2.1", None, NOW)
    with pytest.raises(DBAPIError, match="append-only"), store.session() as session:
        session.execute(text(statement))
    with store.session() as session:
        assert [e.actor for e in audit.events(session)] == ["user:1:a@b.example"]


def test_the_audit_module_offers_no_way_to_change_an_event() -> None:
    public = {name for name in dir(audit) if not name.startswith("_")}
    assert not {n for n in public if any(w in n for w in ("update", "delete", "remove", "edit"))}
