"""The rendered-output rows on both databases: stored once per key, read back, and kept under
their size bound by evicting the rows used longest ago."""

from __future__ import annotations

import datetime as dt

from caresheet.store import rendered
from caresheet.store.db import Store

T0 = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def _body(key: str, size: int) -> rendered.Cached:
    return rendered.Cached(key, "application/pdf", f'"{key}"', key.encode()[:1] * size)


def test_a_body_is_stored_once_and_read_back(db_url: str) -> None:
    store = Store.open(db_url)
    try:
        with store.session() as session:
            rendered.put(session, _body("a", 100), 1, T0, max_bytes=10_000)
            # A second process rendering the same key loses quietly: the first row stays.
            rendered.put(session, rendered.Cached("a", "text/plain", '"other"', b"x"), 1, T0,
                         max_bytes=10_000)
        with store.session(write=False) as session:
            got = rendered.get(session, "a", T0 + dt.timedelta(seconds=5))
            missing = rendered.get(session, "b", T0)
        assert got is not None and missing is None
        assert (got.media_type, got.etag, got.body) == ("application/pdf", '"a"', b"a" * 100)
        assert not got.stale
    finally:
        store.close()


def test_the_oldest_used_rows_go_first_when_the_bound_is_passed(db_url: str) -> None:
    store = Store.open(db_url)
    try:
        with store.session() as session:
            for minute, key in enumerate("abcd"):
                rendered.put(session, _body(key, 300), 1, T0 + dt.timedelta(minutes=minute),
                             max_bytes=1_000)
        with store.session(write=False) as session:
            # Four bodies of 300 bytes cannot stay under 1,000: "a", used first, went.
            assert rendered.keys(session) == ["b", "c", "d"]
            seen = rendered.get(session, "b", T0 + dt.timedelta(minutes=10))
        assert seen is not None and seen.stale
        with store.session() as session:
            rendered.touch(session, "b", T0 + dt.timedelta(minutes=10))
            rendered.put(session, _body("e", 300), 1, T0 + dt.timedelta(minutes=11),
                         max_bytes=1_000)
        with store.session(write=False) as session:
            # "b" was read again, so "c" (now the least recently used) made room for "e".
            assert rendered.keys(session) == ["d", "b", "e"]
            assert rendered.total_bytes(session) == 900
    finally:
        store.close()
