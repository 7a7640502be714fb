"""The .ics file parses back, carries the required properties and the right times."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from icalendar import Calendar

from caresheet.care.reminders import calendar
from caresheet.care.timeline import timeline
from caresheet.model.sheet import Sheet

NY = ZoneInfo("America/New_York")
PROCEDURE = dt.datetime(2026, 10, 31, 9, 0, tzinfo=NY)
STAMP = dt.datetime(2026, 10, 31, 14, 0, tzinfo=dt.UTC)


def ics(sheet: Sheet, procedure: dt.datetime = PROCEDURE) -> Calendar:
    line = timeline(sheet, {"lie_flat_hours": "3"}, procedure, procedure)
    data = calendar(line, handout_id="42", title=sheet.title, url="http://x/h/t", stamp=STAMP)
    return Calendar.from_ical(data)


def test_the_calendar_is_valid_icalendar(p586: Sheet) -> None:
    cal = ics(p586)
    assert str(cal["version"]) == "2.0"
    assert "caresheet" in str(cal["prodid"])
    events = cal.walk("VEVENT")
    assert events
    uids = [str(e["uid"]) for e in events]
    assert len(set(uids)) == len(uids)
    for event in events:
        assert event["dtstamp"].dt == STAMP
        assert event["dtstart"].dt.tzinfo is not None
        assert event["dtend"].dt > event["dtstart"].dt
    assert [z["tzid"] for z in cal.walk("VTIMEZONE")] == ["America/New_York"]


def test_lie_flat_and_the_48_hour_call_across_dst(p586: Sheet) -> None:
    events = {str(e["uid"]).split("@")[0]: e for e in ics(p586).walk("VEVENT")}
    assert events["42-lie_flat"]["dtstart"].dt == dt.datetime(2026, 10, 31, 12, 0, tzinfo=NY)
    call = events["42-headache_limit"]
    assert call["dtstart"].dt == dt.datetime(2026, 11, 2, 13, 0, tzinfo=dt.UTC)
    assert "headache" in str(call["summary"])
    assert "42-procedure" not in events


def test_a_fixed_offset_is_written_in_utc(p586: Sheet) -> None:
    fixed = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    cal = ics(p586, fixed)
    first = cal.walk("VEVENT")[0]
    assert first["dtstart"].dt.utcoffset() == dt.timedelta(0)
    assert not cal.walk("VTIMEZONE")
