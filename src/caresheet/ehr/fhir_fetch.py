"""Read from the EHR's FHIR server with the access token it lent us (``fhirAuthorization``).

Only GETs of a relative query under the server's base; the token goes in the Authorization
header and nowhere else (no URL, no log).
"""

from __future__ import annotations

from typing import Any

import httpx

from caresheet.errors import FhirServerError

TIMEOUT_SECONDS = 10.0
MEDIA_TYPE = "application/fhir+json"


def read(base: str, query: str, access_token: str | None) -> dict[str, Any]:
    """GET ``{base}/{query}`` as FHIR JSON; a FhirServerError when it fails or is not JSON."""
    url = f"{base.rstrip('/')}/{query.lstrip('/')}"
    headers = {"Accept": MEDIA_TYPE}
    if access_token:
        headers["Authorization"] = f"Bearer {access_token}"
    try:
        response = httpx.get(url, headers=headers, timeout=TIMEOUT_SECONDS)
    except httpx.HTTPError as error:
        raise FhirServerError(
            f"cannot reach the EHR's FHIR server: {type(error).__name__}"
        ) from None
    if response.status_code != 200:
        raise FhirServerError(
            f"the EHR's FHIR server answered {response.status_code} to GET {query.split('?')[0]}"
        )
    try:
        document = response.json()
    except ValueError:
        raise FhirServerError("the EHR's FHIR server did not answer in JSON") from None
    if not isinstance(document, dict) or "resourceType" not in document:
        raise FhirServerError("the EHR's FHIR server did not answer with a FHIR resource")
    return document
