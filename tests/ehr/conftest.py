"""A real ``caresheet serve`` per store kind with a registered CDS client whose keys a tiny
JWKS server on 127.0.0.1 publishes; shared by a module's tests (they only add rows)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from ehr.peers import JsonServer, SigningKey, closed_port_url, serving
from helpers import LiveServer
from render.live import KINDS, running

EHR_ISS = "https://ehr.test.example"
DOWN_ISS = "https://down.test.example"


@dataclass
class Ehr:
    """The server under test, the EHR's signing key and its JWKS server."""

    server: LiveServer
    key: SigningKey
    jwks: JsonServer

    def aud(self, service_id: str) -> str:
        return f"{self.server.url}/cds-services/{service_id}"

    def headers(self, service_id: str, **claims: object) -> dict[str, str]:
        token = self.key.token(str(claims.pop("iss", EHR_ISS)), self.aud(service_id), **claims)
        return {"Authorization": f"Bearer {token}"}


def caresheet(server: LiveServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*server.command, *args], cwd=server.workdir, env=server.env,
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture(scope="module", params=KINDS)
def ehr(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ehr]:
    key = SigningKey("ES384")
    with serving({"/jwks.json": key.jwks()}) as jwks, running(
        request.param, Path(tmp_path_factory.mktemp("ehr"))
    ) as server:
        for iss, url in ((EHR_ISS, f"{jwks.url}/jwks.json"), (DOWN_ISS, closed_port_url())):
            done = caresheet(server, "cds-client", "add", "--iss", iss, "--jwks-url", url)
            assert done.returncode == 0, done.stderr
        yield Ehr(server, key, jwks)


@pytest.fixture(scope="module")
def http(ehr: Ehr) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ehr.server.url, timeout=30.0) as client:
        yield client
