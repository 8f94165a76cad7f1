"""Reference data every page and public endpoint shows — units with their 主管单位, the trade
catalogue, 咨询电话, the current year's calendar — kept per gateway process instead of asked
for on every request (issue 12). Application announces ``application.reference_changed.v1``
and identity ``identity.year_updated.v1``: the copy goes at once and is fetched again on the
next request. Without the event listener connected nothing is kept (gateway.events).

Read your own writes: the event comes a few milliseconds after the change's answer, so a
change made through this gateway is also stamped in a small file every gateway process of
the host shares (``HostStamps``); each process compares the stamp before using its copy.
The next request after a province administrator's import sees the new catalogue on any
worker of this host; other hosts follow by the event.

A copy is kept as the JSON it crossed the broker as, and each request reads its own from it
(a page may change what it is handed): several times cheaper than a deep copy."""
from __future__ import annotations

import json
import logging
import mmap
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kit import clock, regions
from kit.config import settings

from .events import EventListener

log = logging.getLogger(__name__)

YEAR = "current_year"
KEPT = ("cities", "units", "trades", "contacts", YEAR, "review_contacts")
# what each announcement makes stale
STALE = {"units": ("units",), "trades": ("trades",), "contacts": ("contacts",)}


class HostStamps:
    """Eight bytes per kind of kept data in one file shared (mmap) by the gateway processes
    of a host. ``bump`` writes fresh random bytes — concurrent writers cannot hide each
    other's change, a torn read only costs one more fetch — and ``read`` is a memory read."""

    SLOT = 8

    def __init__(self, path: Path, names: tuple[str, ...] = KEPT):
        self.index = {name: i * self.SLOT for i, name in enumerate(names)}
        size = self.SLOT * len(names)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size < size:
                os.ftruncate(fd, size)
            self._map = mmap.mmap(fd, size)
        finally:
            os.close(fd)

    def read(self, name: str) -> bytes:
        at = self.index[name]
        return self._map[at:at + self.SLOT]

    def bump(self, name: str) -> None:
        at = self.index[name]
        self._map[at:at + self.SLOT] = os.urandom(self.SLOT)


def host_stamps() -> HostStamps | None:
    path = settings().data_dir / "gateway-kept.stamps"
    try:
        return HostStamps(path)
    except OSError as exc:     # nothing shared: each process still follows the events
        log.warning("no shared stamps for kept reference data (%s): %s", path, type(exc).__name__)
        return None


class Reference:
    def __init__(self, rpc, listener: EventListener | None, stamps: HostStamps | None = None):
        self.rpc = rpc
        self.ttl = settings().reference_cache_seconds
        self.listener = listener if self.ttl > 0 else None
        self.stamps = stamps
        self._kept: dict[tuple, tuple[Any, float, bytes]] = {}
        self._lock = threading.Lock()
        self.generation = 0
        if self.listener is not None:
            self.listener.on("application.reference_changed.v1", self._changed, self.clear)
            self.listener.on("identity.year_updated.v1", lambda data: self.forget(YEAR), self.clear)
            self.listener.on("identity.admins_changed.v1", lambda data: self.forget("review_contacts"), self.clear)

    def _changed(self, data: dict) -> None:
        for what in data.get("what") or ():
            for name in STALE.get(what, ()):
                self.forget(name)

    def forget(self, name: str) -> None:
        with self._lock:
            self.generation += 1
            for key in [k for k in self._kept if k[0] == name]:
                del self._kept[key]

    def changed(self, *names: str) -> None:
        """A change made through this process (its answer is back): forgotten here and
        stamped for the other processes of the host, before the owner's event arrives."""
        for name in names:
            if self.stamps is not None:
                self.stamps.bump(name)
            self.forget(name)

    def _stamp(self, name: str) -> bytes:
        return self.stamps.read(name) if self.stamps is not None else b""

    def clear(self) -> None:
        with self._lock:
            self.generation += 1
            self._kept.clear()

    def _get(self, key: tuple, fetch: Callable[[], Any]) -> Any:
        if self.listener is None:
            return fetch()
        self.listener.ensure_started()
        stamp = self._stamp(key[0])
        if self.listener.connected.is_set():
            with self._lock:
                hit = self._kept.get(key)
            if hit is not None and hit[2] == stamp and 0 <= clock.now().timestamp() - hit[1] <= self.ttl:
                return json.loads(hit[0])
        generation = self.generation
        value = fetch()
        try:
            blob = json.dumps(value)
        except (TypeError, ValueError):               # not as it crossed the broker: served, not kept
            return value
        if self.listener.connected.is_set():
            with self._lock:
                if generation == self.generation:     # nothing announced while we asked
                    self._kept[key] = (blob, clock.now().timestamp(), stamp)
        return value

    def cities(self) -> list[dict]:
        return self._get(("cities",), self.rpc.application.list_cities)

    def units(self, city_code: str | None) -> list[dict]:
        fetch = lambda: self.rpc.application.list_units(city_code)  # noqa: E731
        if city_code is not None and city_code not in regions.city_codes():
            return fetch()          # kept only for real cities: a request cannot fill the memory
        return self._get(("units", city_code), fetch)

    def trades(self) -> list[dict]:
        return self._get(("trades",), self.rpc.application.list_trades)

    def contacts(self) -> dict:
        return self._get(("contacts",), self.rpc.application.contacts)

    def current_year(self) -> dict | None:
        return self._get((YEAR,), self.rpc.identity.current_year)

    def review_contacts(self, city_code: str | None, supervisor_id: str | None) -> list[dict]:
        """Each review level's contact (审核结果): administrators' masked names and phones
        (the keys come from the review service's answer, not from the request)."""
        return self._get(("review_contacts", city_code, supervisor_id),
                         lambda: self.rpc.identity.review_contacts(city_code, supervisor_id))
