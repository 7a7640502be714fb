"""What the app loaded at start is frozen out of the garbage collector's full passes (a pause
every request in flight waited out), and an app stopped in a longer-lived process lets go."""

from __future__ import annotations

import gc
from pathlib import Path

from asgi_client import AppClient
from caresheet.web.app import create_app


def test_the_app_freezes_what_it_loaded_at_start_and_lets_go_at_stop(tmp_path: Path) -> None:
    gc.unfreeze()
    with AppClient(create_app(f"sqlite:///{tmp_path}/caresheet.db")) as client:
        # Modules, templates and the library: far more than any few objects made since.
        assert gc.get_freeze_count() > 100_000
        assert client.get("/healthz").status_code == 200
    assert gc.get_freeze_count() == 0
