"""The HL7 Infobutton knowledge request, answered the way MedlinePlus Connect answers it.

An EHR already wired to MedlinePlus Connect changes only the base URL: same parameter names,
same Atom feed (namespace http://www.w3.org/2005/Atom), and the same JSON form, where each
element is an object, attributes are plain keys and text is ``{"_value": …}``. The feed is
built once as that JSON form and written to XML from it, so the two cannot differ.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode

from markupsafe import escape

from caresheet.codes import BY_OID, CodeSystem
from caresheet.errors import BadInputError
from caresheet.i18n import gettext_for
from caresheet.model.sheet import Paragraph, SectionKind, Sheet

ATOM = "http://www.w3.org/2005/Atom"
XML_NS = "http://www.w3.org/XML/1998/namespace"
CS = "mainSearchCriteria.v.cs"
CODE = "mainSearchCriteria.v.c"
DISPLAY = "mainSearchCriteria.v.dn"
LANGUAGE = "informationRecipient.languageCode.c"
RESPONSE_TYPE = "knowledgeResponseType"
LANGUAGES = {"en": "en", "es": "es", "sp": "es"}  # MedlinePlus takes "sp" for Spanish
ResponseKind = Literal["xml", "json"]
RESPONSE_TYPES: dict[str, ResponseKind] = {"text/xml": "xml", "application/json": "json"}


@dataclass(frozen=True, slots=True)
class KnowledgeRequest:
    """A checked request: a code in a known system, and/or words to search for."""

    system: CodeSystem | None
    code: str | None
    display: str | None
    language: str
    response: ResponseKind
    echoed: tuple[tuple[str, str], ...]  # the request's own parameters, for <category>


def response_kind(params: Mapping[str, str]) -> ResponseKind:
    """XML unless JSON was asked for; used for errors too, so it never raises."""
    asked = params.get(RESPONSE_TYPE, "text/xml").strip().lower()
    return "json" if RESPONSE_TYPES.get(asked) == "json" else "xml"


def parse_request(params: Mapping[str, str]) -> KnowledgeRequest:
    """Check the parameters; a missing code or an unknown system is a BadInputError."""
    asked_type = params.get(RESPONSE_TYPE, "text/xml").strip().lower()
    if asked_type not in RESPONSE_TYPES:
        raise BadInputError(
            f"{RESPONSE_TYPE} {asked_type!r} is not supported; use text/xml or application/json"
        )
    lang_code = params.get(LANGUAGE, "en").strip().lower() or "en"
    if lang_code not in LANGUAGES:
        raise BadInputError(f"{LANGUAGE} {lang_code!r} is not supported; use en, es or sp")
    oid = params.get(CS, "").strip()
    code = params.get(CODE, "").strip() or None
    display = " ".join(params.get(DISPLAY, "").split()) or None
    system = None
    if oid:
        system = BY_OID.get(oid)
        if system is None:
            known = ", ".join(f"{s.oid} ({s.title})" for s in BY_OID.values())
            raise BadInputError(f"unknown code system {oid!r} in {CS}; known: {known}")
    if code and system is None:
        raise BadInputError(f"{CS} (the code system's OID) is required with {CODE}")
    if not code and not display:
        raise BadInputError(f"give a code in {CODE} (with {CS}) or words in {DISPLAY}")
    echoed = tuple(
        (name, params[name].strip())
        for name in (CODE, CS, DISPLAY, LANGUAGE)
        if params.get(name, "").strip()
    )
    return KnowledgeRequest(
        system, code, display, LANGUAGES[lang_code], RESPONSE_TYPES[asked_type], echoed
    )


@dataclass(frozen=True, slots=True)
class Match:
    """A sheet to list, with where it lives and when it last changed."""

    sheet: Sheet
    url: str
    updated: dt.datetime


def _time(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def feed(
    request: KnowledgeRequest, matches: Sequence[Match], base: str, now: dt.datetime
) -> dict[str, Any]:
    """The Atom feed in its JSON form: ``{"feed": {...}}``."""
    asked = request.code or request.display or ""
    subject = f"{request.system.title} {asked}" if request.system else asked
    return {
        "feed": {
            "base": base.rstrip("/") + "/",
            "lang": request.language,
            "title": {"type": "text", "_value": "caresheet"},
            "subtitle": {"type": "text", "_value": f"caresheet results for {subject}"},
            "updated": {"_value": _time(now)},
            "id": {"_value": f"{base.rstrip('/')}/infobutton?{urlencode(request.echoed)}"},
            "author": {"name": {"_value": "caresheet"}, "uri": {"_value": base.rstrip("/") + "/"}},
            "category": [{"scheme": name, "term": value} for name, value in request.echoed],
            "entry": [_entry(m) for m in matches],
        }
    }


def _entry(match: Match) -> dict[str, Any]:
    sheet = match.sheet
    return {
        "lang": sheet.language,
        "title": {"type": "text", "_value": sheet.title},
        "link": [
            {
                "href": match.url,
                "rel": "alternate",
                "type": "html",
                "hreflang": sheet.language,
                "title": sheet.title,
            }
        ],
        "id": {"_value": f"{match.url.split('?')[0]}#v{sheet.version}-{sheet.language}"},
        "updated": {"_value": _time(match.updated)},
        "summary": {"type": "html", "_value": summary_html(sheet)},
    }


def summary_html(sheet: Sheet) -> str:
    """The first words of the sheet and its other names, as escaped HTML."""
    recovery = sheet.section(SectionKind.RECOVERY)
    blocks = recovery.blocks if recovery else ()
    first = next((b.text for b in blocks if isinstance(b, Paragraph)), None)
    parts = [f"<p>{escape(first)}</p>"] if first else []
    if sheet.aliases:
        label = gettext_for(sheet.language).gettext("Also called:")
        parts.append(f"<p>{escape(label)} {escape(', '.join(sheet.aliases))}</p>")
    return "".join(parts)


def to_xml(document: Mapping[str, Any]) -> bytes:
    """Write the JSON form as Atom XML: keys are elements or attributes, ``_value`` is text."""
    ET.register_namespace("", ATOM)
    ((name, body),) = document.items()
    root = ET.Element(f"{{{ATOM}}}{name}")
    _fill(root, body)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data


def _fill(element: ET.Element, body: Mapping[str, Any]) -> None:
    for key, value in body.items():
        if key == "_value":
            element.text = str(value)
        elif isinstance(value, str):
            attribute = f"{{{XML_NS}}}{key}" if key in ("lang", "base") else key
            element.set(attribute, value)
        elif isinstance(value, Mapping):
            _fill(ET.SubElement(element, f"{{{ATOM}}}{key}"), value)
        else:
            for item in value:
                _fill(ET.SubElement(element, f"{{{ATOM}}}{key}"), item)


def error_xml(code: str, message: str) -> bytes:
    """A 400 or 404 in the XML the client asked for."""
    root = ET.Element("error")
    ET.SubElement(root, "code").text = code
    ET.SubElement(root, "message").text = message
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data
