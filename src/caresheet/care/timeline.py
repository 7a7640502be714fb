"""A handout's timeline: what happens when, in the patient's own clock, from the sheet alone.

Pure: the procedure time and ``now`` come in as aware datetimes; nothing here reads the clock.
Hours after the procedure are real elapsed hours (UTC arithmetic), so "48 hours after" stays
48 hours across a daylight-saving change; only the words shown use the local wall clock.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from enum import StrEnum
from functools import lru_cache

from babel.dates import format_date, get_time_format
from pydantic import BaseModel, ConfigDict

from caresheet.errors import BadInputError
from caresheet.i18n import _, gettext_for, ui_language
from caresheet.model.condition import time_limits
from caresheet.model.sheet import Sheet, Tier, fill_params
from caresheet.model.wording import wording_for
from caresheet.zones import offset_words, zone_named


class EventKind(StrEnum):
    PROCEDURE = "procedure"
    MILESTONE = "milestone"
    RULE_LIMIT = "rule_limit"
    FOLLOW_UP = "follow_up"


class Event(BaseModel):
    """One moment on the timeline, with its time in words in the procedure's time zone."""

    model_config = ConfigDict(frozen=True)

    id: str
    kind: EventKind
    at: dt.datetime  # aware, in the procedure's zone
    hours: float  # after the procedure
    when: str  # "today at 3:40 p.m.", "Thursday at 9:00 a.m."
    text: str
    tier: Tier | None = None
    all_day: bool = False
    past: bool


class NormalItem(BaseModel):
    """Something expected after the procedure that is still normal at ``now``."""

    model_config = ConfigDict(frozen=True)

    id: str
    text: str
    until: dt.datetime | None
    until_words: str | None  # "until Thursday at 9:00 a.m."


class Timeline(BaseModel):
    model_config = ConfigDict(frozen=True)

    procedure_time: dt.datetime
    now: dt.datetime
    elapsed_hours: float
    events: tuple[Event, ...]
    normal: tuple[NormalItem, ...]

    @property
    def past(self) -> tuple[Event, ...]:
        return tuple(e for e in self.events if e.past)

    @property
    def coming(self) -> tuple[Event, ...]:
        return tuple(e for e in self.events if not e.past)

    def reminders(self) -> tuple[Event, ...]:
        """The events worth a calendar entry: everything after the procedure itself."""
        return tuple(e for e in self.events if e.kind is not EventKind.PROCEDURE)


# ---------------------------------------------------------------- procedure time

_BRACKET_ZONE = re.compile(r"^(?P<stamp>.+?)\[(?P<zone>[^\]]+)\]$")


def parse_procedure_time(text: str, zone: str | None = None) -> dt.datetime:
    """Read ``2026-11-25T09:00-05:00`` (optionally ``[America/New_York]``) as an aware time.

    A time without an offset is refused: guessing the zone would shift every deadline.
    With a zone name the offset must agree with it, and later times follow its DST rules.
    """
    text = text.strip()
    bracket = _BRACKET_ZONE.match(text)
    if bracket:
        text, zone = bracket.group("stamp"), zone or bracket.group("zone")
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadInputError(
            f"bad procedure time {text!r}; write it like 2026-11-25T09:00-05:00"
        ) from None
    if moment.tzinfo is None:
        if zone is None:
            raise BadInputError(
                f"procedure time {text!r} has no time zone; add the offset, "
                "e.g. 2026-11-25T09:00-05:00, or give the zone name"
            )
        tz = zone_named(zone)
        return _strict_localize(moment, tz, zone)
    if zone is None:
        return moment
    tz = zone_named(zone)
    local = moment.astimezone(tz)
    if local.utcoffset() != moment.utcoffset():
        raise BadInputError(
            f"procedure time {text!r} has offset {offset_words(moment)}, but {zone} is at "
            f"{offset_words(local)} then; fix one of them"
        )
    return local


def _strict_localize(naive: dt.datetime, tz: dt.tzinfo, zone: str) -> dt.datetime:
    """Attach a zone to a wall-clock time, refusing times a DST change skips."""
    aware = naive.replace(tzinfo=tz)
    if aware.astimezone(dt.UTC).astimezone(tz).replace(tzinfo=None) != naive:
        raise BadInputError(f"{naive.isoformat()} does not exist in {zone} (the clocks skip it)")
    return aware


# ---------------------------------------------------------------- words for times

@lru_cache(maxsize=16)
def _twelve_hour(language: str) -> bool:
    """Whether a UI language keeps a 12-hour clock, from Babel's CLDR data (``h:mm a``)."""
    pattern = get_time_format("short", locale=language).pattern
    return "h" in pattern or "K" in pattern


def clock_words(moment: dt.datetime, language: str) -> str:
    """``3:40 p.m.`` in English; 24-hour ``15:40`` in a language whose clock is 24-hour.

    The clock follows the UI language (the catalog's, English when there is none); the
    a.m./p.m. words are catalog messages, used only by a 12-hour language.
    """
    lang = ui_language(language)
    if not _twelve_hour(lang):
        return f"{moment.hour}:{moment.minute:02d}"
    gettext = gettext_for(lang).gettext
    time = f"{moment.hour % 12 or 12}:{moment.minute:02d}"
    said = gettext("%(time)s p.m.") if moment.hour >= 12 else gettext("%(time)s a.m.")
    return said % {"time": time}


def day_words(moment: dt.datetime, now: dt.datetime, language: str) -> str:
    """Friendly day: today, tomorrow, a weekday within the week, else a date."""
    lang = ui_language(language)
    gettext = gettext_for(lang).gettext
    days = _days_from_today(moment, now)
    if days == 0:
        return gettext("today")
    if days == 1:
        return gettext("tomorrow")
    if days == -1:
        return gettext("yesterday")
    # The pattern is a message too: languages order day and month differently ("Wednesday,
    # December 2" but "miércoles, 2 de diciembre"); the names come from Babel's CLDR data.
    pattern = "EEEE" if 1 < days < 7 else gettext("EEEE, MMMM d")
    return str(format_date(moment.date(), pattern, locale=lang))


def _days_from_today(moment: dt.datetime, now: dt.datetime) -> int:
    """Calendar days from today to ``moment``, on the moment's own wall clock."""
    return (moment.date() - now.astimezone(moment.tzinfo).date()).days


def when_words(moment: dt.datetime, now: dt.datetime, language: str, all_day: bool = False) -> str:
    """``Thursday at 9:00 a.m.``, ``today at 3:40 p.m.``, or just the day for all-day events."""
    day = day_words(moment, now, language)
    if all_day:
        return day
    time = clock_words(moment, language)
    words = gettext_for(ui_language(language))
    # A context of its own for one o'clock, where some languages' "at" differs (Spanish:
    # "a la 1:05", "a las 2:05"). Contexts are literals, so that extraction finds them.
    if time.startswith("1:"):
        return words.pgettext("one o'clock", "%(day)s at %(time)s") % {"day": day, "time": time}
    return words.gettext("%(day)s at %(time)s") % {"day": day, "time": time}


def _until_words(moment: dt.datetime, now: dt.datetime, language: str) -> str:
    """``until Friday at 9:00 a.m.``; the context lets a language put an article before a
    weekday or a date but not before "tomorrow" (Spanish: "hasta el viernes", "hasta mañana")."""
    words = gettext_for(ui_language(language))
    when = {"when": when_words(moment, now, language)}
    if abs(_days_from_today(moment, now)) <= 1:  # today, tomorrow, yesterday
        return words.gettext("until %(when)s") % when
    return words.pgettext("weekday or date", "until %(when)s") % when


# ---------------------------------------------------------------- the timeline

def elapsed_hours(procedure_time: dt.datetime, now: dt.datetime) -> float:
    """Real hours since the procedure (negative before it)."""
    # Both in UTC: Python subtracts two times that share a tzinfo on the wall clock,
    # which would be an hour off across a DST change.
    return (now.astimezone(dt.UTC) - procedure_time.astimezone(dt.UTC)).total_seconds() / 3600.0


def timeline(
    sheet: Sheet, params: Mapping[str, str], procedure_time: dt.datetime, now: dt.datetime
) -> Timeline:
    """Every dated moment of a handout: milestones, rule time limits and follow-up dates."""
    if procedure_time.tzinfo is None or now.tzinfo is None:
        raise BadInputError("procedure time and now must both carry a time zone")
    values = dict(params)
    lang = sheet.language
    events = [_event("procedure", EventKind.PROCEDURE, procedure_time, 0.0, now, lang,
                     _("Your test or procedure.", lang))]
    for milestone in sheet.milestones:
        hours = milestone.hours(sheet.params, values)
        text = fill_params(milestone.text, values, sheet.params)
        events.append(_event(milestone.id, EventKind.MILESTONE, _after(procedure_time, hours),
                             hours, now, lang, text))
    events = _merge_limits(events, _rule_limits(sheet, values, procedure_time, now))
    events += _follow_ups(sheet, values, procedure_time, now)
    events.sort(key=lambda e: (e.at.astimezone(dt.UTC), e.kind is not EventKind.MILESTONE))
    return Timeline(
        procedure_time=procedure_time,
        now=now.astimezone(procedure_time.tzinfo),
        elapsed_hours=elapsed_hours(procedure_time, now),
        events=tuple(events),
        normal=_normal(sheet, values, procedure_time, now),
    )


def _after(procedure_time: dt.datetime, hours: float) -> dt.datetime:
    # UTC arithmetic: wall-clock addition would make "48 hours" 47 or 49 across DST.
    utc = procedure_time.astimezone(dt.UTC) + dt.timedelta(hours=hours)
    return utc.astimezone(procedure_time.tzinfo)


def _event(
    event_id: str, kind: EventKind, at: dt.datetime, hours: float, now: dt.datetime,
    language: str, text: str, tier: Tier | None = None, all_day: bool = False,
) -> Event:
    return Event(
        id=event_id, kind=kind, at=at, hours=hours, text=text, tier=tier, all_day=all_day,
        when=when_words(at, now, language, all_day),
        past=at.astimezone(dt.UTC) <= now.astimezone(dt.UTC),
    )


def _rule_limits(
    sheet: Sheet, values: dict[str, str], procedure_time: dt.datetime, now: dt.datetime
) -> list[Event]:
    """One event where a rule starts to apply: "after 2d" means "call if still … by then"."""
    words = wording_for(sheet.language)
    events = []
    for rule in sheet.rules:
        for limit in time_limits(rule.condition):
            if limit.kind != "after":
                continue
            rule_text = fill_params(rule.text, values, sheet.params)
            text = f"{words.tiers[rule.tier].heading} {rule_text}"
            events.append(_event(
                f"rule-{rule.id}", EventKind.RULE_LIMIT, _after(procedure_time, limit.hours),
                limit.hours, now, sheet.language, text, tier=rule.tier,
            ))
    return events


def _merge_limits(events: list[Event], limits: list[Event]) -> list[Event]:
    """A rule limit at the same moment as a milestone is said once, by the milestone (which
    takes the rule's tier): a worried reader should not meet the same deadline twice."""
    merged = list(events)
    for limit in limits:
        same = next((i for i, e in enumerate(merged)
                     if e.kind is EventKind.MILESTONE and e.hours == limit.hours), None)
        if same is None:
            merged.append(limit)
            continue
        current = merged[same].tier
        if current is None or (limit.tier is not None and limit.tier.rank > current.rank):
            merged[same] = merged[same].model_copy(update={"tier": limit.tier})
    return merged


def _follow_ups(
    sheet: Sheet, values: dict[str, str], procedure_time: dt.datetime, now: dt.datetime
) -> list[Event]:
    """A set date param (a follow-up visit, a restart day) becomes an all-day event."""
    events = []
    for name, param in sheet.params.items():
        if param.type != "date" or not values.get(name):
            continue
        try:
            day = dt.date.fromisoformat(values[name])
        except ValueError:
            continue  # values are checked when the handout is issued; never fail a patient page
        at = dt.datetime.combine(day, dt.time(0, 0), tzinfo=procedure_time.tzinfo)
        events.append(_event(
            f"param-{name}", EventKind.FOLLOW_UP, at, elapsed_hours(procedure_time, at), now,
            sheet.language, param.label, all_day=True,
        ))
    return events


def _normal(
    sheet: Sheet, values: dict[str, str], procedure_time: dt.datetime, now: dt.datetime
) -> tuple[NormalItem, ...]:
    """Expected symptoms still within their usual time at ``now``, and until when."""
    elapsed = elapsed_hours(procedure_time, now)
    items = []
    for expected in sheet.expected:
        hours = expected.lasts_hours
        if hours is not None and elapsed >= hours:
            continue
        until = None if hours is None else _after(procedure_time, hours)
        until_words = None if until is None else _until_words(until, now, sheet.language)
        items.append(NormalItem(
            id=expected.id, text=fill_params(expected.text, values, sheet.params),
            until=until, until_words=until_words,
        ))
    return tuple(items)
