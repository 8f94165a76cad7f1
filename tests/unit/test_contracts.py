"""Typed contracts between services (issue 7, DESIGN "Files, events, adapters, jobs"): every
event has one producer model with an example, every consumer's view of it parses that
example, and payloads carry data only — no URLs, no labels."""
from __future__ import annotations

import importlib
import inspect
import json
import re

import pytest

from kit.config import SERVICES
from kit.contracts import PRODUCED, VIEWS

for _name in SERVICES:
    importlib.import_module(f"services.{_name}.schemas")
    importlib.import_module(f"services.{_name}.service")

EVENT_NAME = re.compile(r"^(?P<service>[a-z]+)\.[a-z]+(_[a-z]+)*\.v\d+$")
PRODUCERS = {t: m for t, m in PRODUCED.items() if m.__module__.startswith("services.")}


def handlers() -> list[tuple[str, str, type]]:
    """(service, handler, view) for every @handles entrypoint of every service."""
    found = []
    for name in SERVICES:
        module = importlib.import_module(f"services.{name}.service")
        for cls in vars(module).values():
            if inspect.isclass(cls) and getattr(cls, "name", None) == name and cls.__module__ == module.__name__:
                for attr, fn in inspect.getmembers(cls, callable):
                    if getattr(fn, "event_view", None) is not None:
                        found.append((name, attr, fn.event_view))
    return found


HANDLERS = handlers()


def test_there_are_events_and_handlers_to_check():
    assert {"identity.year_updated.v1", "application.submitted.v1", "review.finally_approved.v1",
            "payment.fees_set.v1"} <= set(PRODUCERS)
    assert len(HANDLERS) >= 15


@pytest.mark.parametrize("event_type", sorted(PRODUCERS))
def test_each_event_is_named_and_owned_by_its_producer(event_type):
    model = PRODUCERS[event_type]
    match = EVENT_NAME.match(event_type)
    assert match, f"{event_type} is not <service>.<what happened>.v<N>"
    assert model.__module__ == f"services.{match['service']}.schemas"


@pytest.mark.parametrize("event_type", sorted(PRODUCERS))
def test_each_producer_example_is_valid_and_survives_the_wire(event_type):
    model = PRODUCERS[event_type]
    assert model.EXAMPLE, f"{model.__name__} has no EXAMPLE"
    event = model.model_validate(model.EXAMPLE)
    assert model.model_validate(json.loads(json.dumps(event.data()))) == event


def _walk(value, path="data"):
    if isinstance(value, dict):
        for key, sub in value.items():
            yield f"{path}.{key}", key, sub
            yield from _walk(sub, f"{path}.{key}")
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            yield from _walk(sub, f"{path}[{i}]")


@pytest.mark.parametrize("event_type", sorted(PRODUCERS))
def test_payloads_carry_data_not_presentation(event_type):
    model = PRODUCERS[event_type]
    fields = set(model.model_fields)
    assert not fields & {"url", "urls", "label", "labels", "title", "status_name", "level_name"}
    for path, key, value in _walk(model(**model.EXAMPLE).data()):
        assert "url" not in key.lower(), path
        assert not (isinstance(value, str) and (value.startswith("/api/") or value.startswith("http"))), path


@pytest.mark.parametrize(("service", "handler", "view"), HANDLERS, ids=[f"{s}.{h}" for s, h, _ in HANDLERS])
def test_each_consumer_reads_the_producers_example(service, handler, view):
    producer = PRODUCERS.get(view.EVENT_TYPE)
    assert producer is not None, f"{service}.{handler} handles {view.EVENT_TYPE}, which nobody produces"
    assert not view.EVENT_TYPE.startswith(f"{service}."), "a service does not handle its own events"
    wire = json.loads(json.dumps(producer.model_validate(producer.EXAMPLE).data()))
    parsed = view.model_validate(wire)
    for field in view.model_fields:   # what the consumer reads is what the producer sent
        assert field in wire, f"{view.__name__}.{field} is not in {producer.__name__}"
        assert parsed.model_dump(mode="json")[field] == wire[field] or field in ("at", "submitted_at",
                                                                                   "updated_at")


def test_every_view_is_handled_and_every_handler_uses_a_view_module_of_its_own_service():
    handled = {view for _, _, view in HANDLERS}
    views = {v for v in VIEWS if v.__module__.startswith("services.")}
    assert views == handled, "a consumer model that no handler uses is dead"
    for service, _, view in HANDLERS:
        assert view.__module__ == f"services.{service}.schemas"


def test_every_audited_action_has_a_chinese_name():
    """Issue 14: 操作日志 and its Excel name every administrator action in Chinese: each action a
    service records (``self.db.audit(…)``, identity's ``self._audit(…)``) is in
    kit.vocabulary.AUDIT_ACTIONS."""
    from pathlib import Path

    from kit.vocabulary import AUDIT_ACTIONS

    recorded = set()
    for path in Path(__file__).resolve().parents[2].joinpath("services").rglob("*.py"):
        recorded |= set(re.findall(r"\b_?audit\(\s*s,\s*(?:[A-Za-z_]+,\s*)*\"([a-z_]+\.[a-z_]+)\"",
                                   path.read_text(encoding="utf-8")))
    assert len(recorded) >= 20
    assert recorded - set(AUDIT_ACTIONS) == set()
