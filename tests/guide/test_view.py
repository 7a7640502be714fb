"""The patient's guide in their words and size (issue 13, point 6).

A language switch and a large-print switch on every page under ``/h/{token}`` (``?lang=``,
``?large=1``), the patient's preferred language and then the browser's ``Accept-Language``
for the first page, a translation offered only when it triages as the pinned version does,
a result page that says what happens next, a "Call 911" bar that stays in view, and phone
numbers that never break across lines.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from caresheet import guide
from caresheet.model.compare import same_logic
from caresheet.model.contact import PatientContact
from caresheet.store.db import Store
from guide.conftest import LIBRARY, NOW, issue
from helpers import LiveServer, axe_violations, import_published, sideways_overflow

Issue = Callable[..., dict[str, Any]]
EN_FIRST = {"a.passed_out": "no"}
ALL_NO = {"a.passed_out": "no", "a.fever": "no", "a.severe_headache": "no",
          "a.site_drainage": "no", "a.numb_or_weak": "no", "a.headache": "no",
          "a.sore_back": "no", "a.other_concern": "no"}
BAR_911 = re.compile(r'<header class="site">.*?<a class="button call call-911 bar-911" '
                     r'href="tel:911">', re.S)


# ---------------------------------------------------------------- the core: which sheet is shown


def test_a_translation_is_offered_only_when_it_triages_as_the_pinned_version(
        store: Store, tmp_path: Path) -> None:
    old = issue(store).token  # pinned to English version 1; no Spanish yet

    # English version 2 moves a rule up a tier, and the Spanish is written for version 2.
    text = (LIBRARY / "P586.en.md").read_text(encoding="utf-8")
    lines = text.splitlines()
    first_urgent = next(i for i, line in enumerate(lines) if line.strip() == "tier: urgent")
    lines[first_urgent] = lines[first_urgent].replace("urgent", "emergency")
    (tmp_path / "P586.en.md").write_text(
        "\n".join(lines).replace("version: 1", "version: 2", 1) + "\n", encoding="utf-8")
    (tmp_path / "P586.es.md").write_text(
        (LIBRARY / "P586.es.md").read_text(encoding="utf-8"), encoding="utf-8")
    with store.session() as session:
        import_published(session, [tmp_path / "P586.en.md", tmp_path / "P586.es.md"])

    new = guide.open_handout(store, issue(store).token, NOW, "page", None, language="es")
    assert new.languages == ("en", "es")
    assert new.sheet.language == "es" and new.handout.language == "en"
    # The Spanish follows version 2's rules: a version-1 handout is never shown in it.
    opened = guide.open_handout(store, old, NOW, "page", None, language="es")
    assert opened.languages == ("en",)
    assert opened.sheet.language == "en" and opened.sheet.version == 1


def test_the_check_in_gives_the_same_tier_in_either_language_with_its_words(
        store: Store) -> None:
    with store.session() as session:
        import_published(session, [LIBRARY / "P586.en.md", LIBRARY / "P586.es.md"])
    answers = {"passed_out": "no", "fever": "no", "severe_headache": "yes",
               "site_drainage": "no", "numb_or_weak": "no", "sore_back": "no",
               "other_concern": "no"}
    english = guide.check_in(store, issue(store).token, answers, NOW)
    spanish = guide.check_in(store, issue(store).token, answers, NOW, language="es")
    assert english.disposition.tier is spanish.disposition.tier
    assert [m.id for m in english.disposition.matched] == [
        m.id for m in spanish.disposition.matched]
    assert english.disposition.action != spanish.disposition.action
    assert spanish.disposition.action.startswith("Llame a su médico ahora")


def test_the_preferred_language_comes_before_the_browsers(store: Store) -> None:
    # Issued while only English was published: pinned in English, Spanish preferred.
    token = issue(store, contact=PatientContact(language="es-MX")).token
    with store.session() as session:
        import_published(session, [LIBRARY / "P586.en.md", LIBRARY / "P586.es.md"])
    assert guide.open_handout(store, token, NOW, "page", None,
                              browser=("en",)).sheet.language == "es"
    assert guide.open_handout(store, token, NOW, "page", None, language="en",
                              browser=("es",)).sheet.language == "en"
    plain = issue(store).token
    assert guide.open_handout(store, plain, NOW, "page", None,
                              browser=("fr", "es", "en")).sheet.language == "es"
    assert guide.open_handout(store, plain, NOW, "page", None).sheet.language == "en"


def test_every_shipped_translation_has_its_english_sheets_logic() -> None:
    from caresheet.authoring.parse import read_file

    for english_file in sorted(LIBRARY.glob("*.en.md")):
        english = read_file(english_file).sheet
        spanish = read_file(english_file.with_name(
            english_file.name.replace(".en.", ".es.")), english).sheet
        assert same_logic(english, spanish), english_file.name


# ---------------------------------------------------------------- the pages over HTTP


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server (samples in English and Spanish published by init) for these tests."""
    folder: Path = tmp_path_factory.mktemp("guide-view")
    with LiveServer(f"sqlite:///{folder}/caresheet.db", workdir=folder) as running:
        yield running


def get(url: str, **headers: str) -> httpx.Response:
    return httpx.get(url, headers=headers, timeout=30, follow_redirects=True)


def post(url: str, data: dict[str, Any]) -> httpx.Response:
    return httpx.post(url, data=data, timeout=30, follow_redirects=True)


def test_the_language_switch_carries_the_language_to_every_page(
        server: LiveServer, issue_handout: Issue) -> None:
    token = issue_handout(server)["token"]
    english = get(f"{server.url}/h/{token}")
    assert '<html lang="en">' in english.text
    assert f'href="/h/{token}?lang=es" lang="es" hreflang="es">Español</a>' in english.text
    assert f'href="/h/{token}/check?lang=en"' in english.text

    spanish = get(f"{server.url}/h/{token}?lang=es")
    assert '<html lang="es">' in spanish.text
    assert "Punción lumbar" in spanish.text
    assert 'class="button call call-911 bar-911" href="tel:911">Llame al 911</a>' in spanish.text
    assert f'href="/h/{token}?lang=en" lang="en" hreflang="en">English</a>' in spanish.text
    for page in ("check", "teachback", "calendar.ics"):
        assert f'href="/h/{token}/{page}?lang=es"' in spanish.text

    check = get(f"{server.url}/h/{token}/check?lang=es")
    assert '<input type="hidden" name="lang" value="es">' in check.text
    teach = get(f"{server.url}/h/{token}/teachback?lang=es")
    assert '<input type="hidden" name="lang" value="es">' in teach.text
    result = post(f"{server.url}/h/{token}/check", {"lang": "es", **ALL_NO})
    assert re.search(rf"/h/{token}/checkins/\d+\?lang=es$", str(result.url))
    assert '<html lang="es">' in result.text and "Qué pasa ahora" in result.text


def test_accept_language_picks_the_first_page(server: LiveServer, issue_handout: Issue) -> None:
    token = issue_handout(server)["token"]
    assert '<html lang="es">' in get(f"{server.url}/h/{token}",
                                     **{"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"}).text
    assert '<html lang="en">' in get(f"{server.url}/h/{token}",
                                     **{"Accept-Language": "fr-FR,en;q=0.8"}).text
    # The page's own switch wins over the browser.
    assert '<html lang="en">' in get(f"{server.url}/h/{token}?lang=en",
                                     **{"Accept-Language": "es"}).text
    # A patient who told the clinic "Spanish" gets Spanish on an English browser.
    preferred = issue_handout(server, preferred_language="es")["token"]
    assert '<html lang="es">' in get(f"{server.url}/h/{preferred}",
                                     **{"Accept-Language": "en-US"}).text


def test_large_print_is_kept_on_every_link_and_form(
        server: LiveServer, issue_handout: Issue) -> None:
    token = issue_handout(server)["token"]
    regular = get(f"{server.url}/h/{token}")
    assert 'class="large"' not in regular.text.split("<head>")[0]
    assert f'href="/h/{token}?lang=en&amp;large=1">Large print</a>' in regular.text
    large = get(f"{server.url}/h/{token}?large=1")
    assert '<html lang="en" class="large">' in large.text
    assert f'href="/h/{token}/check?lang=en&amp;large=1"' in large.text
    assert f'href="/h/{token}?lang=en">Regular print</a>' in large.text
    check = get(f"{server.url}/h/{token}/check?large=1")
    assert '<input type="hidden" name="large" value="1">' in check.text
    nxt = post(f"{server.url}/h/{token}/check", {"lang": "en", "large": "1", **EN_FIRST})
    assert '<html lang="en" class="large">' in nxt.text


def test_a_switch_on_a_step_shows_the_same_step_with_every_answer_kept(
        server: LiveServer, issue_handout: Issue) -> None:
    token = issue_handout(server)["token"]
    url = f"{server.url}/h/{token}/check"
    second = post(url, {"lang": "en", **EN_FIRST})
    shown = re.findall(r'name="shown" value="([a-z_]+)"', second.text)
    assert shown and "passed_out" not in shown
    assert 'form="check-form" name="switch" value="lang:es"' in second.text

    switched = post(url, {"lang": "en", **EN_FIRST, "a.fever": "yes",
                          "shown": shown, "switch": "lang:es"})
    assert switched.status_code == 200
    assert '<html lang="es">' in switched.text
    assert re.findall(r'name="shown" value="([a-z_]+)"', switched.text) == shown
    assert re.search(r'name="a\.fever" value="yes" required checked', switched.text)
    assert '<input type="hidden" name="a.passed_out" value="no">' in switched.text
    assert "Saved" not in switched.text and "data-tier" not in switched.text  # nothing triaged

    bigger = post(url, {"lang": "es", **EN_FIRST, "a.fever": "yes", "shown": shown,
                        "switch": "large:1"})
    assert '<html lang="es" class="large">' in bigger.text
    assert re.findall(r'name="shown" value="([a-z_]+)"', bigger.text) == shown


def test_the_result_says_what_happens_next(server: LiveServer, issue_handout: Issue) -> None:
    token = issue_handout(server)["token"]
    url = f"{server.url}/h/{token}/check"
    calm = post(url, ALL_NO)
    assert 'data-tier="self_care"' in calm.text
    assert "This check does not alert your care team." in calm.text
    assert "has been told" not in calm.text

    urgent = post(url, {**ALL_NO, "a.severe_headache": "yes"})
    assert 'data-tier="urgent"' in urgent.text
    assert ("Your care team has been told, but they may not see it at once. "
            "Do not wait for them to call you: call them now.") in urgent.text
    # The tier's own action is the one big button, the number on one line.
    assert re.search(r'<a class="button call huge primary-call" href="tel:5550100">'
                     r'Call your clinic now: <span class="phone">555-0100</span></a>',
                     urgent.text)
    assert urgent.text.count('href="tel:5550100"') == 1

    emergency = post(url, {"a.passed_out": "yes"})
    assert 'data-tier="emergency"' in emergency.text
    assert "Do not wait for them: call 911 now." in emergency.text
    assert 'class="button call call-911 huge"' in emergency.text


def test_every_guide_page_has_the_911_bar(server: LiveServer, issue_handout: Issue) -> None:
    token = issue_handout(server)["token"]
    pages = [get(f"{server.url}/h/{token}{path}")
             for path in ("", "/check", "/teachback", "/stop", "?lang=es&large=1")]
    pages.append(post(f"{server.url}/h/{token}/check", ALL_NO))
    pages.append(post(f"{server.url}/h/{token}/teachback", {"lang": "en"}))
    pages.append(get(f"{server.url}/h/{'x' * 43}"))  # an unknown link
    for page in pages:
        assert BAR_911.search(page.text), page.url


# ---------------------------------------------------------------- in a real browser


@pytest.mark.browser
@pytest.mark.parametrize("width", [320, 1280])
def test_the_911_bar_stays_in_view_and_phones_stay_whole(
        server: LiveServer, issue_handout: Issue, make_page: Callable[..., Any],
        width: int) -> None:
    token = issue_handout(server, display_name="Ana")["token"]
    page = make_page(width=width, height=640)  # the pages have no script (CSP); axe needs one
    for path in (f"/h/{token}?large=1&lang=es", f"/h/{token}?large=1"):
        page.goto(server.url + path)
        assert axe_violations(page) == []
        assert sideways_overflow(page) <= 0
        page.mouse.wheel(0, 20000)  # scroll to the very bottom
        page.wait_for_timeout(200)
        assert page.evaluate("window.scrollY") > 500
        bar = page.locator(".bar-911").bounding_box()
        assert bar is not None and 0 <= bar["y"] < 80, bar
        for phone in page.locator(".phone").all():
            lines = phone.evaluate("el => el.getClientRects().length")
            assert lines == 1, phone.inner_text()

    page.goto(f"{server.url}/h/{token}/check?large=1")
    page.get_by_role("button", name="Español").click()
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.locator("html").get_attribute("class") == "large"
    assert axe_violations(page) == []
