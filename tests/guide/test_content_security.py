"""The Content-Security-Policy and the other security headers, as a real Chromium enforces them.

The policy must be on every page a patient or a clinician sees, must not break any of them
(styles, fonts and the QR code still load: Chromium reports no violation), and must stop a
script that got into a page from running.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from caresheet.web.headers import CONTENT_SECURITY_POLICY
from helpers import LiveServer, fonts_load

Issue = Callable[..., dict[str, Any]]


@pytest.fixture
def site(live_server: Callable[..., LiveServer], sqlite_url: str,
         issue_handout: Issue) -> tuple[LiveServer, list[str]]:
    server = live_server(sqlite_url)
    token = issue_handout(server, hours_ago=5)["token"]
    paths = [
        "/", "/search?q=spinal+tap", "/browse", "/sheets/P586?lang=es", "/no-such-page",
        f"/h/{token}", f"/h/{token}/check", f"/h/{token}/teachback", "/team/login",
    ]
    return server, paths


def test_every_page_carries_the_headers(site: tuple[LiveServer, list[str]]) -> None:
    server, paths = site
    with httpx.Client(base_url=server.url) as client:
        for path in [*paths, "/static/caresheet.css", "/sheets/P586.txt", "/api/handouts"]:
            headers = client.get(path).headers
            assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
            assert headers["x-content-type-options"] == "nosniff", path
            assert headers["x-frame-options"] == "DENY", path
        # A route's own stricter value wins over the default: a private link leaks to no one.
        assert client.get(paths[5]).headers["referrer-policy"] == "no-referrer"
        assert client.get("/").headers["referrer-policy"] == "same-origin"


def test_the_policy_breaks_no_page(
    site: tuple[LiveServer, list[str]], make_page: Callable[..., Any]
) -> None:
    server, paths = site
    page = make_page(bypass_csp=False)
    refused: list[str] = []
    page.on("console", lambda message: refused.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text else None)
    for path in paths:
        page.goto(server.url + path)
        page.wait_for_load_state("load")
        # The stylesheet applied and its web font loads: the page is not unstyled.
        assert fonts_load(page, '16px "Atkinson Hyperlegible"'), path
    assert refused == []


def test_a_script_that_got_into_a_page_does_not_run(
    site: tuple[LiveServer, list[str]], make_page: Callable[..., Any]
) -> None:
    server, paths = site
    page = make_page(bypass_csp=False)
    page.goto(server.url + paths[5])  # a patient's guide
    page.evaluate("""() => {
        const script = document.createElement('script');
        script.textContent = 'window.injected = true';
        document.body.appendChild(script);
        const image = document.createElement('img');
        image.setAttribute('onerror', 'window.injected = true');
        image.src = 'x:';
        document.body.appendChild(image);
    }""")
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.injected === undefined")
    # Without the policy, the same script runs: the test can tell the difference.
    open_page = make_page(bypass_csp=True)
    open_page.goto(server.url + paths[5])
    open_page.add_script_tag(content="window.injected = true")
    assert open_page.evaluate("() => window.injected === true")
