"""The principal behind a session, without asking identity on every request (issue 12).

Each gateway process keeps the sealed principals it resolved, keyed by the hash of the
session token, for ``GONGKAO_SESSION_CACHE_SECONDS`` (60 by default; the seal itself lives
five minutes, and a refresh is what keeps a session from idling out). What would make a kept
principal wrong — a logout, a password change or reset, a deletion — reaches every process as
identity's ``identity.principal_changed.v1`` event (gateway.events): the entries go at once
(within a second of the change). While the listener is not connected the cache is not used
at all: a revocation can never be missed."""
from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict

from kit import clock
from kit.config import settings
from services.identity.schemas import PrincipalChanged

from .events import EventListener
from .views import lifetime

log = logging.getLogger(__name__)
MAX_ENTRIES = 200_000


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class PrincipalCache:
    """token hash → (identity's view of the session: the sealed principal and, for an
    applicant, the account; when fetched); also (kind, id) → token hashes, to forget every
    session of an account at once. Thread-safe (gthread workers)."""

    def __init__(self, ttl: float, max_entries: int = MAX_ENTRIES):
        self.ttl = ttl
        self.max_entries = max_entries
        # (principal, when: kit.clock, how long it lives: views.lifetime)
        self._entries: OrderedDict[str, tuple[dict, float, float]] = OrderedDict()
        self._by_principal: dict[tuple[str, int], set[str]] = {}
        self._lock = threading.Lock()
        self.generation = 0          # bumped by every forget: a fetch that raced one is not kept

    def get(self, key: str) -> dict | None:
        with self._lock:
            hit = self._entries.get(key)
            if hit is None:
                return None
            view, fetched, lives = hit
            age = clock.now().timestamp() - fetched      # the shared clock: a moved test clock ages it too
            if not 0 <= age <= lives:
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return view

    def put(self, key: str, view: dict, generation: int) -> None:
        with self._lock:
            if generation != self.generation:     # something was revoked while we asked identity
                return
            self._entries[key] = (view, clock.now().timestamp(), lifetime(self.ttl))
            self._entries.move_to_end(key)
            who = view["principal"]
            self._by_principal.setdefault((who.get("kind"), who.get("id")), set()).add(key)
            while len(self._entries) > self.max_entries:
                self._drop(next(iter(self._entries)))

    def _drop(self, key: str) -> None:
        view = self._entries.pop(key, (None,))[0]
        if view is not None:
            who = (view["principal"].get("kind"), view["principal"].get("id"))
            keys = self._by_principal.get(who)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_principal[who]

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


class Sessions:
    """What the gateway asks for a request's principal (see gateway.auth.principal)."""

    def __init__(self, rpc, listener: EventListener | None):
        ttl = settings().session_cache_seconds
        self.rpc = rpc
        self.cache = PrincipalCache(ttl)
        self.listener = listener if ttl > 0 else None
        if self.listener is not None:
            self.listener.on(PrincipalChanged.EVENT_TYPE, self._changed, self.cache.clear)

    def _changed(self, data: dict) -> None:
        event = PrincipalChanged.model_validate(data)
        self.cache.forget(event.kind, event.principal_id, event.token_hash)

    def view(self, token: str) -> dict | None:
        """{"principal", "account"} of a session, or None: kept, or asked of identity."""
        if self.listener is None:
            return self.rpc.identity.resolve_session_view(token)
        self.listener.ensure_started()
        key = token_hash(token)
        if self.listener.connected.is_set():
            hit = self.cache.get(key)
            if hit is not None:
                return {"principal": dict(hit["principal"]), "account": hit["account"]}
        generation = self.cache.generation
        found = self.rpc.identity.resolve_session_view(token)
        if found is not None and self.listener.connected.is_set():
            self.cache.put(key, found, generation)
        return found

    def forget_token(self, token: str) -> None:
        """This process's own logout: gone here at once, before identity's event arrives."""
        key = token_hash(token)
        hit = self.cache.get(key)
        if hit is not None:
            self.cache.forget(hit["principal"].get("kind"), hit["principal"].get("id"), key)
