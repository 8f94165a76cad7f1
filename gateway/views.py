"""An applicant's views, kept by each gateway process (issue 12).

In the registration rush an applicant opens the same few views again and again: their steps
(``application.progress``), the form, its check, the 报名信息 page, the 审核结果, 网上缴费, the
准考证, 考核结果 and 电子证书. Each gateway
process keeps the answers it fetched, per applicant, and serves them again without a round
trip while nothing they are read from changed:

- **Changes end them at once.** Every transaction that changes what an applicant's views are
  read from announces it through its outbox: ``application.viewers_changed.v1``,
  ``review.viewers_changed.v1``, ``payment.viewers_changed.v1`` and ``documents.viewers_changed.v1``
  (kit.db.track_viewers) name the applicants, or everyone (the
  calendar, the rules, reference data); ``application.reference_changed.v1`` too. Every
  process drops them when the event arrives (gateway.events), within a second of the change.
- **Each service's event ends what that service answered**; a save that changed only the form
  (``forms``) ends the form, its check and the 报名信息 page, and the steps stay kept.
- **The applicant's own change is seen on the very next request**, whichever process takes it:
  in the process that forwarded a write (any POST, PUT, PATCH or DELETE of an applicant), the
  views of the services it called are asked for, not kept, until their event about it
  arrives (or a few seconds passed); and the write sets the short-lived ``gk_wrote`` cookie:
  while the browser sends it every process asks the services again (by then the event has
  arrived everywhere).
- **The clock ends them too.** A service may say until when its answer holds by the clock
  alone (``fresh_until``: the next window to open or close, paying to open, an order to
  expire, the exam to end); the gateway keeps it no longer
  than that, nor longer than ``GONGKAO_VIEW_CACHE_SECONDS``, and never passes the field on.
- While the event listener is not connected nothing is kept, and everything kept is dropped
  whenever it (re)connects: a change can never be missed, only fetched again.

Answers are kept as JSON (what crossed the broker): each request gets its own copy to change.
Errors are never kept, but for the few refusals that follow from the data alone
(``REFUSALS_KEPT``).
"""
from __future__ import annotations

import json
import random
import threading
import time
from collections import OrderedDict
from datetime import datetime

from kit import clock
from kit.config import settings
from kit.errors import Conflict
from services.application.schemas import ReferenceChanged
from services.application.schemas import ViewersChanged as ApplicationViewersChanged
from services.documents.schemas import ViewersChanged as DocumentsViewersChanged
from services.payment.schemas import ViewersChanged as PaymentViewersChanged
from services.review.schemas import ViewersChanged as ReviewViewersChanged

from .events import EventListener

# what is kept: an applicant's own views (the principal is their first argument), and of
# those what shows the form (a save that changed only the form leaves the rest kept)
KEPT = {"application": frozenset({"progress", "get_form", "eligibility", "form_page"}),
        "review": frozenset({"applicant_review"}),
        "payment": frozenset({"my_payment"}),
        "documents": frozenset({"my_ticket", "my_result", "my_certificate"})}
# a refusal (409) kept like an answer: one that follows from the data alone, ended by the same
# events (电子证书 before 合格 or before printing is switched on)
REFUSALS_KEPT = {"documents": frozenset({"my_certificate"})}
REFUSED = "__refused__"
FORM_VIEWS = {"application": frozenset({"get_form", "eligibility", "form_page"})}
FRESH = "fresh_until"
WROTE_COOKIE = "gk_wrote"
WROTE_SECONDS = 3.0          # after an applicant's write, every process asks again this long
MAX_ENTRIES = 200_000
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def lifetime(ttl: float) -> float:
    """How long one kept entry may live: somewhere in the second half of ``ttl``, so that what
    was fetched together (a burst of logins, a warm-up) does not all expire, and all come back
    over the broker, in the same second."""
    return ttl * random.uniform(0.5, 1.0)  # noqa: S311 - a spread in time, not a secret


def applicant_of(principal) -> tuple[int, str] | None:
    if isinstance(principal, dict) and principal.get("kind") == "applicant" and principal.get("id_number"):
        return principal.get("year"), principal["id_number"]
    return None


class ViewCache:
    """key → (the answer as JSON, expires at, applicant, fetched at: kit.clock timestamps);
    applicant → keys. Thread-safe (gthread workers)."""

    def __init__(self, max_entries: int = MAX_ENTRIES):
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple, tuple[str, float, tuple, float]] = OrderedDict()
        self._by_applicant: dict[tuple, set[tuple]] = {}
        self._lock = threading.Lock()
        # a fetch that raced a forget of its applicant, of its service's answers to everyone,
        # or a clear, is not kept: each bumps a generation (the applicant's, the service's, the epoch)
        self._epoch = 0
        self._generations: dict[tuple, int] = {}
        self._service_generations: dict[str, int] = {}

    def get(self, key: tuple):
        with self._lock:
            hit = self._entries.get(key)
            if hit is None:
                return None
            now = clock.now().timestamp()
            if not hit[3] <= now < hit[1]:        # expired, or fetched at a later time (a test clock)
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            blob = hit[0]
        return json.loads(blob)

    def generation(self, applicant: tuple, service: str) -> tuple[int, int, int]:
        """To pass to ``put`` with what is fetched of ``service`` after this."""
        with self._lock:
            return self._generation(applicant, service)

    def _generation(self, applicant: tuple, service: str) -> tuple[int, int, int]:
        return self._epoch, self._service_generations.get(service, 0), self._generations.get(applicant, 0)

    def put(self, key: tuple, applicant: tuple, answer, expires: float, generation: tuple[int, int, int]) -> None:
        """``key[0]`` is the service that answered."""
        try:
            blob = json.dumps(answer, ensure_ascii=False, separators=(",", ":"))
        except (TypeError, ValueError):        # not as it crossed the broker: served, not kept
            return
        with self._lock:
            if generation != self._generation(applicant, key[0]):          # changed while we asked
                return
            self._drop(key)
            self._entries[key] = (blob, expires, applicant, clock.now().timestamp())
            self._by_applicant.setdefault(applicant, set()).add(key)
            while len(self._entries) > self.max_entries:
                self._drop(next(iter(self._entries)))

    def _drop(self, key: tuple) -> None:
        hit = self._entries.pop(key, None)
        if hit is not None:
            keys = self._by_applicant.get(hit[2])
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_applicant[hit[2]]

    def forget(self, applicants, service: str | None = None, methods: frozenset | None = None) -> None:
        """The applicants' kept answers: all, or those of ``service`` (only ``methods``)."""
        with self._lock:
            if len(self._generations) > self.max_entries:      # (bounded: a clear says the same)
                self._clear()
            for applicant in applicants:
                applicant = tuple(applicant)
                self._generations[applicant] = self._generations.get(applicant, 0) + 1
                for key in list(self._by_applicant.get(applicant, ())):
                    if service is None or (key[0] == service and (methods is None or key[1] in methods)):
                        self._drop(key)

    def forget_everyone(self, service: str) -> None:
        """Every applicant's answers of ``service``, also those being fetched right now."""
        with self._lock:
            self._service_generations[service] = self._service_generations.get(service, 0) + 1
            for key in [k for k in self._entries if k[0] == service]:
                self._drop(key)

    def clear(self) -> None:
        with self._lock:
            self._clear()

    def _clear(self) -> None:
        self._epoch += 1
        self._generations.clear()
        self._entries.clear()
        self._by_applicant.clear()

    def __len__(self) -> int:
        return len(self._entries)


class Views:
    """What the gateway's RPC facade asks for a kept method (see ``KeptRpc``)."""

    def __init__(self, listener: EventListener | None, ttl: float | None = None):
        self.ttl = settings().view_cache_seconds if ttl is None else ttl
        self.cache = ViewCache()
        # (applicant, service) → until when (time.monotonic): a write of theirs went through this
        # process and that service's event has not arrived yet — ask, keep nothing
        self._pending: dict[tuple, float] = {}
        self._pending_lock = threading.Lock()
        self.listener = listener if self.ttl > 0 else None
        if self.listener is not None:
            for service, event in (("application", ApplicationViewersChanged), ("review", ReviewViewersChanged),
                                   ("payment", PaymentViewersChanged), ("documents", DocumentsViewersChanged)):
                self.listener.on(event.EVENT_TYPE, lambda data, service=service: self._changed(service, data),
                                 self.cache.clear)
            self.listener.on(ReferenceChanged.EVENT_TYPE, lambda data: self.cache.clear(), self.cache.clear)

    def _changed(self, service: str, data: dict) -> None:
        """A service's viewers_changed: what it answered of them goes (every service's event
        has one shape)."""
        event = ApplicationViewersChanged.model_validate(data)
        if event.everyone:
            self.cache.forget_everyone(service)
        else:
            self.cache.forget(event.applicants, service)
            self.cache.forget(event.forms, service, FORM_VIEWS.get(service, frozenset()))
        with self._pending_lock:               # the writes it reports are now known here
            if event.everyone:
                self._pending = {k: v for k, v in self._pending.items() if k[1] != service}
            for applicant in (*event.applicants, *event.forms):
                self._pending.pop((tuple(applicant), service), None)

    def wrote(self, principal, services) -> None:
        """An applicant's write went through this process to ``services``: until that service
        says what it changed (its event, within milliseconds) or a few seconds passed, its
        views of them are asked for, not served from what is kept — nor kept."""
        applicant = applicant_of(principal)
        if applicant is None:
            return
        until = time.monotonic() + WROTE_SECONDS
        with self._pending_lock:
            for service in set(services) & set(KEPT):
                self._pending[(applicant, service)] = until
        self.cache.forget([applicant], "-")    # a fetch started before the write is not kept

    def _written(self, applicant: tuple, service: str) -> bool:
        with self._pending_lock:
            until = self._pending.get((applicant, service))
            if until is not None and time.monotonic() > until:
                del self._pending[(applicant, service)]
                until = None
        return until is not None

    def call(self, fetch, service: str, method: str, args: tuple, kwargs: dict, fresh: bool):
        """``fetch()`` is the RPC; ``fresh``: the applicant wrote a moment ago (ask, keep)."""
        applicant = applicant_of(args[0] if args else None)
        if self.listener is None or applicant is None:
            return _strip(fetch())
        self.listener.ensure_started()
        if not self.listener.connected.is_set():
            return _strip(fetch())
        if self._pending and self._written(applicant, service):
            return _strip(fetch())
        who = args[0]
        key = (service, method, who.get("id"), bool(who.get("must_change_password")),
               json.dumps([args[1:], kwargs], sort_keys=True, default=str))
        if not fresh:
            hit = self.cache.get(key)
            if hit is not None:
                if isinstance(hit, dict) and REFUSED in hit:
                    refused = hit[REFUSED]
                    raise Conflict(refused["message"], code=refused["code"], field=refused["field"],
                                   details=refused["details"])
                return hit
        generation = self.cache.generation(applicant, service)
        try:
            answer = fetch()
        except Conflict as exc:
            if method in REFUSALS_KEPT.get(service, ()) and self.listener.connected.is_set():
                self.cache.put(key, applicant, {REFUSED: {"message": exc.message, "code": exc.code, "field": exc.field,
                                                          "details": exc.details}},
                               clock.now().timestamp() + lifetime(self.ttl), generation)
            raise
        fresh_until = answer.pop(FRESH, None) if isinstance(answer, dict) else None
        expires = clock.now().timestamp() + lifetime(self.ttl)
        if fresh_until:
            expires = min(expires, datetime.fromisoformat(fresh_until).timestamp())
        if self.listener.connected.is_set():
            self.cache.put(key, applicant, answer, expires, generation)
        return answer


def _strip(answer):
    if isinstance(answer, dict):
        answer.pop(FRESH, None)
    return answer


def wrote_recently(req) -> bool:
    values = req.get_cookie_values(WROTE_COOKIE)
    if not values:
        return False
    try:
        return 0 <= time.time() - int(values[0]) / 1000 <= WROTE_SECONDS
    except ValueError:
        return False


class KeptRpc:
    """``rpc.<service>.<method>(...)`` as gateway.rpc.Rpc answers it, the kept methods of
    ``KEPT`` through ``Views``; one per request (it knows whether the applicant just wrote)."""

    __slots__ = ("_rpc", "_views", "_fresh", "called")

    def __init__(self, rpc, views: Views, fresh: bool):
        self._rpc, self._views, self._fresh = rpc, views, fresh
        self.called: set[str] = set()      # the services asked anything not kept (a write's)

    @property
    def pool(self):
        return self._rpc.pool

    def __getattr__(self, service: str):
        return _KeptService(self, service)


class _KeptService:
    __slots__ = ("_outer", "_service")

    def __init__(self, outer: KeptRpc, service: str):
        self._outer, self._service = outer, service

    def __getattr__(self, method: str):
        outer, service = self._outer, self._service
        target = getattr(getattr(outer._rpc, service), method)
        if method not in KEPT.get(service, ()):
            outer.called.add(service)
            return target
        return lambda *args, **kwargs: outer._views.call(lambda: target(*args, **kwargs), service, method,
                                                         args, kwargs, outer._fresh)


def after_request(req, resp, views: Views) -> None:
    """After an applicant's write: their views go in this process at once, and the browser is
    told, for a few seconds, that every process must ask again."""
    if req.method in UNSAFE:
        who = getattr(req.context, "_principal", None)
        if applicant_of(who) is not None:
            views.wrote(who, getattr(req.context.rpc, "called", None) or KEPT)
            resp.set_cookie(WROTE_COOKIE, str(int(time.time() * 1000)), max_age=int(WROTE_SECONDS) + 2,
                            http_only=True, secure=settings().cookie_secure, same_site="Strict", path="/")
