"""kit.db on a real PostgreSQL (issue 12): the hot paths' reads cost one round trip, and the
pool pings only a connection that has rested — a dead one is replaced before anyone uses it."""
from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa
from harness import PG_HOST, PG_PORT, _pg

from kit import db as kit_db
from kit.db import Database, Db

URL = f"postgresql+psycopg2://postgres@{PG_HOST}:{PG_PORT}/"


@pytest.fixture
def provider():
    name = f"gk_kitdb_{uuid.uuid4().hex[:8]}"
    _pg(f'CREATE DATABASE "{name}"')
    p = Database(sa.MetaData())
    p.connect(URL + name)
    try:
        yield p
    finally:
        p.engine.dispose()
        _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def backend_pid(p: Database) -> int:
    with Db(p).read() as s:
        return s.scalar(sa.text("SELECT pg_backend_pid()"))


def test_a_read_runs_outside_any_transaction(provider):
    """Db.read: no BEGIN and no COMMIT around the statement (autocommit), where tx has both."""
    with Db(provider).read() as s:
        assert s.scalar(sa.text("SELECT now() = statement_timestamp()")) is True   # no open transaction
    with Db(provider).tx() as s:
        s.execute(sa.text("SELECT pg_sleep(0.01)"))
        assert s.scalar(sa.text("SELECT now() = statement_timestamp()")) is False  # inside one


def test_a_read_gives_its_connection_back_as_it_found_it(provider):
    """A read switches psycopg2's autocommit on and off again: the next transaction on the
    same connection is one, and rolls back like one."""
    first = backend_pid(provider)
    with pytest.raises(RuntimeError), Db(provider).tx() as s:
        assert s.scalar(sa.text("SELECT pg_backend_pid()")) == first              # the same connection
        s.execute(sa.text("CREATE TABLE kept_or_not (n int)"))
        s.execute(sa.text("SELECT pg_sleep(0.01)"))
        assert s.scalar(sa.text("SELECT now() = statement_timestamp()")) is False
        raise RuntimeError("the change is abandoned")
    with Db(provider).read() as s:
        assert s.scalar(sa.text("SELECT to_regclass('kept_or_not') IS NULL")) is True


def test_a_rested_connection_that_died_is_replaced_before_use(provider, monkeypatch):
    first = backend_pid(provider)
    _pg(f"SELECT pg_terminate_backend({first})")
    monkeypatch.setattr(kit_db, "IDLE_PING_SECONDS", 0.0)       # the connection has rested
    assert backend_pid(provider) != first                          # pinged, found dead, replaced


def test_a_read_after_the_rested_connection_was_pinged(provider, monkeypatch):
    """The ping runs in psycopg2's default mode, which opens a transaction: it leaves none
    open, or the read that checked the connection out could not switch to autocommit (a rush
    that paused for five seconds answered 500 here)."""
    from psycopg2.extensions import TRANSACTION_STATUS_IDLE

    monkeypatch.setattr(kit_db, "IDLE_PING_SECONDS", 0.0)        # every checkout pings
    first = backend_pid(provider)
    for _ in range(3):
        assert backend_pid(provider) == first                     # pinged, kept, read
    with provider.engine.connect() as conn:
        assert conn.connection.dbapi_connection.get_transaction_status() == TRANSACTION_STATUS_IDLE


def test_a_read_ends_a_transaction_it_is_handed(provider):
    """Whatever else leaves a checked-out connection inside a transaction (here a checkout
    listener), a read still runs, outside any transaction."""
    def opens_one(dbapi_conn, _record, _proxy):
        dbapi_conn.cursor().execute("SELECT 1")

    sa.event.listen(provider.engine, "checkout", opens_one)
    try:
        test_a_read_runs_outside_any_transaction(provider)
    finally:
        sa.event.remove(provider.engine, "checkout", opens_one)


def test_a_connection_in_use_is_not_pinged(provider, monkeypatch):
    """During a rush (returned to the pool a moment ago) no ping precedes the statement: a
    server gone meanwhile fails that one statement, invalidates the pool, and the next read
    reconnects."""
    monkeypatch.setattr(kit_db, "IDLE_PING_SECONDS", 3600.0)
    first = backend_pid(provider)
    _pg(f"SELECT pg_terminate_backend({first})")
    with pytest.raises(sa.exc.DBAPIError) as failed:
        backend_pid(provider)
    assert failed.value.connection_invalidated
    assert backend_pid(provider) != first


def test_the_pool_keeps_a_connection_per_worker(provider):
    """A pool smaller than the workers would open and close a connection per request."""
    assert provider.engine.pool.size() == int(os.environ.get("GONGKAO_MAX_WORKERS") or 10) + 2
