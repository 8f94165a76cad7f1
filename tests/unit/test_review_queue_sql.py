"""services.review.queue_sql (issue 12): a queue statement depends on the shape of the query
(the kind of scope, which filters are set), never on the values it compares — so callers of
one kind share one statement, each with their own values, and no value is written into it."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.dialects import postgresql

from kit.access import Principal
from services.review import queue_sql
from services.review.schemas import QueueFilters, QueueQuery


def admin(role: str, scope: str | None = None) -> Principal:
    return Principal(kind="admin", id=1, name="王建国", username="u", role=role, scope_code=scope)


def sql(who: Principal, **filters) -> tuple[str, dict]:
    shape, params = queue_sql.shape(who, QueueFilters(**filters))
    compiled = queue_sql.page_sql(shape, buckets=shape.bucketed).rows.compile(dialect=postgresql.dialect())
    return compiled.string, compiled.construct_params(params)


def test_two_cities_share_one_statement_with_their_own_values():
    zhengzhou = queue_sql.shape(admin("city", "410100"), QueueFilters(status="pending", grade=4, page=3))
    luoyang = queue_sql.shape(admin("city", "410300"), QueueFilters(status="pending", grade=3, page=1))
    assert zhengzhou[0] == luoyang[0]
    assert queue_sql.page_sql(zhengzhou[0], True) is queue_sql.page_sql(luoyang[0], True)
    assert (zhengzhou[1]["scope"], zhengzhou[1]["grade"], zhengzhou[1]["offset"]) == ("410100", 4, 40)
    assert (luoyang[1]["scope"], luoyang[1]["grade"], luoyang[1]["offset"]) == ("410300", 3, 0)


@pytest.mark.parametrize(("one", "other"), [
    ((admin("city", "410100"), {}), (admin("county", "410102"), {})),           # the kind of scope
    ((admin("province"), {}), (admin("city", "410100"), {})),
    ((admin("city", "410100"), {"status": "all"}), (admin("city", "410100"), {"status": "approved"})),
    ((admin("city", "410100"), {}), (admin("city", "410100"), {"grade": 4})),
    ((admin("city", "410100"), {}), (admin("city", "410100"), {"trade": "汽车驾驶员"})),
    ((admin("city", "410100"), {}), (admin("city", "410100"), {"submitted_from": date(2026, 3, 1)})),
])
def test_a_different_shape_is_a_different_statement(one, other):
    assert queue_sql.shape(one[0], QueueFilters(**one[1]))[0] != queue_sql.shape(other[0], QueueFilters(**other[1]))[0]


def test_no_value_is_written_into_the_statement():
    text, params = sql(admin("supervisor", "S-4101-007"), status="returned", grade=2, trade="汽车驾驶员",
                       unit_id="U410100-003", submitted_from=date(2026, 3, 1), submitted_to=date(2026, 3, 31),
                       page=7, page_size=50)
    for value in ("S-4101-007", "returned", "汽车驾驶员", "U410100-003", "2026"):
        assert value not in text
    assert params["scope"] == "S-4101-007" and params["unit"] == "U410100-003"
    assert (params["offset"], params["limit"]) == (300, 50)
    assert params["since"].isoformat() == "2026-03-01T00:00:00+08:00"         # Beijing whole days
    assert params["until"].isoformat().startswith("2026-03-31T23:59:59.999999")


def test_pending_for_an_administrator_of_no_level_asks_for_none():
    """A 主管单位 is a level of the chain: pending compares the level with the caller's role. A
    county reads and does not decide (no level): pending for it is its own shape, cases with
    no level (IS NULL; "" in the totals' buckets), not a comparison with a value."""
    shape, params = queue_sql.shape(admin("supervisor", "S-1"), QueueQuery(status="pending"))
    assert not shape.no_level and params["level"] == "supervisor"
    county, params = queue_sql.shape(admin("county", "410102"), QueueQuery(status="pending"))
    assert county.no_level and params["level"] is None
    text, _ = sql(admin("county", "410102"), status="pending")
    assert "cases.current_level IS NULL" in text and "queue_counts.current_level = %(current_level_1)s" in text
