"""A pool of started nameko RPC clients, one borrowed per call.

Built lazily, so each gunicorn worker builds its own after fork. A client that failed for a
reason other than a remote refusal (a timeout, a broken connection) is dropped, never
reused: its reply queue may still hold a late answer.

Each call carries the request's id (kit.logs) in nameko's context data, so the service logs
with it and the events it announces carry it on; each call is timed by service.method and
outcome (gateway.metrics).
"""
from __future__ import annotations

import contextlib
import functools
import logging
import queue
import threading
import time

from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy

import kit.remote  # noqa: F401 - remote errors arrive as kit.errors instances
from kit import amqp, logs
from kit.errors import ServiceError

from .metrics import observe_rpc

log = logging.getLogger(__name__)
amqp.install()        # each request's publish finds its producer pool once (kit.amqp)


class ServiceUnavailable(Exception):
    """A service did not answer in time, or the broker is away."""


class RpcPool:
    def __init__(self, amqp_uri: str, size: int = 8, timeout: float = 10.0):
        self.config = {"AMQP_URI": amqp_uri}
        self.size = size
        self.timeout = timeout
        self._idle: queue.LifoQueue = queue.LifoQueue()
        self._created = 0
        self._lock = threading.Lock()

    def _new(self):
        # the proxy's worker context keeps this very dict as its context data and sends what
        # it holds at each call: the borrower puts the request's id in it
        context: dict = {}
        runner = ClusterRpcProxy(self.config, context_data=context, timeout=self.timeout)
        return runner, runner.start(), context

    def _borrow(self):
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            grow = self._created < self.size
            if grow:
                self._created += 1
        if grow:
            try:
                return self._new()
            except Exception as exc:
                with self._lock:
                    self._created -= 1
                raise ServiceUnavailable(str(exc)) from exc
        try:
            return self._idle.get(timeout=self.timeout)
        except queue.Empty:
            raise ServiceUnavailable("no RPC client free") from None

    def _drop(self, item) -> None:
        with self._lock:
            self._created -= 1
        with contextlib.suppress(Exception):
            item[0].stop()

    def call(self, service: str, method: str, *args, **kwargs):
        started = time.perf_counter()
        try:
            item = self._borrow()
        except ServiceUnavailable:
            observe_rpc(service, method, "unavailable", time.perf_counter() - started)
            raise
        rid = logs.request_id()
        if rid:
            item[2]["request_id"] = rid
        else:
            item[2].pop("request_id", None)
        outcome = "ok"
        try:
            result = getattr(getattr(item[1], service), method)(*args, **kwargs)
        except ServiceError:
            outcome = "refused"
            self._idle.put(item)
            raise
        except RemoteError:
            outcome = "remote_error"
            self._idle.put(item)
            raise
        except Exception as exc:
            outcome = "unavailable"
            log.warning("rpc %s.%s failed: %s", service, method, type(exc).__name__)
            self._drop(item)
            raise ServiceUnavailable(f"{service}.{method}: {type(exc).__name__}") from exc
        finally:
            observe_rpc(service, method, outcome, time.perf_counter() - started)
        self._idle.put(item)
        return result

    def close(self) -> None:
        while True:
            try:
                item = self._idle.get_nowait()
            except queue.Empty:
                break
            self._drop(item)


class _Service:
    """``rpc.review``: its methods are calls over the pool."""

    __slots__ = ("_pool", "_name")

    def __init__(self, pool: RpcPool, name: str):
        self._pool, self._name = pool, name

    def __getattr__(self, method: str):
        return functools.partial(self._pool.call, self._name, method)


class Rpc:
    """``rpc.identity.login(...)``: attribute access over a pool (one proxy per service, made
    once: a request asks for them on every call)."""

    def __init__(self, pool: RpcPool):
        self.pool = pool
        self._services: dict[str, _Service] = {}

    def __getattr__(self, service: str) -> _Service:
        if service.startswith("_"):           # copy, pickle and the like: not a service
            raise AttributeError(service)
        found = self._services.get(service)
        if found is None:
            found = self._services.setdefault(service, _Service(self.pool, service))
        return found
