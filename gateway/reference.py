"""Reference data every page and public endpoint shows — units with their 主管单位, the trade
catalogue, 咨询电话, the current year's calendar — kept per gateway process instead of asked
for on every request (issue 12). Application announces ``application.reference_changed.v1``
and identity ``identity.year_updated.v1``: the copy goes at once and is fetched again on the
next request. Without the event listener connected nothing is kept (gateway.events)."""
from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

from kit import clock, regions
from kit.config import settings

from .events import EventListener

YEAR = "current_year"
# what each announcement makes stale
STALE = {"units": ("units",), "trades": ("trades",), "contacts": ("contacts",)}


class Reference:
    def __init__(self, rpc, listener: EventListener | None):
        self.rpc = rpc
        self.ttl = settings().reference_cache_seconds
        self.listener = listener if self.ttl > 0 else None
        self._kept: dict[tuple, tuple[Any, float]] = {}
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

    def clear(self) -> None:
        with self._lock:
            self.generation += 1
            self._kept.clear()

    def _get(self, key: tuple, fetch: Callable[[], Any]) -> Any:
        if self.listener is None:
            return fetch()
        self.listener.ensure_started()
        if self.listener.connected.is_set():
            with self._lock:
                hit = self._kept.get(key)
            if hit is not None and 0 <= clock.now().timestamp() - hit[1] <= self.ttl:
                return copy.deepcopy(hit[0])
        generation = self.generation
        value = fetch()
        if self.listener.connected.is_set():
            with self._lock:
                if generation == self.generation:     # nothing announced while we asked
                    self._kept[key] = (copy.deepcopy(value), clock.now().timestamp())
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
