"""PDF read back as a reader would: poppler's pdftotext, pdfinfo, pdffonts and pdftoppm."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from threading import Thread

import pytest

from caresheet.model.sheet import Sheet
from caresheet.render.html import print_stylesheet, render_print, sheet_page
from caresheet.render.pdf import html_to_pdf, local_only_fetcher, render_pdf, typesetter
from helpers import require

FILLED = {"lie_flat_hours": "2", "clinic_phone": "555-0100"}
QR = "https://caresheet.example.org/sheets/P586"


def poppler(tool: str, *args: str) -> str:
    require(shutil.which(tool), f"{tool} (apt-get install poppler-utils)")
    return subprocess.run([tool, *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def pdfs(
    tmp_path_factory: pytest.TempPathFactory, sheets_by_lang: dict[str, Sheet]
) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pdf")
    made: dict[str, Path] = {}
    for lang, sheet in sheets_by_lang.items():
        for large in (False, True):
            name = f"{lang}{'-large' if large else ''}"
            page = sheet_page(sheet, FILLED, lang=lang, large=large, qr_url=QR)
            made[name] = folder / f"{name}.pdf"
            made[name].write_bytes(render_pdf(page))
    made["en-a4"] = folder / "en-a4.pdf"
    made["en-a4"].write_bytes(render_pdf(sheet_page(sheets_by_lang["en"], FILLED), paper="a4"))
    return made


def pages(path: Path) -> int:
    return int(re.search(r"^Pages:\s+(\d+)", poppler("pdfinfo", str(path)), re.M).group(1))  # type: ignore[union-attr]


def text_of(path: Path) -> str:
    return " ".join(poppler("pdftotext", "-layout", str(path), "-").split())


@pytest.mark.parametrize("name", ["en", "es", "en-a4"])
def test_normal_print_fits_on_two_pages(pdfs: dict[str, Path], name: str) -> None:
    assert 1 <= pages(pdfs[name]) <= 2


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "en",
            [
                "Stay lying down flat for 2 hours",
                "Call 555-0100 if you need to set one up",
                "Call your doctor now at 555-0100",
                "If you think it could be an emergency, call 911",
                "P586",
                "Version 1",
                "Draft",
                "Page 1 of",
                "not reviewed yet",
            ],
        ),
        ("en-large", ["Stay lying down flat for 2 hours", "555-0100", "Page 1 of"]),
        (
            "es",
            [
                "Quédese acostado boca arriba 2 horas",
                "Llame al 555-0100 si necesita",
                "Si cree que puede ser una emergencia",
                "Página 1 de",
                "Versión 1",
                "Borrador",
            ],
        ),
        ("es-large", ["2 horas", "555-0100", "Página 1 de"]),
    ],
)
def test_pdf_text_has_filled_values_header_and_footer(
    pdfs: dict[str, Path], name: str, expected: list[str]
) -> None:
    text = text_of(pdfs[name])
    for words in expected:
        assert words in text


def test_fonts_are_embedded_atkinson_hyperlegible(pdfs: dict[str, Path]) -> None:
    fonts = poppler("pdffonts", str(pdfs["en"]))
    assert "Atkinson-Hyperlegible" in fonts
    assert all(line.split()[-5] == "yes" for line in fonts.splitlines()[2:])  # embedded


def _word_height(path: Path, word: str) -> float:
    bbox = poppler("pdftotext", "-bbox", str(path), "-")
    match = re.search(rf'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">{word}</word>', bbox)
    assert match, word
    return float(match.group(2)) - float(match.group(1))


def test_body_text_size_normal_at_least_12pt_and_large_at_least_16pt(pdfs: dict[str, Path]) -> None:
    # The same word in the same font: its box grows with the font size. "Drink" starts a
    # body step; the normal print body is set at 12 pt, so the ratio gives the large size.
    normal = _word_height(pdfs["en"], "Drink")
    large = _word_height(pdfs["en-large"], "Drink")
    assert normal / 1.24 >= 11.9  # Atkinson's line box is 1.24 em
    assert 12 * large / normal >= 16
    assert pages(pdfs["en-large"]) > pages(pdfs["en"])


def test_pages_render_to_images(pdfs: dict[str, Path], tmp_path: Path) -> None:
    poppler("pdftoppm", "-png", "-r", "60", str(pdfs["en"]), str(tmp_path / "page"))
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == pages(pdfs["en"])
    assert all(image.stat().st_size > 10_000 for image in images)


def test_hostile_param_is_plain_text_in_the_pdf(xss_sheet: Sheet, xss: str, tmp_path: Path) -> None:
    path = tmp_path / "xss.pdf"
    path.write_bytes(render_pdf(sheet_page(xss_sheet, {"nurse_name": xss})))
    assert '<script>alert("x")</script>&<b>' in text_of(path)


def test_network_urls_are_refused() -> None:
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        with pytest.raises(ValueError, match="disallowed protocol"):
            local_only_fetcher()(f"{url}/evil.css")
        pdf = html_to_pdf(
            f'<link rel="stylesheet" href="{url}/a.css"><p>Hi</p><img src="{url}/x.png" alt="">'
        )
    finally:
        server.shutdown()
    assert pdf.startswith(b"%PDF")
    assert hits == []


# ---------------------------------------------------------------- one typesetter per process
#
# A PDF worker keeps one font configuration and the print stylesheet parsed once, for every
# document it makes (render.pdf). These hold that the shortcut changes nothing a reader sees.


def test_two_pdfs_in_a_row_share_the_typesetter_and_both_carry_their_text_and_fonts(
    sheets_by_lang: dict[str, Sheet], tmp_path: Path
) -> None:
    shared = typesetter()
    english = render_pdf(sheet_page(sheets_by_lang["en"], FILLED, qr_url=QR))
    spanish = render_pdf(sheet_page(sheets_by_lang["es"], {"lie_flat_hours": "3"}, lang="es"))
    assert typesetter() is shared  # no new font configuration or stylesheet per document
    for name, pdf, said, not_said in (
        ("en", english, "Stay lying down flat for 2 hours", "Quédese"),
        ("es", spanish, "Quédese acostado boca arriba 3 horas", "Stay lying down"),
    ):
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(pdf)
        text = text_of(path)
        assert said in text and not_said not in text
        fonts = [line.split() for line in poppler("pdffonts", str(path)).splitlines()[2:]]
        atkinson = [row for row in fonts if "Atkinson-Hyperlegible" in row[0]]
        # Regular and bold, each embedded (the @font-face faces were not lost after the first).
        assert {row[0].split("+")[-1] for row in atkinson} >= {
            "Atkinson-Hyperlegible", "Atkinson-Hyperlegible-Bold"}
        assert all(row[-5] == "yes" for row in fonts)


def test_the_print_page_carries_the_shared_stylesheet_verbatim(p586: Sheet) -> None:
    # A browser printing the page needs every rule inline; render.pdf finds this exact text
    # to swap it for its parsed copy, so an escaped or reformatted copy would be a slow PDF.
    html = render_print(sheet_page(p586, FILLED))
    assert html.count(print_stylesheet()) == 1
    assert "@font-face" in print_stylesheet() and ".tier-emergency" in print_stylesheet()
    assert "@page" not in print_stylesheet()  # page rules stay per document, author origin


@pytest.mark.parametrize("large", [False, True])
def test_the_parsed_stylesheet_renders_exactly_as_the_inline_one(
    p586: Sheet, tmp_path: Path, large: bool
) -> None:
    from weasyprint import HTML

    html = render_print(sheet_page(p586, FILLED, large=large, qr_url=QR))
    # What WeasyPrint makes of the document as a browser gets it: all CSS inline, fresh fonts.
    inline = HTML(string=html, base_url="file:///", url_fetcher=local_only_fetcher()).write_pdf()
    images = {}
    for name, pdf in (("inline", inline), ("shared", html_to_pdf(html))):
        (tmp_path / f"{name}.pdf").write_bytes(pdf)
        poppler("pdftoppm", "-png", "-r", "50", str(tmp_path / f"{name}.pdf"), str(tmp_path / name))
        images[name] = [hashlib.sha256(p.read_bytes()).hexdigest()  # short when they differ
                        for p in sorted(tmp_path.glob(f"{name}-*.png"))]
    assert images["shared"] and images["shared"] == images["inline"]
