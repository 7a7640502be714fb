"""Time zones as caresheet writes and reads them: an IANA name or a fixed offset.

Shared by the timeline (showing a patient's deadlines in their own clock) and the store
(keeping a procedure time with its zone name), so both agree on what a zone name means.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from caresheet.errors import BadInputError


def zone_named(name: str) -> dt.tzinfo:
    """An IANA zone (``America/New_York``) or a fixed offset written ``+05:00`` / ``-05:00``."""
    match = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", name.strip())
    if match:
        sign = -1 if match.group(1) == "-" else 1
        offset = dt.timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))
        return dt.timezone(sign * offset) if offset else dt.UTC
    if name.strip().upper() in ("UTC", "Z"):
        return dt.UTC
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise BadInputError(
            f"unknown time zone {name!r}; use a name like America/New_York or an offset like -05:00"
        ) from None


def local_words(moment: dt.datetime, zone: str, seconds: bool = False) -> str:
    """A moment as the care team reads it: in ``zone``, with the zone named
    ("2025-01-15 03:00 America/Chicago"). The one way a team page writes a time."""
    shape = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    return f"{moment.astimezone(zone_named(zone)).strftime(shape)} {zone}"


def zone_name(moment: dt.datetime) -> str:
    """The name to store for a moment's zone: its IANA key, else its fixed offset."""
    if isinstance(moment.tzinfo, ZoneInfo):
        return moment.tzinfo.key
    return offset_words(moment)


def offset_words(moment: dt.datetime) -> str:
    """A moment's UTC offset as ``-05:00``."""
    offset = moment.utcoffset() or dt.timedelta(0)
    sign = "-" if offset < dt.timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
