"""A sheet as PDF: WeasyPrint from the same print HTML a browser would print.

Nothing is fetched from the network: fonts come from local files, and the URL fetcher
refuses anything but ``file:`` and ``data:`` URLs, so a sheet's text can never make the
renderer call out.
"""

from __future__ import annotations

from typing import Any

from caresheet.render.html import SheetPage, render_print

LOCAL_SCHEMES = frozenset({"file", "data"})


def local_only_fetcher() -> Any:
    """WeasyPrint's URL fetcher, restricted to local files and data URLs (no http, https, ftp)."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols=LOCAL_SCHEMES, allow_redirects=False)


def html_to_pdf(html: str) -> bytes:
    """PDF bytes from a whole print document (its CSS inline)."""
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    document = HTML(string=html, base_url="file:///", url_fetcher=local_only_fetcher())
    data: bytes = document.write_pdf(font_config=fonts)
    return data


WARM_UP_HTML = (
    "<!doctype html><html lang=en><head><style>%s body { font-family: %s; }</style></head>"
    "<body><p>Warm <b>up</b> <i>fonts</i>.</p></body></html>"
)


def warm_up() -> None:
    """Import WeasyPrint and load the fonts once, so a worker's first real PDF is not slower.

    A PDF worker process runs this when it starts (see ``render.pool``).
    """
    from caresheet.render import fonts

    html_to_pdf(WARM_UP_HTML % (fonts.font_face_css(), fonts.FAMILY))


def render_pdf(page: SheetPage, paper: str = "letter") -> bytes:
    """The sheet as PDF, Letter or A4; large print when ``page.large``."""
    return html_to_pdf(render_print(page, paper))
