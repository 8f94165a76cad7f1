"""The gateway's metrics and request ids (gateway/metrics.py, gateway/rpc.py,
gateway/gunicorn_hooks.py) with Falcon's TestClient and a fake RPC: requests are counted under
their route's template (``unmatched`` for a path no route knows), ``GET /metrics`` answers
loopback and ``GONGKAO_METRICS_ALLOW`` only (by the socket's peer, never X-Forwarded-For), a
request id is taken when sane, made otherwise, returned and handed to the services; under
gunicorn the workers' numbers are summed."""
from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest
from fakes import ADMIN_TOKEN
from helpers import assert_error
from nameko.standalone.rpc import ClusterRpcProxy
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from gateway import gunicorn_hooks
from gateway.rpc import RpcPool, ServiceUnavailable
from kit import errors, logs
from kit.config import settings

ROOT = Path(__file__).resolve().parents[2]
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
CASE_ROUTE = "/api/v1/admin/reviews/{application_id}"


def value(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def requests_of(route: str, method: str, status: int) -> float:
    return value("gongkao_http_requests_total", route=route, method=method, status=str(status))


def scraped(text: str) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


# --- route labels ----------------------------------------------------------------------------
def test_a_request_is_counted_under_its_routes_template_never_its_path(client, rpc):
    rpc.answer("review.get_case", errors.NotFound("没有找到该报名"))
    before = requests_of(CASE_ROUTE, "GET", 404)
    seconds_before = value("gongkao_http_request_duration_seconds_count", route=CASE_ROUTE, method="GET")
    for n in range(3):
        assert_error(client.simulate_get(f"/api/v1/admin/reviews/case-{n}-410102198503120014", headers=ADMIN),
                     404, "not_found")
    assert requests_of(CASE_ROUTE, "GET", 404) == before + 3
    assert value("gongkao_http_request_duration_seconds_count", route=CASE_ROUTE, method="GET") == seconds_before + 3
    text = client.simulate_get("/metrics").text
    assert "case-0" not in text and "410102198503120014" not in text
    assert f'route="{CASE_ROUTE}"' in text


def test_a_path_no_route_knows_is_unmatched(client):
    before = requests_of("unmatched", "GET", 404)
    for path in ("/api/v1/no-such-thing", "/api/v1/no-such-thing/410102198503120014", "/nothing/here"):
        assert client.simulate_get(path).status_code == 404
    assert requests_of("unmatched", "GET", 404) == before + 3
    assert "/api/v1/no-such-thing" not in client.simulate_get("/metrics").text


def test_a_template_with_a_converter_and_an_unknown_method(client):
    before = requests_of("/api/v1/admin/years/{year:int}/fees", "GET", 401)
    assert_error(client.simulate_get("/api/v1/admin/years/2026/fees"), 401, "unauthenticated")
    assert requests_of("/api/v1/admin/years/{year:int}/fees", "GET", 401) == before + 1
    other = requests_of("/healthz", "other", 400)
    assert client.simulate_request("BREW", "/healthz").status_code == 400     # Falcon: not a method
    assert requests_of("/healthz", "other", 400) == other + 1      # methods stay a bounded set too


def test_a_request_refused_before_routing_keeps_its_route(client):
    """The CSRF check (a middleware) refuses before Falcon routes: still its route."""
    before = requests_of("/api/v1/me/application", "PUT", 403)
    r = client.simulate_put("/api/v1/me/application", json={}, headers={"Cookie": "gk_session=x; gk_csrf=y"})
    assert_error(r, 403, "csrf_failed")
    assert requests_of("/api/v1/me/application", "PUT", 403) == before + 1


# --- who may read /metrics -------------------------------------------------------------------
@pytest.mark.parametrize("peer", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
def test_metrics_answer_loopback(client, peer):
    r = client.simulate_get("/metrics", remote_addr=peer)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=")
    names = {family.name for family in text_string_to_metric_families(r.text)}
    assert {"gongkao_http_requests", "gongkao_http_request_duration_seconds"} <= names


@pytest.mark.parametrize("peer", ["203.0.113.9", "10.0.0.5", "::ffff:192.0.2.1", "2001:db8::1", "unknown"])
def test_metrics_refuse_anyone_else_with_the_api_error_shape(client, peer):
    err = assert_error(client.simulate_get("/metrics", remote_addr=peer), 403, "forbidden", None)
    assert err["message"] == "无权查看运行指标"


def test_forwarded_for_never_opens_metrics(client):
    r = client.simulate_get("/metrics", remote_addr="203.0.113.9",
                            headers={"X-Forwarded-For": "127.0.0.1", "X-Real-IP": "127.0.0.1"})
    assert_error(r, 403, "forbidden")


def test_metrics_answer_an_allowed_address_or_cidr(client, monkeypatch):
    monkeypatch.setattr(settings(), "metrics_allow", "192.0.2.7, 203.0.113.0/24,2001:db8::/32")
    for peer in ("192.0.2.7", "203.0.113.9", "203.0.113.250", "::ffff:203.0.113.1", "2001:db8::1"):
        assert client.simulate_get("/metrics", remote_addr=peer).status_code == 200, peer
    for peer in ("192.0.2.8", "203.0.114.1", "2001:db9::1"):
        assert_error(client.simulate_get("/metrics", remote_addr=peer), 403, "forbidden")


# --- request ids -----------------------------------------------------------------------------
def test_a_sane_request_id_is_kept_and_returned(client, rpc):
    seen = []
    rpc.answer("application.list_cities", lambda: seen.append(logs.request_id()) or [])
    r = client.simulate_get("/api/v1/cities", headers={"X-Request-Id": "client-7.a_B"})
    assert r.status_code == 200 and r.headers["x-request-id"] == "client-7.a_B"
    assert seen == ["client-7.a_B"]                     # bound while the request's RPCs run
    assert logs.request_id() is None                    # and unbound after it


@pytest.mark.parametrize("given", [None, "", "a" * 65, "bad id", "x\r\nSet-Cookie: a=b", "中文", "a/b"])
def test_an_insane_or_missing_request_id_is_replaced(client, given):
    headers = {} if given is None else {"X-Request-Id": given}
    first = client.simulate_get("/healthz", headers=headers).headers["x-request-id"]
    second = client.simulate_get("/healthz", headers=headers).headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", first) and re.fullmatch(r"[0-9a-f]{32}", second)
    assert first != second and first != given


def test_an_error_response_carries_the_request_id_too(client):
    r = client.simulate_get("/api/v1/no-such-thing", headers={"X-Request-Id": "rid-404"})
    assert r.status_code == 404 and r.headers["x-request-id"] == "rid-404"


def test_the_access_line_names_the_route_and_the_request_id(client, rpc):
    rpc.answer("review.get_case", errors.NotFound("没有找到该报名"))
    stream, access = io.StringIO(), logging.getLogger("gateway.access")
    handler = logs.console_handler("json", stream)
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        client.simulate_get("/api/v1/admin/reviews/410102198503120014", headers={**ADMIN, "X-Request-Id": "rid-a"})
    finally:
        access.removeHandler(handler)
        access.setLevel(logging.NOTSET)
    (line,) = stream.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["message"].startswith(f"GET {CASE_ROUTE} 404 ") and entry["message"].endswith("ms")
    assert entry["request_id"] == "rid-a" and entry["service"] == "gateway" and entry["logger"] == "gateway.access"
    assert "410102198503120014" not in line


# --- the RPC pool: the request id in the context data, latency by call and outcome ----------------
class FakeProxy:
    """What a started ClusterRpcProxy gives: ``proxy.<service>.<method>(...)``; it records the
    context data as it is when each call goes out."""

    def __init__(self, context: dict, outcomes: list):
        self.context, self.outcomes, self.sent = context, outcomes, []

    def __getattr__(self, service):
        def method_of(method):
            def call(*args, **kwargs):
                self.sent.append((f"{service}.{method}", dict(self.context)))
                outcome = self.outcomes.pop(0)
                if isinstance(outcome, BaseException):
                    raise outcome
                return outcome
            return call
        return types.SimpleNamespace(login=method_of("login"), get_case=method_of("get_case"))


@pytest.fixture
def pool(monkeypatch):
    pool = RpcPool("amqp://guest:guest@127.0.0.1:9/unused", size=1, timeout=1)
    made = []

    def new():
        context: dict = {}
        proxy = FakeProxy(context, pool.outcomes)
        made.append(proxy)
        return types.SimpleNamespace(stop=lambda: None), proxy, context

    pool.outcomes, pool.made = [], made
    monkeypatch.setattr(pool, "_new", new)
    return pool


def test_each_rpc_carries_the_request_id_of_its_request_and_only_that(pool):
    pool.outcomes += ["ok", "ok", "ok"]
    with logs.bound("req-one"):
        pool.call("identity", "login", "x")
    pool.call("identity", "login", "y")                  # no request behind it: no stale id
    with logs.bound("req-two"):
        pool.call("identity", "login", "z")
    (proxy,) = pool.made                                 # one client, reused
    assert [ctx.get("request_id") for _, ctx in proxy.sent] == ["req-one", None, "req-two"]


def test_rpc_latency_is_kept_by_call_and_outcome(pool):
    def count(outcome):
        return value("gongkao_gateway_rpc_duration_seconds_count", service="review", method="get_case",
                     outcome=outcome)

    before = {o: count(o) for o in ("ok", "refused", "unavailable")}
    pool.outcomes += ["ok", errors.NotFound("没有"), TimeoutError("late")]
    pool.call("review", "get_case")
    with pytest.raises(errors.NotFound):
        pool.call("review", "get_case")
    with pytest.raises(ServiceUnavailable):
        pool.call("review", "get_case")
    assert {o: count(o) - before[o] for o in before} == {"ok": 1, "refused": 1, "unavailable": 1}


def test_nameko_sends_the_pools_context_dict_as_it_is_at_the_call():
    """What RpcPool relies on: the standalone proxy keeps the very dict it was given and builds
    each call's headers from it."""
    context: dict = {}
    runner = ClusterRpcProxy({"AMQP_URI": "amqp://guest:guest@127.0.0.1:9/unused"}, context_data=context)
    method = runner._proxy.review.get_case
    context["request_id"] = "rid-77"
    assert method.get_message_headers(method.worker_ctx)["nameko.request_id"] == "rid-77"
    context.pop("request_id")
    assert "nameko.request_id" not in method.get_message_headers(method.worker_ctx)


# --- gunicorn: one directory for every worker, emptied at start, dead workers marked -------------
def test_the_master_chooses_and_empties_the_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.setattr(settings(), "data_dir", tmp_path / "data")
    path = gunicorn_hooks.prepare_environment()
    assert path == (tmp_path / "data" / "metrics-gateway").resolve()
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(path)
    gunicorn_hooks.on_starting(server=None)
    assert path.is_dir() and list(path.iterdir()) == []
    (path / "counter_123.db").write_bytes(b"old")
    (path / "README").write_text("not ours")
    gunicorn_hooks.on_starting(server=None)
    assert sorted(p.name for p in path.iterdir()) == ["README"]
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "given"))
    assert gunicorn_hooks.prepare_environment() == tmp_path / "given"     # the environment's own wins


def test_a_worker_that_exits_is_marked_dead(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    for name in ("gauge_livesum_4242.db", "gauge_liveall_4242.db", "counter_4242.db", "gauge_livesum_7.db"):
        (tmp_path / name).write_bytes(b"")
    gunicorn_hooks.child_exit(server=None, worker=types.SimpleNamespace(pid=4242))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["counter_4242.db", "gauge_livesum_7.db"]


WORKER = """
import sys
from falcon import testing
from gateway.app import create_app
sys.path.insert(0, "tests/gateway")
from fakes import FakeRpc
client = testing.TestClient(create_app(rpc=FakeRpc()))
for _ in range(int(sys.argv[1])):
    assert client.simulate_get("/healthz").status_code == 200
if len(sys.argv) > 2:
    sys.stdout.write(client.simulate_get("/metrics").text)
"""


def test_a_scrape_sums_every_worker_process(tmp_path):
    """Two processes sharing PROMETHEUS_MULTIPROC_DIR as two gunicorn workers do: a scrape of
    either counts the requests of both."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PYTHONWARNINGS": "ignore"}
    subprocess.run([sys.executable, "-c", WORKER, "3"], cwd=ROOT, env=env, check=True, timeout=60)
    out = subprocess.run([sys.executable, "-c", WORKER, "4", "scrape"], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True, timeout=60).stdout
    samples = scraped(out)
    key = ("gongkao_http_requests_total", (("method", "GET"), ("route", "/healthz"), ("status", "200")))
    assert samples[key] == 7.0
    assert len(list(tmp_path.glob("counter_*.db"))) == 2
