"""Typed contracts between services (DESIGN: "Files, events, adapters, jobs").

A producer declares each event it announces as a model in its own ``schemas.py``:

    class FeePaid(Event):
        EVENT_TYPE: ClassVar[str] = "payment.fee_paid.v1"
        EXAMPLE: ClassVar[dict] = {...}      # held against every consumer by a contract test
        application_id: str
        ...

and emits it with ``self.db.emit(session, FeePaid(...))``. A consumer declares what it reads of
someone else's event as an ``EventView`` in its own ``schemas.py`` (services never import each
other) and handles it with ``@handles(SubmittedView)``: the handler receives the parsed view;
an event that does not parse is retried, then parked for an operator, never half-applied.

Payloads carry data, never presentation: no URLs, no labels.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

PRODUCED: dict[str, type[Event]] = {}
VIEWS: list[type[EventView]] = []


class Event(BaseModel):
    """An event payload as its producer announces it (strict: unknown fields are a bug)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    EVENT_TYPE: ClassVar[str] = ""
    EXAMPLE: ClassVar[dict[str, Any]] = {}

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if cls.EVENT_TYPE:
            PRODUCED[cls.EVENT_TYPE] = cls

    def data(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class EventView(BaseModel):
    """What a consumer reads of another service's event: the fields it needs; the rest of the
    payload is ignored, so a producer may add fields within a version."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    EVENT_TYPE: ClassVar[str] = ""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if cls.EVENT_TYPE:
            VIEWS.append(cls)


class ViewersChanged(Event):
    """What an applicant's views (their steps, form, check, review) are read from changed in
    the producer, in the transaction that changed it (issue 12): the gateways that keep those
    views drop them. ``applicants``: (year, ID number) of each; ``forms``: of each whose form
    (and its check) alone changed; ``everyone``: something every applicant's view is read from
    (the calendar, the rules, reference data) or too many to list. Each producer subclasses it with its own ``EVENT_TYPE``
    (``<service>.viewers_changed.v1``); kit.db announces it (``track_viewers``)."""

    applicants: list[tuple[int, str]] = []
    forms: list[tuple[int, str]] = []
    everyone: bool = False


class ActionAudited(Event):
    """An administrator's action recorded by the service it was done in, for identity's one
    audit log (R-I11): who, what, when, before/after. Each producer subclasses it with its
    own ``EVENT_TYPE`` (``<service>.action_audited.v1``)."""

    at: datetime
    actor: str
    actor_role: str | None = None
    actor_scope: str | None = None
    action: str
    target: str | None = None
    before: Any = None
    after: Any = None


class ActionAuditedView(EventView):
    """What identity reads of every ``<service>.action_audited.v1`` (its audit log)."""

    at: datetime
    actor: str
    actor_role: str | None = None
    actor_scope: str | None = None
    action: str
    target: str | None = None
    before: Any = None
    after: Any = None


class WindowView(BaseModel):
    start: str
    end: str


class YearUpdatedView(EventView):
    """What every service keeps of identity's calendar (``identity.year_updated.v1``, R-Y3):
    each consumer subclasses it in its own schemas with the event type."""

    year: int
    current: bool
    windows: dict[str, WindowView | None]
    switches: dict[str, bool]
    updated_at: str
    version: int = 0            # identity counts every change of the year: the order of the copies

    def calendar(self) -> dict[str, Any]:
        """The copy a service keeps (kit.windows reads it)."""
        return {"windows": {k: (w.model_dump() if w else None) for k, w in self.windows.items()},
                "switches": dict(self.switches), "updated_at": self.updated_at, "current": self.current,
                "version": self.version}


AUDIT_EXAMPLE: dict[str, Any] = {
    "at": "2026-03-01T09:30:00+08:00", "actor": "admin", "actor_role": "province", "actor_scope": None,
    "action": "contacts.update", "target": "410102", "before": {"phone": "0371-1"}, "after": {"phone": "0371-2"}}
