"""Issue 4's one use case, shared by ``caresheet show`` and the web: a stored sheet, in the
reader's language when we have it, personalized and rendered in one format.

The render layer knows nothing of the store; this module joins them so the CLI command and
the web routes each make one call.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

from sqlalchemy.orm import Session

from caresheet.errors import BadInputError, NotFoundError
from caresheet.i18n import fallback_notice, normalize
from caresheet.model import personalize
from caresheet.model.sheet import Sheet
from caresheet.render import fhir
from caresheet.render.html import SheetLinks, render_print, sheet_page
from caresheet.render.pdf import html_to_pdf
from caresheet.render.text import render_sms, render_text
from caresheet.store import sheets as stored_sheets
from caresheet.store.sheets import StoredSheet

Format = Literal["html", "pdf", "text", "sms", "fhir"]
FORMATS: tuple[Format, ...] = ("html", "pdf", "text", "sms", "fhir")
MEDIA_TYPES: dict[Format, str] = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "text": "text/plain; charset=utf-8",
    "sms": "text/plain; charset=utf-8",
    "fhir": "application/fhir+json",
}
PAPERS = ("letter", "a4")


@dataclass(frozen=True, slots=True)
class Found:
    """The sheet to show, the language asked for, and the notice when we fell back."""

    stored: StoredSheet
    asked: str
    notice: str | None

    @property
    def sheet(self) -> Sheet:
        return self.stored.sheet


@dataclass(frozen=True, slots=True)
class Options:
    """How to render: everything but the sheet and the params."""

    lang: str = "en"
    large: bool = False
    paper: str = "letter"
    qr_url: str | None = None  # a patient's private link, or the public page
    fhir_base: str = fhir.DEFAULT_BASE
    sms_link: str | None = None


def find(session: Session, code: str, lang: str | None = None) -> Found:
    """The current sheet in ``lang``; English with a notice when it has no such translation."""
    asked = normalize(lang)
    try:
        return Found(stored_sheets.current(session, code, asked), asked, None)
    except NotFoundError:
        if asked == "en":
            raise
    english = stored_sheets.current(session, code, "en")
    return Found(english, asked, fallback_notice(asked, "en"))


def check_format(name: str) -> Format:
    if name not in FORMATS:
        raise BadInputError(f"unknown format {name!r}; use one of: {', '.join(FORMATS)}")
    return name


def check_paper(name: str) -> str:
    if name.lower() not in PAPERS:
        raise BadInputError(f"unknown paper size {name!r}; use one of: {', '.join(PAPERS)}")
    return name.lower()


def render(found: Found, fmt: Format, raw_params: Mapping[str, str], options: Options) -> bytes:
    """The sheet in one format; params are checked first (BadParamError names the problem)."""
    sheet = found.sheet
    values = personalize.check(sheet, raw_params)
    options = replace(options, lang=found.asked)
    if fmt == "text":
        return render_text(sheet, values, notice=found.notice, lang=found.asked).encode()
    if fmt == "sms":
        return render_sms(sheet, values, link=options.sms_link).encode()
    html = print_html(found, values, options)
    if fmt == "html":
        return html.encode()
    if fmt == "pdf":
        return html_to_pdf(html)
    pdf = html_to_pdf(html)
    document = fhir.bundle(sheet, html, pdf, values, options.fhir_base)
    return json.dumps(document, ensure_ascii=False, indent=2).encode()


def print_html(found: Found, values: Mapping[str, str], options: Options) -> str:
    """The print page (what the PDF is made from), with the QR code when a link is known."""
    page = sheet_page(
        found.sheet,
        values,
        lang=found.asked,
        large=options.large,
        notice=found.notice,
        qr_url=options.qr_url,
        links=SheetLinks(),
    )
    return render_print(page, check_paper(options.paper))
