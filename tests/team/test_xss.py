"""Twenty common XSS payloads through every authored-text field (a sheet file an author
imports), every param field and the display name; none runs in the rendered pages of a real
Chromium: ``window.__xss`` stays undefined and no dialog opens."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from helpers import LiveServer, publish_files

from .staff import PASSWORD, add_staff, client_for, csrf_for, email_for
from .xss_payloads import PAYLOADS

P586 = Path(__file__).resolve().parents[2] / "src" / "caresheet" / "library" / "P586.en.md"
ALL = " | ".join(PAYLOADS)


def q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text)


def hostile_sheet() -> str:
    """P586 as X999, with the payloads in every kind of authored text."""
    text = P586.read_text()
    text = text.replace("code: P586", "code: X999")
    text = re.sub(r"^title: .*$", f"title: {q(ALL)}", text, count=1, flags=re.M)
    # The note may be a folded block: replace it with its indented lines.
    text = re.sub(r"^review_note: .*\n(?:  .*\n)*", f"review_note: {q(ALL)}\n", text, count=1,
                  flags=re.M)
    text = text.replace("aliases:\n", "aliases:\n" + "".join(f"  - {q(p)}\n" for p in PAYLOADS))
    text = text.replace("keywords:\n", "keywords:\n" + "".join(f"  - {q(p)}\n"
                                                             for p in PAYLOADS[:5]))
    text = text.replace("params:\n", "params:\n  ride_home:\n"
                        f"    label: {q('Who drives ' + ALL)}\n    type: text\n"
                        f"    unset: {q(PAYLOADS[1])}\n")
    text = text.replace("    ask: Do you have a very bad headache?",
                        f"    ask: {q('Very bad headache? ' + ALL)}")
    text = text.replace("    text: You have a very bad headache.", f"    text: {q(ALL)}")
    steps = "".join(f"- {p}\n" for p in PAYLOADS)
    text = text.replace("### Activity\n\n", "### Activity\n\n- Ask {{ ride_home }} to drive.\n"
                        + steps)
    anchors = ("    ask: Do you have a very bad headache?",
               "    text: You have a very bad headache.",
               "### Activity\n\n", "## Your recovery {#recovery}\n\n")
    for anchor in anchors:
        assert anchor in P586.read_text(), f"the hostile copy lost its anchor {anchor!r}"
    return text.replace("## Your recovery {#recovery}\n\n",
                        "## Your recovery {#recovery}\n\n" + ALL + "\n\n")


class Watch:
    """Loads pages in one browser tab and fails if any payload ran."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.dialogs: list[str] = []
        self.pages = 0
        page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message),
                                          dialog.dismiss()))

    def check(self, where: str) -> None:
        self.page.wait_for_timeout(150)  # let onerror/onload handlers fire if they exist
        flag = self.page.evaluate("() => window.__xss === undefined ? null : window.__xss")
        assert flag is None, f"payload {flag} ran on {where}"
        assert self.dialogs == [], f"a dialog opened on {where}: {self.dialogs}"
        self.pages += 1

    def visit(self, url: str) -> None:
        self.page.goto(url)
        self.check(url)

    def submit(self, url: str, values: dict[str, str]) -> str:
        """Open the form at ``url``, put ``values`` in its fields as typed text, submit."""
        self.page.goto(url)
        with self.page.expect_navigation():
            self.page.evaluate("""(values) => {
                const form = document.querySelector('#issue-form');
                for (const [name, value] of Object.entries(values)) {
                    const field = form.querySelector(`[name="${name}"]`);
                    field.type = 'text'; field.removeAttribute('maxlength');
                    field.removeAttribute('min'); field.removeAttribute('max');
                    field.value = value;
                }
                form.submit();
            }""", values)
        self.check(f"POST from {url} with {values}")
        return str(self.page.content())


def log_in(page: Any, base: str, role: str) -> None:
    page.context.clear_cookies()  # log the last person out
    page.goto(f"{base}/team/login")
    page.get_by_label("Email").fill(email_for(role))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/team")


@pytest.mark.slow
def test_no_payload_runs_anywhere(live_server: Callable[..., LiveServer], sqlite_url: str,
                                  make_page: Callable[..., Any], tmp_path: Path) -> None:
    server = live_server(sqlite_url)
    add_staff(server)
    sheet_file = tmp_path / "X999.en.md"
    sheet_file.write_text(hostile_sheet())
    publish_files(server.db_url, [sheet_file])  # public and issuable: reviewed by another
    base = server.url
    watch = Watch(make_page())

    # Public pages, with the payloads in params and the search box too.
    watch.visit(f"{base}/sheets/X999")
    watch.visit(f"{base}/sheets/X999?ride_home={quote(PAYLOADS[0])}")
    for payload in PAYLOADS:
        watch.visit(f"{base}/sheets/X999?lie_flat_hours={quote(payload)}")
        watch.visit(f"{base}/search?q={quote(payload)}")

    # The author's pages: the library, the versions, and the upload report (lint messages).
    log_in(watch.page, base, "author")
    watch.visit(f"{base}/team/library")
    watch.visit(f"{base}/team/library/X999/en")
    watch.page.goto(f"{base}/team/library")
    watch.page.set_input_files("#file", str(sheet_file))
    with watch.page.expect_navigation():
        watch.page.get_by_role("button", name="Check and import").click()
    watch.check("the upload report")

    # The clinician issues one handout per payload: display name and the text param carry it;
    # the number and phone params are refused, and their error pages echo it.
    log_in(watch.page, base, "clinician")
    form = f"{base}/team/handouts/new?code=X999"
    watch.visit(form)
    tokens = []
    for payload in PAYLOADS:
        issued = watch.submit(form, {
            "procedure_time": "2026-11-24T09:00", "zone": "UTC", "display_name": payload,
            "param.ride_home": payload, "param.lie_flat_hours": "2",
            "param.clinic_phone": "555-0100"})
        link = re.search(r'id="private-link">[^<]*/h/([^<]+)<', issued)
        assert link, issued[:2000]
        tokens.append(link.group(1))
        for field in ("param.lie_flat_hours", "param.clinic_phone", "zone", "procedure_time"):
            refused = watch.submit(form, {"procedure_time": "2026-11-24T09:00", "zone": "UTC",
                                          field: payload})
            assert "team-error" in refused

    # The patients open their guides and check in (a very bad headache: urgent).
    with httpx.Client(base_url=base, timeout=30, follow_redirects=True) as patient:
        for token in tokens:
            answers = {"a.passed_out": "no", "a.fever": "no", "a.severe_headache": "yes",
                       "a.site_drainage": "no", "a.numb_or_weak": "no", "a.headache": "no",
                       "a.sore_back": "no", "a.other_concern": "no"}
            assert patient.post(f"/h/{token}/check", data=answers).status_code == 200
    for token in tokens[:5]:
        watch.visit(f"{base}/h/{token}")
        watch.visit(f"{base}/h/{token}/check")
        watch.visit(f"{base}/h/{token}/teachback")
    watch.page.goto(f"{base}/h/{tokens[0]}/check")
    for _ in range(4):  # answer yes to everything, stage by stage, until the result
        if watch.page.locator('input[value="yes"]').count() == 0:
            break
        for radio in watch.page.locator('input[value="yes"]').all():
            radio.check()
        with watch.page.expect_navigation():
            watch.page.locator("form.check-form button[type=submit]").click()
        watch.check("a symptom-check stage")

    # The care team's views of all of it.
    watch.visit(f"{base}/team/inbox")
    assert watch.page.locator(".escalation").count() >= 20
    watch.visit(f"{base}/team/handouts")
    watch.visit(f"{base}/team/handouts/1")
    log_in(watch.page, base, "admin")
    watch.visit(f"{base}/team/audit")
    watch.visit(f"{base}/team/users")
    assert watch.pages > 150


def test_team_forms_escape_what_they_echo(live_server: Callable[..., LiveServer],
                                          sqlite_url: str) -> None:
    """Without a browser: the raw HTML never holds a payload's markup unescaped."""
    server = live_server(sqlite_url)
    add_staff(server)
    with client_for(server, "clinician") as client:
        for payload in PAYLOADS[:10]:
            answer = client.post("/team/handouts", data={
                "csrf_token": csrf_for(client), "code": "P586", "language": "en",
                "param.lie_flat_hours": payload, "procedure_time": "2026-11-24T09:00",
                "zone": "UTC", "display_name": payload})
            assert answer.status_code == 400
            if "<" in payload:
                assert payload not in answer.text


@pytest.mark.parametrize("payload", [PAYLOADS[1], PAYLOADS[13]], ids=["flag", "dialog"])
def test_the_watch_catches_a_payload_that_runs(make_page: Callable[..., Any],
                                               payload: str) -> None:
    """The control: unescaped, the same payloads do run, and the check sees it."""
    watch = Watch(make_page())
    watch.page.set_content(f"<p>{payload.replace('</textarea>', '')}</p>")
    with pytest.raises(AssertionError, match=r"ran on|dialog opened"):
        watch.check("a page that does not escape")
