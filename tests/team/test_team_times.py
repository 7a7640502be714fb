"""Every time a care-team page shows is in the clinic's zone, named, never UTC: the inbox and
the handout page in the handout's clinic's zone, lists (handouts, audit, dashboard) in the
viewer's. The clinic here is in Chicago and the procedure was typed in New York, so a page
that fell back to UTC or to the procedure's zone shows another hour."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

from caresheet import guide
from caresheet.store.db import Store
from caresheet.team import accounts, audit, clinics, escalations
from caresheet.zones import local_words
from helpers import LiveServer, import_published

from .conftest import NOW, P586
from .staff import add_staff, client_for, email_for

CHICAGO = "America/Chicago"
HOURS = dt.timedelta(hours=1)


def test_local_words_name_the_zone_and_follow_daylight_saving() -> None:
    winter = dt.datetime(2025, 1, 15, 9, 0, tzinfo=dt.UTC)
    summer = dt.datetime(2025, 7, 15, 9, 0, tzinfo=dt.UTC)
    assert local_words(winter, CHICAGO) == "2025-01-15 03:00 America/Chicago"
    assert local_words(summer, CHICAGO) == "2025-07-15 04:00 America/Chicago"
    assert local_words(winter, CHICAGO, seconds=True) == "2025-01-15 03:00:00 America/Chicago"


def test_team_pages_show_times_in_the_clinics_zone(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/c.db"
    live = LiveServer(url, workdir=tmp_path, env={"CARESHEET_WORKER": "off"}).start()
    store = Store.open(url)
    try:
        add_staff(live)
        with store.session() as session:
            clinics.update_default(session, time_zone=CHICAGO)
            import_published(session, [P586])
            nurse = accounts.user_by_email(session, email_for("clinician"))
            issued = guide.issue(session, nurse, code="P586", language="en",
                                 params={"lie_flat_hours": "2"},
                                 procedure_time=NOW.astimezone(ZoneInfo("America/New_York")),
                                 now=NOW)
        handout_id = issued.handout.id
        assert guide.check_in(store, issued.token, {"severe_headache": "yes"},
                              NOW + 60 * HOURS).checkin is not None
        with store.session() as session:
            (escalation,) = escalations.for_handout(session, handout_id)
            escalations.acknowledge(session, escalation.id, nurse, None, NOW + 61 * HOURS)
            issued_at = audit.events(session, action="handout.issued")[0].at
        checked_in = "2025-01-17 15:00 America/Chicago"  # 21:00 UTC, 16:00 in New York
        acknowledged = "2025-01-17 16:00 America/Chicago"
        expires = "2025-02-14 03:00 America/Chicago"  # 30 days after 09:00 UTC
        with client_for(live, "clinician") as client:
            pages = {
                "inbox": client.get("/team/inbox").text,
                "handout": client.get(f"/team/handouts/{handout_id}").text,
                "handouts": client.get("/team/handouts?all=1").text,
                "dashboard": client.get("/team/dashboard").text,
            }
        with client_for(live, "admin") as client:
            pages["audit"] = client.get("/team/audit?action=handout.issued").text
        assert checked_in in pages["inbox"] and acknowledged in pages["inbox"]
        assert "time zone" in pages["inbox"]
        for shown in (checked_in, acknowledged, expires):
            assert shown in pages["handout"], shown
        assert checked_in in pages["handouts"]
        assert local_words(issued_at, CHICAGO, seconds=True) in pages["audit"]
        assert issued_at == NOW and "2025-01-15 03:00:00 America/Chicago" in pages["audit"]
        assert f"Days are counted in {CHICAGO}." in pages["dashboard"]
        assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d America/Chicago to", pages["dashboard"])
        for name, text in pages.items():
            assert "UTC" not in text, name
        # The procedure keeps the zone it was typed in, named; the inbox does not use it.
        assert "America/New_York" not in pages["inbox"]
    finally:
        store.close()
        live.stop()
