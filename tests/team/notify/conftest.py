"""Fixtures for the notification tests: real receivers on 127.0.0.1 and settings that use them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from caresheet.model.sheet import Tier
from caresheet.store.db import Store
from caresheet.team import escalations
from caresheet.team.notify.settings import Settings
from team.conftest import NOW, issue_handout
from team.receivers import SmtpSink, WebhookSink

SECRET = "s3cret-shared-with-the-clinic"


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def webhook() -> Iterator[WebhookSink]:
    sink = WebhookSink().start()
    yield sink
    sink.stop()


def settings_for(smtp_port: int | None, webhook_url: str, **extra: str) -> Settings:
    """Email to ``smtp_port`` (none when None) and the signed webhook to ``webhook_url``."""
    mail = {
        "CARESHEET_SMTP_HOST": "127.0.0.1",
        "CARESHEET_SMTP_PORT": str(smtp_port),
        "CARESHEET_SMTP_FROM": "caresheet@clinic.example",
        "CARESHEET_NOTIFY_EMAIL": "nurses@clinic.example, oncall@clinic.example",
    } if smtp_port is not None else {}
    return Settings.from_env({
        **mail,
        "CARESHEET_WEBHOOK_URL": webhook_url,
        "CARESHEET_WEBHOOK_SECRET": SECRET,
        "CARESHEET_BASE_URL": "https://care.clinic.example",
        "CARESHEET_NOTIFY_BACKOFF": "1",
        **extra,
    })


def open_one(store: Store, settings: Settings, source_id: int = 1,
             handout_id: int | None = None) -> int:
    """Open an urgent escalation (on a new handout unless one is named); returns its id."""
    handout = handout_id if handout_id is not None else issue_handout(store)
    with store.session() as session:
        escalation = escalations.open_escalation(
            session, handout_id=handout, source="checkin", source_id=source_id,
            tier=Tier.URGENT, reasons=["You have a very bad headache."], sheet_code="P586",
            now=NOW, settings=settings,
        )
    return escalation.id
