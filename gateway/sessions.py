"""The principal behind a session, without asking identity on every request (issue 12).

Each gateway process keeps the sealed principals it resolved, keyed by the hash of the
session token, for ``GONGKAO_SESSION_CACHE_SECONDS`` (60 by default; the seal itself lives
five minutes, and a refresh is what keeps a session from idling out). What would make a kept
principal wrong — a logout, a password change or reset, a deletion — reaches every process as
identity's ``identity.principal_changed.v1`` event, consumed by a thread of the process on its
own exclusive queue: the entries go at once (within a second of the change). While that
listener is not connected the cache is not used at all: a revocation can never be missed."""
from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections import OrderedDict

from kit import clock
from kit.config import settings
from services.identity.schemas import PrincipalChanged

log = logging.getLogger(__name__)
MAX_ENTRIES = 200_000


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class PrincipalCache:
    """token hash → (sealed principal, when fetched); also (kind, id) → token hashes, to
    forget every session of an account at once. Thread-safe (gthread workers)."""

    def __init__(self, ttl: float, max_entries: int = MAX_ENTRIES):
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[dict, float]] = OrderedDict()   # (principal, when: kit.clock)
        self._by_principal: dict[tuple[str, int], set[str]] = {}
        self._lock = threading.Lock()
        self.generation = 0          # bumped by every forget: a fetch that raced one is not kept

    def get(self, key: str) -> dict | None:
        with self._lock:
            hit = self._entries.get(key)
            if hit is None:
                return None
            principal, fetched = hit
            age = clock.now().timestamp() - fetched      # the shared clock: a moved test clock ages it too
            if not 0 <= age <= self.ttl:
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return principal

    def put(self, key: str, principal: dict, generation: int) -> None:
        with self._lock:
            if generation != self.generation:     # something was revoked while we asked identity
                return
            self._entries[key] = (principal, clock.now().timestamp())
            self._entries.move_to_end(key)
            self._by_principal.setdefault((principal.get("kind"), principal.get("id")), set()).add(key)
            while len(self._entries) > self.max_entries:
                self._drop(next(iter(self._entries)))

    def _drop(self, key: str) -> None:
        principal, _ = self._entries.pop(key, (None, 0))
        if principal is not None:
            keys = self._by_principal.get((principal.get("kind"), principal.get("id")))
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_principal[(principal.get("kind"), principal.get("id"))]

    def forget(self, kind: str, principal_id: int, key: str | None = None) -> None:
        with self._lock:
            self.generation += 1
            for k in ([key] if key else list(self._by_principal.get((kind, principal_id), ()))):
                self._drop(k)

    def clear(self) -> None:
        with self._lock:
            self.generation += 1
            self._entries.clear()
            self._by_principal.clear()

    def __len__(self) -> int:
        return len(self._entries)


class RevocationListener:
    """A daemon thread holding an exclusive, auto-deleted queue bound to identity's
    ``identity.principal_changed.v1``. ``connected`` is true only while it consumes; on any
    failure the cache is cleared and the thread reconnects."""

    def __init__(self, amqp_uri: str, cache: PrincipalCache):
        self.amqp_uri = amqp_uri
        self.cache = cache
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    def ensure_started(self) -> None:
        """Started in the process that serves (after gunicorn's fork), once."""
        if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
            return
        self._pid = os.getpid()
        self.connected.clear()
        self._thread = threading.Thread(target=self._run, name="principal-revocations", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        import kombu

        exchange = kombu.Exchange("identity.events", type="topic", durable=True)
        while not self._stop.is_set():
            try:
                with kombu.Connection(self.amqp_uri, heartbeat=10, connect_timeout=5) as conn:
                    queue = kombu.Queue(f"gateway-revocations-{os.getpid()}-{os.urandom(4).hex()}", exchange,
                                        routing_key=PrincipalChanged.EVENT_TYPE, exclusive=True,
                                        auto_delete=True, durable=False)
                    with conn.Consumer([queue], callbacks=[self._on_message], accept=["json"]):
                        self.cache.clear()            # whatever happened while away is unknown
                        self.connected.set()
                        while not self._stop.is_set():
                            try:
                                conn.drain_events(timeout=1)
                            except TimeoutError:
                                conn.heartbeat_check()
            except Exception as exc:   # the broker went away: no cache until it is back
                log.warning("revocation listener disconnected: %s", type(exc).__name__)
            finally:
                self.connected.clear()
                self.cache.clear()
            self._stop.wait(1)

    def _on_message(self, body, message) -> None:
        try:
            event = PrincipalChanged.model_validate((body or {}).get("data") or {})
            self.cache.forget(event.kind, event.principal_id, event.token_hash)
        except Exception:
            log.exception("unreadable principal_changed event: forgetting everything")
            self.cache.clear()
        message.ack()


class Sessions:
    """What the gateway asks for a request's principal (see gateway.auth.principal)."""

    def __init__(self, rpc, amqp_uri: str | None):
        ttl = settings().session_cache_seconds
        self.rpc = rpc
        self.cache = PrincipalCache(ttl)
        self.listener = RevocationListener(amqp_uri, self.cache) if amqp_uri and ttl > 0 else None
        if self.listener is not None:
            self.listener.ensure_started()    # again after a fork (gunicorn --preload), if need be

    def resolve(self, token: str) -> dict | None:
        if self.listener is None:
            return self.rpc.identity.resolve_session(token)
        self.listener.ensure_started()
        key = token_hash(token)
        if self.listener.connected.is_set():
            hit = self.cache.get(key)
            if hit is not None:
                return dict(hit)
        generation = self.cache.generation
        found = self.rpc.identity.resolve_session(token)
        if found is not None and self.listener.connected.is_set():
            self.cache.put(key, found, generation)
        return found

    def forget_token(self, token: str) -> None:
        """This process's own logout: gone here at once, before identity's event arrives."""
        key = token_hash(token)
        hit = self.cache.get(key)
        if hit is not None:
            self.cache.forget(hit.get("kind"), hit.get("id"), key)
