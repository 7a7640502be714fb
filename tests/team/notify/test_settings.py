"""Notification settings are read once, when a face starts, never inside a check-in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from asgi_client import AppClient
from caresheet import guide
from caresheet.store.db import Store
from caresheet.team.notify import outbox, settings
from caresheet.web.app import create_app
from team.conftest import NOW, issue_link


@pytest.fixture(autouse=True)
def _process_settings() -> Iterator[None]:
    """Each test starts with no process settings and leaves none behind."""
    saved = settings._configured
    settings._configured = None
    yield
    settings._configured = saved


def _check_in_severe_headache(store: Store) -> None:
    """Through the guide, which passes no settings: it gets the process's."""
    issued = issue_link(store)
    outcome = guide.check_in(store, issued.token, {"severe_headache": "yes"},
                             NOW + dt.timedelta(hours=2), ip="192.0.2.9")
    assert outcome.checkin is not None and outcome.disposition.tier.value == "urgent"


def test_from_env_reads_every_setting() -> None:
    read = settings.Settings.from_env({
        "CARESHEET_SMTP_HOST": " mail.example ", "CARESHEET_SMTP_PORT": "2525",
        "CARESHEET_SMTP_STARTTLS": "true", "CARESHEET_NOTIFY_EMAIL": "a@x.example, b@x.example",
        "CARESHEET_WEBHOOK_URL": "https://hooks.example/c", "CARESHEET_BASE_URL": "https://c/",
        "CARESHEET_NOTIFY_BACKOFF": "5", "CARESHEET_NOTIFY_BACKOFF_MAX": "50",
    })
    assert (read.smtp_host, read.smtp_port, read.smtp_starttls) == ("mail.example", 2525, True)
    assert read.notify_email == ("a@x.example", "b@x.example")
    assert read.email_on and read.webhook_on and read.base_url == "https://c"
    assert (read.backoff, read.backoff_max) == (5.0, 50.0)


def test_a_check_in_uses_the_settings_read_at_start(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.configure(settings.Settings(webhook_url="http://127.0.0.1:9/at-start"))
    monkeypatch.setenv("CARESHEET_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CARESHEET_NOTIFY_EMAIL", "changed@clinic.example")
    _check_in_severe_headache(store)
    with store.session(write=False) as session:
        assert [m.channel for m in outbox.messages(session)] == ["webhook"]


def test_the_app_reads_the_settings_when_it_starts(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARESHEET_WORKER", "off")
    monkeypatch.setenv("CARESHEET_WEBHOOK_URL", "http://127.0.0.1:9/read-at-start")
    with AppClient(create_app(sqlite_url)) as client:
        monkeypatch.delenv("CARESHEET_WEBHOOK_URL")  # too late: the app has read it
        store: Store = client.app.state.store
        _check_in_severe_headache(store)
        with store.session(write=False) as session:
            [message] = outbox.messages(session)
    assert message.channel == "webhook"
    assert settings.configured().webhook_url == "http://127.0.0.1:9/read-at-start"


def test_the_base_url_has_one_reader_and_the_same_default() -> None:
    """CARESHEET_BASE_URL is read by caresheet.config alone; notifications use what it reads."""
    from pathlib import Path

    from caresheet import config

    assert settings.Settings.from_env({}).base_url == "http://127.0.0.1:8000"
    env = {"CARESHEET_BASE_URL": " https://care.clinic.example/ "}
    assert settings.Settings.from_env(env).base_url == "https://care.clinic.example"
    assert config.public_base_url(env) == "https://care.clinic.example"
    source = Path(config.__file__).parent
    readers = sorted(str(path.relative_to(source)) for path in source.rglob("*.py")
                     if '"CARESHEET_BASE_URL"' in (text := path.read_text(encoding="utf-8"))
                     or 'get("BASE_URL")' in text)
    assert readers == ["config.py"]
