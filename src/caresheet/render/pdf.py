"""A sheet as PDF: WeasyPrint from the same print HTML a browser would print.

Nothing is fetched from the network: fonts come from local files, and the URL fetcher
refuses anything but ``file:`` and ``data:`` URLs, so a sheet's text can never make the
renderer call out.

What does not change from one PDF to the next is made once per thread (a PDF worker process
has one): the font configuration with the ``@font-face`` fonts registered, and the shared
print stylesheet (``html.print_stylesheet()``) parsed into a ``weasyprint.CSS``. Making
them per document cost about a third of each render (bench/render.py). WeasyPrint's own
docs build a ``FontConfiguration`` and pass it with the ``CSS`` made against it; it is safe
to reuse, since ``add_font_face`` skips a face it has already stored. It is not shared
between threads: Pango's font map is not documented as thread-safe.
"""

from __future__ import annotations

import atexit
import threading
from dataclasses import dataclass
from html import escape
from typing import Any

from caresheet.render import fonts
from caresheet.render.html import SheetPage, print_stylesheet, render_print

LOCAL_SCHEMES = frozenset({"file", "data"})
BASE_URL = "file:///"


def local_only_fetcher() -> Any:
    """WeasyPrint's URL fetcher, restricted to local files and data URLs (no http, https, ftp)."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols=LOCAL_SCHEMES, allow_redirects=False)


@dataclass(frozen=True, slots=True)
class Typesetter:
    """What every PDF of one thread shares: fonts, the parsed print stylesheet, the fetcher."""

    font_config: Any  # weasyprint.text.fonts.FontConfiguration
    stylesheet: Any  # weasyprint.CSS of print_stylesheet(), its font faces in font_config
    shared_css: str  # the text it was parsed from, as render_print puts it in a document
    fetcher: Any


# By thread id rather than in a threading.local, so that all can be let go at exit (below).
# A dead thread's id is soon reused by a new thread, which then takes over its Typesetter.
_typesetters: dict[int, Typesetter] = {}


def typesetter() -> Typesetter:
    """This thread's Typesetter, made on first use."""
    found = _typesetters.get(threading.get_ident())
    if found is None:
        found = _typesetters[threading.get_ident()] = _new_typesetter()
    return found


@atexit.register
def _let_go_at_exit() -> None:
    """Free the typesetters while the interpreter is whole: a FontConfiguration deletes its
    temporary copy of the fonts when collected, which fails (and leaves the folder behind)
    if that happens during interpreter shutdown."""
    _typesetters.clear()


def _new_typesetter() -> Typesetter:
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    font_config = FontConfiguration()
    fetcher = local_only_fetcher()
    text = print_stylesheet()
    sheet = CSS(string=text, base_url=BASE_URL, url_fetcher=fetcher, font_config=font_config)
    return Typesetter(font_config, sheet, text, fetcher)


def html_to_pdf(html: str) -> bytes:
    """PDF bytes from a whole print document (its CSS inline).

    When the document carries the shared print stylesheet, that text is cut out and the copy
    parsed once is given instead. WeasyPrint applies a given stylesheet as the user's, below
    the document's own rules; what stays inline is only ``@page`` rules, which no rule of the
    shared sheet competes with, so the PDF looks the same (tests/render/test_pdf.py holds it).
    """
    from weasyprint import HTML

    shared = typesetter()
    own = html.replace(shared.shared_css, "", 1)
    stylesheets = [shared.stylesheet] if len(own) < len(html) else []
    document = HTML(string=own, base_url=BASE_URL, url_fetcher=shared.fetcher)
    data: bytes = document.write_pdf(font_config=shared.font_config, stylesheets=stylesheets)
    return data


# A small print page with the parts of sheet/_sheet.html that set their own type (every size
# of the print stylesheet, bold and italic, running heads, an SVG), so a worker's first sheet
# finds Pango's and WeasyPrint's caches already holding what it needs.
WARM_UP_HTML = """<!doctype html><html lang=en><head><meta charset=utf-8><title>Warm up</title>
<style>@page { size: Letter; @top-left { content: string(sheet-title); }
  @top-right { content: string(sheet-code); font: bold %(small)s %(family)s; }
  @bottom-right { content: "Page " counter(page) " of " counter(pages);
    font: %(small)s %(family)s; } }</style>
<style>%(shared)s</style></head>
<body class="print%(large)s"><main class="sheet%(large)s">
<header class=sheet-head><p class=status><b>Draft:</b> %(text)s</p>
<h1 class=sheet-title>Warm up</h1><p class=sheet-meta><span class=meta-code>P000</span> %(text)s</p>
<p class=aliases><b>Also called:</b> %(text)s</p></header>
<section class=section><h2>%(text)s</h2><p>%(text)s <b>%(text)s</b> <i>%(text)s</i>
<b><i>%(text)s</i></b></p><h3>%(text)s</h3><ul><li>%(text)s<ul><li>%(text)s</li></ul></li></ul>
</section>
<section class=section><p class=emergency-line><b>%(text)s</b></p>
<div class="tier tier-emergency"><h3><span class=tier-badge>Emergency</span> %(text)s</h3>
<ul><li>%(text)s</li></ul><p class=tier-action>%(text)s</p></div>
<div class="tier tier-urgent"><h3><span class=tier-badge>Urgent</span> %(text)s</h3></div>
<div class="tier tier-contact"><h3><span class=tier-badge>Watch</span> %(text)s</h3></div></section>
<footer class=sheet-foot><figure class=qr><svg xmlns="http://www.w3.org/2000/svg" width="10"
height="10"><path d="M0 0h5v5h-5z"/></svg><figcaption>%(text)s</figcaption></figure>
<p class=sample>%(text)s</p><p>%(text)s</p></footer>
</main></body></html>"""


def warm_up() -> None:
    """Ready a process that will make many PDFs, so its first real one is not slower.

    WeasyPrint is imported, the fonts loaded and the print stylesheet parsed (WARM_UP_HTML in
    normal and large print goes the same way as a sheet), and the font subsetter's array
    types are made ahead. A PDF worker process runs this when it starts (see
    ``render.pool``); a one-off PDF (the CLI) does not need it.
    """
    text = escape("".join(chr(c) for c in range(0x21, 0x7F)) + " áéíóúñü¿¡·—\u2019\u201c\u201d")
    for large, small in (("", "9pt"), (" large", "13pt")):
        html_to_pdf(WARM_UP_HTML % {
            "family": fonts.FAMILY, "shared": print_stylesheet(), "text": text,
            "large": large, "small": small,
        })
    make_subset_array_types()


SUBSET_ARRAY_SIZES = 8192  # DejaVu Sans, the fallback, has about 6,250 glyphs


def make_subset_array_types() -> None:
    """Give cffi, ready made, the array types WeasyPrint's font subsetter asks it for.

    For each font it embeds, ``weasyprint.pdf.fonts`` calls ``ffi.new(f"hb_codepoint_t[{n}]")``
    with n the number of glyphs used and the highest glyph id + 1. cffi parses every type
    string it has not seen with pycparser, 10 to 20 ms each here, so a document with new
    counts (each new sheet, language or set of params) paid about 100 ms of a 250 ms render.
    Made by cffi's backend and put in the ffi's own cache, the same types cost microseconds.
    Should a WeasyPrint or cffi release move these internals, this does nothing and PDFs are
    only as slow as before. (Upstream, ``ffi.new("hb_codepoint_t[]", seq)`` would avoid it.)
    """
    from weasyprint.pdf import fonts as pdf_fonts

    ffi = getattr(pdf_fonts, "ffi", None)
    parsed = getattr(ffi, "_parsed_types", None)
    backend = getattr(ffi, "_backend", None)
    if ffi is None or not isinstance(parsed, dict) or backend is None:
        return
    pointer = backend.new_pointer_type(ffi.typeof("hb_codepoint_t"))
    for size in range(1, SUBSET_ARRAY_SIZES + 1):
        key = f"hb_codepoint_t[{size}]"
        if key not in parsed:
            parsed[key] = (backend.new_array_type(pointer, size), False)


def render_pdf(page: SheetPage, paper: str = "letter") -> bytes:
    """The sheet as PDF, Letter or A4; large print when ``page.large``."""
    return html_to_pdf(render_print(page, paper))
