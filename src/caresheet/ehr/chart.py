"""What the launched screen reads from the patient's chart, with the launch's access token.

The patient's name (for the banner), record number (``identifier`` of type MR), phone and
email (``telecom``) and language (``communication``, preferred first); and the procedure codes
of open ServiceRequests and recent Procedures, which suggest sheets through the same
clinical-code search as the CDS Hooks cards. These only prefill a form the clinician checks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from caresheet.ehr import fhir_fetch
from caresheet.ehr.cds_hooks import Code, matching_sheets
from caresheet.errors import FhirServerError
from caresheet.store.db import Store
from caresheet.store.sheets import StoredSheet

MR = "MR"
RECENT_DAYS = 30
OPEN_ORDERS = ("active", "draft", "on-hold")


@dataclass(frozen=True)
class Chart:
    """The prefill for one patient; ``problems`` lists what could not be read (shown, not fatal)."""

    name: str | None = field(default=None, repr=False)
    birth_date: str | None = field(default=None, repr=False)
    gender: str | None = field(default=None, repr=False)
    mrn: str | None = field(default=None, repr=False)
    phone: str | None = field(default=None, repr=False)
    email: str | None = field(default=None, repr=False)
    language: str | None = None
    codes: tuple[Code, ...] = ()
    problems: tuple[str, ...] = ()


def _name(patient: dict[str, Any]) -> str | None:
    names = [n for n in patient.get("name") or [] if isinstance(n, dict)]
    names.sort(key=lambda n: n.get("use") != "official")
    for name in names:
        if isinstance(name.get("text"), str) and name["text"].strip():
            return str(name["text"]).strip()
        parts = [*(g for g in name.get("given") or [] if isinstance(g, str)),
                 *([name["family"]] if isinstance(name.get("family"), str) else [])]
        if parts:
            return " ".join(parts)
    return None


def _mrn(patient: dict[str, Any]) -> str | None:
    for identifier in patient.get("identifier") or []:
        if not isinstance(identifier, dict):
            continue
        codings = ((identifier.get("type") or {}).get("coding") or [])
        if any(isinstance(c, dict) and c.get("code") == MR for c in codings):
            value = identifier.get("value")
            if isinstance(value, str) and value.strip():
                return value.strip()
    return None


def _telecom(patient: dict[str, Any], system: str) -> str | None:
    found = [t for t in patient.get("telecom") or []
             if isinstance(t, dict) and t.get("system") == system
             and isinstance(t.get("value"), str) and t.get("use") != "old"
             and not (t.get("period") or {}).get("end")]
    found.sort(key=lambda t: (t.get("use") != "mobile", t.get("rank", 99)))
    return str(found[0]["value"]).strip() if found else None


def language(patient: dict[str, Any]) -> str | None:
    """The preferred language's primary subtag (``es-MX`` → ``es``), else the first one."""
    ranked = sorted((c for c in patient.get("communication") or [] if isinstance(c, dict)),
                    key=lambda c: not c.get("preferred", False))
    for item in ranked:
        for coding in (item.get("language") or {}).get("coding") or []:
            code = coding.get("code") if isinstance(coding, dict) else None
            if isinstance(code, str) and code.strip():
                return code.strip().split("-")[0].lower()
    return None


def _codes(bundle: dict[str, Any], kind: str) -> list[Code]:
    codes: list[Code] = []
    for entry in bundle.get("entry") or []:
        resource = (entry or {}).get("resource") or {}
        if resource.get("resourceType") != kind:
            continue
        if kind == "ServiceRequest" and resource.get("status") not in OPEN_ORDERS:
            continue
        if kind == "Procedure" and resource.get("status") in ("entered-in-error", "not-done"):
            continue
        for coding in (resource.get("code") or {}).get("coding") or []:
            if isinstance(coding, dict) and isinstance(coding.get("system"), str) \
                    and isinstance(coding.get("code"), str):
                codes.append((coding["system"], coding["code"]))
    return codes


def read(base: str, access_token: str, patient_id: str, now: dt.datetime) -> Chart:
    """The chart's prefill; a FhirServerError only when the Patient itself cannot be read."""
    pid = quote(patient_id, safe="")
    patient = fhir_fetch.read(base, f"Patient/{pid}", access_token)
    problems: list[str] = []
    codes: list[Code] = []
    since = (now - dt.timedelta(days=RECENT_DAYS)).date().isoformat()
    for kind, query in (
        ("ServiceRequest", f"ServiceRequest?patient={pid}&status={','.join(OPEN_ORDERS)}"),
        ("Procedure", f"Procedure?patient={pid}&date=ge{since}"),
    ):
        try:
            codes.extend(_codes(fhir_fetch.read(base, query, access_token), kind))
        except FhirServerError as error:
            problems.append(f"{kind}: {error}")
    gender = patient.get("gender")
    birth = patient.get("birthDate")
    return Chart(
        name=_name(patient), birth_date=birth if isinstance(birth, str) else None,
        gender=gender if isinstance(gender, str) else None, mrn=_mrn(patient),
        phone=_telecom(patient, "phone") or _telecom(patient, "sms"),
        email=_telecom(patient, "email"), language=language(patient),
        codes=tuple(dict.fromkeys(codes)), problems=tuple(problems))


def suggestions(store: Store, chart: Chart) -> list[StoredSheet]:
    """The current sheets for the chart's procedure codes, in the patient's language if we
    have it (SNOMED CT, CPT and ICD-10-PCS; other systems are skipped)."""
    return matching_sheets(store, chart.codes, chart.language)
