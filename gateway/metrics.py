"""What the gateway tells about itself (issue 13): Prometheus metrics of its HTTP requests and
of its RPC calls, served at ``GET /metrics`` to loopback and ``GONGKAO_METRICS_ALLOW`` only,
and the request id of every request (``X-Request-Id``) for the log lines and the services.

Labels stay bounded: a request is counted under its route's template
(``/api/v1/admin/reviews/{application_id}``), never its path; a path no route knows is
``unmatched``. Under gunicorn each worker process writes its numbers into
``PROMETHEUS_MULTIPROC_DIR`` (set and emptied by the master, gateway.gunicorn_hooks) and a
scrape of any worker sums them all."""
from __future__ import annotations

import logging
import os
import time
import uuid

import falcon
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from kit import logs
from kit.config import settings
from kit.errors import Forbidden

from .source import is_among, networks

access = logging.getLogger("gateway.access")

REQUESTS = Counter("gongkao_http_requests_total", "HTTP requests answered by the gateway",
                   ["route", "method", "status"])
REQUEST_SECONDS = Histogram("gongkao_http_request_duration_seconds",
                            "Time the gateway took to answer (until the body starts)", ["route", "method"])
RPC_SECONDS = Histogram("gongkao_gateway_rpc_duration_seconds",
                        "The gateway's RPC calls: time until the answer, by service.method and outcome "
                        "(ok, refused, remote_error, unavailable)", ["service", "method", "outcome"])

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"
STATIC = "static"


def observe_rpc(service: str, method: str, outcome: str, seconds: float) -> None:
    RPC_SECONDS.labels(service, method, outcome).observe(seconds)


class Observe:
    """The first middleware: takes the client's ``X-Request-Id`` if it is a sane token (≤ 64 of
    ``[A-Za-z0-9._-]``) or makes one, binds it to the log lines of the request (and so to its
    RPC calls, gateway.rpc), returns it in the response, counts the request under its route,
    and logs one access line (method, route, status, time: the route's template, never the
    path or the query, which may hold an ID number)."""

    def __init__(self, router):
        self.router = router

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.started = time.perf_counter()
        rid = logs.sane_request_id(req.get_header("X-Request-Id")) or uuid.uuid4().hex
        req.context.request_id = rid
        logs.bind(rid, service="gateway")

    def route(self, req: falcon.Request, resource, status: int) -> str:
        if req.uri_template:
            return req.uri_template
        if resource is not None:
            return STATIC                       # the static files (the only route without a template)
        if status != 404:
            # refused before routing (a middleware's 400 or 403): still counted under its route
            found = self.router.find(req.path)
            if found is not None and found[3]:
                return found[3]
        return UNMATCHED

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource, req_succeeded) -> None:
        rid = getattr(req.context, "request_id", None)
        if rid:
            resp.set_header("X-Request-Id", rid)
        started = getattr(req.context, "started", None)
        if started is not None:
            status = resp.status_code
            route = self.route(req, resource, status)
            method = req.method if req.method in METHODS else "other"
            seconds = time.perf_counter() - started
            REQUESTS.labels(route, method, str(status)).inc()
            REQUEST_SECONDS.labels(route, method).observe(seconds)
            access.info("%s %s %d %.1fms", method, route, status, seconds * 1000)
        logs.unbind()


def registry():
    """What a scrape reads: every worker's numbers under gunicorn, this process's otherwise."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        merged = CollectorRegistry()
        multiprocess.MultiProcessCollector(merged)
        return merged
    return REGISTRY


class Metrics:
    """``GET /metrics``: Prometheus text format, for the socket's peer on loopback or in
    ``GONGKAO_METRICS_ALLOW`` (never by X-Forwarded-For, which anyone can write)."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        if not is_among(req.remote_addr, networks(settings().metrics_allow)):
            raise Forbidden("无权查看运行指标", code="forbidden")
        resp.content_type = CONTENT_TYPE_LATEST
        resp.data = generate_latest(registry())
