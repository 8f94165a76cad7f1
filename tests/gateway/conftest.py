"""Gateway tests: the Falcon app with Falcon's TestClient and a fake RPC (fakes.py) — no
broker, no services. Every test gets a fresh app and a fake that knows two sessions: an
applicant's and the province administrator's."""
from __future__ import annotations

import pytest
from fakes import (
    ADMIN_TOKEN,
    APPLICANT_ACCOUNT,
    APPLICANT_TOKEN,
    FILE_TICKET,
    FORM,
    ID_NUMBER,
    FakeRpc,
    sealed_admin,
    sealed_applicant,
)
from falcon import testing

import gateway.files
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


@pytest.fixture
def answers(rpc, monkeypatch):
    """Every service answers something plausible, the session comes with its account; file
    transfers are stubbed."""
    rpc.accounts[APPLICANT_TOKEN] = APPLICANT_ACCOUNT
    for name, value in {
        "identity.me": APPLICANT_ACCOUNT,
        "identity.request_sms_code": {"phone": "139****0000"},
        "identity.register": {"id_number": ID_NUMBER, "name": "张伟", "year": 2026},
        "identity.check_registration": {"ok": True},
        "identity.login": {"token": "t2", "must_change_password": False},
        "identity.logout": None,
        "identity.change_password": {"must_change_password": False},
        "identity.delete_self": None,
        "identity.review_contacts": [{"level": "province", "name": "省评价中心", "phone": "0371-1"}],
        "identity.current_year": {"year": 2026, "windows": {}, "switches": {}, "current": True},
        "application.progress": {"status": "not_submitted", "steps": [], "application_window": None,
                                 "supervisor": None},
        "application.get_form": FORM, "application.save_form": FORM, "application.submit": FORM,
        "application.stamp_photo": FORM,
        "application.eligibility": {"eligible": False, "rules": []},
        "application.choices": {"routes": ["years"]},
        "application.upload_ticket": {"url": "http://127.0.0.1:1/files/u", "max_bytes": 100},
        "application.file_ticket": FILE_TICKET,
        "application.list_cities": [], "application.list_units": [], "application.list_trades": [],
        "application.contacts": {"center_phone": "0371-1", "counties": []},
        "review.applicant_review": {"status": "not_submitted", "steps": [], "chain": [], "reason": None,
                                    "city_code": "410100", "supervisor_id": None},
    }.items():
        rpc.answer(name, value)
    sent = []
    monkeypatch.setattr(gateway.files, "send", lambda ticket, data, *a: sent.append(data) or
                        ({"sha256": "1" * 64} if ticket["url"].endswith("/u") else FORM))
    monkeypatch.setattr(gateway.files, "pass_on", lambda resp, ticket: setattr(resp, "text", "jpg"))
    return sent
