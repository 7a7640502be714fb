"""HTML: the screen page and the print page, read as a browser and a screen reader would."""

from __future__ import annotations

import itertools
import re
from html.parser import HTMLParser

import pytest

from caresheet.i18n import fallback_notice
from caresheet.model.sheet import Sheet, Status
from caresheet.render.html import render_page, render_print, sheet_links, sheet_page
from caresheet.web.deps import chrome_for

FILLED = {"lie_flat_hours": "2", "clinic_phone": "555-0100"}


class Outline(HTMLParser):
    """Headings in order and the text of the page, as assistive technology sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[tuple[int, str]] = []
        self.text: list[str] = []
        self._level = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if re.fullmatch(r"h[1-6]", tag):
            self._level = int(tag[1])
            self.headings.append((self._level, ""))

    def handle_endtag(self, tag: str) -> None:
        if re.fullmatch(r"h[1-6]", tag):
            self._level = 0

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._level:
            level, text = self.headings[-1]
            self.headings[-1] = (level, text + data)


def outline(html: str) -> Outline:
    parser = Outline()
    parser.feed(html)
    return parser


def page_html(sheet: Sheet, **kwargs: object) -> str:
    page = sheet_page(sheet, FILLED, **kwargs)  # type: ignore[arg-type]
    return render_page(page, {"chrome_for": chrome_for})


@pytest.mark.parametrize("lang", ["en", "es"])
def test_headings_never_skip_a_level(sheets_by_lang: dict[str, Sheet], lang: str) -> None:
    for html in (page_html(sheets_by_lang[lang]), render_print(sheet_page(sheets_by_lang[lang]))):
        levels = [level for level, _ in outline(html).headings]
        assert levels.count(1) == 1
        for before, after in itertools.pairwise(levels):
            assert after <= before + 1


def test_print_page_has_filled_values_tiers_and_review_status(p586: Sheet) -> None:
    html = render_print(sheet_page(p586, FILLED, qr_url="https://example.org/sheets/P586"))
    text = " ".join(" ".join(outline(html).text).split())
    assert '<html lang="en">' in html
    assert "Stay lying down flat for 2 hours after the test" in text
    assert "Call 555-0100 if you need to set one up." in text
    assert "Draft: not reviewed yet. Do not give it to patients." in text
    assert "Not reviewed yet. Do not give it to patients." in text
    assert "Sample content" not in text  # a draft is not a sample
    sample = render_print(sheet_page(p586.model_copy(update={
        "status": Status.PUBLISHED, "sample": True}), FILLED))
    sample_text = " ".join(" ".join(outline(sample).text).split())
    assert "Sample content — not reviewed for patient use" in sample_text
    assert "not reviewed yet" not in sample_text
    # Tiers are told apart by words, not color alone; 911 line before the tiers.
    cfh = text[text.index("When should you call for help?") :]
    order = [
        cfh.index(w)
        for w in (
            "call 911 at any time",
            "Emergency Call 911 now if:",
            "Urgent Call your doctor now",
            "Watch Watch for changes",
        )
    ]
    assert order == sorted(order)
    assert "<svg" in html and 'aria-label="QR code"' in html
    assert "@font-face" in html and "AtkinsonHyperlegible-Regular.ttf" in html


def test_screen_page_extends_the_site_frame_with_a_personalization_form(p586: Sheet) -> None:
    links = sheet_links("P586", FILLED, "en", False)
    html = page_html(p586, links=links)
    assert 'href="/static/print.css" media="print"' in html
    assert '<form class="personalize" method="get" action="/sheets/P586">' in html
    assert 'name="lie_flat_hours"' in html and 'value="2"' in html
    assert 'type="tel"' in html
    assert 'href="/sheets/P586.pdf?lie_flat_hours=2&amp;clinic_phone=555-0100"' in html
    assert 'hreflang="es"' in html and "español" in html


def test_param_values_are_escaped(xss_sheet: Sheet, xss: str) -> None:
    for html in (
        render_print(sheet_page(xss_sheet, {"nurse_name": xss})),
        render_page(
            sheet_page(
                xss_sheet,
                {"nurse_name": xss},
                links=sheet_links("P586", {"nurse_name": xss}, "en", False),
            ),
            {"chrome_for": chrome_for},
        ),
    ):
        assert "<script>" not in html
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;&lt;b&gt;" in html


def test_spanish_page_speaks_spanish(p586_es: Sheet) -> None:
    html = render_print(sheet_page(p586_es, FILLED, lang="es"))
    text = " ".join(" ".join(outline(html).text).split())
    assert '<html lang="es">' in html and '<article class="sheet" lang="es">' in html
    assert "Quédese acostado boca arriba 2 horas después de la prueba" in text
    assert "Llame a su médico ahora al 555-0100." in text
    assert "Borrador: todavía sin revisar. No la entregue a los pacientes." in text
    assert '"Página "' in html  # the page footer of the PDF


def test_fallback_notice_in_the_readers_language(p586: Sheet) -> None:
    notice = fallback_notice("es", "en")
    assert notice == "Esta hoja no está disponible en español. Se muestra en inglés."
    html = render_print(sheet_page(p586, lang="es", notice=notice))
    assert '<html lang="es">' in html and '<article class="sheet" lang="en">' in html
    assert notice in html


def test_large_print_marks_the_page(p586: Sheet) -> None:
    html = render_print(sheet_page(p586, large=True))
    assert '<body class="print large">' in html
    assert re.search(r"body\.large, \.sheet\.large \{ font-size: (\d+)pt", html)
