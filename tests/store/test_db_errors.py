"""A database error never carries its statement's parameters: they can hold a patient's words."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from caresheet.store.db import Store, StoreUnavailableError

SECRET = "Zebrafinch-close-note"


def test_a_failed_statement_shows_no_parameter_values(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = Store.open(db_url)
    try:
        with (caplog.at_level(logging.DEBUG), pytest.raises(DBAPIError) as raised,
              store.engine.connect() as connection):
            connection.execute(
                sa.text("SELECT id FROM sheet_versions WHERE no_such_column = :note"),
                {"note": SECRET},
            )
    finally:
        store.close()
    assert "[SQL parameters hidden due to hide_parameters=True]" in str(raised.value)
    assert SECRET not in str(raised.value)
    assert SECRET not in caplog.text


def test_a_failed_read_on_a_bare_connection_is_one_line_without_values(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path}/caresheet.db")
    try:
        with pytest.raises(StoreUnavailableError) as raised, store.reading() as connection:
            connection.execute(sa.text("SELECT id FROM no_such_table WHERE note = :note"),
                               {"note": SECRET})
    finally:
        store.close()
    message = str(raised.value)
    assert "failed: no such table: no_such_table" in message and "\n" not in message
    assert SECRET not in message
