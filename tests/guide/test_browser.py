"""A whole patient visit in a real Chromium on a fresh server: guide, check, teach-back.

Every guide page must pass axe-core (WCAG 2.1 A/AA), work with JavaScript off, and fit a
320 px wide screen without sideways scrolling.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from helpers import LiveServer, axe_violations, sideways_overflow

Issue = Callable[..., dict[str, Any]]
STAGES = [  # the P586 check, stage by stage, ending urgent (a very bad headache)
    {"Did you pass out or faint?": "No"},
    {"Do you have a new fever, or is your fever going up?": "No",
     "Do you have a very bad headache?": "Yes",
     "Is fluid or blood coming out where the needle went in?": "No",
     "Are your legs or the area below the needle spot numb or weak?": "Not sure"},
    # "Do you have a headache?" is not asked: implied by the very bad headache (implied_by)
    {"Is your back sore where the needle went in?": "No"},
    {"Is anything else worrying you about your recovery?": "No"},  # the safety net, last
]


@pytest.fixture
def visit(live_server: Callable[..., LiveServer], sqlite_url: str,
          issue_handout: Issue) -> tuple[LiveServer, str]:
    server = live_server(sqlite_url)
    return server, issue_handout(server, hours_ago=5, display_name="Sam")["token"]


def answer(page: Any, stage: dict[str, str]) -> None:
    for question, choice in stage.items():
        page.get_by_role("group", name=question).get_by_label(choice, exact=True).check()
    page.get_by_role("button", name="Next").click()


def no_sideways_scroll(page: Any) -> None:
    overflow = sideways_overflow(page)
    assert overflow <= 0, f"{page.url} is {overflow}px too wide"


def test_a_whole_visit(visit: tuple[LiveServer, str], page: Any) -> None:
    server, token = visit
    page.goto(f"{server.url}/h/{token}")
    assert page.get_by_role("heading", level=1, name="Hello, Sam. Your recovery guide").is_visible()
    timeline = page.locator(".timeline")
    assert "You can stop lying flat." in timeline.inner_text()
    assert "Now" in page.locator(".timeline .now").inner_text()
    assert page.locator('a[href="tel:911"]').first.is_visible()
    assert axe_violations(page) == []

    page.get_by_role("link", name="Check my symptoms").click()
    assert axe_violations(page) == []
    for stage in STAGES:
        answer(page, stage)
    assert page.locator(".result").get_attribute("data-tier") == "urgent"
    assert "Call your doctor now at 555-0100" in page.locator("h1").inner_text()
    assert "You have a very bad headache." in page.locator(".why").inner_text()
    assert axe_violations(page) == []

    page.get_by_role("link", name="Back to your guide").click()
    listed = page.locator(".checkin-list li").first
    assert listed.locator(".checkin-tier").get_attribute("data-tier") == "urgent"

    page.get_by_role("link", name="Test what I know").click()
    assert axe_violations(page) == []
    page.get_by_role("group", name="1. You passed out. What do you do?").get_by_label(
        "Call 911 now.").check()
    page.get_by_role("button", name="Check my answers").click()
    first = page.locator('.feedback-item[data-question="rule-passed_out"]')
    assert "right" in (first.get_attribute("class") or "")
    assert page.locator(".feedback-item.wrong").count() > 0  # unanswered ones teach the answer
    assert axe_violations(page) == []


@pytest.mark.parametrize("width", [320, 640])  # 640 = a 1280 px screen at 200 % zoom
def test_the_check_works_without_javascript_narrow(
    visit: tuple[LiveServer, str], make_page: Callable[..., Any], width: int
) -> None:
    server, token = visit
    page = make_page(width=width, height=640, java_script_enabled=False)
    page.goto(f"{server.url}/h/{token}")
    no_sideways_scroll(page)
    page.get_by_role("link", name="Check my symptoms").click()
    no_sideways_scroll(page)
    for stage in STAGES:
        answer(page, stage)
    assert page.locator(".result").get_attribute("data-tier") == "urgent"
    no_sideways_scroll(page)
    page.goto(f"{server.url}/h/{token}/teachback")
    no_sideways_scroll(page)
    page.get_by_role("button", name="Check my answers").click()
    assert page.locator(".feedback-item").count() > 5
    no_sideways_scroll(page)


def test_911_stops_at_once_without_javascript(
    visit: tuple[LiveServer, str], make_page: Callable[..., Any]
) -> None:
    server, token = visit
    page = make_page(width=320, height=640, java_script_enabled=False)
    page.goto(f"{server.url}/h/{token}/check")
    answer(page, {"Did you pass out or faint?": "Yes"})
    assert page.locator(".result").get_attribute("data-tier") == "emergency"
    assert page.get_by_role("link", name="Call 911 now").get_attribute("href") == "tel:911"
    no_sideways_scroll(page)


@pytest.mark.parametrize("width", [320, 640])  # 640 = a 1280 px screen at 200 % zoom
def test_ended_link_page_is_accessible(
    live_server: Callable[..., LiveServer], sqlite_url: str, make_page: Callable[..., Any],
    width: int,
) -> None:
    server = live_server(sqlite_url)
    page = make_page(width=width, height=700)
    response = page.goto(f"{server.url}/h/{'x' * 43}")
    assert response.status == 404
    assert axe_violations(page) == []
    no_sideways_scroll(page)


BACK_SORE = "Is your back sore where the needle went in?"


def test_back_keeps_every_answer_without_javascript_at_320(
    visit: tuple[LiveServer, str], make_page: Callable[..., Any]
) -> None:
    """Back is a plain form button: one step back, each answer still chosen, then on again."""
    server, token = visit
    page = make_page(width=320, height=640, java_script_enabled=False)
    page.goto(f"{server.url}/h/{token}/check")
    assert page.get_by_role("button", name="Back").count() == 0  # the first step: the guide link
    answer(page, STAGES[0])
    answer(page, STAGES[1])
    back_sore = page.get_by_role("group", name="Is your back sore where the needle went in?")
    back_sore.get_by_label("Yes", exact=True).check()  # answered, then Back before Next
    no_sideways_scroll(page)
    page.get_by_role("button", name="Back").click()

    for question, choice in STAGES[1].items():  # the step before, as the patient left it
        group = page.get_by_role("group", name=question)
        assert group.get_by_label(choice, exact=True).is_checked(), question
    assert page.get_by_role("group", name=BACK_SORE).count() == 0
    no_sideways_scroll(page)
    page.get_by_role("button", name="Back").click()
    assert page.get_by_role("group", name="Did you pass out or faint?").get_by_label(
        "No", exact=True).is_checked()

    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Next").click()  # every answer is still there
    back_sore = page.get_by_role("group", name="Is your back sore where the needle went in?")
    assert back_sore.get_by_label("Yes", exact=True).is_checked()
    assert page.get_by_role("group", name="Do you have a headache?").count() == 0  # implied
    back_sore.get_by_label("No", exact=True).check()
    page.get_by_role("button", name="Next").click()
    net = page.get_by_role("group", name="Is anything else worrying you about your recovery?")
    net.get_by_label("Yes", exact=True).check()
    page.get_by_label("If you want, tell us in a few words what worries you.").fill(
        "My left foot feels cold")
    no_sideways_scroll(page)
    page.get_by_role("button", name="Next").click()
    assert page.locator(".result").get_attribute("data-tier") == "urgent"
    why = page.locator(".why").inner_text()
    assert "You told us something else worries you about your recovery." in why
    assert "You were not sure how to answer: Are your legs" in why
    assert "My left foot" not in page.content()  # the note is for the care team only
    no_sideways_scroll(page)


def test_the_check_steps_pass_axe_with_back_and_the_safety_net(
    visit: tuple[LiveServer, str], page: Any
) -> None:
    server, token = visit
    page.goto(f"{server.url}/h/{token}/check")
    for stage in STAGES[:3]:
        answer(page, stage)
    assert page.get_by_role("button", name="Back").is_visible()
    assert page.get_by_label("If you want, tell us in a few words what worries you.").is_visible()
    assert axe_violations(page) == []
