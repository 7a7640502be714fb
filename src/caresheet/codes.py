"""Clinical code systems: the short names authors write, FHIR URIs and HL7 OIDs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CodeSystem:
    name: str
    uri: str
    oid: str
    title: str


SYSTEMS: tuple[CodeSystem, ...] = (
    CodeSystem("snomed", "http://snomed.info/sct", "2.16.840.1.113883.6.96", "SNOMED CT"),
    CodeSystem(
        "icd10cm", "http://hl7.org/fhir/sid/icd-10-cm", "2.16.840.1.113883.6.90", "ICD-10-CM"
    ),
    CodeSystem(
        "icd10pcs",
        "http://www.cms.gov/Medicare/Coding/ICD10",
        "2.16.840.1.113883.6.4",
        "ICD-10-PCS",
    ),
    CodeSystem("cpt", "http://www.ama-assn.org/go/cpt", "2.16.840.1.113883.6.12", "CPT"),
    CodeSystem("loinc", "http://loinc.org", "2.16.840.1.113883.6.1", "LOINC"),
)

BY_NAME = {s.name: s for s in SYSTEMS}
BY_URI = {s.uri: s for s in SYSTEMS}
BY_OID = {s.oid: s for s in SYSTEMS}


def system_named(name_uri_or_oid: str) -> CodeSystem | None:
    """Find a system by its short name, FHIR URI or OID; None when unknown."""
    key = name_uri_or_oid.strip()
    return BY_NAME.get(key.lower()) or BY_URI.get(key) or BY_OID.get(key)
