"""The sheet's public pages on a real server: /sheets/{code}, .pdf, .txt, with params and
languages; the page read by axe-core in Chromium and at 320 px."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers import (
    ENGLISH_ONLY_CODE,
    LiveServer,
    axe_violations,
    require,
    sideways_overflow,
)

FILLED = {"lie_flat_hours": "2", "clinic_phone": "555-0100"}


def words(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_filled_page_with_form_and_links(http: httpx.Client) -> None:
    response = http.get("/sheets/P586", params=FILLED)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert '<html lang="en">' in html
    text = words(html)
    assert "Stay lying down flat for 2 hours after the test" in text
    assert "Call your doctor now at 555-0100." in text
    assert "If you think it could be an emergency, call 911 at any time." in text
    assert '<form class="personalize" method="get" action="/sheets/P586">' in html
    assert 'href="/sheets/P586.pdf?lie_flat_hours=2&amp;clinic_phone=555-0100"' in html


def test_unset_params_show_unset_text(http: httpx.Client) -> None:
    assert "Stay lying down flat for 1 to 4 hours" in words(http.get("/sheets/p586").text)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"lie_flat_hours": "9"}, "lie_flat_hours must be 1 to 4"),
        ({"bed_rest": "1"}, "valid params: clinic_phone, lie_flat_hours"),
        ({"clinic_phone": "<script>alert(1)</script>"}, "clinic_phone must be a phone number"),
    ],
)
@pytest.mark.parametrize("suffix", ["", ".pdf", ".txt"])
def test_bad_params_are_400_with_the_reason(
    http: httpx.Client, query: dict[str, str], message: str, suffix: str
) -> None:
    response = http.get(f"/sheets/P586{suffix}", params=query)
    assert response.status_code == 400
    assert message in response.text.replace("&#39;", "'")
    assert "<script>alert(1)</script>" not in response.text


def test_unknown_sheet_is_404(http: httpx.Client) -> None:
    for suffix in ("", ".pdf", ".txt"):
        assert http.get(f"/sheets/P999{suffix}").status_code == 404


def test_spanish_by_query_and_by_browser(http: httpx.Client) -> None:
    for response in (
        http.get("/sheets/P586", params={"lang": "es", **FILLED}),
        http.get("/sheets/P586", params=FILLED, headers={"Accept-Language": "es-MX,es;q=0.9"}),
    ):
        assert '<html lang="es">' in response.text
        text = words(response.text)
        assert "Quédese acostado boca arriba 2 horas" in text
        assert "Llame a su médico ahora al 555-0100." in text


def test_missing_translation_falls_back_with_a_notice(
    http: httpx.Client, english_only: LiveServer
) -> None:
    # Every shipped sheet is in Spanish (issue 16): the fixture adds one that is not.
    response = http.get(f"/sheets/{ENGLISH_ONLY_CODE}", params={"lang": "es"})
    assert response.status_code == 200
    assert "Esta hoja no está disponible en español. Se muestra en inglés." in response.text
    assert '<article class="sheet" lang="en">' in response.text
    spanish = http.get("/sheets/CS101", params={"lang": "es"})
    assert "no está disponible" not in spanish.text
    assert '<article class="sheet" lang="es">' in spanish.text


def pdf_text(data: bytes, tmp_path: Path, *args: str) -> str:
    require(shutil.which("pdftotext"), "poppler-utils")
    path = tmp_path / "sheet.pdf"
    path.write_bytes(data)
    out = subprocess.run(["pdftotext", *args, str(path), "-"], capture_output=True, text=True)
    return " ".join(out.stdout.split())


def pdf_pages(data: bytes, tmp_path: Path) -> int:
    path = tmp_path / "pages.pdf"
    path.write_bytes(data)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    return int(re.search(r"Pages:\s+(\d+)", info).group(1))  # type: ignore[union-attr]


@pytest.mark.parametrize("lang", ["en", "es"])
def test_pdf_route(http: httpx.Client, tmp_path: Path, lang: str) -> None:
    response = http.get("/sheets/P586.pdf", params={**FILLED, "lang": lang})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert 'filename="P586.pdf"' in response.headers["content-disposition"]
    text = pdf_text(response.content, tmp_path)
    assert "555-0100" in text
    assert ("2 hours" if lang == "en" else "2 horas") in text
    assert pdf_pages(response.content, tmp_path) <= 2
    large = http.get("/sheets/P586.pdf", params={**FILLED, "lang": lang, "large": "1"})
    assert pdf_pages(large.content, tmp_path) > pdf_pages(response.content, tmp_path)
    a4 = http.get("/sheets/P586.pdf", params={**FILLED, "paper": "a4"})
    assert pdf_pages(a4.content, tmp_path) <= 2


def test_text_route(http: httpx.Client) -> None:
    response = http.get("/sheets/P586.txt", params=FILLED)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert max(len(line) for line in response.text.splitlines()) <= 72
    assert "[URGENT] Call your doctor now" in response.text
    assert "555-0100" in response.text


@pytest.mark.parametrize("lang", ["en", "es"])
def test_page_passes_axe_and_fits_320px(server: LiveServer, make_page: Any, lang: str) -> None:
    page = make_page(width=320, height=640, java_script_enabled=True)
    page.goto(f"{server.url}/sheets/P586?lang={lang}&lie_flat_hours=2&clinic_phone=555-0100")
    assert axe_violations(page) == []
    assert sideways_overflow(page) <= 0


def test_browser_print_of_the_screen_page_fits_two_pages(
    server: LiveServer, make_page: Any, tmp_path: Path
) -> None:
    page = make_page()
    page.goto(f"{server.url}/sheets/P586?lie_flat_hours=2&clinic_phone=555-0100")
    page.emulate_media(media="print")
    assert (
        page.evaluate("() => getComputedStyle(document.querySelector('form.personalize')).display")
        == "none"
    )
    pdf = page.pdf(format="Letter", print_background=True)
    assert pdf_pages(pdf, tmp_path) <= 2
    text = pdf_text(pdf, tmp_path)
    assert "Stay lying down flat for 2 hours" in text and "call 911 at any time" in text
