"""Several processes starting on one fresh database at once: the migration lock holds."""

from __future__ import annotations

import os
import subprocess

from sqlalchemy import func, select

from caresheet.library import LIBRARY_DIR
from caresheet.store.db import Store
from caresheet.store.tables import SheetVersion
from helpers import caresheet_command

PROCESSES = 3


def test_processes_running_init_at_once_all_succeed(db_url: str, tmp_path: object) -> None:
    env = {**os.environ, "CARESHEET_DATABASE_URL": db_url}
    shipped = len(list(LIBRARY_DIR.rglob("*.md")))
    started = [
        subprocess.Popen(
            [*caresheet_command(), "init"], env=env, cwd=str(tmp_path),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for _ in range(PROCESSES)
    ]
    results = [(p.wait(timeout=120), *p.communicate()) for p in started]
    for code, stdout, stderr in results:
        assert code == 0, f"stdout: {stdout}\nstderr: {stderr}"
        assert "Traceback" not in stderr
    # Exactly one process created the sheets; the others found them unchanged.
    assert sum(f"({shipped} new" in out for _, out, _ in results) == 1
    store = Store.open(db_url)
    with store.session(write=False) as session:
        versions = session.scalars(select(SheetVersion.version)).all()
        count = session.scalar(select(func.count()).select_from(SheetVersion))
    store.close()
    assert count == shipped and set(versions) == {1}
