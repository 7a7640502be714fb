"""Fixtures of the search tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from caresheet.library import LIBRARY_DIR
from caresheet.store.db import Store
from helpers import import_published


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Store]:
    """A SQLite store with the shipped library imported (and so indexed)."""
    store = Store.open(sqlite_url)
    with store.session() as session:
        import_published(session, [LIBRARY_DIR])
    yield store
    store.close()
