"""Issue 12's budget, counted by the fake RPC with the copies a gateway process keeps (a fake
event listener stands in for the broker): once a session is known, every applicant API
request costs at most one RPC and every applicant page at most two; the applicant's views
(steps, form, check, 审核结果), reference data and the session cost none until an event, the
applicant's own write or the clock says they changed; without the listener nothing is kept."""
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


# the views a gateway keeps (gateway.views.KEPT): none asked again until something changes
KEPT_API = {"/api/v1/me": "application.progress", "/api/v1/me/application": "application.get_form",
            "/api/v1/me/application/eligibility": "application.eligibility",
            "/api/v1/me/review": "review.applicant_review", "/api/v1/me/payment": "payment.my_payment",
            "/api/v1/me/ticket": "documents.my_ticket", "/api/v1/me/result": "documents.my_result"}


@pytest.mark.parametrize("path", API)
def test_an_applicant_api_request_costs_one_rpc_and_a_kept_view_none(kept, rpc, path):
    r = kept.simulate_get(path, headers=APPLICANT)         # reference data seen once, the view kept
    assert r.status_code == 200, r.text
    rpc.reset()
    r = kept.simulate_get(path, headers=APPLICANT)
    assert r.status_code == 200, r.text
    assert len(rpc.names) == (0 if path in KEPT_API else 1), rpc.names


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


def test_each_request_gets_its_own_copy_of_kept_reference_data(listener):
    """A page may change what it is handed (a label added, a list filtered): the copy kept for
    the next request stays as the service answered."""
    from types import SimpleNamespace

    from gateway.reference import Reference

    asked = []

    def list_trades():
        asked.append(1)
        return [{"code": "T001", "name": "汽车驾驶员", "new_trades": ["T001"]}]

    reference = Reference(SimpleNamespace(application=SimpleNamespace(list_trades=list_trades)), listener)
    first = reference.trades()
    first[0]["name"] += "（不可选）"
    first[0]["new_trades"].append("T999")
    first.append({"code": "T002"})
    second = reference.trades()
    assert second == [{"code": "T001", "name": "汽车驾驶员", "new_trades": ["T001"]}] and len(asked) == 1
    second[0]["new_trades"].clear()
    assert reference.trades()[0]["new_trades"] == ["T001"] and len(asked) == 1
    # an answer that did not cross the broker as JSON is served, and not kept
    from datetime import datetime

    odd = SimpleNamespace(application=SimpleNamespace(contacts=lambda: asked.append(2) or {"at": datetime(2026, 1, 1)}))
    reference = Reference(odd, listener)
    assert reference.contacts() == reference.contacts() == {"at": datetime(2026, 1, 1)} and asked.count(2) == 2


def test_a_session_is_asked_again_after_principal_changed_and_nothing_is_kept_without_the_broker(kept, rpc,
                                                                                              listener):
    kept.simulate_get("/api/v1/me", headers=APPLICANT)
    assert SESSION not in rpc.names
    listener.deliver("identity.principal_changed.v1", {"kind": "applicant", "principal_id": 7, "token_hash": None,
                                                       "reason": "password_changed", "at": "2026-01-01T00:00:00Z"})
    rpc.reset()
    kept.simulate_get("/api/v1/me", headers=APPLICANT)
    assert rpc.names == [SESSION]                           # the steps are still kept
    listener.lose_broker()
    rpc.reset()
    kept.simulate_get("/api/v1/me", headers=APPLICANT)
    kept.simulate_get("/api/v1/me", headers=APPLICANT)
    kept.simulate_get("/api/v1/cities")
    kept.simulate_get("/api/v1/cities")
    assert rpc.names.count(SESSION) == 2 and rpc.names.count("application.list_cities") == 2
    assert rpc.names.count("application.progress") == 2


def test_another_accounts_change_leaves_this_session_kept(kept, rpc, listener):
    listener.deliver("identity.principal_changed.v1", {"kind": "applicant", "principal_id": 8, "token_hash": None,
                                                       "reason": "deleted", "at": "2026-01-01T00:00:00Z"})
    listener.deliver("identity.principal_changed.v1", {"kind": "admin", "principal_id": 7, "token_hash": None,
                                                       "reason": "deleted", "at": "2026-01-01T00:00:00Z"})
    kept.simulate_get("/api/v1/me", headers=APPLICANT)
    assert rpc.names == []                                  # session and steps kept
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


# --- the applicant's views (gateway.views) ------------------------------------------------
OTHER = [2026, "410102199001010019"]


def _viewers(applicants=(), everyone=False, forms=()) -> dict:
    return {"applicants": [list(a) for a in applicants], "forms": [list(a) for a in forms], "everyone": everyone}


ME = [2026, ID_NUMBER]


@pytest.mark.parametrize("service", ["application", "review", "payment", "documents"])
def test_a_services_event_ends_what_it_answered_of_that_applicant_or_of_everyone(kept, rpc, listener, service):
    event_type = f"{service}.viewers_changed.v1"
    own = sorted(m for p, m in KEPT_API.items() if m.startswith(service + "."))
    for path in KEPT_API:
        assert kept.simulate_get(path, headers=APPLICANT).status_code == 200
    rpc.reset()
    listener.deliver(event_type, _viewers([OTHER]))          # another applicant: nothing asked again
    for path in KEPT_API:
        kept.simulate_get(path, headers=APPLICANT)
    assert rpc.names == []
    listener.deliver(event_type, _viewers([ME, OTHER]))
    for path in KEPT_API:
        kept.simulate_get(path, headers=APPLICANT)
        kept.simulate_get(path, headers=APPLICANT)
    assert sorted(rpc.names) == own                          # once each, then kept again; the other service's kept
    rpc.reset()
    listener.deliver(event_type, _viewers(everyone=True))
    for path in KEPT_API:
        kept.simulate_get(path, headers=APPLICANT)
    assert sorted(rpc.names) == own
    rpc.reset()
    listener.deliver("application.reference_changed.v1", {"what": ["units"], "at": "2026-01-01T00:00:00+00:00"})
    kept.simulate_get("/api/v1/me", headers=APPLICANT)
    kept.simulate_get("/api/v1/me/review", headers=APPLICANT)
    assert rpc.names == ["application.progress", "review.applicant_review"]


def test_a_change_of_the_form_alone_leaves_the_steps_kept(kept, rpc, listener):
    for path in KEPT_API:
        kept.simulate_get(path, headers=APPLICANT)
    rpc.reset()
    listener.deliver("application.viewers_changed.v1", _viewers(forms=[ME]))
    for path in KEPT_API:
        kept.simulate_get(path, headers=APPLICANT)
    assert sorted(rpc.names) == ["application.eligibility", "application.get_form"]


def test_a_view_is_kept_only_until_the_clock_changes_it_and_the_field_is_not_passed_on(kept, rpc, listener,
                                                                                       monkeypatch):
    """``fresh_until``: the next window to open or close (kit.windows.next_change)."""
    from datetime import datetime

    from kit import clock
    now = {"t": datetime.fromisoformat("2026-02-28T23:59:40+00:00")}
    monkeypatch.setattr(clock, "now", lambda: now["t"])
    listener.deliver("application.viewers_changed.v1", _viewers(everyone=True))
    rpc.answer("application.progress", {**PROGRESS, "fresh_until": "2026-03-01T00:00:00+00:00"})
    first = kept.simulate_get("/api/v1/me", headers=APPLICANT)
    assert first.status_code == 200 and "fresh_until" not in first.json
    rpc.reset()
    kept.simulate_get("/api/v1/me", headers=APPLICANT)
    now["t"] = datetime.fromisoformat("2026-02-28T23:59:59.999+00:00")
    kept.simulate_get("/api/v1/me", headers=APPLICANT)
    assert rpc.names == []
    now["t"] = datetime.fromisoformat("2026-03-01T00:00:00+00:00")     # the window turned
    rpc.answer("application.progress", PROGRESS)                          # (no window ahead now)
    r = kept.simulate_get("/api/v1/me", headers=APPLICANT)
    assert rpc.names == ["application.progress"] and "fresh_until" not in r.json
    kept.simulate_get("/api/v1/me", headers=APPLICANT)
    assert rpc.names == ["application.progress"]                          # kept
    now["t"] = datetime.fromisoformat("2026-02-28T23:59:50+00:00")     # a test clock moved back
    kept.simulate_get("/api/v1/me", headers=APPLICANT)
    assert rpc.names == ["application.progress"] * 2      # what was fetched later is not served earlier


def test_the_applicants_own_write_is_seen_at_once_on_this_and_any_other_process(rpc, answers):
    """Read your own writes: the process that forwarded the save forgets at once; another one,
    whose event has not arrived (the fake delivers none), asks again while the browser sends
    the short-lived cookie the save set."""
    rpc.accounts[APPLICANT_TOKEN] = ACCOUNT
    form = {**Submitted.EXAMPLE["form"], "status": "not_submitted", "round": 0, "locked": False,
            "service_years_max": 30, "review_note": None}
    rpc.answer("application.get_form", form).answer("application.save_form", form)
    a = testing.TestClient(create_app(rpc=rpc, listener=FakeListener()))
    b = testing.TestClient(create_app(rpc=rpc, listener=FakeListener()))
    for client in (a, b, a, b):
        assert client.simulate_get("/api/v1/me/application", headers=APPLICANT).status_code == 200
    assert rpc.names.count("application.get_form") == 2
    rpc.reset()
    r = a.simulate_put("/api/v1/me/application", json={"service_years": 12}, headers=APPLICANT)
    assert r.status_code == 200, r.text
    wrote = r.cookies["gk_wrote"]
    assert wrote.http_only and wrote.same_site.lower() == "strict" and wrote.max_age <= 10
    a.simulate_get("/api/v1/me/application", headers=APPLICANT)                       # forgotten here
    b.simulate_get("/api/v1/me/application", headers=APPLICANT, cookies={"gk_wrote": wrote.value})
    assert rpc.names == ["application.save_form", "application.get_form", "application.get_form"]
    rpc.reset()
    b.simulate_get("/api/v1/me/application", headers=APPLICANT)        # what it fetched is kept
    b.simulate_get("/api/v1/me/application", headers=APPLICANT, cookies={"gk_wrote": "12"})   # long ago
    assert rpc.names == []


def test_an_answer_is_kept_per_applicant_and_never_for_another(kept, rpc):
    """Another applicant's session never gets this applicant's kept steps."""
    from kit import access
    from kit.access import Principal
    rpc.sessions["other-token"] = access.seal(Principal(kind="applicant", id=8, name="李娜", year=2026,
                                                        id_number=OTHER[1], city_code="410100"))
    rpc.accounts["other-token"] = {**ACCOUNT, "id_number": OTHER[1]}
    rpc.answer("application.progress", {**PROGRESS, "status": "approved"})
    r = kept.simulate_get("/api/v1/me", headers={"Authorization": "Bearer other-token"})
    assert r.status_code == 200 and r.json["status"] == "approved"
    assert "application.progress" in rpc.names
    assert kept.simulate_get("/api/v1/me", headers=APPLICANT).json["status"] == "not_submitted"


def test_after_a_write_this_process_asks_until_the_services_event_says_what_changed(kept, rpc, listener):
    """The process that forwarded the save asks for that service's views (and keeps none)
    until the service's event arrives; then only what the event names is asked again — a
    save of the form alone leaves the steps kept."""
    form = {**Submitted.EXAMPLE["form"], "status": "not_submitted", "round": 0, "locked": False,
            "service_years_max": 30, "review_note": None}
    rpc.answer("application.get_form", form).answer("application.save_form", form)
    for path in KEPT_API:
        kept.simulate_get(path, headers=APPLICANT)
    assert kept.simulate_put("/api/v1/me/application", json={"service_years": 12},
                             headers=APPLICANT).status_code == 200
    rpc.reset()
    kept.simulate_get("/api/v1/me", headers=APPLICANT)
    kept.simulate_get("/api/v1/me", headers=APPLICANT)
    kept.simulate_get("/api/v1/me/review", headers=APPLICANT)           # review was not written to
    assert rpc.names == ["application.progress"] * 2
    listener.deliver("application.viewers_changed.v1", _viewers(forms=[ME]))
    rpc.reset()
    for path in KEPT_API:
        kept.simulate_get(path, headers=APPLICANT)
        kept.simulate_get(path, headers=APPLICANT)
    assert sorted(rpc.names) == ["application.eligibility", "application.get_form"]


@pytest.mark.parametrize("event", [_viewers([ME]), _viewers(everyone=True)], ids=["the-applicant", "everyone"])
def test_an_answer_fetched_while_its_change_was_announced_is_not_kept(rpc, listener, answers, event):
    """The race CI once lost (a 网上缴费 step that stayed hidden for the cache's minute): the
    service answered from before the change, and the change's event reached this process while
    that answer was on its way, for an applicant with nothing kept yet. That answer is served
    once and not kept, whether the event named the applicant or everyone."""
    rpc.accounts[APPLICANT_TOKEN] = ACCOUNT
    visible = {"now": False}

    def progress(*args, **kwargs):
        answer = {**PROGRESS, "status": "approved" if visible["now"] else "not_submitted"}
        if not visible["now"]:                 # read before the commit; its event overtakes the reply
            visible["now"] = True
            listener.deliver("application.viewers_changed.v1", event)
        return answer

    rpc.answer("application.progress", progress)
    client = testing.TestClient(create_app(rpc=rpc, listener=listener))
    assert client.simulate_get("/api/v1/me", headers=APPLICANT).json["status"] == "not_submitted"
    assert client.simulate_get("/api/v1/me", headers=APPLICANT).json["status"] == "approved"
    rpc.reset()
    assert client.simulate_get("/api/v1/me", headers=APPLICANT).json["status"] == "approved"
    assert rpc.names == []                                     # the fresh answer is kept


def test_a_kept_payment_ends_when_paying_opens_or_an_order_expires_and_the_field_is_not_passed_on(
        kept, rpc, listener, monkeypatch):
    """网上缴费 holds by the clock until payment's ``fresh_until`` (paying opens 24 h after
    终审通过, the window turns, an open order expires): not a moment longer."""
    from datetime import datetime

    from kit import clock
    now = {"t": datetime.fromisoformat("2026-04-01T09:59:40+00:00")}
    monkeypatch.setattr(clock, "now", lambda: now["t"])
    listener.deliver("payment.viewers_changed.v1", _viewers(everyone=True))
    mine = {"online": True, "status": "not_due", "amount_fen": 15000, "opens_at": "2026-04-01T10:00:00+00:00",
            "window": None, "receipt_title": None, "orders": [], "approved": True, "paid_at": None}
    rpc.answer("payment.my_payment", {**mine, "fresh_until": "2026-04-01T10:00:00+00:00"})
    r = kept.simulate_get("/api/v1/me/payment", headers=APPLICANT)
    assert r.status_code == 200 and "fresh_until" not in r.json and r.json["status"] == "not_due"
    rpc.reset()
    now["t"] = datetime.fromisoformat("2026-04-01T09:59:59.999+00:00")
    assert kept.simulate_get("/api/v1/me/payment", headers=APPLICANT).json["status"] == "not_due"
    assert rpc.names == []
    now["t"] = datetime.fromisoformat("2026-04-01T10:00:00+00:00")          # paying opened
    rpc.answer("payment.my_payment", {**mine, "status": "unpaid"})
    assert kept.simulate_get("/api/v1/me/payment", headers=APPLICANT).json["status"] == "unpaid"
    assert rpc.names == ["payment.my_payment"]


def test_a_certificate_refused_for_the_data_alone_is_kept_like_an_answer_until_documents_says(kept, rpc,
                                                                                             listener):
    """电子证书 before 合格 (409 not_open) is kept, page and API alike, with its code and
    message, until documents names the applicant (or everyone); another refusal is not kept."""
    from kit.errors import Conflict, NotFound
    rpc.answer("documents.my_certificate", Conflict("考核合格后方可下载电子证书", code="not_open"))
    for _ in range(2):
        r = kept.simulate_get("/api/v1/me/certificate", headers=APPLICANT)
        assert r.status_code == 409 and r.json["error"]["code"] == "not_open"
        assert r.json["error"]["message"] == "考核合格后方可下载电子证书"
        page = kept.simulate_get("/certificate", headers=APPLICANT)
        assert page.status_code == 200 and "考核合格后方可下载电子证书" in page.text
    assert rpc.names.count("documents.my_certificate") == 1
    listener.deliver("documents.viewers_changed.v1", _viewers([ME]))
    rpc.reset()
    rpc.answer("documents.my_certificate", NotFound("没有找到"))
    for _ in range(2):
        assert kept.simulate_get("/api/v1/me/certificate", headers=APPLICANT).status_code == 404
    assert rpc.names == ["documents.my_certificate"] * 2                 # a 404 is not kept


def test_what_was_fetched_together_does_not_expire_together(monkeypatch):
    """A burst of logins (or a warm-up) must not all come back over the broker in the same
    second a minute later: each kept session lives somewhere in the second half of its time
    (views alike, gateway.views.lifetime)."""
    from datetime import UTC, datetime

    from gateway.sessions import PrincipalCache
    from kit import clock
    now = {"t": datetime(2026, 3, 1, 8, 0, tzinfo=UTC).timestamp()}
    monkeypatch.setattr(clock, "now", lambda: datetime.fromtimestamp(now["t"], UTC))
    cache = PrincipalCache(ttl=60)
    for i in range(200):
        cache.put(str(i), {"principal": {"kind": "applicant", "id": i}}, cache.generation)

    def alive() -> int:
        return sum(cache.get(str(i)) is not None for i in range(200))

    now["t"] += 29.9
    assert alive() == 200
    now["t"] += 15
    assert 40 < alive() < 160                     # about half, spread over the half minute
    now["t"] += 15.2
    assert alive() == 0
