"""The kit's transaction, outbox and inbox semantics on a real (SQLite) database."""
from __future__ import annotations

import types
from typing import ClassVar

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from kit import logs
from kit.contracts import Event
from kit.db import Db, add_messaging_tables, make_engine


@pytest.fixture
def db(tmp_path):
    metadata = sa.MetaData()
    add_messaging_tables(metadata)
    things = sa.Table("things", metadata, sa.Column("id", sa.Integer, primary_key=True),
                      sa.Column("name", sa.String(20)))
    engine = make_engine(f"sqlite:///{tmp_path / 't.db'}")
    metadata.create_all(engine)
    woken = []
    provider = types.SimpleNamespace(metadata=metadata, engine=engine,
                                     sessionmaker=sessionmaker(engine, expire_on_commit=False),
                                     wake_relay=lambda: woken.append(1))
    d = Db(provider)
    d.things, d.woken = things, woken
    return d


def count(db, table):
    with db.engine.connect() as c:
        return c.scalar(sa.select(sa.func.count()).select_from(db._p.metadata.tables[table]))


class ThingMade(Event):
    EVENT_TYPE: ClassVar[str] = "test.thing_made.v1"
    name: str


def test_event_is_written_with_the_change_or_not_at_all(db):
    with db.tx() as s:
        s.execute(db.things.insert().values(name="a"))
        db.emit(s, ThingMade(name="a"))
    assert count(db, "things") == 1 and count(db, "outbox") == 1 and db.woken == [1]
    with pytest.raises(RuntimeError), db.tx() as s:
        s.execute(db.things.insert().values(name="b"))
        db.emit(s, ThingMade(name="b"))
        raise RuntimeError("boom")
    assert count(db, "things") == 1 and count(db, "outbox") == 1 and db.woken == [1]
    with db.engine.connect() as c:
        env = c.execute(sa.select(db._p.metadata.tables["outbox"].c.envelope)).scalar_one()
    assert set(env) == {"event_id", "event_type", "occurred_at", "request_id", "data"} and env["data"] == {"name": "a"}
    assert env["request_id"] is None                   # no request behind this work


def test_an_event_carries_the_request_id_of_the_work_that_emitted_it(db):
    with logs.bound("req-42.a_b"), db.tx() as s:
        db.emit(s, ThingMade(name="a"))
        db.emit_many(s, [ThingMade(name="b")])
    with db.engine.connect() as c:
        envs = c.execute(sa.select(db._p.metadata.tables["outbox"].c.envelope)).scalars().all()
    assert [e["request_id"] for e in envs] == ["req-42.a_b", "req-42.a_b"]
    assert logs.request_id() is None                    # unbound again after the block


def test_emit_takes_only_an_event_model(db):
    with pytest.raises(TypeError), db.tx() as s:
        db.emit(s, {"name": "a"})
    assert count(db, "outbox") == 0


def test_an_event_is_applied_once(db):
    env = {"event_id": "e-1", "event_type": "x.y.v1", "data": {"name": "c"}}

    def apply(s, data):
        s.execute(db.things.insert().values(name=data["name"]))

    assert db.apply_event("h", env, apply) == "applied"
    assert db.apply_event("h", env, apply) == "duplicate"
    assert db.apply_event("other_handler", env, apply) == "applied"   # each handler has its own inbox
    assert count(db, "things") == 2


def test_a_failing_handler_is_retried_then_parked_and_changes_nothing(db):
    calls = []

    def apply(s, data):
        calls.append(1)
        s.execute(db.things.insert().values(name="half"))
        raise ValueError("bad data")

    env = {"event_id": "e-2", "event_type": "x.y.v1", "data": {}}
    assert db.apply_event("h", env, apply, attempts=3) == "parked"
    assert len(calls) == 3 and count(db, "things") == 0 and count(db, "inbox") == 0
    with db.engine.connect() as c:
        row = c.execute(sa.select(db._p.metadata.tables["parked_events"])).one()
    assert row.handler == "h" and row.attempts == 3 and "bad data" in row.error


def test_a_handler_that_succeeds_on_retry_is_applied(db):
    calls = []

    def apply(s, data):
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("database blip")
        s.execute(db.things.insert().values(name="ok"))

    assert db.apply_event("h", {"event_id": "e-3", "data": {}}, apply) == "applied"
    assert count(db, "things") == 1 and count(db, "parked_events") == 0
