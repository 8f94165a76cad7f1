"""Review's tables: cases, their steps (the history), chains, reviewers' materials."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kit.db import BlobColumns, JsonType, UtcDateTime, add_messaging_tables
from kit.files import add_file_tables


class Base(DeclarativeBase):
    pass


add_messaging_tables(Base.metadata)
add_file_tables(Base.metadata)


class ChainConfig(Base):
    """A city's review chain when it differs from the default (R-R1)."""

    __tablename__ = "chains"
    city_code: Mapped[str] = mapped_column(sa.String(6), primary_key=True)
    levels: Mapped[list] = mapped_column(JsonType)


class Case(Base):
    """One application under review; its rounds share the case, its steps keep the history."""

    __tablename__ = "cases"
    __table_args__ = (
        # the queue: a level's pending cases in its scope, oldest first, paged in SQL
        # (ending with the queue's order, submitted_at then application_id: a page is read in
        # index order, never sorted)
        sa.Index("ix_cases_queue_city", "city_code", "status", "current_level", "submitted_at", "application_id"),
        sa.Index("ix_cases_queue_supervisor", "supervisor_id", "status", "current_level", "submitted_at",
                 "application_id"),
        sa.Index("ix_cases_queue_county", "county_code", "status", "submitted_at", "application_id"),
        sa.Index("ix_cases_queue_province", "status", "current_level", "submitted_at", "application_id"),
        # "all" (every status but withdrawn) in the queue's order, status included: a deep
        # page is found in the index alone (a deferred join then reads its 20 rows)
        sa.Index("ix_cases_queue_all", "submitted_at", "application_id", postgresql_include=["status"]),
        sa.Index("ix_cases_queue_city_all", "city_code", "submitted_at", "application_id",
                 postgresql_include=["status"]),
    )
    application_id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    year: Mapped[int] = mapped_column(sa.Integer, index=True)
    id_number: Mapped[str] = mapped_column(sa.String(18), index=True)
    name: Mapped[str] = mapped_column(sa.String(40))
    gender: Mapped[str] = mapped_column(sa.String(1))
    target_grade: Mapped[int] = mapped_column(sa.Integer, index=True)
    target_trade: Mapped[str | None] = mapped_column(sa.String(20), nullable=True, index=True)
    target_trade_name: Mapped[str | None] = mapped_column(sa.String(60), nullable=True)
    route: Mapped[str | None] = mapped_column(sa.String(20), nullable=True)
    unit_id: Mapped[str | None] = mapped_column(sa.String(40), nullable=True, index=True)
    unit_name: Mapped[str | None] = mapped_column(sa.String(100), nullable=True)
    supervisor_id: Mapped[str | None] = mapped_column(sa.String(40), nullable=True, index=True)
    county_code: Mapped[str | None] = mapped_column(sa.String(6), nullable=True, index=True)
    city_code: Mapped[str] = mapped_column(sa.String(6), index=True)
    chain: Mapped[list] = mapped_column(JsonType)
    level_index: Mapped[int] = mapped_column(sa.Integer, default=0)
    # chain[level_index] while in review, else None: the level the case waits for (indexed)
    current_level: Mapped[str | None] = mapped_column(sa.String(20), nullable=True)
    status: Mapped[str] = mapped_column(sa.String(20), index=True)
    rejected_index: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    round: Mapped[int] = mapped_column(sa.Integer)
    snapshot: Mapped[dict] = mapped_column(JsonType)
    materials: Mapped[dict] = mapped_column(JsonType, default=dict)
    submitted_at = mapped_column(UtcDateTime, nullable=False, index=True)
    finally_approved_at = mapped_column(UtcDateTime, nullable=True)
    updated_at = mapped_column(UtcDateTime, nullable=False)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)


class Step(Base):
    """The history: each submission and each decision, with who, scope, reason and time.
    It is also the audit of every reviewer's decision."""

    __tablename__ = "steps"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    application_id: Mapped[str] = mapped_column(sa.ForeignKey("cases.application_id"), index=True)
    round: Mapped[int] = mapped_column(sa.Integer)
    level: Mapped[str] = mapped_column(sa.String(20))        # applicant | supervisor | city | province
    decision: Mapped[str] = mapped_column(sa.String(20))     # submitted | pass | return | reject | reopen
    actor: Mapped[str] = mapped_column(sa.String(40))        # user name (the applicant: masked ID)
    actor_name: Mapped[str] = mapped_column(sa.String(40))
    actor_role: Mapped[str | None] = mapped_column(sa.String(20), nullable=True)
    actor_scope: Mapped[str | None] = mapped_column(sa.String(40), nullable=True)
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    at = mapped_column(UtcDateTime, nullable=False)


class Blob(BlobColumns, Base):
    """A reviewer's uploaded material: its metadata; the bytes in ``blob_chunks`` (kit.files)."""

    __tablename__ = "blobs"


class YearCopy(Base):
    """This service's copy of identity's calendar (identity.year_updated.v1): reviewers
    decide inside the review window."""

    __tablename__ = "year_copies"
    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    calendar: Mapped[dict] = mapped_column(JsonType)


# --- the queue's totals without counting the table (issue 12) --------------------------------
# A queue page says how many cases match; counting 100,000 cases for every page grows with the
# table. On PostgreSQL a row trigger on ``cases`` writes +1/-1 into ``queue_count_deltas`` for
# each change of a case's bucket (scope, status, level, grade) — an insert, never an update,
# so concurrent decisions never wait on or deadlock over a shared counter row — and the
# service's timer folds the deltas into ``queue_counts`` (one statement: DELETE … RETURNING
# feeding an upsert, so a delta is counted exactly once). A total is the sum over both tables
# for the buckets that match: exact in any snapshot. Empty strings stand for "none" in keys.
QUEUE_KEY = ("city_code", "county_code", "supervisor_id", "status", "current_level", "target_grade")


class QueueCount(Base):
    __tablename__ = "queue_counts"
    city_code: Mapped[str] = mapped_column(sa.String(6), primary_key=True)
    county_code: Mapped[str] = mapped_column(sa.String(6), primary_key=True)
    supervisor_id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    current_level: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    target_grade: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(sa.BigInteger)


class QueueCountDelta(Base):
    __tablename__ = "queue_count_deltas"
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    city_code: Mapped[str] = mapped_column(sa.String(6))
    county_code: Mapped[str] = mapped_column(sa.String(6))
    supervisor_id: Mapped[str] = mapped_column(sa.String(40))
    status: Mapped[str] = mapped_column(sa.String(20))
    current_level: Mapped[str] = mapped_column(sa.String(20))
    target_grade: Mapped[int] = mapped_column(sa.Integer)
    delta: Mapped[int] = mapped_column(sa.Integer)


def _bucket(row: str) -> str:
    return (f"{row}.city_code, coalesce({row}.county_code, ''), coalesce({row}.supervisor_id, ''), "
            f"{row}.status, coalesce({row}.current_level, ''), {row}.target_grade")


_COLUMNS = ", ".join(QUEUE_KEY)
QUEUE_COUNT_TRIGGER = [f"""
CREATE OR REPLACE FUNCTION review_queue_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND ({_bucket("OLD")}) IS NOT DISTINCT FROM ({_bucket("NEW")}) THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO queue_count_deltas ({_COLUMNS}, delta) VALUES ({_bucket("OLD")}, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO queue_count_deltas ({_COLUMNS}, delta) VALUES ({_bucket("NEW")}, 1);
    END IF;
    RETURN NULL;
END $$""",  # noqa: S608 - made of this module's constant column names, no input
    "DROP TRIGGER IF EXISTS cases_queue_count ON cases",
    "CREATE TRIGGER cases_queue_count AFTER INSERT OR UPDATE OR DELETE ON cases "
    "FOR EACH ROW EXECUTE FUNCTION review_queue_count()"]

# the deltas so far, folded into the totals in one statement (sorted: upserts lock in one order);
# it answers how many deltas it folded
FOLD_QUEUE_COUNTS = f"""
WITH folded AS (DELETE FROM queue_count_deltas RETURNING {_COLUMNS}, delta),
     summed AS (SELECT {_COLUMNS}, sum(delta) AS n FROM folded GROUP BY {_COLUMNS}),
     written AS (INSERT INTO queue_counts AS c ({_COLUMNS}, n)
                 SELECT {_COLUMNS}, n FROM summed ORDER BY {_COLUMNS}
                 ON CONFLICT ({_COLUMNS}) DO UPDATE SET n = c.n + excluded.n RETURNING 1)
SELECT count(*) FROM folded"""  # noqa: S608 - constants only

for _statement in QUEUE_COUNT_TRIGGER:      # with every table there (create_all, the service tests)
    sa.event.listen(Base.metadata, "after_create",
                    sa.DDL(_statement.replace("%", "%%")).execute_if(dialect="postgresql"))
