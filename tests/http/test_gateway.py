"""The gateway shell: health, readiness, OpenAPI, the error shape, service outages,
security headers, and what never reaches a log line."""
from __future__ import annotations

import json
import time

import requests
from helpers import Api, assert_error, new_person, register, wait_for
from nameko.standalone.events import event_dispatcher

from deploy.seed import ADMINS


def test_health_ready_and_openapi(stack, api):
    assert api.get("/healthz").json() == {"status": "ok"}
    ready = api.get("/readyz")
    assert ready.status_code == 200 and ready.json()["down"] == []
    spec = api.get("/api/v1/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    for path in ("/api/v1/registrations", "/api/v1/sessions", "/api/v1/admin/admins", "/api/v1/admin/roster",
                 "/api/v1/admin/accounts/{id_number}/password-reset", "/api/v1/admin/years/{year}"):
        assert path in spec["paths"], path


def test_errors_have_one_shape_and_no_trace(api):
    """Through gunicorn and the real services (the whole table: tests/gateway)."""
    for method, path, status, code in (("GET", "/api/v1/nothing-here", 404, "not_found"),
                                       ("PATCH", "/api/v1/sessions", 405, "method_not_allowed"),
                                       ("GET", "/api/v1/me", 401, "unauthenticated"),
                                       ("GET", "/api/v1/admin/admins", 401, "unauthenticated")):
        assert_error(api.request(method, path), status, code, None)
    r = api.post("/api/v1/sessions", data=b"\xff\xfe", headers={"Content-Type": "application/json"})
    assert_error(r, 400, "invalid", None)
    assert_error(api.post("/api/v1/sessions", json=["not", "an", "object"]), 400, "invalid", None)
    r = api.post("/api/v1/sessions", data="id_number=1", headers={"Content-Type": "text/plain"})
    assert_error(r, 415, "unsupported_media_type", None)
    r = api.get("/api/v1/me", headers={"Authorization": "Bearer " + "x" * 500})
    assert_error(r, 401, "unauthenticated")


def test_security_headers(api):
    r = api.get("/api/v1/cities")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Cache-Control"] == "no-store"


def test_reference_data(api):
    cities = api.get("/api/v1/cities").json()
    codes = [c["code"] for c in cities]
    assert codes[0] == "410000" and "419001" in codes and len(codes) == 19
    units = api.get("/api/v1/units", params={"city_code": "410100"}).json()
    assert {u["city_code"] for u in units} == {"410100"}
    assert {u["unit_id"] for u in units} == {"U410100-001", "U410100-002", "U410100-003", "U410100-004"}
    assert {u["supervisor"]["id"] for u in units} == {"S410100-01", "S410100-02"}
    assert all(u["supervisor"]["admin"] and u["supervisor"]["phone"] for u in units)


def test_a_service_down_gives_503_and_readyz_names_it(stack, api):
    stack.stop_service("documents")
    try:
        r = api.get("/readyz")
        assert r.status_code == 503 and r.json()["down"] == ["documents"] and r.json()["status"] == "unavailable"
    finally:
        stack.start_service("documents")
        stack.wait_ready()
    stack.stop_service("application")
    try:
        started = time.time()
        # (the cities are a copy the gateway keeps: units of a code that is no city are asked for)
        r = api.get("/api/v1/units", params={"city_code": "419999"})
        assert assert_error(r, 503, "service_unavailable", None)["message"] == "系统繁忙，请稍后再试"
        assert time.time() - started < 30
    finally:
        stack.start_service("application")
        stack.wait_ready()
    assert api.get("/api/v1/units", params={"city_code": "419999"}).status_code == 200


def test_submitted_event_blocks_self_deletion_once_and_idempotently(stack, province):
    """identity keeps a copy of 'ever submitted' from application.submitted.v1; a
    redelivered event changes nothing (inbox)."""
    p = new_person(province)
    assert register(stack, Api(stack.url), p).status_code == 201
    dispatch = event_dispatcher({"AMQP_URI": stack.amqp_uri})
    envelope = {"event_id": f"test-{p.id_number}", "event_type": "application.submitted.v1",
                "occurred_at": "2026-12-01T10:00:00+08:00",
                "data": {"year": province.get("/api/v1/years/current").json()["year"],
                         "id_number": p.id_number, "round": 1}}
    dispatch("application", "application.submitted.v1", envelope)
    dispatch("application", "application.submitted.v1", envelope)   # redelivered
    applicant = Api(stack.url)
    applicant.login(p.id_number, p.password)
    wait_for(lambda: applicant.get("/api/v1/me").json()["account"]["ever_submitted"], what="identity's copy")
    assert applicant.post("/api/v1/sms-codes", json={"purpose": "delete_self"}).status_code == 201
    r = applicant.delete("/api/v1/me", json={"sms_code": stack.sms_code(p.phone, "delete_self")})
    assert "不能删除" in assert_error(r, 409, "already_submitted")["message"]


def test_logs_hold_no_id_numbers_phones_or_codes(stack, province):
    p = new_person(province)
    assert register(stack, Api(stack.url), p).status_code == 201
    Api(stack.url).login(p.id_number, "wrong-password-1")
    code = stack.sms_code(p.phone)
    logs = "".join(stack.log(k) for k in ("identity", "application", "review", "payment", "documents", "gateway"))
    assert p.id_number not in logs
    assert p.phone not in logs
    assert p.password not in logs and f"'{code}'" not in logs


def test_demo_admins_exist(stack):
    from deploy.seed import DEMO_PASSWORD

    for username, *_ in ADMINS:
        r = requests.post(stack.url + "/api/v1/admin/sessions",
                          json={"username": username, "password": DEMO_PASSWORD}, timeout=30)
        assert r.status_code == 201, username


def test_a_parked_event_can_be_replayed_by_an_operator(stack, province):
    """A handler that kept failing parks the event; `python -m kit.parked` replays it."""
    import sqlalchemy as sa

    from kit import parked

    p = new_person(province)
    assert register(stack, Api(stack.url), p).status_code == 201
    year = province.get("/api/v1/years/current").json()["year"]
    envelope = {"event_id": f"parked-{p.id_number}", "event_type": "application.submitted.v1",
                "occurred_at": "2026-12-01T10:00:00+08:00", "data": {"year": year, "id_number": p.id_number}}
    url = stack.env["GONGKAO_IDENTITY_DB_URL"]
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO parked_events (handler, event_type, envelope, error, attempts, parked_at) "
                             "VALUES ('on_application_submitted', 'application.submitted.v1', :env, "
                             "'OperationalError: database was away', 3, now())"),
                     {"env": json.dumps(envelope)})
    engine.dispose()
    waiting = [r for r in parked.list_parked("identity", url) if r["envelope"]["event_id"] == envelope["event_id"]]
    assert len(waiting) == 1 and waiting[0]["replayed_at"] is None
    assert parked.replay("identity", str(waiting[0]["id"]), stack.amqp_uri, url) == 1
    applicant = Api(stack.url)
    applicant.login(p.id_number, p.password)
    wait_for(lambda: applicant.get("/api/v1/me").json()["account"]["ever_submitted"], what="the replayed event")
    assert parked.replay("identity", str(waiting[0]["id"]), stack.amqp_uri, url) == 0   # once only
