"""kit.metrics.Metrics, the DependencyProvider every service declares: its workers run on a real
nameko ServiceContainer (``spawn_worker``, the path an RPC or an event takes; no broker, no
monkey-patching) — each RPC and event handler timed and its failures counted by kind, the
worker's log lines under the caller's request id (an event's from its envelope); and the
process's endpoint, with the outbox backlog and parked events read from the database when
scraped (SQLite here)."""
from __future__ import annotations

import io
import json
import logging
from datetime import timedelta

import pytest
import requests
import sqlalchemy as sa
from nameko.containers import ServiceContainer
from nameko.events import SERVICE_POOL, event_handler
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from kit import clock, logs
from kit.db import Database, add_messaging_tables
from kit.entrypoints import rpc
from kit.errors import InvalidInput
from kit.metrics import Metrics

log = logging.getLogger("test.probe")
metadata = sa.MetaData()
add_messaging_tables(metadata)


class Probe:
    name = "probe"

    db = Database(metadata)
    metrics = Metrics()

    @rpc
    def hello(self, who):
        log.info("hello %s", who)
        return f"hi {who}"

    @rpc
    def refuse(self):
        raise InvalidInput("不行")

    @rpc
    def crash(self):
        raise RuntimeError("boom")

    @event_handler("other", "other.thing_done.v1", handler_type=SERVICE_POOL, reliable_delivery=True)
    def on_thing(self, env):
        log.info("handling %s", env["event_id"])
        return env.get("outcome", "applied")


@pytest.fixture(scope="module")
def container(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('probe') / 'probe.db'}"
    container = ServiceContainer(Probe, {"AMQP_URI": "memory://", "DB_URIS": {"probe": url}})
    database = next(d for d in container.dependencies if isinstance(d, Database))
    database.setup()                                  # the engine; no relay, no broker
    metadata.create_all(database.engine)
    yield container
    database.engine.dispose()


@pytest.fixture
def lines():
    """The JSON lines the probe's workers log."""
    stream = io.StringIO()
    handler = logs.console_handler("json", stream)
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    log.removeHandler(handler)


def run(container, method: str, *args, context_data=None):
    """A worker of ``method`` as an entrypoint spawns it, run to its end (teardown included)."""
    entrypoint = next(e for e in container.entrypoints if e.method_name == method)
    worker_ctx = container.spawn_worker(entrypoint, args, {}, context_data=context_data)
    container._worker_threads[worker_ctx].wait()


def value(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_an_rpc_is_timed_and_logs_under_the_callers_request_id(container, lines):
    before = value("gongkao_rpc_duration_seconds_count", service="probe", method="hello")
    run(container, "hello", "张伟 13912345678", context_data={"request_id": "gw-req-1"})
    assert value("gongkao_rpc_duration_seconds_count", service="probe", method="hello") == before + 1
    assert value("gongkao_rpc_duration_seconds_sum", service="probe", method="hello") > 0
    (line,) = lines()
    assert line["message"] == "hello 张伟 139****5678"
    assert line["request_id"] == "gw-req-1" and line["service"] == "probe"
    assert logs.request_id() is None                          # unbound once the worker is done


def test_an_insane_request_id_from_a_caller_is_not_used(container, lines):
    run(container, "hello", "x", context_data={"request_id": "forged\nline"})
    assert lines()[0]["request_id"] is None


def test_rpc_failures_are_counted_by_kind(container):
    def failures(method, kind):
        return value("gongkao_rpc_failures_total", service="probe", method=method, kind=kind)

    before = {(m, k): failures(m, k) for m in ("refuse", "crash", "hello") for k in ("refused", "error")}
    run(container, "refuse")
    run(container, "refuse")
    run(container, "crash")
    run(container, "hello", "y")
    after = {(m, k): failures(m, k) - before[(m, k)] for (m, k) in before}
    assert after == {("refuse", "refused"): 2, ("refuse", "error"): 0, ("crash", "refused"): 0,
                     ("crash", "error"): 1, ("hello", "refused"): 0, ("hello", "error"): 0}
    assert value("gongkao_rpc_duration_seconds_count", service="probe", method="crash") >= 1


def test_a_handler_logs_under_the_request_id_its_event_carries(container, lines):
    before = value("gongkao_event_handler_duration_seconds_count", service="probe", handler="on_thing")
    env = {"event_id": "e-1", "event_type": "other.thing_done.v1", "request_id": "gw-req-2", "data": {}}
    run(container, "on_thing", env)
    assert value("gongkao_event_handler_duration_seconds_count", service="probe", handler="on_thing") == before + 1
    (line,) = lines()
    assert line["message"] == "handling e-1" and line["request_id"] == "gw-req-2" and line["service"] == "probe"


def test_a_parked_event_is_a_handler_failure(container):
    before = value("gongkao_event_handler_failures_total", service="probe", handler="on_thing", kind="parked")
    run(container, "on_thing", {"event_id": "e-2", "outcome": "parked", "data": {}})
    run(container, "on_thing", {"event_id": "e-3", "outcome": "duplicate", "data": {}})
    assert value("gongkao_event_handler_failures_total", service="probe", handler="on_thing",
                 kind="parked") == before + 1


def test_the_process_serves_its_metrics_with_the_outbox_and_parked_events(container, caplog):
    database = next(d for d in container.dependencies if isinstance(d, Database))
    outbox, parked = metadata.tables["outbox"], metadata.tables["parked_events"]
    now = clock.now()
    with database.engine.begin() as conn:
        conn.execute(sa.delete(outbox))
        conn.execute(sa.delete(parked))
        conn.execute(outbox.insert(), [
            {"event_id": f"o-{n}", "event_type": "probe.x.v1", "envelope": {}, "created_at": now - timedelta(seconds=age),
             "published_at": published}
            for n, (age, published) in enumerate([(90, None), (30, None), (600, now)])])
        conn.execute(parked.insert(), [
            {"handler": "on_thing", "event_type": "other.thing_done.v1", "envelope": {}, "error": "x", "attempts": 3,
             "parked_at": now, "replayed_at": replayed} for replayed in (None, None, now)])
    run(container, "hello", "z")
    metrics = next(d for d in container.dependencies if isinstance(d, Metrics))
    with caplog.at_level(logging.INFO, logger="kit.metrics"):
        metrics.start()
        metrics.start()                                          # a second container: the same endpoint
    started = [r.getMessage() for r in caplog.records if r.name == "kit.metrics"]
    assert len(started) == 2 and started[0] == started[1] and started[0].startswith("metrics of probe on http://127.0.0.1:")
    url = started[0].rsplit(" ", 1)[1]
    assert url.endswith("/metrics")
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(requests.get(url, timeout=10).text)
               for s in family.samples}
    assert samples[("gongkao_outbox_backlog", (("service", "probe"),))] == 2
    assert 89 <= samples[("gongkao_outbox_oldest_age_seconds", (("service", "probe"),))] < 150
    assert samples[("gongkao_parked_events", (("service", "probe"),))] == 2
    assert samples[("gongkao_rpc_duration_seconds_count", (("method", "hello"), ("service", "probe")))] >= 1
    metrics.stop()                                               # the container stopped: no longer read
    text = requests.get(url, timeout=10).text
    assert 'gongkao_outbox_backlog{service="probe"}' not in text


def test_an_empty_outbox_is_zero_old():
    from kit.metrics import Backlog

    class Empty:
        metadata = metadata
        engine = sa.create_engine("sqlite://")

    metadata.create_all(Empty.engine)
    assert Backlog().read(Empty) == (0, 0.0, 0)


def test_a_port_taken_is_logged_and_the_service_runs_on(container, monkeypatch, caplog):
    import socket

    import kit.metrics
    from kit.config import settings

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        monkeypatch.setattr(kit.metrics, "_served", None)
        monkeypatch.setattr(settings(), "metrics_port", taken.getsockname()[1])
        metrics = next(d for d in container.dependencies if isinstance(d, Metrics))
        with caplog.at_level(logging.INFO, logger="kit.metrics"):
            metrics.start()
        (record,) = [r for r in caplog.records if r.name == "kit.metrics"]
        assert record.levelname == "ERROR" and record.getMessage().startswith("metrics of probe not served: ")
        metrics.stop()
    finally:
        taken.close()
