"""The kit's transaction, outbox and inbox semantics on a real (SQLite) database."""
from __future__ import annotations

import threading
import time
import types
from typing import ClassVar

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from kit import logs
from kit.contracts import Event
from kit.db import Database, Db, add_messaging_tables, make_engine


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


# --- the outbox relay ------------------------------------------------------------------------
class Recorder:
    """The relay's publisher: what it was handed, in order; ``fail_at``: the publish (1-based)
    that raises, as a broker going away mid-batch."""

    def __init__(self, fail_at: int | None = None):
        self.sent, self.fail_at = [], fail_at

    def publish(self, envelope, exchange=None, routing_key=None):
        if self.fail_at is not None and len(self.sent) + 1 == self.fail_at:
            raise ConnectionError("broker away")
        self.sent.append((routing_key, envelope["data"]["name"]))


@pytest.fixture
def relay(db):
    provider = Database(db._p.metadata)
    provider.engine, provider.exchange = db.engine, None
    with db.tx() as s:
        for name in "abcde":
            db.emit(s, ThingMade(name=name))
    return provider


def unpublished(db) -> int:
    outbox = db._p.metadata.tables["outbox"]
    with db.engine.connect() as c:
        return c.scalar(sa.select(sa.func.count()).select_from(outbox).where(outbox.c.published_at.is_(None)))


def test_the_relay_publishes_in_order_and_marks_the_batch_published(db, relay):
    relay.publisher = Recorder()
    assert relay.flush_outbox(batch=3) == 3 and unpublished(db) == 2
    assert relay.flush_outbox(batch=3) == 2 and unpublished(db) == 0
    assert relay.flush_outbox(batch=3) == 0
    assert relay.publisher.sent == [("test.thing_made.v1", n) for n in "abcde"]   # each once, in order


def test_a_publish_failing_mid_batch_marks_none_of_it_and_all_go_again(db, relay):
    relay.publisher = Recorder(fail_at=3)
    with pytest.raises(ConnectionError):
        relay.flush_outbox()
    assert unpublished(db) == 5                       # a and b were sent, but not marked
    relay.publisher.fail_at = None
    assert relay.flush_outbox() == 5 and unpublished(db) == 0
    assert [n for _, n in relay.publisher.sent] == ["a", "b", "a", "b", "c", "d", "e"]   # at least once


def test_the_relay_reads_again_only_after_a_full_batch(relay, monkeypatch):
    """A batch that was not full held everything committed before it was read; what is
    committed later wakes the relay itself (Db.tx): no second, empty read per wake."""
    answers, calls = iter([relay.relay_batch, 2]), []

    def flush(batch):
        calls.append(batch)
        return next(answers, 0)

    monkeypatch.setattr(relay, "flush_outbox", flush)
    monkeypatch.setattr(relay, "poll_seconds", 30)
    relay.container = types.SimpleNamespace(service_name="test")
    relay._running = True
    thread = threading.Thread(target=relay._relay_loop, daemon=True)
    thread.start()
    relay.wake_relay()
    until = time.monotonic() + 5
    while len(calls) < 2 and time.monotonic() < until:
        time.sleep(0.01)
    time.sleep(0.2)                                   # time for a third read, were there one
    relay.stop()
    thread.join(5)
    assert calls == [relay.relay_batch, relay.relay_batch]
