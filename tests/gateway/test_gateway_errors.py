"""The gateway's one table from refusals to HTTP (gateway/errors.py), with a fake RPC: every
kit.errors type keeps its status, code, Chinese message, field and details; an unreachable
service is 503; Falcon's own 404/405 and any crash answer the same JSON shape on the API and a
Chinese page elsewhere — never a traceback."""
from __future__ import annotations

import pytest
from fakes import ADMIN_TOKEN
from helpers import assert_error, error
from nameko.exceptions import RemoteError

from gateway.rpc import ServiceUnavailable
from kit import errors
from kit.errors import REMOTE_ERRORS

# (error type, HTTP status, default code): the table of API.md
TABLE = [
    (errors.InvalidInput, 400, "invalid"),
    (errors.Unauthenticated, 401, "unauthenticated"),
    (errors.Forbidden, 403, "forbidden"),
    (errors.NotFound, 404, "not_found"),
    (errors.Conflict, 409, "conflict"),
    (errors.TooLarge, 413, "too_large"),
    (errors.UnsupportedMedia, 415, "unsupported_media_type"),
    (errors.RuleNotMet, 422, "rule_not_met"),
    (errors.Locked, 423, "locked"),
    (errors.TooManyRequests, 429, "too_many_requests"),
    (errors.Unavailable, 503, "service_unavailable"),
    (errors.ServiceError, 400, "invalid"),
]


def test_the_table_lists_every_remote_error_type():
    assert {cls for cls, _, _ in TABLE} == set(REMOTE_ERRORS)


@pytest.mark.parametrize(("cls", "status", "code"), TABLE, ids=[c.__name__ for c, _, _ in TABLE])
def test_each_error_type_keeps_its_status_code_and_message(client, rpc, cls, status, code):
    rpc.answer("application.list_cities", cls("省辖市数据暂不可用"))
    r = client.simulate_get("/api/v1/cities")
    err = assert_error(r, status, code, field=None)
    assert err["message"] == "省辖市数据暂不可用" and "details" not in err
    assert r.headers["content-type"].startswith("application/json")
    assert r.headers["cache-control"] == "no-store"


def test_a_refusal_keeps_its_own_code_field_and_details(client, rpc):
    rpc.answer("application.list_cities", errors.Conflict("已被处理", code="state_conflict", field="version",
                                                          details={"status": "returned", "version": 3}))
    err = assert_error(client.simulate_get("/api/v1/cities"), 409, "state_conflict", field="version")
    assert err["details"] == {"status": "returned", "version": 3}


def test_too_many_requests_says_when_to_retry(client, rpc):
    rpc.answer("identity.request_sms_code", errors.TooManyRequests("请60秒后再试", code="sms_throttled",
                                                                   details={"retry_after": 60}))
    r = client.simulate_post("/api/v1/sms-codes", json={"phone": "13900000000", "purpose": "register"})
    assert_error(r, 429, "sms_throttled")
    assert r.headers["retry-after"] == "60"


def test_an_unreachable_service_is_503_busy(client, rpc):
    rpc.answer("application.list_cities", ServiceUnavailable("application.list_cities: RpcTimeout"))
    err = assert_error(client.simulate_get("/api/v1/cities"), 503, "service_unavailable", field=None)
    assert err["message"] == "系统繁忙，请稍后再试"
    assert "RpcTimeout" not in client.simulate_get("/api/v1/cities").text


@pytest.mark.parametrize("crash", [
    RemoteError("KeyError", "'year'"),                 # a service crashed (not a refusal)
    KeyError("year"),                                  # the gateway itself crashed
])
def test_a_crash_is_500_without_a_trace(client, rpc, crash):
    rpc.answer("application.list_cities", crash)
    r = client.simulate_get("/api/v1/cities")
    err = assert_error(r, 500, "internal_error", field=None)
    assert "year" not in r.text and "KeyError" not in r.text and err["message"]


@pytest.mark.parametrize(("method", "path", "status", "code"), [
    ("GET", "/api/v1/nothing-here", 404, "not_found"),
    ("GET", "/api/v1/admin/reviews/x/files/not_a_material", 404, "not_found"),
    ("PATCH", "/api/v1/sessions", 405, "method_not_allowed"),
    ("DELETE", "/api/v1/cities", 405, "method_not_allowed"),
    ("GET", "/api/v1/admin/audit?page=abc", 400, "invalid"),
])
def test_falcons_own_errors_answer_the_json_shape(client, method, path, status, code):
    path, _, query = path.partition("?")
    r = client.simulate_request(method, path, query_string=query,
                                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert_error(r, status, code, field=None)


def test_405_names_the_allowed_methods(client):
    r = client.simulate_request("PATCH", "/api/v1/sessions")
    assert r.status_code == 405 and r.headers["allow"] == "POST, OPTIONS"


def test_a_falcon_error_with_a_chinese_description_keeps_it(client, rpc):
    rpc.answer("identity.current_year", None)
    err = assert_error(client.simulate_get("/api/v1/years/current"), 404, "not_found")
    assert err["message"] == "本年度考核尚未开放"


def test_pages_answer_a_chinese_page_not_json(client, rpc):
    r = client.simulate_get("/no-such-page")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "页面不存在" in r.text and "Traceback" not in r.text
    r = client.simulate_get("/home")                                    # no session: to the login page
    assert r.status_code == 303 and r.headers["location"] == "/login"
    r = client.simulate_get("/admin/reviews")
    assert r.status_code == 303 and r.headers["location"] == "/admin/login"


def test_health_and_readiness(client, rpc):
    assert client.simulate_get("/healthz").json == {"status": "ok"}
    for name in ("identity", "application", "review", "payment", "documents"):
        rpc.answer(f"{name}.ping", "pong")
    ready = client.simulate_get("/readyz")
    assert ready.status_code == 200 and ready.json["down"] == []
    rpc.answer("documents.ping", ServiceUnavailable("documents.ping: RpcTimeout"))
    rpc.answer("payment.ping", errors.ServiceError("db down"))
    ready = client.simulate_get("/readyz")
    assert ready.status_code == 503
    assert ready.json == {"status": "unavailable", "down": ["documents", "payment"],
                          "services": {"identity": True, "application": True, "review": True, "payment": False,
                                       "documents": False}}


def test_security_headers(client, rpc):
    rpc.answer("application.list_cities", [])
    r = client.simulate_get("/api/v1/cities")
    assert (r.headers["x-content-type-options"], r.headers["x-frame-options"], r.headers["referrer-policy"]) == \
        ("nosniff", "DENY", "same-origin")
    assert error(client.simulate_get("/api/v1/nothing"))["code"] == "not_found"
