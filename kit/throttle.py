"""Requests per source address and action in fixed ten-minute windows (R-I7's throttles, the
public certificate check's): one counter row per (source, action, window), bumped by one
upsert — concurrent requests of one source never lose a count nor fail on a duplicate key.
A refused request counts too."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kit.errors import TooManyRequests

WINDOW = timedelta(minutes=10)


def add_counter_table(metadata: sa.MetaData) -> sa.Table:
    from kit.db import UtcDateTime

    return sa.Table(
        "source_counters", metadata,
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("action", sa.String(20), primary_key=True),
        sa.Column("window_start", UtcDateTime, primary_key=True, index=True),
        sa.Column("count", sa.Integer, nullable=False, default=0))


def check_source(source: str | None) -> str:
    """The source address the gateway saw; requests from inside have none."""
    value = str(source or "").strip()[:64]
    return value or "internal"


def window_of(now: datetime) -> datetime:
    """The start of the fixed ten-minute window ``now`` falls in."""
    seconds = int(WINDOW.total_seconds())
    return datetime.fromtimestamp(int(now.timestamp()) // seconds * seconds, tz=now.tzinfo)


def hit(session: Session, table: sa.Table, source: str | None, action: str, now: datetime) -> int:
    """Counts one request and returns how many ``source`` made for ``action`` in this window."""
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table).values(
        source=check_source(source), action=action, window_start=window_of(now), count=1)
    stmt = insert.on_conflict_do_update(index_elements=["source", "action", "window_start"],
                                        set_={"count": table.c.count + 1}).returning(table.c.count)
    return session.execute(stmt).scalar_one()


def require_under(count: int, limit: int, what: str, now: datetime) -> None:
    """``count`` requests (this one included) in the current window: over ``limit`` is a 429
    saying when to try again."""
    if count > limit:
        wait = int((window_of(now) + WINDOW - now).total_seconds()) + 1
        raise TooManyRequests(f"当前网络{what}过于频繁，请{(wait + 59) // 60}分钟后再试",
                              code="source_throttled", details={"retry_after": wait})


def forget(session: Session, table: sa.Table, now: datetime) -> None:
    session.execute(sa.delete(table).where(table.c.window_start < now - timedelta(hours=1)))
