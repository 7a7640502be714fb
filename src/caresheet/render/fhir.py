"""A sheet as FHIR R4 (4.0.1): PlanDefinition, Questionnaire, DocumentReference, Bundle.

The PlanDefinition carries home care as actions and every call-for-help rule as an action
with its tier as a ``code`` and its condition both as caresheet's own text and as FHIRPath
over a QuestionnaireResponse to the sheet's Questionnaire, so an EHR can show the same
warning signs and, if it wants, evaluate them. Resources are plain dicts ready for JSON.

One meaning for the rules: FHIRPath's ``and``, ``or`` and ``not()`` are three-valued, with the
empty collection as "unknown", which is exactly caresheet's Kleene "maybe". So the written
QuestionnaireResponse (``questionnaire_response``) and the conditions agree on three cases:

- a question not asked has no item: its atom is ``false`` (triage counts it as no);
- "not sure" is an answer with no value, marked with the data-absent-reason extension
  ``asked-unknown``: its atom is empty, i.e. maybe;
- an unknown time since the procedure is ``%elapsedHours`` bound to the empty collection.

A rule matches unless its expression evaluates to ``false``, as in ``care.triage``;
tests/render/test_fhirpath_agreement.py holds an independent engine (fhirpathpy) to it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from caresheet.care.triage import read_answers
from caresheet.model.condition import And, Compare, Condition, Finding, Not, Or, Time
from caresheet.model.sheet import SectionKind, Sheet, Status
from caresheet.render import fhir_search
from caresheet.render.common import StepView, call_for_help, sheet_view

FHIR_VERSION = "4.0.1"
DEFAULT_BASE = "http://caresheet.example.org/fhir"
Resource = dict[str, Any]

# A sheet's review status as a FHIR publication status; reviewed is not yet active.
PUBLICATION_STATUS = {
    Status.DRAFT: "draft",
    Status.REVIEWED: "draft",
    Status.PUBLISHED: "active",
    Status.RETIRED: "retired",
}
DOC_STATUS = {
    Status.DRAFT: "preliminary",
    Status.REVIEWED: "preliminary",
    Status.PUBLISHED: "final",
    Status.RETIRED: "final",
}


def resource_id(sheet: Sheet) -> str:
    """The logical id: the code, with the language for translations (``P586``, ``P586-es``)."""
    return sheet.code if sheet.language == "en" else f"{sheet.code}-{sheet.language}"


def canonical(base: str, kind: str, sheet: Sheet) -> str:
    return f"{base.rstrip('/')}/{kind}/{resource_id(sheet)}"


def tier_system(base: str) -> str:
    return f"{base.rstrip('/')}/CodeSystem/caresheet-tier"


def _common(kind: str, sheet: Sheet, base: str) -> Resource:
    return {
        "resourceType": kind,
        "id": resource_id(sheet),
        "language": sheet.language,
        "url": canonical(base, kind, sheet),
        "identifier": [{"system": f"{base.rstrip('/')}/sheet-code", "value": sheet.code}],
        "version": str(sheet.version),
        "name": f"{sheet.code}{kind}",
        "title": sheet.title,
        "status": PUBLICATION_STATUS[sheet.status],
        # A sample is published but not reviewed for patient use: FHIR's flag for test content.
        "experimental": sheet.status is not Status.PUBLISHED or sheet.sample,
        "publisher": "caresheet",
    }


USAGE_CONTEXT_TYPE = "http://terminology.hl7.org/CodeSystem/usage-context-type"


def _use_context(sheet: Sheet) -> list[Resource]:
    """The procedures the sheet is for, as ``focus`` use contexts (searchable as ``context``)."""
    return [
        {"code": {"system": USAGE_CONTEXT_TYPE, "code": "focus"}, "valueCodeableConcept": code}
        for code in _codes(sheet)
    ]


def stamped(resource: Resource, last_updated: dt.datetime) -> Resource:
    """The resource with ``meta.lastUpdated`` (when its stored version was imported)."""
    moment = last_updated.astimezone(dt.UTC).isoformat(timespec="milliseconds")
    return {**resource, "meta": {"lastUpdated": moment.replace("+00:00", "Z")}}


def _codes(sheet: Sheet) -> list[Resource]:
    return [
        {
            "coding": [
                {"system": c.uri, "code": c.code, **({"display": c.display} if c.display else {})}
            ]
        }
        for c in sheet.clinical_codes
    ]


# ---------------------------------------------------------------- PlanDefinition


def plan_definition(
    sheet: Sheet, values: Mapping[str, str] | None = None, base: str = DEFAULT_BASE
) -> Resource:
    """Home care steps and call-for-help rules as actions (params filled or unset text)."""
    view = sheet_view(sheet, values)
    resource = _common("PlanDefinition", sheet, base)
    resource["type"] = {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/plan-definition-type",
                "code": "clinical-protocol",
                "display": "Clinical Protocol",
            }
        ]
    }
    recovery = sheet.section(SectionKind.RECOVERY)
    if recovery and recovery.blocks:
        first = next((s for s in view.sections if s.kind == "recovery"), None)
        if first and first.blocks and first.blocks[0].text:
            resource["description"] = first.blocks[0].text
    if sheet.clinical_codes:
        resource["useContext"] = _use_context(sheet)
        resource["topic"] = _codes(sheet)
    actions: list[Resource] = []
    for section in view.sections:
        if section.is_call_for_help:
            actions.append(_help_action(sheet, values, base))
            continue
        if section.kind not in ("home_care", "follow_up"):
            continue
        children = [{"title": g.heading, "action": _step_actions(g.blocks)} for g in section.groups]
        children += _step_actions(section.blocks)
        if children:
            actions.append({"title": section.heading, "action": children})
    resource["action"] = actions
    return resource


def _step_actions(blocks: tuple[Any, ...]) -> list[Resource]:
    found: list[Resource] = []

    def add(step: StepView) -> Resource:
        action: Resource = {"description": step.text}
        if step.steps:
            action["action"] = [add(s) for s in step.steps]
        return action

    for block in blocks:
        if block.text is not None:
            found.append({"description": block.text})
        found += [add(s) for s in block.steps]
    return found


def _help_action(sheet: Sheet, values: Mapping[str, str] | None, base: str) -> Resource:
    section = call_for_help(sheet, values)
    tiers = []
    for block in section.tiers:
        code = {"coding": [{"system": tier_system(base), "code": block.tier.value}]}
        rules = []
        for rule_id, text in zip(block.rule_ids, block.signs, strict=True):
            rule = sheet.rule(rule_id)
            rules.append(
                {
                    "id": rule.id,
                    "title": text,
                    "code": [code],
                    "condition": [
                        {
                            "kind": "applicability",
                            "expression": {
                                "description": f"caresheet condition: {rule.when}",
                                "language": "text/fhirpath",
                                "expression": fhirpath(rule.condition),
                            },
                        }
                    ],
                }
            )
        tiers.append(
            {
                "title": block.heading,
                "description": block.action,
                "code": [code],
                "selectionBehavior": "any",
                "action": rules,
            }
        )
    return {"title": section.heading, "description": section.emergency_line, "action": tiers}


def fhirpath(condition: Condition) -> str:
    """A rule as FHIRPath over a QuestionnaireResponse; ``%elapsedHours`` is the time since.

    ``answer.exists() and (...)``: not asked is false, "not sure" (an answer without a value)
    leaves the comparison empty, so the ``and`` is empty: maybe (see the module docstring).
    """
    if isinstance(condition, Finding | Compare):
        answer = f"item.where(linkId = '{condition.name}').answer"
        if isinstance(condition, Finding):
            test = "= true"
        else:
            test = f"{condition.op} {_number(condition.value)}"
        return f"{answer}.exists() and ({answer}.value {test})"
    if isinstance(condition, Time):
        op = ">=" if condition.kind == "after" else "<="
        return f"%elapsedHours {op} {_number(condition.hours)}"
    if isinstance(condition, Not):
        return f"({fhirpath(condition.operand)}).not()"
    joiner = " and " if isinstance(condition, And) else " or "
    assert isinstance(condition, And | Or)
    return joiner.join(f"({fhirpath(part)})" for part in condition.operands)


def _number(value: float) -> str:
    """A FHIRPath decimal literal: exact, and never in exponent form (1e-05 is not one)."""
    return format(Decimal(repr(value)), "f").removesuffix(".0")


# ---------------------------------------------------------------- Questionnaire


def questionnaire(sheet: Sheet, base: str = DEFAULT_BASE) -> Resource:
    """One question per finding: yes/no as boolean, numbers as decimal; follow-ups enabled."""
    resource = _common("Questionnaire", sheet, base)
    resource["subjectType"] = ["Patient"]
    if sheet.clinical_codes:
        resource["useContext"] = _use_context(sheet)
        resource["code"] = [coding for c in _codes(sheet) for coding in c["coding"]]
    items = []
    for name, finding in sheet.findings.items():
        item: Resource = {
            "linkId": name,
            "text": finding.ask + (f" ({finding.unit})" if finding.unit else ""),
            "type": "decimal" if finding.kind == "number" else "boolean",
            "required": False,
        }
        if finding.ask_if:
            item["enableWhen"] = [
                {"question": finding.ask_if, "operator": "=", "answerBoolean": True}
            ]
        items.append(item)
    resource["item"] = items
    return resource


DATA_ABSENT_REASON = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
NOT_SURE = {"extension": [{"url": DATA_ABSENT_REASON, "valueCode": "asked-unknown"}]}


def elapsed_extension(base: str) -> str:
    return f"{base.rstrip('/')}/StructureDefinition/elapsed-hours"


def questionnaire_response(
    sheet: Sheet,
    answers: Mapping[str, str],
    *,
    response_id: str | None = None,
    authored: dt.datetime | None = None,
    elapsed_hours: float | None = None,
    handout_id: int | None = None,
    base: str = DEFAULT_BASE,
) -> Resource:
    """Answers (``yes``/``no``/``unsure``/a number, as triage reads them) to the sheet's form.

    "Not sure" is an answer with no value and the data-absent-reason ``asked-unknown``; a
    finding not answered has no item. The time since the procedure, when known, rides in an
    extension, since it is the ``%elapsedHours`` the PlanDefinition's conditions read.
    """
    values = read_answers(sheet, answers)
    items = []
    for name in sheet.findings:  # the form's order
        if name not in values:
            continue
        value = values[name]
        if value is None:
            answer: Resource = dict(NOT_SURE)
        elif isinstance(value, bool):
            answer = {"valueBoolean": value}
        else:
            answer = {"valueDecimal": value}
        items.append({"linkId": name, "answer": [answer]})
    resource: Resource = {"resourceType": "QuestionnaireResponse"}
    if response_id is not None:
        resource["id"] = response_id
        resource["identifier"] = {"system": f"{base.rstrip('/')}/checkin", "value": response_id}
    if elapsed_hours is not None:
        resource["extension"] = [
            {"url": elapsed_extension(base), "valueDecimal": round(elapsed_hours, 2)}
        ]
    if handout_id is not None:
        resource["basedOn"] = [
            {"type": "CarePlan",
             "identifier": {"system": f"{base.rstrip('/')}/handout", "value": str(handout_id)}}
        ]
    resource["questionnaire"] = f"{canonical(base, 'Questionnaire', sheet)}|{sheet.version}"
    resource["status"] = "completed"
    if authored is not None:
        resource["authored"] = authored.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    resource["item"] = items
    return resource


# ---------------------------------------------------------------- DocumentReference, Bundle


def document_reference(sheet: Sheet, html: str, pdf: bytes, base: str = DEFAULT_BASE) -> Resource:
    """The rendered sheet, PDF and HTML attached (base64), as patient education."""
    html_bytes = html.encode("utf-8")
    return _document(sheet, base, [
        _attachment("application/pdf", pdf, sheet, f"{sheet.code}.pdf"),
        _attachment("text/html", html_bytes, sheet, f"{sheet.code}.html"),
    ])


def document_reference_by_url(
    sheet: Sheet, pdf_url: str, html_url: str, base: str = DEFAULT_BASE
) -> Resource:
    """The same document pointing at the PDF and page by URL: for search results, which
    would otherwise render a PDF per match."""
    return _document(sheet, base, [
        {"contentType": kind, "language": sheet.language, "url": url,
         "title": f"{sheet.title} ({sheet.code}.{ext})"}
        for kind, url, ext in (("application/pdf", pdf_url, "pdf"), ("text/html", html_url, "html"))
    ])


def handout_document_reference(
    sheet: Sheet, pdf: bytes, link: str, *, patient: str, encounter: str | None,
    handout_id: int, created: dt.datetime, base: str = DEFAULT_BASE,
) -> Resource:
    """One patient's handout as the EHR keeps it: the personalized PDF (base64) and the
    handout's private page, for the patient in context and the launch's encounter. No id: the
    EHR's server gives one when it creates the resource."""
    document = _document(sheet, base, [
        _attachment("application/pdf", pdf, sheet, f"{sheet.code}-handout-{handout_id}.pdf"),
        {"contentType": "text/html", "language": sheet.language, "url": link,
         "title": f"{sheet.title} (the patient's page)"},
    ])
    del document["id"]
    document["masterIdentifier"] = {"system": f"{base.rstrip('/')}/handout",
                                    "value": str(handout_id)}
    document["status"] = "current"
    document["docStatus"] = "final"
    document["subject"] = {"reference": f"Patient/{patient}"}
    document["date"] = created.astimezone(dt.UTC).isoformat(timespec="seconds")
    if encounter:
        document["context"] = {**document["context"],
                               "encounter": [{"reference": f"Encounter/{encounter}"}]}
    return document


def _document(sheet: Sheet, base: str, attachments: list[Resource]) -> Resource:
    context: Resource = {"related": [{"reference": f"PlanDefinition/{resource_id(sheet)}"}]}
    if sheet.clinical_codes:
        context = {"event": _codes(sheet), **context}
    return {
        "resourceType": "DocumentReference",
        "id": resource_id(sheet),
        "language": sheet.language,
        "masterIdentifier": {
            "system": f"{base.rstrip('/')}/sheet-version",
            "value": f"{sheet.code}-{sheet.language}-v{sheet.version}",
        },
        "identifier": [{"system": f"{base.rstrip('/')}/sheet-code", "value": sheet.code}],
        "status": "superseded" if sheet.status is Status.RETIRED else "current",
        "docStatus": DOC_STATUS[sheet.status],
        "type": {
            "coding": [
                {
                    "system": "http://loinc.org",
                    "code": "69730-0",
                    "display": "Instructions",
                }
            ]
        },
        "category": [{"text": "Patient education"}],
        "description": sheet.title,
        "content": [{"attachment": attachment} for attachment in attachments],
        "context": context,
    }


def _attachment(content_type: str, data: bytes, sheet: Sheet, name: str) -> Resource:
    return {
        "contentType": content_type,
        "language": sheet.language,
        "data": base64.b64encode(data).decode("ascii"),
        "size": len(data),
        "hash": base64.b64encode(hashlib.sha1(data).digest()).decode("ascii"),
        "title": f"{sheet.title} ({name})",
    }


def bundle(
    sheet: Sheet,
    html: str,
    pdf: bytes,
    values: Mapping[str, str] | None = None,
    base: str = DEFAULT_BASE,
) -> Resource:
    """The three resources of one sheet as a ``collection`` Bundle."""
    resources = [
        plan_definition(sheet, values, base),
        questionnaire(sheet, base),
        document_reference(sheet, html, pdf, base),
    ]
    return {
        "resourceType": "Bundle",
        "id": f"{resource_id(sheet)}-bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": f"{base.rstrip('/')}/{r['resourceType']}/{r['id']}", "resource": r}
            for r in resources
        ],
    }


# ---------------------------------------------------------------- server answers


def capability_statement(base: str = DEFAULT_BASE, date: str = "2026-11-25") -> Resource:
    """What ``/fhir`` offers: read of the sheet's resources, search of three of them, and the
    check-ins as QuestionnaireResponse (with a credential); JSON only."""
    read = [{"code": "read"}]
    searched = [{"code": "read"}, {"code": "search-type"}]
    return {
        "resourceType": "CapabilityStatement",
        "id": "caresheet",
        "url": f"{base.rstrip('/')}/metadata",
        "name": "CaresheetFHIR",
        "title": "caresheet FHIR R4 server",
        "status": "active",
        "experimental": False,
        "date": date,
        "publisher": "caresheet",
        "kind": "instance",
        "software": {"name": "caresheet"},
        "implementation": {"description": "caresheet care sheets as FHIR", "url": base},
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "Read a sheet by its code (P586), or P586-es for Spanish. "
                "GET /fhir/Bundle/{id} gives all three resources of one sheet. Check-ins "
                "(QuestionnaireResponse) need a care-team login or a signed bearer JWT.",
                "resource": [
                    *(
                        {"type": kind, "interaction": searched,
                         "searchParam": [{"name": name, "type": kind_of}
                                         for name, kind_of in fhir_search.parameters(kind)]}
                        for kind in ("PlanDefinition", "Questionnaire", "DocumentReference")
                    ),
                    {"type": "Bundle", "interaction": read},
                    {"type": "QuestionnaireResponse", "interaction": searched,
                     "searchParam": [{"name": "handout", "type": "token",
                                      "documentation": "The handout's number: its check-ins"}]},
                ],
            }
        ],
    }


def operation_outcome(code: str, message: str, severity: str = "error") -> Resource:
    """An error as FHIR says to report it (``code`` from the issue-type value set)."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": message}],
    }
