"""What a service process tells about itself (issue 13). Declare once per service, beside
``db``: ``metrics = Metrics()``.

- Every RPC and event handler is timed (``gongkao_rpc_duration_seconds``,
  ``gongkao_event_handler_duration_seconds``) and its failures counted
  (``gongkao_rpc_failures_total{kind}``: ``refused`` — a kit.errors ServiceError the caller is
  told about — or ``error``; ``gongkao_event_handler_failures_total{kind}``: ``parked`` after
  its retries, or ``error``).
- The outbox backlog, the age of its oldest unpublished event and the parked events waiting
  are read from the service's own database when Prometheus scrapes, never per call.
- The process serves them at ``http://GONGKAO_METRICS_HOST:GONGKAO_METRICS_PORT/metrics``
  (port 0: a free one), started once per process with the first container and logged as
  ``metrics of <service> on http://<host>:<port>/metrics``.
- Each worker logs under the request id it was called with (the RPC context data, or the
  envelope of the event it handles; kit.logs), and passes it on to what it calls and emits.
"""
from __future__ import annotations

import logging
import threading
import time
import weakref

import sqlalchemy as sa
from nameko.events import EventHandler
from nameko.extensions import DependencyProvider
from nameko.rpc import Rpc
from prometheus_client import REGISTRY, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from kit import clock, heap, logs, offload
from kit.config import settings
from kit.db import Database
from kit.errors import ServiceError

log = logging.getLogger(__name__)

RPC_SECONDS = Histogram("gongkao_rpc_duration_seconds", "Time a service took to answer an RPC",
                        ["service", "method"])
RPC_FAILURES = Counter("gongkao_rpc_failures_total",
                       "RPCs that did not answer a result: refused (told to the caller) or error",
                       ["service", "method", "kind"])
HANDLER_SECONDS = Histogram("gongkao_event_handler_duration_seconds", "Time an event handler took",
                            ["service", "handler"])
HANDLER_FAILURES = Counter("gongkao_event_handler_failures_total",
                           "Events a handler could not apply: parked after its retries, or error",
                           ["service", "handler", "kind"])
PAYMENT_CALLBACKS = Counter("gongkao_payment_callbacks_total",
                            "The payment platform's callbacks by outcome: paid, late_paid, second_payment, "
                            "repeat, or the code they were refused with", ["outcome"])


def payment_callback(outcome: str) -> None:
    PAYMENT_CALLBACKS.labels(outcome).inc()


class Backlog(Collector):
    """The outbox and parked events of the services of this process, read when scraped: two
    small counts over the unpublished and the waiting rows (the outbox's partial index)."""

    def __init__(self):
        self._databases: dict[str, Database] = {}
        self._lock = threading.Lock()

    def watch(self, service: str, database: Database) -> None:
        with self._lock:
            self._databases[service] = database

    def forget(self, service: str) -> None:
        with self._lock:
            self._databases.pop(service, None)

    @staticmethod
    def _families():
        return (GaugeMetricFamily("gongkao_outbox_backlog", "Events written to the outbox, not yet published",
                                  labels=["service"]),
                GaugeMetricFamily("gongkao_outbox_oldest_age_seconds",
                                  "Age of the oldest unpublished event (0: none)", labels=["service"]),
                GaugeMetricFamily("gongkao_parked_events", "Parked events waiting for an operator",
                                  labels=["service"]))

    def describe(self):
        return list(self._families())

    def read(self, database: Database) -> tuple[int, float, int]:
        outbox = database.metadata.tables["outbox"]
        parked = database.metadata.tables["parked_events"]
        with database.engine.connect() as conn:
            count, oldest = conn.execute(sa.select(sa.func.count(), sa.func.min(outbox.c.created_at))
                                         .where(outbox.c.published_at.is_(None))).one()
            waiting = conn.execute(sa.select(sa.func.count()).select_from(parked)
                                   .where(parked.c.replayed_at.is_(None))).scalar_one()
        age = max(0.0, (clock.now() - oldest).total_seconds()) if oldest is not None else 0.0
        return int(count), age, int(waiting)

    def collect(self):
        backlog, age, parked = self._families()
        with self._lock:
            databases = list(self._databases.items())
        for service, database in databases:
            if database.engine is None:
                continue
            try:
                count, oldest, waiting = self.read(database)
            except Exception as exc:  # noqa: BLE001 - a scrape never fails for the database's sake
                log.warning("metrics of %s: outbox not read: %s", service, type(exc).__name__)
                continue
            backlog.add_metric([service], count)
            age.add_metric([service], oldest)
            parked.add_metric([service], waiting)
        yield from (backlog, age, parked)


BACKLOG = Backlog()
REGISTRY.register(BACKLOG)

_served: tuple[str, int] | None = None
_serve_lock = threading.Lock()


def serve() -> tuple[str, int]:
    """Starts this process's metrics endpoint once; returns where it listens."""
    global _served
    with _serve_lock:
        if _served is None:
            cfg = settings()
            server, _thread = start_http_server(cfg.metrics_port, addr=cfg.metrics_host)
            _served = (cfg.metrics_host, server.server_port)
        return _served


class Metrics(DependencyProvider):
    """Times every entrypoint of the service (worker_setup → worker_result), binds the request
    id to the worker's log lines, and serves the process's metrics."""

    def __init__(self, **kwargs):
        self._started: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        super().__init__(**kwargs)

    def setup(self):
        logs.claim_service(self.container.service_name)

    def start(self):
        service = self.container.service_name
        if offload.patched("socket"):   # a service's own process, not a test's hosting a container
            heap.settle()            # the service is built: what it keeps leaves the collector's way
        database = next((d for d in self.container.dependencies if isinstance(d, Database)), None)
        if database is not None:
            BACKLOG.watch(service, database)
        try:
            host, port = serve()
        except OSError as exc:
            with logs.bound(service=service):
                log.error("metrics of %s not served: %s", service, exc)
            return
        with logs.bound(service=service):
            log.info("metrics of %s on http://%s:%d/metrics", service, host, port)

    def stop(self):
        BACKLOG.forget(self.container.service_name)

    def kill(self):
        self.stop()

    @staticmethod
    def request_id_of(worker_ctx) -> str | None:
        """The RPC caller's request id, or for an event the one its envelope carries."""
        if isinstance(worker_ctx.entrypoint, EventHandler) and worker_ctx.args:
            env = worker_ctx.args[0]
            if isinstance(env, dict) and logs.sane_request_id(env.get("request_id")):
                return env["request_id"]
        return logs.sane_request_id(worker_ctx.context_data.get("request_id"))

    def worker_setup(self, worker_ctx):
        rid = self.request_id_of(worker_ctx)
        if rid:
            worker_ctx.data["request_id"] = rid     # on to the RPCs this worker makes
        logs.bind(rid, service=self.container.service_name)
        self._started[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        started = self._started.pop(worker_ctx, None)
        if started is None:
            return
        seconds = time.perf_counter() - started
        service, name = self.container.service_name, worker_ctx.entrypoint.method_name
        error = exc_info[1] if exc_info else None
        if isinstance(worker_ctx.entrypoint, Rpc):
            RPC_SECONDS.labels(service, name).observe(seconds)
            if error is not None:
                kind = "refused" if isinstance(error, ServiceError) else "error"
                RPC_FAILURES.labels(service, name, kind).inc()
        elif isinstance(worker_ctx.entrypoint, EventHandler):
            HANDLER_SECONDS.labels(service, name).observe(seconds)
            if error is not None:
                HANDLER_FAILURES.labels(service, name, "error").inc()
            elif result == "parked":
                HANDLER_FAILURES.labels(service, name, "parked").inc()

    def worker_teardown(self, worker_ctx):
        self._started.pop(worker_ctx, None)
        logs.unbind()
