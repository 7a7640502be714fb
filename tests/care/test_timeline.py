"""The timeline and the tier, with a frozen clock: every ``now`` is passed in."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from caresheet.care.timeline import EventKind, parse_procedure_time, timeline
from caresheet.care.triage import triage
from caresheet.errors import BadInputError
from caresheet.model.sheet import Sheet, Tier
from caresheet.zones import zone_name

NY = ZoneInfo("America/New_York")
# Wednesday 25 November 2026, 9:00 a.m. in New York.
PROCEDURE = dt.datetime(2026, 11, 25, 9, 0, tzinfo=NY)


def at(hours: float, start: dt.datetime = PROCEDURE) -> dt.datetime:
    return (start.astimezone(dt.UTC) + dt.timedelta(hours=hours)).astimezone(start.tzinfo)


def test_lie_flat_ends_after_the_set_hours(p586: Sheet) -> None:
    line = timeline(p586, {"lie_flat_hours": "2"}, PROCEDURE, at(0.5))
    lie_flat = next(e for e in line.events if e.id == "lie_flat")
    assert lie_flat.at == dt.datetime(2026, 11, 25, 11, 0, tzinfo=NY)
    assert lie_flat.when == "today at 11:00 a.m."
    assert lie_flat.text == "You can stop lying flat."
    assert not lie_flat.past


def test_unset_lie_flat_uses_the_longest_time(p586: Sheet) -> None:
    line = timeline(p586, {}, PROCEDURE, at(0.5))
    assert next(e for e in line.events if e.id == "lie_flat").when == "today at 1:00 p.m."


def test_the_headache_limit_is_friday_and_said_once(p586: Sheet) -> None:
    line = timeline(p586, {"clinic_phone": "555-0100"}, PROCEDURE, at(3))
    [limit] = [e for e in line.events if e.hours == 48]
    assert limit.id == "headache_limit"
    assert limit.when == "Friday at 9:00 a.m."
    assert limit.tier is Tier.CONTACT
    assert "call your doctor" in limit.text


def test_a_rule_limit_without_a_milestone_has_its_own_event(p586: Sheet) -> None:
    sheet = p586.model_copy(update={"milestones": p586.milestones[:1]})
    line = timeline(sheet, {}, PROCEDURE, at(3))
    rule = next(e for e in line.events if e.kind is EventKind.RULE_LIMIT)
    assert rule.when == "Friday at 9:00 a.m."
    assert rule.tier is Tier.CONTACT
    assert rule.text.startswith("Watch for changes, and call your doctor if:")
    assert "headache" in rule.text


def test_expected_items_say_until_when(p586: Sheet) -> None:
    line = timeline(p586, {}, PROCEDURE, at(3))
    headache = next(n for n in line.normal if n.id == "mild_headache")
    assert headache.until_words == "until Friday at 9:00 a.m."
    # Past their time, expected items are no longer "normal".
    assert timeline(p586, {}, PROCEDURE, at(48)).normal == ()


def test_now_splits_past_from_coming(p586: Sheet) -> None:
    line = timeline(p586, {"lie_flat_hours": "1"}, PROCEDURE, at(5))
    assert [e.id for e in line.past] == ["procedure", "lie_flat"]
    assert all(not e.past for e in line.coming)
    assert line.elapsed_hours == pytest.approx(5)


def test_a_date_param_becomes_an_all_day_follow_up(p586: Sheet) -> None:
    sheet = p586.model_copy(update={"params": {
        **p586.params,
        "follow_up_date": p586.params["clinic_phone"].model_copy(
            update={"type": "date", "label": "Follow-up visit", "unset": "as planned"}),
    }})
    line = timeline(sheet, {"follow_up_date": "2026-12-02"}, PROCEDURE, at(1))
    follow = next(e for e in line.events if e.kind is EventKind.FOLLOW_UP)
    assert follow.all_day and follow.text == "Follow-up visit"
    assert follow.when == "Wednesday, December 2"


# Saturday 31 October 2026, 9:00 a.m. EDT; the clocks fall back on Sunday 1 November.
DST_PROCEDURE = dt.datetime(2026, 10, 31, 9, 0, tzinfo=NY)

BOUNDARY_CASES = [
    # (id, procedure start, hours after, answers, expected tier)
    ("47h59m-headache-is-normal", PROCEDURE, 47 + 59 / 60, {"headache": "yes"}, Tier.SELF_CARE),
    ("48h00m-headache-call", PROCEDURE, 48.0, {"headache": "yes"}, Tier.CONTACT),
    ("dst-47h59m-headache-is-normal", DST_PROCEDURE, 47 + 59 / 60, {"headache": "yes"},
     Tier.SELF_CARE),
    ("dst-48h00m-headache-call", DST_PROCEDURE, 48.0, {"headache": "yes"}, Tier.CONTACT),
    ("dst-48h00m-sore-back-unsure", DST_PROCEDURE, 48.0, {"sore_back": "unsure"}, Tier.CONTACT),
    ("47h59m-passed-out-is-911", PROCEDURE, 47 + 59 / 60, {"passed_out": "yes"}, Tier.EMERGENCY),
    ("48h00m-nothing", PROCEDURE, 48.0, {"headache": "no", "sore_back": "no"}, Tier.SELF_CARE),
]


@pytest.mark.parametrize(("start", "hours", "answers", "tier"),
                         [c[1:] for c in BOUNDARY_CASES], ids=[c[0] for c in BOUNDARY_CASES])
def test_tier_across_the_48_hour_boundary(
    p586: Sheet, start: dt.datetime, hours: float, answers: dict[str, str], tier: Tier
) -> None:
    now = at(hours, start)
    line = timeline(p586, {}, start, now)
    assert triage(p586, answers, line.elapsed_hours, {}).tier is tier
    limit = next(e for e in line.events if e.hours == 48)
    assert limit.past is (hours >= 48)


def test_48_hours_across_dst_is_real_time_not_wall_clock(p586: Sheet) -> None:
    line = timeline(p586, {}, DST_PROCEDURE, at(1, DST_PROCEDURE))
    rule = next(e for e in line.events if e.hours == 48)
    # 9:00 EDT + 48 real hours = 8:00 EST on Monday: one hour earlier on the wall clock.
    assert rule.at == dt.datetime(2026, 11, 2, 8, 0, tzinfo=NY)
    assert rule.when == "Monday at 8:00 a.m."
    assert rule.at.utcoffset() == dt.timedelta(hours=-5)
    # At 47h59m on the wall clock that already reads 7:59 a.m. Monday, it is still normal.
    assert timeline(p586, {}, DST_PROCEDURE, at(47 + 59 / 60, DST_PROCEDURE)).normal


PROCEDURE_TIMES = [
    ("2026-11-25T09:00-05:00", None, "-05:00", dt.datetime(2026, 11, 25, 14, 0, tzinfo=dt.UTC)),
    ("2026-11-25T09:00-05:00[America/New_York]", None, "America/New_York",
     dt.datetime(2026, 11, 25, 14, 0, tzinfo=dt.UTC)),
    ("2026-11-25T09:00", "America/New_York", "America/New_York",
     dt.datetime(2026, 11, 25, 14, 0, tzinfo=dt.UTC)),
    ("2026-07-01T09:00Z", None, "+00:00", dt.datetime(2026, 7, 1, 9, 0, tzinfo=dt.UTC)),
]


@pytest.mark.parametrize(("text", "zone", "name", "utc"), PROCEDURE_TIMES)
def test_procedure_times_keep_their_zone(
    text: str, zone: str | None, name: str, utc: dt.datetime
) -> None:
    moment = parse_procedure_time(text, zone)
    assert moment == utc
    assert zone_name(moment) == name


BAD_TIMES = [
    ("2026-11-25T09:00", None, "no time zone"),
    ("tomorrow", None, "bad procedure time"),
    ("2026-11-25T09:00-04:00", "America/New_York",
     "has offset -04:00, but America/New_York is at -05:00 then"),
    ("2026-03-08T02:30", "America/New_York", "does not exist"),
    ("2026-11-25T09:00", "Mars/Olympus", "unknown time zone"),
]


@pytest.mark.parametrize(("text", "zone", "message"), BAD_TIMES)
def test_bad_procedure_times_say_why(text: str, zone: str | None, message: str) -> None:
    with pytest.raises(BadInputError, match=message):
        parse_procedure_time(text, zone)


def test_a_naive_now_is_refused(p586: Sheet) -> None:
    with pytest.raises(BadInputError):
        timeline(p586, {}, PROCEDURE, dt.datetime(2026, 11, 25, 10, 0))
