"""A sheet as HTML: the screen page, and the print page that the PDF is made from.

Both use the partial ``sheet/_sheet.html`` with one typed context (SheetPage), so print,
PDF and screen show the same words. Autoescape is always on; the only markup we mark safe
is what we generate ourselves (the QR code's SVG and the print CSS).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from caresheet.care.timeline import EventKind, timeline, when_words
from caresheet.i18n import gettext_for, language_name, normalize
from caresheet.model.sheet import Sheet, fill_params
from caresheet.model.wording import wording_for
from caresheet.render import fonts, qr
from caresheet.render.common import SheetView, sheet_view

PACKAGE = Path(__file__).resolve().parent.parent
TEMPLATES = PACKAGE / "templates"
STATIC = PACKAGE / "static"
LANGUAGES = ("en", "es")
PAPER_SIZES = {"letter": "Letter", "a4": "A4"}


@dataclass(frozen=True, slots=True)
class LanguageLink:
    lang: str
    name: str
    href: str


@dataclass(frozen=True, slots=True)
class SheetLinks:
    """Where the other forms of this sheet live, with the same params."""

    pdf: str = ""
    large_pdf: str = ""
    text: str = ""
    toggle_large: str = ""
    form_action: str = ""
    languages: tuple[LanguageLink, ...] = ()


@dataclass(frozen=True, slots=True)
class KeyTime:
    """One moment of the patient's own clock: "Tuesday, December 1 at 4:30 p.m."."""

    when: str
    text: str


@dataclass(frozen=True, slots=True)
class HandoutFacts:
    """What makes a printed handout the patient's own, shown first on page 1.

    Who it is for (when the clinician gave a name), the procedure's date, whom to call, and
    the sheet's time limits on the patient's clock. Dates are written out, never "today":
    the paper is read on the days after it was printed.
    """

    name: str | None
    procedure: str
    phone: str
    key_times: tuple[KeyTime, ...]


def dated_words(moment: dt.datetime, language: str) -> str:
    """``Tuesday, December 1 at 4:30 p.m.``: always the date, for paper read on later days."""
    # when_words says "today"/"tomorrow" only near its reference day; a month before, never.
    return when_words(moment, moment - dt.timedelta(days=30), language)


def handout_facts(
    sheet: Sheet,
    values: Mapping[str, str],
    procedure_time: dt.datetime,
    name: str | None = None,
) -> HandoutFacts:
    """The facts of one handout for its printed page 1 (the time limits from the timeline)."""
    lang = sheet.language
    line = timeline(sheet, dict(values), procedure_time, procedure_time)
    key_times = tuple(
        KeyTime(dated_words(event.at, lang), event.text)
        for event in line.events
        if event.kind in (EventKind.MILESTONE, EventKind.RULE_LIMIT)
    )
    phone = sheet.phone_param()
    return HandoutFacts(
        name=(name or "").strip() or None,
        procedure=dated_words(procedure_time, lang),
        phone=fill_params(f"{{{{ {phone} }}}}", dict(values), sheet.params) if phone else "",
        key_times=key_times,
    )


@dataclass(frozen=True, slots=True)
class SheetPage:
    """Everything ``sheet/*.html`` may use; built by ``sheet_page``."""

    sheet: SheetView
    lang: str  # the reader's language: UI words and the notice
    large: bool = False
    notice: str | None = None
    qr_svg: Markup | None = None
    links: SheetLinks = field(default_factory=SheetLinks)
    print_css: Markup = field(default_factory=Markup)  # this document's @page rules
    id_prefix: str = ""
    handout: HandoutFacts | None = None  # a patient's own printed handout: its facts on page 1

    @property
    def emergency_line(self) -> str:
        return wording_for(self.lang).emergency_line


def sheet_page(
    sheet: Sheet,
    values: Mapping[str, str] | None = None,
    *,
    lang: str | None = None,
    large: bool = False,
    notice: str | None = None,
    qr_url: str | None = None,
    links: SheetLinks | None = None,
) -> SheetPage:
    """The typed context for one sheet; ``values`` must already be checked (personalize)."""
    return SheetPage(
        sheet=sheet_view(sheet, values),
        lang=normalize(lang or sheet.language),
        large=large,
        notice=notice,
        qr_svg=qr.svg(qr_url) if qr_url else None,
        links=links or SheetLinks(),
    )


def sheet_links(
    code: str, values: Mapping[str, str], lang: str, large: bool, prefix: str = "/sheets"
) -> SheetLinks:
    """Links from a sheet page to its other forms, keeping the params and language."""

    def href(suffix: str = "", **extra: str) -> str:
        query = {**values, **({"lang": lang} if lang != "en" else {}), **extra}
        query = {k: v for k, v in query.items() if v}
        return f"{prefix}/{code}{suffix}" + (f"?{urlencode(query)}" if query else "")

    others = tuple(
        LanguageLink(other, language_name(other, other), _with_lang(href(**_large(large)), other))
        for other in LANGUAGES
        if other != lang
    )
    return SheetLinks(
        pdf=href(".pdf", **_large(large)),
        large_pdf=href(".pdf", large="1"),
        text=href(".txt"),
        toggle_large=href(**_large(not large)),
        form_action=f"{prefix}/{code}",
        languages=others,
    )


def _large(on: bool) -> dict[str, str]:
    return {"large": "1"} if on else {}


def _with_lang(url: str, lang: str) -> str:
    base, _, query = url.partition("?")
    parts = [p for p in query.split("&") if p and not p.startswith("lang=")]
    if lang != "en":
        parts.append(f"lang={lang}")
    return base + ("?" + "&".join(parts) if parts else "")


@lru_cache(maxsize=8)
def environment(lang: str) -> Environment:
    """A Jinja2 environment with the gettext catalog of one language installed."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=False,
    )
    env.install_gettext_translations(gettext_for(lang), newstyle=True)  # type: ignore[attr-defined]
    env.filters["upper_first"] = upper_first
    env.filters["phones"] = phones
    return env


# A phone number as written in a sheet: digits with spaces, dots, dashes or brackets between,
# at least 7 digits ("555-010-0100", "(555) 010-0100", "+1 555 010 0100"); 911 is too short.
PHONE = re.compile(r"\+?\(?\d[\d ().-]{5,}\d[.,;:]?")  # with the full stop after it
PHONE_DIGITS = 7


def phones(text: str) -> Markup:
    """The text, escaped, with each phone number kept on one line (``<span class="phone">``):
    a number broken across two lines is misread or mistyped."""

    def keep(match: re.Match[str]) -> str:
        found = match.group(0)
        if sum(c.isdigit() for c in found) < PHONE_DIGITS:
            return found
        return f'<span class="phone">{found}</span>'

    return Markup(PHONE.sub(keep, str(escape(text))))


def upper_first(text: str) -> str:
    """Capitalize the first letter only; Jinja's ``capitalize`` lowercases the rest
    ("Monday, November 23" would become "Monday, november 23")."""
    return text[:1].upper() + text[1:]


def render_page(page: SheetPage, extra: Mapping[str, object] | None = None) -> str:
    """The screen page (extends base.html); ``extra`` gives base.html what the web layer owns
    (``chrome_for``), so this module stays free of web imports."""
    template = environment(page.lang).get_template("sheet/sheet.html")
    context: dict[str, object] = {
        "page": page,
        "lang": page.lang,
        "draft": page.sheet.needs_review or page.sheet.sample,
        "wording_for": wording_for,
    }
    return template.render(**context, **dict(extra or {}))


def render_print(page: SheetPage, paper: str = "letter") -> str:
    """The print page: a whole document with its CSS inline, ready for WeasyPrint or a printer.

    Its CSS is two parts: this document's ``@page`` rules (paper, running head and foot) and
    ``print_stylesheet()``, the same for every sheet. ``render.pdf`` swaps the second for a
    copy it parsed once; a browser printing the page reads both inline.
    """
    page = _with_print_css(page, paper)
    return environment(page.lang).get_template("sheet/sheet-print.html").render(
        page=page, print_stylesheet=Markup(print_stylesheet())
    )


@lru_cache(maxsize=1)
def print_stylesheet() -> str:
    """The print CSS every print page carries: the font faces, then ``static/print.css``.

    It holds no ``@page`` rule (those are per document, in ``SheetPage.print_css``), so it can
    be applied as a separate stylesheet without changing which declaration wins.
    """
    return fonts.font_face_css() + (STATIC / "print.css").read_text(encoding="utf-8")


def _with_print_css(page: SheetPage, paper: str) -> SheetPage:
    gettext = gettext_for(page.lang).gettext
    status = {
        "draft": gettext("Draft"),
        "reviewed": gettext("Reviewed"),
        "published": gettext("Published"),
        "retired": gettext("Retired"),
    }[page.sheet.status]
    review = (gettext("not reviewed yet") if page.sheet.needs_review
              else gettext("Sample content — not reviewed for patient use")
              if page.sheet.sample else "")
    footer = f"{gettext('Version')} {page.sheet.version} · {status}" + (
        f": {review}" if review else ""
    )
    page_rules = PAGE_CSS % {
        "family": fonts.FAMILY,
        "small": "13pt" if page.large else "9pt",
        "size": PAPER_SIZES.get(paper.lower(), "Letter"),
        "footer": css_string(footer),
        "page": css_string(gettext("Page") + " "),
        "of": css_string(" " + gettext("of") + " "),
    }
    if page.handout is not None:  # the running head and foot need less than the default
        page_rules += "@page { margin-top: 13mm; margin-bottom: 14mm; }\n"
    return replace(page, print_css=Markup(page_rules))


def css_string(text: str) -> str:
    """Quote text as a CSS string that cannot end the string or the <style> element."""
    escaped = "".join(
        c if c.isalnum() or c in " .,:;·-!?()'" or ord(c) > 127 else f"\\{ord(c):x} " for c in text
    )
    return f'"{escaped}"'


PAGE_CSS = """
@page {
  size: %(size)s;
  margin: 17mm 15mm 18mm 15mm;
  @top-left { content: string(sheet-title); }
  @top-right { content: string(sheet-code); font-weight: bold; }
  @bottom-left { content: %(footer)s; }
  @bottom-right { content: %(page)s counter(page) %(of)s counter(pages); }
}
@page :first { @top-left { content: none; } }
@page {
  @top-left { MARGIN } @top-right { MARGIN }
  @bottom-left { MARGIN } @bottom-right { MARGIN }
}
""".replace("MARGIN", "font-family: %(family)s; font-size: %(small)s; color: #333;")
