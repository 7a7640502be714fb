"""Where the care team's notifications go: read from the environment once, when a face starts.

``caresheet serve`` and ``caresheet worker`` call ``configure(Settings.from_env())`` at start
and pass the result down; nothing reads the environment inside a patient's check-in.
Variables: ``CARESHEET_SMTP_HOST``, ``_PORT`` (25), ``_USER``, ``_PASSWORD``, ``_FROM``,
``_STARTTLS`` (``true`` to upgrade the connection), ``CARESHEET_NOTIFY_EMAIL`` (comma-separated
recipients), ``CARESHEET_WEBHOOK_URL``, ``CARESHEET_WEBHOOK_SECRET``, ``CARESHEET_BASE_URL``
(for links; its one reader is ``caresheet.config``), ``CARESHEET_SMS_URL``, ``_ACCOUNT``,
``_TOKEN``, ``_FROM`` (a text-message gateway speaking the Twilio REST shape),
``CARESHEET_NOTIFY_BACKOFF`` (first retry delay in seconds, 30) and
``CARESHEET_NOTIFY_BACKOFF_MAX`` (3600).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from caresheet import config


@dataclass(frozen=True)
class Settings:
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "caresheet@localhost"
    smtp_starttls: bool = False
    notify_email: tuple[str, ...] = ()
    webhook_url: str | None = None
    webhook_secret: str | None = None
    base_url: str = config.DEFAULT_BASE_URL
    backoff: float = 30.0
    backoff_max: float = 3600.0
    sms_url: str | None = None
    sms_account: str | None = None
    sms_token: str | None = None
    sms_from: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings in ``env`` (default: the process environment)."""
        e = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = e.get(f"CARESHEET_{name}", "").strip()
            return value or None

        return cls(
            smtp_host=get("SMTP_HOST"),
            smtp_port=int(get("SMTP_PORT") or 25),
            smtp_user=get("SMTP_USER"),
            smtp_password=get("SMTP_PASSWORD"),
            smtp_from=get("SMTP_FROM") or "caresheet@localhost",
            smtp_starttls=(get("SMTP_STARTTLS") or "").lower() in {"1", "true", "yes"},
            notify_email=tuple(
                a.strip() for a in (get("NOTIFY_EMAIL") or "").split(",") if a.strip()
            ),
            webhook_url=get("WEBHOOK_URL"),
            webhook_secret=get("WEBHOOK_SECRET"),
            base_url=config.link_base_url(e),
            backoff=float(get("NOTIFY_BACKOFF") or 30),
            backoff_max=float(get("NOTIFY_BACKOFF_MAX") or 3600),
            sms_url=(get("SMS_URL") or "").rstrip("/") or None,
            sms_account=get("SMS_ACCOUNT"),
            sms_token=get("SMS_TOKEN"),
            sms_from=get("SMS_FROM"),
        )

    @property
    def email_on(self) -> bool:
        return bool(self.smtp_host and self.notify_email)

    @property
    def webhook_on(self) -> bool:
        return bool(self.webhook_url)

    @property
    def patient_email_on(self) -> bool:
        """Whether email to patients can be queued: an SMTP server is set."""
        return bool(self.smtp_host)

    @property
    def sms_on(self) -> bool:
        return bool(self.sms_url and self.sms_account and self.sms_token and self.sms_from)

    def sms_missing(self) -> list[str]:
        """The SMS variables not set, for the message that says why a text was not queued."""
        values = {"CARESHEET_SMS_URL": self.sms_url, "CARESHEET_SMS_ACCOUNT": self.sms_account,
                  "CARESHEET_SMS_TOKEN": self.sms_token, "CARESHEET_SMS_FROM": self.sms_from}
        return [name for name, value in values.items() if not value]


_lock = threading.Lock()
_configured: Settings | None = None


def configure(settings: Settings) -> Settings:
    """Make ``settings`` this process's notification settings (a face calls it at start)."""
    global _configured
    with _lock:
        _configured = settings
    return settings


def configured() -> Settings:
    """This process's settings, for a caller that was not handed them (the guide's hooks).

    A process that never called ``configure`` (a script using the library) reads the
    environment once, here, and keeps the result.
    """
    global _configured
    with _lock:
        if _configured is None:
            _configured = Settings.from_env()
        return _configured
