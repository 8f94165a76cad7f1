"""The review queue's SQL, built once per shape of query (issue 12).

A queue page is the administrators' request of the rush. Building its statements with
SQLAlchemy, and computing their cache keys, cost the review process about as much as running
them. What they say depends only on which filters are set and on the kind of the caller's
scope, never on the values compared: so each shape is built once, with the values as bind
parameters, and kept (a few hundred shapes at most). The same statement object on every call
is also what lets SQLAlchemy reuse its compiled form and result metadata as they are.
PostgreSQL still plans each statement with its values (psycopg2 sends them inline).
"""
from __future__ import annotations

import functools
from datetime import datetime, time
from typing import NamedTuple

import sqlalchemy as sa

from kit import access, clock
from kit.access import Principal

from . import domain
from .models import Case, QueueCount, QueueCountDelta
from .schemas import QueueFilters, QueueQuery

# what a row of the queue reads of a case (what QueueItem shows and acting_level needs)
ROW = (Case.application_id, Case.name, Case.id_number, Case.unit_id, Case.unit_name, Case.target_grade,
       Case.target_trade, Case.current_level, Case.status, Case.round, Case.submitted_at, Case.version,
       Case.chain, Case.city_code, Case.supervisor_id)


class Shape(NamedTuple):
    """What of a query decides its SQL: the kind of scope, the status asked for, and which of
    the other filters are set."""

    scope: str              # access.scope_kind
    status: str             # a QueueQuery status
    no_level: bool          # "pending" for an administrator who is no level of a chain
    grade: bool
    trade: bool
    unit: bool
    since: bool
    until: bool

    @property
    def bucketed(self) -> bool:
        """Counted from the trigger's totals (they keep scope, status, level and grade only)."""
        return not (self.trade or self.unit or self.since or self.until)


def shape(who: Principal, f: QueueQuery) -> tuple[Shape, dict]:
    """The query's shape and the values of its bind parameters."""
    level = who.role if who.role in domain.LEVELS else None
    params = {"scope": who.scope_code, "level": level, "status": f.status, "grade": f.grade,
              "trade": f.trade, "unit": f.unit_id,
              # dates are Beijing dates, whole days
              "since": datetime.combine(f.submitted_from, time.min, clock.CST) if f.submitted_from else None,
              "until": datetime.combine(f.submitted_to, time.max, clock.CST) if f.submitted_to else None}
    if isinstance(f, QueueFilters):
        params |= {"offset": (f.page - 1) * f.page_size, "limit": f.page_size}
    return Shape(access.scope_kind(who), f.status, f.status == "pending" and level is None, f.grade is not None,
                 bool(f.trade), bool(f.unit_id), f.submitted_from is not None, f.submitted_to is not None), params


def matching(sh: Shape, t) -> list:
    """The conditions of scope, status and grade, on cases or on the totals' buckets alike
    (a bucket keeps "" where a case has no level)."""
    where = [access.scope_condition(sh.scope, sa.bindparam("scope"), city=t.city_code, county=t.county_code,
                                    supervisor=t.supervisor_id),
             t.status != "withdrawn"]
    if sh.status == "pending":  # waiting for the caller's own level
        if sh.no_level:
            level = t.current_level.is_(None) if t is Case else t.current_level == ""
        else:
            level = t.current_level == sa.bindparam("level")
        where += [t.status == "in_review", level]
    elif sh.status != "all":
        where.append(t.status == sa.bindparam("status"))
    if sh.grade:
        where.append(t.target_grade == sa.bindparam("grade"))
    return where


@functools.lru_cache(maxsize=512)
def cases_where(sh: Shape) -> tuple:
    """Every condition of the queue's filters on cases (the page and its Excel alike)."""
    where = matching(sh, Case)
    if sh.trade:
        where.append(Case.target_trade == sa.bindparam("trade"))
    if sh.unit:
        where.append(Case.unit_id == sa.bindparam("unit"))
    if sh.since:
        where.append(Case.submitted_at >= sa.bindparam("since"))
    if sh.until:
        where.append(Case.submitted_at <= sa.bindparam("until"))
    return tuple(where)


class PageSql(NamedTuple):
    rows: sa.Select      # the page's rows, each carrying the total
    count: sa.Select     # the total alone (for a page with no rows)


@functools.lru_cache(maxsize=512)
def page_sql(sh: Shape, buckets: bool) -> PageSql:
    """A page of the queue in one round trip. ``buckets``: count from the trigger's totals
    (PostgreSQL, and a bucketed shape), else count the matching cases."""
    where = cases_where(sh)
    if buckets:
        parts = sa.union_all(sa.select(QueueCount.n.label("n")).where(*matching(sh, QueueCount)),
                             sa.select(QueueCountDelta.delta.label("n")).where(*matching(sh, QueueCountDelta)))
        count = sa.select(sa.func.coalesce(sa.func.sum(parts.subquery().c.n), 0))
    else:
        count = sa.select(sa.func.count()).select_from(Case).where(*where)
    # the page's keys from an index alone, then its rows (a deep page skips keys, not rows)
    keys = (sa.select(Case.application_id, Case.submitted_at).where(*where)
            .order_by(Case.submitted_at, Case.application_id)
            .offset(sa.bindparam("offset", type_=sa.Integer)).limit(sa.bindparam("limit", type_=sa.Integer))
            .subquery())
    rows = (sa.select(*ROW, count.correlate(None).scalar_subquery().label("total"))
            .join(keys, Case.application_id == keys.c.application_id)
            .order_by(keys.c.submitted_at, keys.c.application_id))
    return PageSql(rows, count)
