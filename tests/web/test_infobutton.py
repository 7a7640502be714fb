"""/infobutton as an EHR wired to MedlinePlus Connect calls it: Atom XML (namespaces!) and the
JSON form, by SNOMED CT, CPT, ICD-10-PCS and words; Spanish; errors in the asked format."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest

from helpers import ENGLISH_ONLY_SNOMED, LiveServer

NS = {"atom": "http://www.w3.org/2005/Atom"}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
SNOMED, CPT, PCS = "2.16.840.1.113883.6.96", "2.16.840.1.113883.6.12", "2.16.840.1.113883.6.4"
CS, C, DN = "mainSearchCriteria.v.cs", "mainSearchCriteria.v.c", "mainSearchCriteria.v.dn"
LANG, TYPE = "informationRecipient.languageCode.c", "knowledgeResponseType"


def atom(http: httpx.Client, **params: str) -> ET.Element:
    response = http.get("/infobutton", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/atom+xml")
    return ET.fromstring(response.content)


def as_json(http: httpx.Client, **params: str) -> dict[str, Any]:
    response = http.get("/infobutton", params={**params, TYPE: "application/json"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    return body


CASES = [
    pytest.param({CS: SNOMED, C: "277762005"}, id="snomed"),
    pytest.param({CS: CPT, C: "62270"}, id="cpt"),
    pytest.param({CS: PCS, C: "009U3ZX"}, id="icd10pcs"),
    pytest.param({CS: PCS, C: "009u3zx"}, id="icd10pcs-lower"),
    pytest.param({DN: "spinal tap"}, id="words"),
    pytest.param({CS: SNOMED, C: "000000", DN: "lumbar puncture"}, id="unknown-code-words"),
]


@pytest.mark.parametrize("params", CASES)
def test_atom_feed_lists_p586(http: httpx.Client, params: dict[str, str]) -> None:
    feed = atom(http, **params)
    assert feed.tag == "{http://www.w3.org/2005/Atom}feed"
    assert feed.get(XML_LANG) == "en"
    for name in ("title", "updated", "id", "author/atom:name"):
        assert feed.find(f"atom:{name}", NS) is not None, name
    categories = {c.get("scheme"): c.get("term") for c in feed.findall("atom:category", NS)}
    assert all(categories[k] == v for k, v in params.items())
    entries = feed.findall("atom:entry", NS)
    titles = [e.findtext("atom:title", namespaces=NS) for e in entries]
    assert "Spinal Tap (Lumbar Puncture): What to Expect at Home" in titles
    entry = entries[titles.index("Spinal Tap (Lumbar Puncture): What to Expect at Home")]
    link = entry.find("atom:link", NS)
    assert link is not None and link.get("rel") == "alternate"
    assert link.get("href", "").endswith("/sheets/P586")
    assert entry.findtext("atom:id", namespaces=NS) and entry.findtext(
        "atom:updated", namespaces=NS
    )
    summary = entry.find("atom:summary", NS)
    assert summary is not None and summary.get("type") == "html"
    assert "<p>Also called: spinal tap, lumbar puncture, LP" in (summary.text or "")


@pytest.mark.parametrize("params", CASES)
def test_json_form_lists_p586(http: httpx.Client, params: dict[str, str]) -> None:
    feed = as_json(http, **params)["feed"]
    assert feed["title"]["_value"] and feed["updated"]["_value"]
    entry = next(e for e in feed["entry"] if "Spinal Tap" in e["title"]["_value"])
    assert entry["link"][0]["href"].endswith("/sheets/P586")
    assert entry["link"][0]["rel"] == "alternate"
    assert "Also called: spinal tap" in entry["summary"]["_value"]


@pytest.mark.parametrize("code", ["es", "sp"])
def test_spanish(http: httpx.Client, code: str) -> None:
    feed = atom(http, **{CS: SNOMED, C: "277762005", LANG: code})
    assert feed.get(XML_LANG) == "es"
    entry = feed.find("atom:entry", NS)
    assert entry is not None and entry.get(XML_LANG) == "es"
    assert entry.findtext("atom:title", namespaces=NS) == "Punción lumbar: qué esperar en casa"
    link = entry.find("atom:link", NS)
    assert link is not None and link.get("href", "").endswith("/sheets/P586?lang=es")
    assert link.get("hreflang") == "es"
    assert "También se llama:" in (entry.findtext("atom:summary", namespaces=NS) or "")
    data = as_json(http, **{CS: SNOMED, C: "277762005", LANG: code})
    assert data["feed"]["entry"][0]["title"]["_value"] == "Punción lumbar: qué esperar en casa"


def test_spanish_asked_english_given_when_not_translated(
    http: httpx.Client, english_only: LiveServer
) -> None:
    feed = atom(http, **{CS: SNOMED, C: ENGLISH_ONLY_SNOMED, LANG: "es"})
    entries = feed.findall("atom:entry", NS)
    assert entries and all(e.get(XML_LANG) == "en" for e in entries)
    # Colonoscopy was English only until issue 16; now Spanish is answered in Spanish.
    feed = atom(http, **{CS: SNOMED, C: "73761001", LANG: "es"})
    entries = feed.findall("atom:entry", NS)
    assert entries and all(e.get(XML_LANG) == "es" for e in entries)


def test_no_match_is_an_empty_feed(http: httpx.Client) -> None:
    feed = atom(http, **{CS: SNOMED, C: "999999999"})
    assert feed.findall("atom:entry", NS) == []


ERRORS = [
    pytest.param({CS: "1.2.3.4", C: "277762005"}, "unknown code system", id="unknown-system"),
    pytest.param({CS: SNOMED}, "give a code", id="missing-code"),
    pytest.param({}, "give a code", id="nothing"),
    pytest.param({C: "277762005"}, "is required with", id="code-without-system"),
    pytest.param({CS: SNOMED, C: "1", LANG: "fr"}, "use en, es or sp", id="language"),
]


@pytest.mark.parametrize(("params", "message"), ERRORS)
def test_errors_are_400_in_the_asked_format(
    http: httpx.Client, params: dict[str, str], message: str
) -> None:
    xml = http.get("/infobutton", params=params)
    assert xml.status_code == 400
    assert message in (ET.fromstring(xml.content).findtext("message") or "")
    js = http.get("/infobutton", params={**params, TYPE: "application/json"})
    assert js.status_code == 400
    assert message in json.loads(js.content)["error"]["message"]


def test_unknown_response_type_is_400_in_xml(http: httpx.Client) -> None:
    response = http.get("/infobutton", params={CS: SNOMED, C: "277762005", TYPE: "text/csv"})
    assert response.status_code == 400
    assert "not supported" in (ET.fromstring(response.content).findtext("message") or "")
