"""Reminders: a handout's timeline as an iCalendar file a phone's calendar can import.

Each reminder is one VEVENT with a stable UID (handout + event), so importing the file again
updates the events instead of duplicating them. Times carry their IANA zone with a VTIMEZONE
(Outlook needs it); a fixed-offset procedure time is written in UTC, which every client reads.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event

from caresheet.care.timeline import Event as TimelineEvent
from caresheet.care.timeline import Timeline

PRODID = "-//caresheet//home-recovery guide//EN"
REMINDER_MINUTES = 15


def calendar(
    timeline: Timeline, *, handout_id: str, title: str, url: str | None, stamp: dt.datetime
) -> bytes:
    """The .ics bytes for the timeline's reminders; ``stamp`` is DTSTAMP (pass the clock in)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", title)
    for event in timeline.reminders():
        cal.add_component(_vevent(event, handout_id, title, url, stamp))
    if isinstance(timeline.procedure_time.tzinfo, ZoneInfo):
        # Only the rules around the handout's dates: a short VTIMEZONE every client reads.
        first = timeline.procedure_time.date() - dt.timedelta(days=1)
        cal.add_missing_timezones(first_date=first, last_date=first + dt.timedelta(days=400))
    data: bytes = cal.to_ical()
    return data


def _vevent(
    event: TimelineEvent, handout_id: str, title: str, url: str | None, stamp: dt.datetime
) -> Event:
    vevent = Event()
    vevent.add("uid", f"{handout_id}-{event.id}@caresheet")
    vevent.add("dtstamp", stamp.astimezone(dt.UTC))
    vevent.add("summary", event.text)
    description = f"{title}\n{event.text}"
    if url:
        description += f"\n{url}"
        vevent.add("url", url)
    vevent.add("description", description)
    if event.all_day:
        vevent.add("dtstart", event.at.date())
        vevent.add("dtend", event.at.date() + dt.timedelta(days=1))
    else:
        start = event.at if isinstance(event.at.tzinfo, ZoneInfo) else event.at.astimezone(dt.UTC)
        vevent.add("dtstart", start)
        vevent.add("dtend", start + dt.timedelta(minutes=REMINDER_MINUTES))
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", event.text)
        alarm.add("trigger", dt.timedelta(0))
        vevent.add_component(alarm)
    return vevent
