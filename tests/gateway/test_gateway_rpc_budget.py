"""Issue 12's budget, counted by the fake RPC with the copies a gateway process keeps (a fake
event listener stands in for the broker): once a session is known, every applicant API
request costs one RPC and every applicant page at most two; reference data and the session
cost none until an event says they changed; without the listener nothing is kept."""
from __future__ import annotations

import pytest
from fakes import ADMIN_TOKEN, APPLICANT_TOKEN, ID_NUMBER, FakeListener, sealed_admin, sealed_applicant
from falcon import testing

from gateway.app import create_app
from services.application.schemas import Submitted

APPLICANT = {"Authorization": f"Bearer {APPLICANT_TOKEN}"}
ACCOUNT = {"year": 2026, "id_number": ID_NUMBER, "name": "张伟", "gender": "M", "birth_month": "1985-03",
           "phone": "13900000000", "city_code": "410100", "city_name": "郑州市", "county_code": None, "unit_id": None,
           "declared_grade": 4, "id_card_photo": None, "supplementary": False, "must_change_password": False,
           "ever_submitted": False, "created_at": "2026-01-10T08:00:00+00:00"}
SESSION = "identity.resolve_session_view"
PROGRESS = {"status": "not_submitted", "application_window": None, "supervisor": None,
            "steps": [{"key": k, "title": k, "enabled": True, "reason": None, "visible": True, "done": False}
                      for k in ("application", "review", "payment", "ticket", "result", "certificate")]}


@pytest.fixture
def listener():
    return FakeListener()


@pytest.fixture
def kept(rpc, listener, answers):
    """A gateway that keeps copies, the applicant's session already known once."""
    rpc.accounts[APPLICANT_TOKEN] = ACCOUNT
    rpc.answer("application.progress", PROGRESS)
    form = {**Submitted.EXAMPLE["form"], "status": "not_submitted", "round": 0, "locked": False,
            "service_years_max": 30, "review_note": None}
    rpc.answer("application.form_page", {"form": form,
                                         "eligibility": {"eligible": False, "rules": []},
                                         "choices": {"routes": []}, "progress": PROGRESS})
    rpc.answer("payment.my_payment", {"online": True, "status": "not_due", "amount_fen": 15000, "opens_at": None,
                                      "window": None, "receipt_title": None, "orders": [], "approved": False,
                                      "paid_at": None})
    rpc.answer("documents.my_ticket", {"available": False, "reason": "x", "subjects": []})
    rpc.answer("documents.my_result", {"available": False, "reason": "x", "scores": []})
    client = testing.TestClient(create_app(rpc=rpc, listener=listener))
    assert client.simulate_get("/api/v1/me", headers=APPLICANT).status_code == 200
    rpc.reset()
    return client


API = ["/api/v1/me", "/api/v1/me/application", "/api/v1/me/application/eligibility",
       "/api/v1/me/application/choices", "/api/v1/me/review", "/api/v1/me/payment", "/api/v1/me/ticket",
       "/api/v1/me/result"]


@pytest.mark.parametrize("path", API)
def test_an_applicant_api_request_costs_one_rpc(kept, rpc, path):
    kept.simulate_get(path, headers=APPLICANT)              # reference data seen once
    rpc.reset()
    r = kept.simulate_get(path, headers=APPLICANT)
    assert r.status_code == 200, r.text
    assert len(rpc.names) == 1, rpc.names


PAGES = ["/home", "/application", "/review", "/payment", "/ticket", "/result"]


@pytest.mark.parametrize("path", PAGES)
def test_an_applicant_page_costs_at_most_two_rpcs(kept, rpc, path):
    kept.simulate_get(path, headers=APPLICANT)
    rpc.reset()
    r = kept.simulate_get(path, headers=APPLICANT)
    assert r.status_code == 200, r.text[:300]
    assert len(rpc.names) <= 2, rpc.names


def test_reference_data_is_kept_until_the_owner_says_it_changed(kept, rpc, listener):
    for path in ("/api/v1/cities", "/api/v1/units", "/api/v1/trades", "/api/v1/contacts", "/api/v1/years/current"):
        assert kept.simulate_get(path).status_code == 200
    first = list(rpc.names)
    for path in ("/api/v1/cities", "/api/v1/units", "/api/v1/trades", "/api/v1/contacts", "/api/v1/years/current"):
        assert kept.simulate_get(path).status_code == 200
    assert rpc.names == first                               # nothing asked again
    listener.deliver("application.reference_changed.v1", {"what": ["trades"], "at": "2026-01-01T00:00:00+00:00"})
    listener.deliver("identity.year_updated.v1", {"year": 2026})
    rpc.reset()
    for path in ("/api/v1/units", "/api/v1/trades", "/api/v1/years/current"):
        kept.simulate_get(path)
    assert rpc.names == ["application.list_trades", "identity.current_year"]


def test_a_session_is_asked_again_after_principal_changed_and_nothing_is_kept_without_the_broker(kept, rpc,
                                                                                              listener):
    kept.simulate_get("/api/v1/me", headers=APPLICANT)
    assert SESSION not in rpc.names
    listener.deliver("identity.principal_changed.v1", {"kind": "applicant", "principal_id": 7, "token_hash": None,
                                                       "reason": "password_changed", "at": "2026-01-01T00:00:00Z"})
    rpc.reset()
    kept.simulate_get("/api/v1/me", headers=APPLICANT)
    assert rpc.names == [SESSION, "application.progress"]
    listener.lose_broker()
    rpc.reset()
    kept.simulate_get("/api/v1/me", headers=APPLICANT)
    kept.simulate_get("/api/v1/me", headers=APPLICANT)
    kept.simulate_get("/api/v1/cities")
    kept.simulate_get("/api/v1/cities")
    assert rpc.names.count(SESSION) == 2 and rpc.names.count("application.list_cities") == 2


def test_another_accounts_change_leaves_this_session_kept(kept, rpc, listener):
    listener.deliver("identity.principal_changed.v1", {"kind": "applicant", "principal_id": 8, "token_hash": None,
                                                       "reason": "deleted", "at": "2026-01-01T00:00:00Z"})
    listener.deliver("identity.principal_changed.v1", {"kind": "admin", "principal_id": 7, "token_hash": None,
                                                       "reason": "deleted", "at": "2026-01-01T00:00:00Z"})
    kept.simulate_get("/api/v1/me", headers=APPLICANT)
    assert rpc.names == ["application.progress"]
    assert sealed_admin() and sealed_applicant()


def test_a_change_made_through_one_process_is_seen_by_the_next_request_on_any_other(rpc, answers, tmp_path):
    """Read your own writes (issue 12): two gateway processes of one host share the stamps
    file; no event is delivered, yet after the province's change through process A the
    next request on process B asks again. A change the service refused stamps nothing."""
    from gateway.reference import HostStamps
    from kit.errors import InvalidInput

    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    a = testing.TestClient(create_app(rpc=rpc, listener=FakeListener(), stamps=HostStamps(tmp_path / "s")))
    b = testing.TestClient(create_app(rpc=rpc, listener=FakeListener(), stamps=HostStamps(tmp_path / "s")))
    reads = ("/api/v1/contacts", "/api/v1/years/current", "/api/v1/trades")
    for client in (a, b, b):
        for path in reads:
            assert client.simulate_get(path).status_code == 200
    assert rpc.names.count("application.contacts") == 2 and rpc.names.count("identity.current_year") == 2
    rpc.reset()
    rpc.answer("application.put_contacts", {"center_phone": "0371-1", "counties": []})
    assert a.simulate_put("/api/v1/admin/contacts", json={"counties": []}, headers=admin).status_code == 200
    rpc.answer("identity.put_year", {"year": 2026})
    assert a.simulate_put("/api/v1/admin/years/2026", json={"switches": {"ticket_printing": True}},
                          headers=admin).status_code == 200
    rpc.reset()
    for path in reads:
        b.simulate_get(path)
        b.simulate_get(path)
    assert rpc.names == ["application.contacts", "identity.current_year"]     # once each; trades still kept
    rpc.answer("application.put_contacts", InvalidInput("区县咨询电话格式不正确", field="counties"))
    r = a.simulate_put("/api/v1/admin/contacts", json={"counties": []}, headers=admin)
    assert r.status_code == 400 and r.json["error"]["code"] == "invalid"
    rpc.reset()
    b.simulate_get("/api/v1/contacts")
    assert rpc.names == []
