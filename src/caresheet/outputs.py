"""Issue 4's one use case, shared by ``caresheet show`` and the web: a stored sheet, in the
reader's language when we have it, personalized and rendered in one format.

The render layer knows nothing of the store; this module joins them so the CLI command and
the web routes each make one call.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Literal

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from caresheet.errors import BadInputError, NotFoundError
from caresheet.i18n import fallback_notice, normalize
from caresheet.model import personalize
from caresheet.model.sheet import Sheet
from caresheet.render import fhir
from caresheet.render.html import SheetLinks, render_page, render_print, sheet_links, sheet_page
from caresheet.render.pdf import html_to_pdf
from caresheet.render.text import render_sms, render_text
from caresheet.store import rendered
from caresheet.store import sheets as stored_sheets
from caresheet.store.db import Store
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


# ---------------------------------------------------------------- cached renditions
#
# Every rendition the web serves is a pure function of the sheet version (its row id and
# status: the status is printed in the footer), the params, the language asked for and the
# options. ``Cache.get_or_render`` keys the finished bytes by exactly those, in the
# ``rendered_outputs`` table that every process of a site shares, with a small in-process
# layer in front. A new version or a retired one makes ``current_ref`` name another row, hence
# another key: nothing stale can be served, and no one has to remember to invalidate.

Rendition = Literal[
    "page", "print", "text", "pdf", "fhir-plan", "fhir-questionnaire", "fhir-document",
    "fhir-bundle",
]
RENDITION_TYPES: dict[Rendition, str] = {
    "page": MEDIA_TYPES["html"],
    "print": MEDIA_TYPES["html"],
    "text": MEDIA_TYPES["text"],
    "pdf": MEDIA_TYPES["pdf"],
    "fhir-plan": MEDIA_TYPES["fhir"],
    "fhir-questionnaire": MEDIA_TYPES["fhir"],
    "fhir-document": MEDIA_TYPES["fhir"],
    "fhir-bundle": MEDIA_TYPES["fhir"],
}
MakePdf = Callable[[str], bytes]
# The in-process layer holds at most this share of the shared bound.
MEMORY_SHARE = 0.25
MEMORY_MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Output:
    """Finished bytes with what HTTP needs to say about them."""

    body: bytes
    media_type: str
    etag: str  # a strong validator, quoted as in the ETag header
    language: str  # the language of the words (English when we fell back)
    code: str


@dataclass(frozen=True, slots=True)
class Wanted:
    """What to render: a sheet by code, one rendition, the reader's params and options."""

    code: str
    rendition: Rendition
    params: Mapping[str, str]
    options: Options
    # Screen pages only: whether a missing translation falls back to English with a notice
    # (the FHIR ids name one language exactly, so they do not).
    fallback: bool = True


def cache_key(ref: stored_sheets.VersionRef, asked: str, wanted: Wanted) -> str:
    """The SHA-256 of everything the bytes depend on (never of a patient's handout)."""
    options = wanted.options
    parts = [
        2, ref.id, ref.status, wanted.rendition, asked, sorted(wanted.params.items()),
        options.large, options.paper.lower(), options.qr_url, options.fhir_base,
        options.sms_link,
    ]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()


def strong_etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:40] + '"'


class Cache:
    """Get-or-render for one process; the rows are shared, the memory layer is this process's."""

    def __init__(self, store: Store, max_bytes: int, make_pdf: MakePdf = html_to_pdf,
                 extra: Mapping[str, object] | None = None) -> None:
        self.store = store
        self.max_bytes = max_bytes
        self.make_pdf = make_pdf
        self.extra = dict(extra or {})  # what the screen page's chrome needs from the web
        self._memory_bound = min(int(max_bytes * MEMORY_SHARE), MEMORY_MAX_BYTES)
        self._memory: OrderedDict[str, Output] = OrderedDict()
        self._memory_bytes = 0
        self._lock = threading.Lock()

    def get_or_render(self, wanted: Wanted, lang: str | None) -> Output:
        """The rendition, from the cache when any process made it before, else made now."""
        asked = normalize(lang)
        # The version's row first, on a bare connection: most requests end in memory here.
        with self.store.reading() as connection:
            ref, shown = _locate(connection, wanted.code, asked, wanted.fallback)
        key = cache_key(ref, asked, wanted)
        remembered = self._recall(key)
        if remembered is not None:
            return remembered
        with self.store.session(write=False) as session:
            row = rendered.get(session, key, utcnow()) if self.max_bytes else None
            if row is None:
                found = Found(stored_sheets.get_by_id(session, ref.id), asked,
                              fallback_notice(asked, "en") if shown != asked else None)
        if row is not None:
            if row.stale:
                with self.store.session() as session:
                    rendered.touch(session, key, utcnow())
            output = Output(row.body, row.media_type, row.etag, shown, ref.code)
            self._remember(key, output)
            return output
        # Rendering happens outside any transaction: a PDF never holds a database lock.
        body = self._render(found, wanted)
        output = Output(body, RENDITION_TYPES[wanted.rendition], strong_etag(body), shown,
                        ref.code)
        if self.max_bytes and len(body) <= self.max_bytes:
            with self.store.session() as session:
                rendered.put(session, rendered.Cached(key, output.media_type, output.etag, body),
                             ref.id, utcnow(), self.max_bytes)
        self._remember(key, output)
        return output

    def _render(self, found: Found, wanted: Wanted) -> bytes:
        values = personalize.check(found.sheet, wanted.params)
        options = replace(wanted.options, lang=found.asked)
        kind = wanted.rendition
        sheet = found.sheet
        base = options.fhir_base
        if kind == "text":
            return render(found, "text", values, options)
        if kind == "fhir-plan":
            return _json(fhir.plan_definition(sheet, base=base))
        if kind == "fhir-questionnaire":
            return _json(fhir.questionnaire(sheet, base=base))
        if kind == "page":
            page = sheet_page(sheet, values, lang=found.asked, large=options.large,
                              notice=found.notice, qr_url=options.qr_url,
                              links=sheet_links(sheet.code, values, found.asked, options.large))
            return render_page(page, self.extra).encode()
        html = print_html(found, values, options)
        if kind == "print":
            return html.encode()
        pdf = self.make_pdf(html)
        if kind == "pdf":
            return pdf
        if kind == "fhir-document":
            return _json(fhir.document_reference(sheet, html, pdf, base))
        return _json(fhir.bundle(sheet, html, pdf, values or None, base))

    def _recall(self, key: str) -> Output | None:
        with self._lock:
            output = self._memory.get(key)
            if output is not None:
                self._memory.move_to_end(key)
            return output

    def _remember(self, key: str, output: Output) -> None:
        size = len(output.body)
        if size > self._memory_bound:
            return
        with self._lock:
            if key in self._memory:
                return
            self._memory[key] = output
            self._memory_bytes += size
            while self._memory_bytes > self._memory_bound:
                _, dropped = self._memory.popitem(last=False)
                self._memory_bytes -= len(dropped.body)


def _locate(session: Session | Connection, code: str, asked: str, fallback: bool
            ) -> tuple[stored_sheets.VersionRef, str]:
    """The current version in ``asked``, else (with ``fallback``) in English."""
    try:
        ref = stored_sheets.current_ref(session, code, asked)
    except NotFoundError:
        if asked == "en" or not fallback:
            raise
        ref = stored_sheets.current_ref(session, code, "en")
    return ref, ref.language


def _json(document: Mapping[str, object]) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=2).encode()


def utcnow() -> dt.datetime:
    """The wall clock: when a cached body was last used decides what is evicted first."""
    return dt.datetime.now(dt.UTC)
