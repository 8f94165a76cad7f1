"""Gateway tests: the Falcon app with Falcon's TestClient and a fake RPC (fakes.py) — no
broker, no services. Every test gets a fresh app and a fake that knows two sessions: an
applicant's and the province administrator's."""
from __future__ import annotations

import pytest
from fakes import ADMIN_TOKEN, APPLICANT_TOKEN, FakeRpc, sealed_admin, sealed_applicant
from falcon import testing

from gateway.app import create_app


@pytest.fixture
def rpc() -> FakeRpc:
    fake = FakeRpc()
    fake.sessions[APPLICANT_TOKEN] = sealed_applicant()
    fake.sessions[ADMIN_TOKEN] = sealed_admin()
    return fake


@pytest.fixture
def client(rpc) -> testing.TestClient:
    return testing.TestClient(create_app(rpc=rpc))
