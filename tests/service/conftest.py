"""Service tests: one service's entrypoints and handlers called on a worker built by nameko's
``worker_factory``, over a real PostgreSQL database of its own, with no broker.

- Each test module names its service (``SERVICE = "review"``) and gets a fresh database,
  created, migrated with the service's own Alembic history and dropped again; every test
  starts on empty tables.
- The worker's ``db`` is a real ``kit.db.Db`` without a publisher: ``emit`` writes the outbox
  table only, so a test reads the outbox to see what the service announced.
- ``clock`` freezes ``kit.clock.now`` in this process (the windows are checked against it).

nameko's pytest plugin stays off (``-p no:pytest_nameko``): ``worker_factory`` needs no
eventlet monkey-patching, and the rest of the session must not be patched.
"""
from __future__ import annotations

import importlib
import uuid
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from builders import NOW
from harness import PG_HOST, PG_PORT, _pg, port_open

import kit.clock
from kit import migrate
from kit.db import Database, Db


@pytest.fixture(scope="module")
def database(request) -> Database:
    """The module's service database, migrated: a ``kit.db.Database`` provider set up the way
    ``Database.setup`` does it, without a publisher (no broker here)."""
    service = request.module.SERVICE
    if not port_open(PG_HOST, PG_PORT):
        pytest.fail("PostgreSQL is not answering on 127.0.0.1:5432: the service tests need it", pytrace=False)
    name = f"gk_svc_{uuid.uuid4().hex[:8]}_{service}"
    url = f"postgresql+psycopg2://postgres@{PG_HOST}:{PG_PORT}/{name}"
    _pg(f'CREATE DATABASE "{name}"')
    provider = None
    try:
        migrate.upgrade(service, url)
        metadata = importlib.import_module(f"services.{service}.models").Base.metadata
        provider = Database(metadata, viewers_event=_service_class(service).db.viewers_event)   # as declared
        provider.connect(url)
        yield provider
    finally:
        if provider is not None and provider.engine is not None:
            provider.engine.dispose()
        _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _service_class(service: str):
    module = importlib.import_module(f"services.{service}.service")
    return next(v for v in vars(module).values() if isinstance(v, type) and getattr(v, "name", None) == service)


@pytest.fixture
def db(database) -> Db:
    """What the worker gets as ``self.db``, on empty tables."""
    names = ", ".join(f'"{t.name}"' for t in database.metadata.sorted_tables)
    with database.engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    return Db(database)


class Clock:
    """The services' clock in this process, frozen at ``at`` until moved."""

    def __init__(self, at: datetime):
        self.at = at

    def __call__(self) -> datetime:
        return self.at.astimezone(kit.clock.UTC)

    def set(self, at: datetime) -> None:
        self.at = at

    def advance(self, **delta) -> None:
        self.at = self.at + timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    c = Clock(NOW)
    monkeypatch.setattr(kit.clock, "now", c)
    return c


@pytest.fixture(autouse=True)
def _seals_made_at_import_stay_valid(monkeypatch):
    """builders.py seals its principals once, when it is imported; a long run gets to a test
    more than the seal's five minutes later. The seal's expiry is kit.access's own test
    (tests/unit/test_access.py); here it must not decide a service test."""
    import kit.access

    monkeypatch.setattr(kit.access, "SEAL_MAX_AGE", 24 * 3600)
