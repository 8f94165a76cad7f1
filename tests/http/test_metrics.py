"""Seeing inside the running system (issue 13): a small load through the gateway under
gunicorn (two workers), then the gateway's ``/metrics`` (every worker summed) and a service's
own metrics endpoint (its port from its log line) count exactly that load; the request id a
client gives travels from the gateway's log lines to the service's, and into the envelope of
the event the request caused."""
from __future__ import annotations

import json
import re
import uuid

import requests
from helpers import Api, assert_error, new_person
from prometheus_client.parser import text_string_to_metric_families

CASE_ROUTE = "/api/v1/admin/reviews/{application_id}"
N = 12


def scrape(url: str) -> dict[tuple[str, tuple], float]:
    r = requests.get(url, timeout=10)
    assert r.status_code == 200, r.text[:300]
    assert r.headers["Content-Type"].startswith("text/plain; version=")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(r.text) for s in family.samples}


def sample(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def json_lines(stack, key: str) -> list[dict]:
    """Every JSON log line of a process of the stack (gunicorn's own lines are not JSON)."""
    text = (stack.workdir / f"{key}.log").read_text(errors="replace")
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def metrics_url(stack, service: str) -> str:
    for line in json_lines(stack, service):
        found = re.fullmatch(rf"metrics of {service} on (http://127\.0\.0\.1:\d+/metrics)", line["message"])
        if found:
            assert line["level"] == "INFO" and line["service"] == service and line["logger"] == "kit.metrics"
            return found.group(1)
    raise AssertionError(f"no metrics line in the {service} log")


def test_the_load_shows_in_the_metrics_and_the_request_id_in_every_log(stack, province):
    rid = f"metrics-{uuid.uuid4().hex[:12]}"
    gateway_url, review_url = stack.url + "/metrics", metrics_url(stack, "review")
    gw0, rv0 = scrape(gateway_url), scrape(review_url)

    # the load: fresh connections (any gunicorn worker may take each), an unknown path, and an
    # administrator's requests that each make one RPC the review service refuses
    for n in range(N):
        assert requests.get(stack.url + "/healthz", timeout=10).json() == {"status": "ok"}
        assert_error(requests.get(f"{stack.url}/api/v1/no-such-thing/{n}", timeout=10), 404, "not_found")
        r = province.get(f"/api/v1/admin/reviews/no-such-case-{n}", headers={"X-Request-Id": f"{rid}-{n}"})
        assert_error(r, 404, "not_found")
        assert r.headers["X-Request-Id"] == f"{rid}-{n}"
    queue = province.get("/api/v1/admin/reviews", headers={"X-Request-Id": f"{rid}-queue"})
    assert queue.status_code == 200 and isinstance(queue.json()["total"], int)

    # the gateway: the same sums whichever worker answers the scrape
    scrapes = [scrape(gateway_url) for _ in range(4)]

    def counted(s):
        return {
            "case 404": sample(s, "gongkao_http_requests_total", route=CASE_ROUTE, method="GET", status="404"),
            "case seconds": sample(s, "gongkao_http_request_duration_seconds_count", route=CASE_ROUTE, method="GET"),
            "unmatched": sample(s, "gongkao_http_requests_total", route="unmatched", method="GET", status="404"),
            "healthz": sample(s, "gongkao_http_requests_total", route="/healthz", method="GET", status="200"),
            "queue": sample(s, "gongkao_http_requests_total", route="/api/v1/admin/reviews", method="GET",
                            status="200"),
            "rpc refused": sample(s, "gongkao_gateway_rpc_duration_seconds_count", service="review",
                                  method="get_case", outcome="refused"),
            "rpc queue": sample(s, "gongkao_gateway_rpc_duration_seconds_count", service="review",
                                method="queue", outcome="ok"),
        }

    before = counted(gw0)
    for s in scrapes:
        assert {k: v - before[k] for k, v in counted(s).items()} == {
            "case 404": N, "case seconds": N, "unmatched": N, "healthz": N, "queue": 1, "rpc refused": N,
            "rpc queue": 1}
    assert sample(scrapes[-1], "gongkao_http_request_duration_seconds_sum", route=CASE_ROUTE, method="GET") > \
        sample(gw0, "gongkao_http_request_duration_seconds_sum", route=CASE_ROUTE, method="GET")
    assert not any("no-such" in labels for _, key in scrapes[-1] for labels in map(str, key))
    assert len(list((stack.workdir / "data").glob("metrics-gateway-*/histogram_*.db"))) >= 1   # one per listener

    # the review service's own endpoint
    rv = scrape(review_url)
    assert sample(rv, "gongkao_rpc_duration_seconds_count", service="review", method="get_case") - \
        sample(rv0, "gongkao_rpc_duration_seconds_count", service="review", method="get_case") == N
    assert sample(rv, "gongkao_rpc_failures_total", service="review", method="get_case", kind="refused") - \
        sample(rv0, "gongkao_rpc_failures_total", service="review", method="get_case", kind="refused") == N
    assert sample(rv, "gongkao_rpc_failures_total", service="review", method="get_case", kind="error") == \
        sample(rv0, "gongkao_rpc_failures_total", service="review", method="get_case", kind="error")
    assert sample(rv, "gongkao_rpc_duration_seconds_count", service="review", method="queue") >= 1
    assert ("gongkao_outbox_backlog", (("service", "review"),)) in rv
    # the gauge is there; this load parked nothing (earlier tests on this system may have)
    assert sample(rv, "gongkao_parked_events", service="review") == sample(rv0, "gongkao_parked_events",
                                                                            service="review")
    assert sample(rv, "gongkao_outbox_oldest_age_seconds", service="review") >= 0

    # one request id, in the gateway's line and in the service's
    gateway_lines = [line for line in json_lines(stack, "gateway") if line["request_id"] == f"{rid}-0"]
    assert [line["message"].rsplit(" ", 1)[0] for line in gateway_lines] == [f"GET {CASE_ROUTE} 404"]
    assert gateway_lines[0]["service"] == "gateway" and gateway_lines[0]["logger"] == "gateway.access"
    review_lines = [line for line in json_lines(stack, "review") if line["request_id"] == f"{rid}-0"]
    assert len(review_lines) == 1 and review_lines[0]["service"] == "review"
    assert review_lines[0]["level"] == "INFO"
    assert review_lines[0]["message"].startswith("refused <WorkerContext [review.get_case]")


def test_an_event_carries_the_request_id_of_the_request_that_caused_it(stack, province):
    rid = f"register-{uuid.uuid4().hex[:12]}"
    person, api = new_person(province), Api(stack.url)
    headers = {"X-Request-Id": rid}
    assert api.post("/api/v1/sms-codes", json={"phone": person.phone, "purpose": "register"},
                    headers=headers).status_code == 201
    from helpers import png_bytes

    r = api.post("/api/v1/registrations", data=person.registration(stack.sms_code(person.phone)),
                 files={"id_card_photo": ("id.png", png_bytes(), "image/png")}, headers=headers)
    assert r.status_code == 201, r.text
    assert r.headers["X-Request-Id"] == rid
    announced = stack.db_scalar("identity", "SELECT envelope->>'request_id' FROM outbox "
                                "WHERE event_type = 'identity.account_registered.v1' "
                                "AND envelope->'data'->>'id_number' = :id", id=person.id_number)
    assert announced == rid
    # and none of it holds the applicant's ID number or phone in a log line
    logs = "".join((stack.workdir / f"{key}.log").read_text(errors="replace") for key in ("gateway", "identity"))
    assert person.id_number not in logs and person.phone not in logs


def test_every_process_settles_its_heap_once_it_is_built(stack):
    """Issue 12 (kit.heap): each gateway worker (two here) and each service process leaves what
    it built at start-up out of the cycle collector's later passes, and says so once per start
    (other tests restart processes of this system: each start counts)."""
    def log(key: str) -> str:
        return (stack.workdir / f"{key}.log").read_text(errors="replace")       # whole, from the start

    def settled(key: str) -> list[int]:
        return [int(n) for n in re.findall(r"heap settled: (\d+) objects", log(key))]

    assert len(settled("gateway")) == log("gateway").count("Booting worker with pid") >= 2
    for service in ("identity", "application", "review", "payment", "documents"):
        starts = len(re.findall(f"metrics of {service} (on http|not served)", log(service)))   # once a start
        assert len(settled(service)) == starts >= 1, service
    assert min(settled("gateway") + settled("review")) > 10_000     # the modules, mappers, models
