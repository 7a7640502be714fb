"""The one-tap stop page for follow-up prompts: a GET changes nothing (mail scanners open
links), the POST stops them and says so, in the handout's language, with the 911 line."""

from __future__ import annotations

import datetime as dt

from asgi_client import AppClient
from caresheet import guide
from caresheet.model.contact import checked
from caresheet.store import handouts as rows
from caresheet.store.db import Store
from caresheet.team import accounts
from caresheet.team.accounts import Role
from caresheet.team.notify.settings import Settings
from caresheet.web.app import create_app
from helpers import import_published
from team.conftest import P586


def test_the_stop_page_stops_prompts_only_on_its_button(sqlite_url: str) -> None:
    now = dt.datetime.now(dt.UTC)
    store = Store.open(sqlite_url)
    try:
        with store.session() as session:
            import_published(session, [P586])
            nurse = accounts.add_user(session, "n@clinic.example", "a-long-password-1",
                                      Role.CLINICIAN, now)
            issued = guide.issue(session, nurse, code="P586", language="en", params={},
                                 procedure_time=None, now=now, settings=Settings(),
                                 contact=checked(email="pat@example.org"))
    finally:
        store.close()
    with AppClient(create_app(sqlite_url)) as client:
        page = client.get(f"/h/{issued.token}/stop")
        assert page.status_code == 200 and 'href="tel:911"' in page.text
        assert f'action="/h/{issued.token}/stop"' in page.text
        store = Store.open(sqlite_url)
        try:
            with store.session(write=False) as session:
                assert rows.get(session, issued.handout.id).prompts_stopped_at is None
            done = client.post(f"/h/{issued.token}/stop")
            assert done.status_code == 200 and "will not send you more" in done.text
            with store.session(write=False) as session:
                assert rows.get(session, issued.handout.id).prompts_stopped_at is not None
        finally:
            store.close()
        assert client.post("/h/not-a-real-token-at-all/stop").status_code == 404
