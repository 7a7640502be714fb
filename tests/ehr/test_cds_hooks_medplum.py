"""A real CDS Hooks client library (npm @medplum/core) against a real ``caresheet serve``:
discovery, then an ``order-sign`` call signed with the EHR's key (its JWKS served in the test)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

from ehr.conftest import EHR_ISS, Ehr
from ehr.peers import bundle, service_request
from helpers import REPO_ROOT, require

SCRIPT = Path(__file__).with_name("cds_client.mjs")
MEDPLUM = REPO_ROOT / "node_modules" / "@medplum" / "core"


def test_medplum_discovers_and_calls_order_sign(ehr: Ehr) -> None:
    node = shutil.which("node")
    require(node and MEDPLUM.is_dir(), "Node.js and @medplum/core (npm ci)")
    assert node is not None
    body = {"hook": "order-sign", "hookInstance": str(uuid.uuid4()),
            "context": {"userId": "Practitioner/1", "patientId": "p1",
                        "draftOrders": bundle(service_request("009U3ZX",
                                                              "http://www.cms.gov/Medicare/Coding/ICD10"))}}
    env = {**os.environ, "CARESHEET_URL": ehr.server.url, "CDS_ISS": EHR_ISS,
           "CDS_KID": ehr.key.kid, "CDS_PRIVATE_KEY": ehr.key.pem(),
           "CDS_SERVICE": "caresheet-order-sign", "CDS_BODY": json.dumps(body)}
    done = subprocess.run([node, str(SCRIPT)], env=env, cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert {s["hook"] for s in result["services"]["services"]} == {
        "order-select", "order-sign", "encounter-discharge"}
    [card] = result["response"]["cards"]
    assert card["indicator"] == "info" and "Spinal Tap" in card["summary"]
    assert card["links"][1] == {"label": card["links"][1]["label"], "type": "smart",
                                "url": f"{ehr.server.url}/smart/launch", "appContext": "P586"}
