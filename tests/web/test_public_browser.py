"""The public pages in a real Chromium against a real server: the search box, axe-core,
no JavaScript, 320 px wide.

One server per module (``caresheet init`` + ``caresheet serve`` on SQLite); the store-specific
behaviour is covered in-process on both stores by test_public_search.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from caresheet.i18n import gettext_for
from helpers import LiveServer, axe_violations, fonts_load, sideways_overflow

EMERGENCY_LINE = "If you think it could be an emergency, call 911 at any time."

PAGES = {
    "home": "/",
    "search results": "/search?q=spinal+tap",
    "no results": "/search?q=zzzqqq",
    "did you mean": "/search?q=kne",
    "browse": "/browse",
    "error page": "/no-such-page",
    "spanish home": "/?lang=es",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("browser")
    live = LiveServer(f"sqlite:///{folder}/caresheet.db", workdir=folder)
    live.start()
    yield live
    live.stop()


def test_typing_a_code_lands_on_the_sheet(server: LiveServer, page: Any) -> None:
    page.goto(server.url + "/")
    page.get_by_label("Search by care sheet code or words").fill("P586")
    page.keyboard.press("Enter")
    page.wait_for_url(server.url + "/sheets/P586")
    assert page.url == server.url + "/sheets/P586"


def test_typing_a_lay_phrase_and_picking_the_result(server: LiveServer, page: Any) -> None:
    page.goto(server.url + "/")
    page.get_by_label("Search by care sheet code or words").fill("spinal tap")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/search?q=spinal+tap")
    first = page.locator("ol.results > li h2 a").first
    assert "Spinal Tap" in first.inner_text()
    first.click()
    page.wait_for_url(server.url + "/sheets/P586")


def test_search_works_without_javascript(
    server: LiveServer, make_page: Callable[..., Any]
) -> None:
    page = make_page(java_script_enabled=False)
    page.goto(server.url + "/")
    page.get_by_label("Search by care sheet code or words").fill("colonscopy")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=colonscopy")
    assert "Colonoscopy" in page.locator("ol.results").inner_text()
    page.goto(server.url + "/")
    page.get_by_label("Search by care sheet code or words").fill("cs 111")
    page.keyboard.press("Enter")
    page.wait_for_url(server.url + "/sheets/CS111")


@pytest.mark.parametrize("path", list(PAGES.values()), ids=list(PAGES))
def test_no_axe_violations(server: LiveServer, page: Any, path: str) -> None:
    page.goto(server.url + path)
    assert axe_violations(page) == []


def test_no_axe_violations_on_the_sheet_page(server: LiveServer, page: Any) -> None:
    response = page.goto(server.url + "/sheets/P586")
    if response is None or response.status != 200:
        pytest.skip("the sheet page (web/sheets.py) does not answer yet")
    assert axe_violations(page) == []


@pytest.mark.parametrize("path", list(PAGES.values()), ids=list(PAGES))
def test_320_px_wide_has_no_horizontal_scroll(
    server: LiveServer, make_page: Callable[..., Any], path: str
) -> None:
    page = make_page(width=320, height=640)
    page.goto(server.url + path)
    assert sideways_overflow(page) <= 0
    spanish = gettext_for("es").gettext(EMERGENCY_LINE)
    assert spanish != EMERGENCY_LINE
    assert (spanish if "lang=es" in path else EMERGENCY_LINE) in page.content()


def test_200_percent_zoom_keeps_the_box_usable(
    server: LiveServer, make_page: Callable[..., Any]
) -> None:
    # A 1280 px window at 200 % zoom lays out like 640 CSS px with two device pixels per px.
    page = make_page(width=640, height=450, device_scale_factor=2)
    page.goto(server.url + "/search?q=spinal+tap")
    assert sideways_overflow(page) <= 0
    box = page.get_by_label("Search by care sheet code or words").bounding_box()
    button = page.get_by_role("button", name="Search").bounding_box()
    assert box is not None and box["height"] >= 44
    assert button is not None and button["height"] >= 44 and button["width"] >= 44


def test_body_text_is_at_least_16_px_in_atkinson(server: LiveServer, page: Any) -> None:
    page.goto(server.url + "/search?q=spinal+tap")
    size = page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
    assert size >= 16
    family = page.evaluate("() => getComputedStyle(document.body).fontFamily")
    assert family.startswith('"Atkinson Hyperlegible"'), family
    assert fonts_load(page, '16px "Atkinson Hyperlegible"')


def test_the_skip_link_is_first_and_shows_on_focus(server: LiveServer, page: Any) -> None:
    page.goto(server.url + "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement.className")
    assert focused == "skip"
    top = page.evaluate("() => document.activeElement.getBoundingClientRect().top")
    assert top >= 0
    page.keyboard.press("Enter")
    assert page.url.endswith("#main")


def test_print_hides_the_site_chrome(server: LiveServer, page: Any) -> None:
    page.goto(server.url + "/search?q=spinal+tap")
    page.emulate_media(media="print")
    assert page.locator("header.site nav").is_hidden()
    assert page.locator("form.search-form").is_hidden()
    assert page.get_by_text(EMERGENCY_LINE).is_visible()


@pytest.mark.parametrize(("path", "links"), [
    ("/", "header.site nav a"),
    ("/sheets/P586", ".sheet-tools a"),
])
def test_links_in_a_row_line_up(server: LiveServer, page: Any, path: str, links: str) -> None:
    """Row lists must not inherit the stacked lists' top margin (it pushed items down)."""
    page.goto(server.url + path)
    tops = page.eval_on_selector_all(links, "els => els.map(e => e.getBoundingClientRect().top)")
    assert len(tops) >= 2
    assert max(tops) - min(tops) < 1, tops
