"""Handouts in a real store (SQLite and PostgreSQL): issue, open, expire, revoke, check in."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from caresheet import guide
from caresheet.care.teachback import grade, quiz
from caresheet.errors import BadInputError, BadParamError, NotFoundError
from caresheet.model.sheet import Tier
from caresheet.store import handouts as rows
from caresheet.store.db import Store

NY = ZoneInfo("America/New_York")
PROCEDURE = dt.datetime(2026, 11, 25, 9, 0, tzinfo=NY)
NOW = dt.datetime(2026, 11, 25, 15, 0, tzinfo=dt.UTC)
PARAMS = {"lie_flat_hours": "2", "clinic_phone": "555-0100"}


def issue(store: Store, **kwargs: object) -> guide.Issued:
    options: dict[str, object] = {
        "code": "P586", "language": "en", "params": PARAMS, "procedure_time": PROCEDURE,
        "now": NOW, **kwargs}
    with store.session() as session:
        return guide.issue(session, **options)  # type: ignore[arg-type]


def test_only_the_token_hash_is_stored(store: Store) -> None:
    issued = issue(store, display_name="  Sam  ")
    assert len(issued.token) >= 43  # 256 bits in URL-safe base64
    with store.engine.connect() as connection:
        row = connection.execute(sa.text("SELECT * FROM handouts")).mappings().one()
    assert issued.token not in str(dict(row))
    assert row["token_hash"] == guide.hash_token(issued.token)
    assert issued.handout.display_name == "Sam"
    assert issued.handout.version == 1
    assert issued.handout.expires_at == NOW + dt.timedelta(days=30)


def test_open_gives_back_the_zone_and_params(store: Store) -> None:
    issued = issue(store)
    with store.session(write=False) as session:
        handout = guide.open_link(session, issued.token, NOW)
        sheet = guide.pinned_sheet(session, handout)
    assert handout.procedure_time == PROCEDURE
    assert handout.procedure_time.tzinfo == NY
    assert handout.params == PARAMS
    assert sheet.code == "P586"


@pytest.mark.parametrize(("when", "error"), [
    (NOW + dt.timedelta(days=30), "expired"),
    (NOW + dt.timedelta(days=29, hours=23), None),
])
def test_a_link_expires(store: Store, when: dt.datetime, error: str | None) -> None:
    issued = issue(store)
    with store.session(write=False) as session:
        if error is None:
            guide.open_link(session, issued.token, when)
            return
        with pytest.raises(guide.HandoutGoneError, match=error):
            guide.open_link(session, issued.token, when)


def test_a_revoked_link_is_gone_and_an_unknown_one_not_found(store: Store) -> None:
    issued = issue(store)
    with store.session() as session:
        guide.revoke(session, issued.token, NOW)
    with store.session(write=False) as session:
        with pytest.raises(guide.HandoutGoneError, match="revoked"):
            guide.open_link(session, issued.token, NOW)
        with pytest.raises(NotFoundError) as unknown:
            guide.open_link(session, guide.new_token(), NOW)
    assert not isinstance(unknown.value, guide.HandoutGoneError)


@pytest.mark.parametrize(("options", "error"), [
    ({"params": {"lie_flat_hours": "9"}}, BadParamError),
    ({"params": {"shoe_size": "9"}}, BadParamError),
    ({"procedure_time": dt.datetime(2026, 11, 25, 9, 0)}, BadInputError),
    ({"display_name": "x" * 61}, BadInputError),
    ({"code": "P999"}, NotFoundError),
])
def test_bad_issues_save_nothing(store: Store, options: dict[str, object], error: type) -> None:
    with pytest.raises(error):
        issue(store, **options)
    with store.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM handouts")).scalar() == 0


@pytest.mark.parametrize(("text", "days"), [(None, 30), ("7d", 7), ("36h", 1.5)])
def test_expiry_text(text: str | None, days: float) -> None:
    assert guide.parse_expiry(text) == dt.timedelta(days=days)


@pytest.mark.parametrize("text", ["0h", "400d", "soon"])
def test_bad_expiry(text: str) -> None:
    with pytest.raises(BadInputError):
        guide.parse_expiry(text)


def test_a_check_in_is_saved_with_its_disposition(store: Store) -> None:
    issued = issue(store)
    with store.session(write=False) as session:
        sheet = guide.pinned_sheet(session, issued.handout)
    later = PROCEDURE + dt.timedelta(hours=50)
    outcome = guide.check_in(store, issued.handout, sheet, {"headache": "Yes"}, later)
    assert outcome.disposition.tier is Tier.CONTACT
    assert outcome.checkin is not None
    with store.session(write=False) as session:
        [saved] = rows.checkins(session, issued.handout.id)
    assert saved.tier == "contact"
    assert saved.answers == {"headache": "yes"}
    assert saved.matched == ["lasting_headache_or_sore_back"]
    assert saved.elapsed_hours == pytest.approx(50)
    assert saved.disposition["action"].startswith("Watch closely. Call your doctor at 555-0100")


def test_bad_answers_are_refused_before_saving(store: Store) -> None:
    issued = issue(store)
    with store.session(write=False) as session:
        sheet = guide.pinned_sheet(session, issued.handout)
    with pytest.raises(BadInputError):
        guide.check_in(store, issued.handout, sheet, {"headache": "maybe"}, NOW)
    with store.session(write=False) as session:
        assert rows.checkins(session, issued.handout.id) == []


def test_a_failed_save_still_gives_the_result(store: Store) -> None:
    issued = issue(store)
    with store.session(write=False) as session:
        sheet = guide.pinned_sheet(session, issued.handout)
    with store.session() as session:
        session.execute(sa.text("DROP TABLE checkins"))
    outcome = guide.check_in(store, issued.handout, sheet, {"passed_out": "yes"}, NOW)
    assert outcome.checkin is None
    assert outcome.disposition.tier is Tier.EMERGENCY


def test_teach_back_results_are_saved_per_question(store: Store) -> None:
    issued = issue(store)
    with store.session(write=False) as session:
        sheet = guide.pinned_sheet(session, issued.handout)
    questions = quiz(sheet, PARAMS, seed=issued.handout.id)
    results = grade(questions, {"rule-passed_out": "self_care", "rule-fever_stiff_neck": "urgent"})
    with store.session() as session:
        guide.save_teachback(session, issued.handout, questions, results, NOW)
    with store.session(write=False) as session:
        saved = rows.teachback_results(session, issued.handout.id)
    assert len(saved) == len(questions)
    by_id = {r.question_id: r for r in saved}
    assert by_id["rule-passed_out"].warning_sign and not by_id["rule-passed_out"].correct
    assert by_id["rule-fever_stiff_neck"].correct


def test_the_care_team_hears_of_urgent_check_ins_and_missed_warning_signs(store: Store) -> None:
    from caresheet.team import escalations

    issued = issue(store)
    with store.session(write=False) as session:
        sheet = guide.pinned_sheet(session, issued.handout)
    calm = guide.check_in(store, issued.handout, sheet, {"headache": "no"}, NOW)
    urgent = guide.check_in(store, issued.handout, sheet, {"numb_or_weak": "yes"}, NOW)
    assert calm.checkin is not None and urgent.checkin is not None
    questions = quiz(sheet, PARAMS, seed=issued.handout.id)
    results = grade(questions, {"rule-passed_out": "contact"})
    with store.session() as session:
        guide.save_teachback(session, issued.handout, questions, results, NOW)
    with store.session(write=False) as session:
        opened = escalations.for_handout(session, issued.handout.id)
    sources = sorted(e.source for e in opened)
    assert sources == ["checkin", "teach_back"]
