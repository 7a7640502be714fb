"""Issue 15.5 over real HTTP: HSTS only when the request came over https (as a trusted proxy
says), and on plain HTTP at a real host name the log-in page names the setting that fixes it
instead of saying the form expired."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from helpers import LiveServer
from team.staff import csrf_of

LAN_HOST = "caresheet.clinic.lan"


@pytest.fixture(scope="module")
def behind_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("proxy")
    server = LiveServer(f"sqlite:///{folder}/caresheet.db", workdir=folder,
                        env={"CARESHEET_TRUSTED_PROXIES": "127.0.0.1"}).start()
    yield server
    server.stop()


def test_hsts_is_sent_over_https_only(behind_proxy: LiveServer) -> None:
    over_https = httpx.get(f"{behind_proxy.url}/healthz",
                           headers={"X-Forwarded-Proto": "https"}, timeout=30)
    plain = httpx.get(f"{behind_proxy.url}/healthz", timeout=30)
    assert over_https.headers["strict-transport-security"] == "max-age=31536000"
    assert "strict-transport-security" not in plain.headers


def test_a_login_over_plain_http_at_a_lan_name_names_the_setting(
    behind_proxy: LiveServer,
) -> None:
    headers = {"Host": LAN_HOST}
    with httpx.Client(base_url=behind_proxy.url, headers=headers, timeout=30) as browser:
        form = browser.get("/team/login")
        assert "secure" in form.headers["set-cookie"].lower()  # why a browser drops it
    # A browser on http:// never sends the Secure cookie back: post without it.
    answer = httpx.post(f"{behind_proxy.url}/team/login", headers=headers, timeout=30, data={
        "email": "nurse@clinic.example", "password": "x" * 12,
        "csrf_token": csrf_of(form.text), "next": "/team",
    })
    assert answer.status_code == 400
    assert "CARESHEET_COOKIE_SECURE" in answer.text and "form expired" not in answer.text
    # On localhost, or over https, a missing cookie is still just an expired form.
    local = httpx.post(f"{behind_proxy.url}/team/login", timeout=30, data={
        "email": "nurse@clinic.example", "password": "x" * 12, "csrf_token": "y" * 30,
    })
    assert local.status_code == 403 and "CARESHEET_COOKIE_SECURE" not in local.text


def test_links_use_the_base_url(tmp_path: Path) -> None:
    server = LiveServer(f"sqlite:///{tmp_path}/caresheet.db", workdir=tmp_path,
                        env={"CARESHEET_BASE_URL": "https://care.clinic.example"}).start()
    try:
        bundle = httpx.get(f"{server.url}/fhir/PlanDefinition/P586", timeout=60).json()
    finally:
        server.stop()
    assert bundle["url"].startswith("https://care.clinic.example/fhir/")
