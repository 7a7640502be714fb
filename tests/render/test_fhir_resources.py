"""FHIR R4 resources of a sheet, each validated by ``render.fhir_check.validate``."""

from __future__ import annotations

import base64

import pytest

from caresheet.model.sheet import Sheet
from caresheet.render import fhir
from caresheet.render.html import render_print, sheet_page
from render.fhir_check import validate

FILLED = {"lie_flat_hours": "2", "clinic_phone": "555-0100"}


@pytest.fixture(scope="module")
def outputs(p586: Sheet) -> tuple[str, bytes]:
    from caresheet.render.pdf import html_to_pdf

    html = render_print(sheet_page(p586, FILLED))
    return html, html_to_pdf(html)


@pytest.mark.parametrize("lang", ["en", "es"])
def test_plan_definition(sheets_by_lang: dict[str, Sheet], lang: str) -> None:
    plan = fhir.plan_definition(sheets_by_lang[lang], FILLED, base="https://h.example/fhir")
    validate(plan)
    assert plan["status"] == "draft" and plan["experimental"] is True
    assert (
        plan["url"]
        == f"https://h.example/fhir/PlanDefinition/{'P586' if lang == 'en' else 'P586-es'}"
    )
    home, _follow_up, help_ = plan["action"]
    assert home["action"][0]["action"][0]["description"].startswith(
        "Stay lying down flat for 2 hours"
        if lang == "en"
        else "Quédese acostado boca arriba 2 horas"
    )
    assert [t["code"][0]["coding"][0]["code"] for t in help_["action"]] == [
        "emergency",
        "urgent",
        "contact",
    ]
    lasting = help_["action"][2]["action"][0]
    assert lasting["id"] == "lasting_headache_or_sore_back"
    expression = lasting["condition"][0]["expression"]
    assert expression["expression"] == (
        "((item.where(linkId = 'headache').answer.exists() and "
        "(item.where(linkId = 'headache').answer.value = true)) or "
        "(item.where(linkId = 'sore_back').answer.exists() and "
        "(item.where(linkId = 'sore_back').answer.value = true))) and (%elapsedHours >= 48)"
    )
    assert "555-0100" in help_["action"][1]["description"]
    assert plan["topic"][0]["coding"][0] == {
        "system": "http://snomed.info/sct",
        "code": "277762005",
        "display": "Lumbar puncture",
    }


def test_questionnaire_has_an_item_per_finding_and_enable_when(p586: Sheet) -> None:
    form = fhir.questionnaire(p586)
    validate(form)
    assert form["status"] == "draft"
    assert [i["linkId"] for i in form["item"]] == list(p586.findings)
    stiff_neck = next(i for i in form["item"] if i["linkId"] == "stiff_neck")
    assert stiff_neck["type"] == "boolean"
    assert stiff_neck["enableWhen"] == [
        {"question": "fever", "operator": "=", "answerBoolean": True}
    ]


def test_number_findings_are_decimal_questions(library_sheet: Sheet) -> None:
    form = fhir.questionnaire(library_sheet)
    validate(form)
    kinds = {i["linkId"]: i["type"] for i in form["item"]}
    for name, finding in library_sheet.findings.items():
        assert kinds[name] == ("decimal" if finding.kind == "number" else "boolean")
    validate(fhir.plan_definition(library_sheet))


def test_document_reference_attaches_pdf_and_html(p586: Sheet, outputs: tuple[str, bytes]) -> None:
    html, pdf = outputs
    doc = fhir.document_reference(p586, html, pdf)
    validate(doc)
    pdf_part, html_part = (c["attachment"] for c in doc["content"])
    assert pdf_part["contentType"] == "application/pdf"
    assert base64.b64decode(pdf_part["data"]) == pdf
    assert html_part["contentType"] == "text/html"
    assert "555-0100" in base64.b64decode(html_part["data"]).decode("utf-8")
    assert doc["docStatus"] == "preliminary"


def test_bundle_is_a_valid_collection(p586: Sheet, outputs: tuple[str, bytes]) -> None:
    html, pdf = outputs
    bundle = fhir.bundle(p586, html, pdf, FILLED)
    validate(bundle)
    assert bundle["type"] == "collection"
    assert [e["resource"]["resourceType"] for e in bundle["entry"]] == [
        "PlanDefinition",
        "Questionnaire",
        "DocumentReference",
    ]


def test_capability_statement_and_operation_outcome() -> None:
    validate(fhir.capability_statement())
    validate(fhir.operation_outcome("not-found", "no sheet P999"))


def test_the_checks_catch_a_bad_resource(p586: Sheet) -> None:
    form = fhir.questionnaire(p586)
    bogus = {**form, "status": "bogus"}
    with pytest.raises(AssertionError):
        validate(bogus)  # the schema knows the status codes; the models alone do not
    missing = {k: v for k, v in form.items() if k != "status"}
    with pytest.raises(Exception):  # noqa: B017 (either check may be first to catch it)
        validate(missing)
