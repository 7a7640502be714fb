"""CDS Hooks on a real server: discovery, cards, the spec's JWT checks, 412, feedback."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from caresheet.store import ehr as rows
from caresheet.store.db import Store
from ehr.conftest import DOWN_ISS, EHR_ISS, Ehr
from ehr.peers import SigningKey, bundle, procedure, service_request, serving

ORDER = "caresheet-order-select"
SIGN = "caresheet-order-sign"
DISCHARGE = "caresheet-discharge"
LUMBAR_PUNCTURE = "277762005"


def order_request(*orders: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"hook": "order-select", "hookInstance": str(uuid.uuid4()),
            "context": {"userId": "Practitioner/1", "patientId": "p1",
                        "selections": [f"ServiceRequest/{o['id']}" for o in orders],
                        "draftOrders": bundle(*orders)}, **extra}


def discharge_request(**extra: Any) -> dict[str, Any]:
    return {"hook": "encounter-discharge", "hookInstance": str(uuid.uuid4()),
            "context": {"userId": "Practitioner/1", "patientId": "p1", "encounterId": "e1"},
            **extra}


def test_discovery_lists_the_three_hooks_with_patient_prefetch(http: httpx.Client) -> None:
    services = http.get("/cds-services").json()["services"]
    assert {s["hook"]: s["id"] for s in services} == {
        "order-select": ORDER, "order-sign": SIGN, "encounter-discharge": DISCHARGE}
    for service in services:
        assert service["prefetch"]["patient"] == "Patient/{{context.patientId}}"
        assert service["title"] and service["description"]
    discharge = next(s for s in services if s["id"] == DISCHARGE)
    assert "encounter={{context.encounterId}}" in discharge["prefetch"]["procedures"]


def test_an_order_for_a_lumbar_puncture_gets_the_p586_card(ehr: Ehr, http: httpx.Client) -> None:
    response = http.post(f"/cds-services/{ORDER}", headers=ehr.headers(ORDER),
                         json=order_request(service_request(LUMBAR_PUNCTURE)))
    assert response.status_code == 200, response.text
    [card] = response.json()["cards"]
    assert card["indicator"] == "info"
    assert len(card["summary"]) < 140 and "Spinal Tap" in card["summary"]
    assert card["source"]["label"] == "caresheet"
    uuid.UUID(card["uuid"])
    assert "You passed out." in card["detail"] and "**" in card["detail"]
    absolute, smart = card["links"]
    assert absolute == {"label": absolute["label"], "type": "absolute",
                        "url": f"{ehr.server.url}/sheets/P586"}
    assert smart["type"] == "smart" and smart["appContext"] == "P586"
    assert smart["url"] == f"{ehr.server.url}/smart/launch"
    assert http.get(absolute["url"]).status_code == 200


def test_no_matching_code_gives_no_cards(ehr: Ehr, http: httpx.Client) -> None:
    response = http.post(f"/cds-services/{ORDER}", headers=ehr.headers(ORDER),
                         json=order_request(service_request("999999999")))
    assert response.status_code == 200
    assert response.json() == {"cards": []}


def test_a_spanish_speaking_patient_gets_the_spanish_sheet(ehr: Ehr, http: httpx.Client) -> None:
    patient = {"resourceType": "Patient", "id": "p1", "communication": [
        {"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "es-MX"}]},
         "preferred": True}]}
    body = order_request(service_request("62270", "http://www.ama-assn.org/go/cpt"),
                         prefetch={"patient": patient})
    [card] = http.post(f"/cds-services/{ORDER}", headers=ehr.headers(ORDER), json=body
                       ).json()["cards"]
    assert card["links"][0]["url"].endswith("/sheets/P586?lang=es")


def test_discharge_reads_the_prefetched_procedures(ehr: Ehr, http: httpx.Client) -> None:
    body = discharge_request(prefetch={"procedures": bundle(procedure("62270"))})
    response = http.post(f"/cds-services/{DISCHARGE}", headers=ehr.headers(DISCHARGE),
                         json=body)
    assert [c["links"][1]["appContext"] for c in response.json()["cards"]] == ["P586"]


def test_discharge_without_prefetch_asks_the_fhir_server(ehr: Ehr, http: httpx.Client) -> None:
    searchset = {**bundle(procedure("45378"), procedure("62270", status="entered-in-error")),
                 "type": "searchset"}
    with serving({"/fhir/Procedure": searchset}) as fhir:
        body = discharge_request(fhirServer=f"{fhir.url}/fhir", fhirAuthorization={
            "access_token": "lent-token", "token_type": "Bearer", "expires_in": 300,
            "scope": "patient/Procedure.rs", "subject": "caresheet"})
        response = http.post(f"/cds-services/{DISCHARGE}", headers=ehr.headers(DISCHARGE),
                             json=body)
    assert response.status_code == 200, response.text
    codes = [c["links"][1]["appContext"] for c in response.json()["cards"]]
    assert len(codes) == 1 and codes != ["P586"]  # the colonoscopy sheet; the error is ignored
    # The procedures, then the patient (for the language; a 404 there only means English).
    assert [s.path for s in fhir.seen] == ["/fhir/Procedure?patient=p1&encounter=e1",
                                           "/fhir/Patient/p1"]
    assert {s.authorization for s in fhir.seen} == {"Bearer lent-token"}


def test_discharge_with_neither_prefetch_nor_fhir_server_is_412(ehr: Ehr,
                                                                http: httpx.Client) -> None:
    response = http.post(f"/cds-services/{DISCHARGE}", headers=ehr.headers(DISCHARGE),
                         json=discharge_request())
    assert response.status_code == 412
    assert "procedures" in response.json()["error"]["message"]


def _hs256(ehr: Ehr) -> str:
    import jwt

    now = int(time.time())
    return jwt.encode({"iss": EHR_ISS, "aud": ehr.aud(ORDER), "iat": now, "exp": now + 60,
                       "jti": uuid.uuid4().hex}, "a-shared-secret-of-32-bytes-long!",
                      algorithm="HS256")


BAD_TOKENS = {
    "no token": lambda e: None,
    "not a bearer": lambda e: "Basic dXNlcjpwYXNz",
    "HS256": lambda e: f"Bearer {_hs256(e)}",
    "wrong aud": lambda e: "Bearer " + e.key.token(EHR_ISS, "https://other.example/cds-services"),
    "expired": lambda e: "Bearer " + e.key.token(EHR_ISS, e.aud(ORDER), lifetime=-120),
    "too long-lived": lambda e: "Bearer " + e.key.token(EHR_ISS, e.aud(ORDER), lifetime=3600),
    "no jti": lambda e: "Bearer " + e.key.token(EHR_ISS, e.aud(ORDER), jti=None),
    "unknown iss": lambda e: "Bearer " + e.key.token("https://stranger.example", e.aud(ORDER)),
    "another key": lambda e: "Bearer " + SigningKey("ES384", kid=e.key.kid).token(
        EHR_ISS, e.aud(ORDER)),
    "JWKS down": lambda e: "Bearer " + e.key.token(DOWN_ISS, e.aud(ORDER)),
}


@pytest.mark.parametrize("case", list(BAD_TOKENS))
def test_bad_tokens_get_401(ehr: Ehr, http: httpx.Client, case: str) -> None:
    authorization = BAD_TOKENS[case](ehr)
    headers = {"Authorization": authorization} if authorization else {}
    response = http.post(f"/cds-services/{ORDER}", headers=headers,
                         json=order_request(service_request(LUMBAR_PUNCTURE)))
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "unauthorized"


def test_a_replayed_jti_is_refused(ehr: Ehr, http: httpx.Client) -> None:
    headers = ehr.headers(ORDER)
    body = order_request(service_request(LUMBAR_PUNCTURE))
    assert http.post(f"/cds-services/{ORDER}", headers=headers, json=body).status_code == 200
    again = http.post(f"/cds-services/{ORDER}", headers=headers, json=body)
    assert again.status_code == 401
    assert "already used" in again.json()["error"]["message"]


def test_an_rs384_client_is_accepted_too(ehr: Ehr, http: httpx.Client) -> None:
    rsa_key = SigningKey("RS384")
    with serving({"/jwks.json": rsa_key.jwks()}) as jwks:
        from ehr.conftest import caresheet

        iss = f"https://rsa-{uuid.uuid4().hex[:6]}.example"
        assert caresheet(ehr.server, "cds-client", "add", "--iss", iss,
                         "--jwks-url", f"{jwks.url}/jwks.json").returncode == 0
        token = rsa_key.token(iss, ehr.aud(ORDER))
        response = http.post(f"/cds-services/{ORDER}", headers={"Authorization": f"Bearer {token}"},
                             json=order_request(service_request(LUMBAR_PUNCTURE)))
    assert response.status_code == 200, response.text


def test_unknown_service_and_bad_body(ehr: Ehr, http: httpx.Client) -> None:
    missing = http.post("/cds-services/nope", headers=ehr.headers("nope"), json={})
    assert missing.status_code == 404
    bad = http.post(f"/cds-services/{ORDER}", headers=ehr.headers(ORDER), json={"hook": 3})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_input"
    wrong_hook = http.post(f"/cds-services/{ORDER}", headers=ehr.headers(ORDER),
                           json=discharge_request(prefetch={"procedures": bundle()}))
    assert wrong_hook.status_code == 400


def test_feedback_is_recorded(ehr: Ehr, http: httpx.Client) -> None:
    [card] = http.post(f"/cds-services/{ORDER}", headers=ehr.headers(ORDER),
                       json=order_request(service_request(LUMBAR_PUNCTURE))).json()["cards"]
    feedback = {"feedback": [
        {"card": card["uuid"], "outcome": "accepted", "outcomeTimestamp": "2026-01-05T10:00:00Z",
         "acceptedSuggestions": []},
        {"card": card["uuid"], "outcome": "overridden", "outcomeTimestamp": "2026-01-05T10:01:00Z",
         "overrideReason": {"reason": {"code": "not-relevant", "display": "Not relevant"},
                            "userComment": "given on paper"}},
    ]}
    url = f"/cds-services/{ORDER}/feedback"
    saved = http.post(url, headers=ehr.headers(f"{ORDER}/feedback"), json=feedback)
    assert saved.status_code == 200, saved.text
    unknown = {"feedback": [{**feedback["feedback"][0], "card": str(uuid.uuid4())}]}
    assert http.post(url, headers=ehr.headers(f"{ORDER}/feedback"), json=unknown
                     ).status_code == 404
    assert http.post(url, json=feedback).status_code == 401
    store = Store.open(ehr.server.db_url, migrate=False)
    try:
        with store.session(write=False) as session:
            counts = rows.feedback_counts(session)
    finally:
        store.close()
    assert counts[("P586", "accepted")] >= 1 and counts[("P586", "overridden")] >= 1
