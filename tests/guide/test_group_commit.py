"""Group commit: concurrent check-ins share commits, each stands or falls alone."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from caresheet import guide
from caresheet.store import handouts as rows
from caresheet.store.db import Store
from caresheet.store.group_commit import writer_for

from .conftest import issue

NOW = dt.datetime(2026, 11, 25, 15, 0, tzinfo=dt.UTC)


def test_concurrent_check_ins_are_all_saved(store: Store) -> None:
    issued = issue(store, params={}, procedure_time=NOW - dt.timedelta(hours=5), now=NOW)

    def one(number: int) -> int | None:
        answer = "yes" if number % 3 == 0 else "no"
        outcome = guide.check_in(store, issued.token, {"headache": answer}, NOW)
        return outcome.checkin.id if outcome.checkin else None

    with ThreadPoolExecutor(16) as pool:
        ids = list(pool.map(one, range(200)))
    assert None not in ids and len(set(ids)) == 200
    with store.session(write=False) as session:
        assert rows.checkin_ids(session, issued.handout.id) == set(ids)


def test_one_failing_write_does_not_sink_the_others(store: Store) -> None:
    writer = writer_for(store)

    def good(session: Session) -> int:
        return int(session.execute(sa.text("SELECT 1")).scalar_one())

    def bad(session: Session) -> int:
        session.execute(sa.text("INSERT INTO no_such_table VALUES (1)"))
        return 0

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(writer.run, bad if n == 3 else good) for n in range(8)]
    results = []
    for n, future in enumerate(futures):
        if n == 3:
            with pytest.raises(sa.exc.DBAPIError):
                future.result()
        else:
            results.append(future.result())
    assert results == [1] * 7
