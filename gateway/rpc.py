"""A pool of started nameko RPC clients, one borrowed per call.

Built lazily, so each gunicorn worker builds its own after fork. A client that failed for a
reason other than a remote refusal (a timeout, a broken connection) is dropped, never
reused: its reply queue may still hold a late answer.
"""
from __future__ import annotations

import contextlib
import logging
import queue
import threading

from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy

import kit.remote  # noqa: F401 - remote errors arrive as kit.errors instances
from kit.errors import ServiceError

log = logging.getLogger(__name__)


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
        runner = ClusterRpcProxy(self.config, timeout=self.timeout)
        return runner, runner.start()

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
        item = self._borrow()
        try:
            result = getattr(getattr(item[1], service), method)(*args, **kwargs)
        except ServiceError:
            self._idle.put(item)
            raise
        except RemoteError:
            self._idle.put(item)
            raise
        except Exception as exc:
            log.warning("rpc %s.%s failed: %s", service, method, type(exc).__name__)
            self._drop(item)
            raise ServiceUnavailable(f"{service}.{method}: {type(exc).__name__}") from exc
        self._idle.put(item)
        return result

    def close(self) -> None:
        while True:
            try:
                item = self._idle.get_nowait()
            except queue.Empty:
                break
            self._drop(item)


class Rpc:
    """``rpc.identity.login(...)``: attribute access over a pool."""

    def __init__(self, pool: RpcPool):
        self.pool = pool

    def __getattr__(self, service: str):
        pool = self.pool

        class _Service:
            def __getattr__(self, method: str):
                return lambda *a, **kw: pool.call(service, method, *a, **kw)

        return _Service()
