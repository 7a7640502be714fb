"""Handouts in a real store (SQLite and PostgreSQL): issue, open, expire, revoke, check in."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from caresheet import guide
from caresheet.care.teachback import grade, quiz
from caresheet.errors import (
    AnswerError,
    BadInputError,
    BadParamError,
    HandoutGoneError,
    NotFoundError,
)
from caresheet.model.sheet import Tier
from caresheet.store import handouts as rows
from caresheet.store.db import Store
from caresheet.team import accounts, audit
from caresheet.team import handouts as team_handouts
from caresheet.team.accounts import Role
from helpers import import_published

from .conftest import LIBRARY, NOW, NY, PARAMS, PROCEDURE, issue, issuer


def test_only_the_token_hash_is_stored(store: Store) -> None:
    issued = issue(store, display_name="  Sam  ")
    assert len(issued.token) >= 43  # 256 bits in URL-safe base64
    with store.engine.connect() as connection:
        row = connection.execute(sa.text("SELECT * FROM handouts")).mappings().one()
    assert issued.token not in str(dict(row))
    assert row["token_hash"] == rows.hash_token(issued.token)
    assert issued.handout.display_name == "Sam"
    assert issued.handout.version == 1
    assert issued.handout.expires_at == NOW + dt.timedelta(days=30)


def test_open_gives_back_the_zone_and_params(store: Store) -> None:
    issued = issue(store)
    with store.session(write=False) as session:
        handout = guide.open_link(session, issued.token, NOW)
        sheet = guide.pinned_sheet(store, session, handout)
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
        with pytest.raises(HandoutGoneError, match=error):
            guide.open_link(session, issued.token, when)


def test_a_revoked_link_is_gone_and_an_unknown_one_not_found(store: Store) -> None:
    issued = issue(store)
    with store.session() as session:
        guide.revoke(session, issued.token, NOW)
    with store.session(write=False) as session:
        with pytest.raises(HandoutGoneError, match="revoked"):
            guide.open_link(session, issued.token, NOW)
        with pytest.raises(NotFoundError) as unknown:
            guide.open_link(session, guide.new_token(), NOW)
    assert not isinstance(unknown.value, HandoutGoneError)


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
    later = PROCEDURE + dt.timedelta(hours=50)
    outcome = guide.check_in(store, issued.token, {"headache": "Yes"}, later)
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
    with pytest.raises(BadInputError):
        guide.check_in(store, issued.token, {"headache": "maybe"}, NOW)
    with store.session(write=False) as session:
        assert rows.checkins(session, issued.handout.id) == []


def test_a_failed_save_still_gives_the_result(store: Store) -> None:
    issued = issue(store)
    with store.session() as session:
        session.execute(sa.text("DROP TABLE checkins"))
    outcome = guide.check_in(store, issued.token, {"passed_out": "yes"}, NOW)
    assert outcome.checkin is None
    assert outcome.disposition.tier is Tier.EMERGENCY


def test_teach_back_results_are_saved_per_question(store: Store) -> None:
    issued = issue(store)
    with store.session(write=False) as session:
        sheet = guide.pinned_sheet(store, session, issued.handout)
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
        sheet = guide.pinned_sheet(store, session, issued.handout)
    calm = guide.check_in(store, issued.token, {"headache": "no"}, NOW)
    urgent = guide.check_in(store, issued.token, {"numb_or_weak": "yes"}, NOW)
    assert calm.checkin is not None and urgent.checkin is not None
    questions = quiz(sheet, PARAMS, seed=issued.handout.id)
    results = grade(questions, {"rule-passed_out": "contact"})
    with store.session() as session:
        guide.save_teachback(session, issued.handout, questions, results, NOW)
    with store.session(write=False) as session:
        opened = escalations.for_handout(session, issued.handout.id)
    sources = sorted(e.source for e in opened)
    assert sources == ["checkin", "teach_back"]


CS104 = LIBRARY / "CS104.en.md"
CS104_FIRST = {"passed_out": "no", "trouble_breathing": "no", "site_bleeding": "no",
               "feel_feverish": "yes"}


def issue_cs104(store: Store) -> guide.Issued:
    with store.session() as session:
        import_published(session, [CS104])
    return issue(store, code="CS104", params={})


@pytest.mark.parametrize("temperature", ["nan", "abc", "1e999", "inf", "-inf"])
def test_a_bad_answer_is_asked_again_and_every_other_answer_kept(
    store: Store, temperature: str
) -> None:
    issued = issue_cs104(store)
    raw = {**CS104_FIRST, "temperature": temperature, "severe_headache": "yes"}  # P586's
    step = guide.check_step(store, issued.token, raw, NOW, None)
    assert step.outcome is None
    assert set(step.problems) == {"temperature"}  # another sheet's finding cannot be re-asked
    assert "temperature" in step.ask
    assert step.answers == CS104_FIRST  # kept, to ride along as hidden fields
    with store.session(write=False) as session:
        assert rows.checkins(session, issued.handout.id) == []


def test_an_empty_temperature_counts_as_not_sure(store: Store) -> None:
    issued = issue_cs104(store)
    outcome = guide.check_in(store, issued.token, {**CS104_FIRST, "temperature": ""}, NOW)
    assert outcome.checkin is not None and outcome.checkin.answers["temperature"] == "unsure"
    assert outcome.disposition.tier is Tier.URGENT  # not sure counts as at or above 100.4


@pytest.mark.parametrize("answers", [
    {"temperature": "nan"}, {"temperature": "1e999"}, {"severe_headache": "yes"},
    {"feel_feverish": ""},
])
def test_the_one_check_in_path_names_each_bad_answer_and_saves_nothing(
    store: Store, answers: dict[str, str]
) -> None:
    issued = issue_cs104(store)
    with pytest.raises(AnswerError) as caught:
        guide.check_in(store, issued.token, {**CS104_FIRST, **answers}, NOW)
    assert set(caught.value.problems) == set(answers)
    with store.session(write=False) as session:
        assert rows.checkins(session, issued.handout.id) == []


def test_two_stores_in_one_process_each_triage_with_their_own_sheet(
    tmp_path: Path
) -> None:
    """The first sheet version of each store has row id 1: P586 in one, CS104 in the other."""
    first = Store.open(f"sqlite:///{tmp_path}/first.db")
    second = Store.open(f"sqlite:///{tmp_path}/second.db")
    try:
        with first.session() as session:
            import_published(session, [LIBRARY / "P586.en.md"])
        with second.session() as session:
            import_published(session, [CS104])
        p586 = issue(first)
        cs104 = issue(second, code="CS104", params={})
        assert p586.handout.sheet_version_id == cs104.handout.sheet_version_id
        on_p586 = guide.check_in(first, p586.token, {"severe_headache": "yes"}, NOW)
        on_cs104 = guide.check_in(second, cs104.token, {**CS104_FIRST, "temperature": "101"},
                                  NOW)
        assert on_p586.disposition.tier is Tier.URGENT
        assert on_cs104.disposition.tier is Tier.URGENT
        assert "temperature" in on_cs104.checkin.answers  # type: ignore[union-attr]
        with pytest.raises(AnswerError):
            guide.check_in(second, cs104.token, {"severe_headache": "yes"}, NOW)
        with first.session(write=False) as a, second.session(write=False) as b:
            assert guide.pinned_sheet(first, a, p586.handout).code == "P586"
            assert guide.pinned_sheet(second, b, cs104.handout).code == "CS104"
    finally:
        first.close()
        second.close()


def test_issuing_records_the_issuer_and_audits_it(store: Store) -> None:
    issued = issue(store, ip="192.0.2.7")
    nurse = issuer(store)
    with store.session(write=False) as session:
        [mine] = team_handouts.issued_by(session, nurse.id)
        [event] = audit.events(session, action="handout.issued")
    assert mine.id == issued.handout.id
    assert event.actor == nurse.actor and event.ip == "192.0.2.7"
    assert event.target == f"handout:{issued.handout.id}"


def test_only_an_active_clinician_or_admin_issues(store: Store) -> None:
    with store.session() as session:
        author = accounts.add_user(session, "author@guide.example", "correct horse battery",
                                   Role.AUTHOR, NOW)
        with pytest.raises(BadInputError, match="cannot issue"):
            guide.issue(session, author, code="P586", language="en", params=PARAMS,
                        procedure_time=PROCEDURE, now=NOW)


@pytest.mark.parametrize(("span", "ok"), [
    (dt.timedelta(minutes=59), False), (dt.timedelta(hours=1), True),
    (dt.timedelta(days=366), True), (dt.timedelta(days=366, seconds=1), False),
])
def test_one_rule_for_how_long_a_link_works(span: dt.timedelta, ok: bool) -> None:
    if ok:
        assert team_handouts.check_lifetime(span, "x") == span
    else:
        with pytest.raises(BadInputError, match="1 to 366 days"):
            team_handouts.check_lifetime(span, "x")


def test_extending_keeps_to_the_same_rule(store: Store) -> None:
    issued = issue(store)  # 30 days from NOW
    nurse = issuer(store)
    with store.session() as session:
        end = team_handouts.extend(session, issued.handout.id, 336, nurse, None, NOW)
    assert end == NOW + dt.timedelta(days=366)
    with store.session() as session, pytest.raises(BadInputError, match="1 to 366 days"):
        team_handouts.extend(session, issued.handout.id, 1, nurse, None, NOW)


def test_a_failed_teach_back_save_is_reported_not_raised(store: Store) -> None:
    issued = issue(store)
    with store.session() as session:
        session.execute(sa.text("DROP TABLE teachback_results"))
    _opened, outcome = guide.teach_back(store, issued.token, {"rule-passed_out": "emergency"},
                                        NOW)
    assert outcome.attempt is None
    assert any(r.correct for r in outcome.results)  # the feedback still teaches
