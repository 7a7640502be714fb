"""What the guide's pages and its JSON API share: the clock, opening a link, the headers.

A private link is a secret in a URL, so every guide response says ``no-store`` (no cache
keeps it), ``no-referrer`` (no other site learns it) and ``noindex``. Each successful open
is recorded in the audit log in the same transaction as the read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fastapi import Request, Response

from caresheet import guide
from caresheet.care.timeline import Timeline, timeline
from caresheet.model.sheet import Sheet
from caresheet.store import handouts as rows
from caresheet.store.db import Store
from caresheet.store.handouts import Checkin, Handout
from caresheet.web.client import client_ip as client_ip  # re-exported: the one client_ip

PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}
RECENT_CHECKINS = 5


def now() -> dt.datetime:
    """The one place the web layer reads the clock; the core takes ``now`` as an argument."""
    return dt.datetime.now(dt.UTC)


def private(response: Response) -> Response:
    response.headers.update(PRIVATE_HEADERS)
    return response


@dataclass(frozen=True, slots=True)
class Opened:
    """A handout opened by its link, with what every page of it needs."""

    handout: Handout
    sheet: Sheet
    timeline: Timeline
    checkins: tuple[Checkin, ...]
    moment: dt.datetime

    @property
    def phone(self) -> str | None:
        name = self.sheet.phone_param()
        return self.handout.params.get(name) if name else None


def open_handout(store: Store, request: Request, token: str, what: str,
                 recent_checkins: bool = False) -> Opened:
    """Open the link (NotFoundError / HandoutGoneError otherwise) and audit the read."""
    moment = now()
    with store.session() as session:
        handout = guide.open_link(session, token, moment)
        sheet = guide.pinned_sheet(session, handout)
        recent = rows.checkins(session, handout.id, RECENT_CHECKINS) if recent_checkins else []
        guide.record_read(session, handout, what, client_ip(request), moment)
    return Opened(
        handout=handout, sheet=sheet,
        timeline=timeline(sheet, handout.params, handout.procedure_time, moment),
        checkins=tuple(recent), moment=moment,
    )


def tel(phone: str | None) -> str | None:
    """A ``tel:`` URI from a phone as written ("(555) 010-0100 ext 2" -> tel:5550100100,2)."""
    if not phone:
        return None
    main, _, extension = phone.lower().replace("ext.", "x").replace("ext", "x").partition("x")
    digits = "".join(c for c in main if c.isdigit() or c == "+")
    if not digits.strip("+"):
        return None
    extra = "".join(c for c in extension if c.isdigit())
    return f"tel:{digits}" + (f",{extra}" if extra else "")
