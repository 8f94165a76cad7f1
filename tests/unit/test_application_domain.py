"""Application form rules that are not eligibility: saving, locking, scope, the catalogue
CSV, the six steps (R-A1, R-A2, R-P2)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kit.errors import Conflict, InvalidInput, RuleNotMet
from services.application import domain
from services.application.eligibility import EDUCATION_LEVELS

CURRENT = {"name": "张伟", "id_number": "410102198503120014", "target_grade": 4, "status": "not_submitted"}
TRADES = {"T001", "T013"}
UNITS = {"U1"}


def clean(changes):
    return domain.clean_changes(changes, CURRENT, EDUCATION_LEVELS, TRADES, UNITS)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"education": "bachelor"}, {"education": "bachelor"}),
        ({"name": "张伟"}, {}),                                   # read-only, unchanged: dropped
        ({"service_years": "12"}, {"service_years": 12}),
        ({"service_years": None}, {"service_years": None}),
        ({"current_grade": 0}, {"current_grade": 0}),
        ({"prohibited": None}, {"prohibited": None}),
        ({"unit_id": " U1 "}, {"unit_id": "U1"}),
        ({"exceptional_reason": None}, {"exceptional_reason": ""}),
        ({"current_trade": ""}, {"current_trade": None}),
    ],
)
def test_clean_changes_accepts(changes, expected):
    assert clean(changes) == expected


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "李四"}, "name"), ({"target_grade": 3}, "target_grade"), ({"status": "approved"}, "status"),
        ({"education": "phd"}, "education"), ({"work_start": "2001-00"}, "work_start"),
        ({"work_start": "2001/01"}, "work_start"), ({"service_years": 81}, "service_years"),
        ({"service_years": True}, "service_years"), ({"current_grade": 6}, "current_grade"),
        ({"grade_obtained_year": 1900}, "grade_obtained_year"), ({"current_trade": "T999"}, "current_trade"),
        ({"route": "both"}, "route"), ({"unit_id": "U2"}, "unit_id"), ({"pledge": "true"}, "pledge"),
        ({"exceptional_reason": "长" * 2001}, "exceptional_reason"), ({"foo": 1}, "foo"),
    ],
)
def test_clean_changes_refuses(changes, field):
    with pytest.raises(InvalidInput) as exc:
        clean(changes)
    assert exc.value.field == field


@pytest.mark.parametrize(("status", "editable"), [("not_submitted", True), ("returned", True),
                                                  ("in_review", False), ("approved", False), ("rejected", False)])
def test_locking(status, editable):
    if editable:
        domain.require_editable(status)
    else:
        with pytest.raises(Conflict):
            domain.require_editable(status)


WINDOWS = {"windows": {"application": {"start": "2026-01-01T00:00:00+08:00", "end": "2026-03-01T00:00:00+08:00"},
                       "review": {"start": "2026-01-01T00:00:00+08:00", "end": "2026-04-01T00:00:00+08:00"}}}


def test_form_window_depends_on_status():
    after_application = datetime(2026, 3, 15, tzinfo=UTC)
    with pytest.raises(RuleNotMet) as exc:
        domain.require_form_window(WINDOWS, "not_submitted", after_application)
    assert exc.value.code == "outside_application_window"
    domain.require_form_window(WINDOWS, "returned", after_application)   # resubmission: review window
    with pytest.raises(RuleNotMet):
        domain.require_form_window(WINDOWS, "returned", datetime(2026, 4, 2, tzinfo=UTC))


def test_trades_csv():
    data = ("code,name,category,new_codes\nT1,电工,维修,\nT2,打字员,办公,T3；T4\nT1,重复,,\nbad code,x,,\n"
            "T5,,,\n").encode("gb18030")
    rows, refused = domain.parse_trades(data)
    assert [(r["code"], r["new_codes"]) for r in rows] == [("T1", []), ("T2", ["T3", "T4"])]
    assert [r["line"] for r in refused] == [4, 5, 6]
    with pytest.raises(InvalidInput):
        domain.parse_trades(b"a,b\n1,2\n")


def test_steps_follow_the_status():
    now = datetime(2026, 2, 1, tzinfo=UTC)
    steps = {s["key"]: s for s in domain.progress(WINDOWS, "not_submitted", now)}
    assert [s["title"] for s in domain.progress(WINDOWS, "not_submitted", now)] == [
        "报名信息", "审核结果", "网上缴费", "打印准考证", "考核结果", "打印电子证书"]
    assert steps["application"]["enabled"] and not steps["review"]["enabled"]
    steps = {s["key"]: s for s in domain.progress(WINDOWS, "in_review", now)}
    assert steps["review"]["enabled"] and not steps["payment"]["enabled"]
    steps = {s["key"]: s for s in domain.progress(WINDOWS, "not_submitted", datetime(2026, 3, 2, tzinfo=UTC))}
    assert steps["application"]["reason"] == "当前不是报名时间"


def test_a_returned_form_follows_the_review_window():
    after_application = datetime(2026, 3, 15, tzinfo=UTC)
    steps = {s["key"]: s for s in domain.progress(WINDOWS, "returned", after_application)}
    assert steps["application"]["enabled"] is True
    steps = {s["key"]: s for s in domain.progress(WINDOWS, "returned", datetime(2026, 4, 2, tzinfo=UTC))}
    assert steps["application"]["reason"] == "当前不是审核时间"


def test_units_csv():
    head = "unit_id,name,city_code,county_code,supervisor_id,supervisor_name,supervisor_admin,supervisor_phone\n"
    data = (head + "U1,郑州某医院,410100,410102,S1,郑州卫健委,zz_wsjw,0371-1\n"
            "U2,省直单位,410000,,S2,省人社厅,sz,0371-2\n"
            "U3,错县,410100,410302,S1,郑州卫健委,zz_wsjw,0371-1\n"
            "U1,重复,410100,,S1,郑州卫健委,,\n"
            "U4,无主管,410100,,,,,\n").encode()
    parents = {"410102": "410100", "410302": "410300"}
    rows, refused = domain.parse_units(data, {"410000", "410100", "410300"}, parents)
    assert [r["unit_id"] for r in rows] == ["U1", "U2"]
    assert [(r["line"], r["reason"]) for r in refused] == [
        (4, "县区不属于该省辖市"), (5, "单位编号重复"), (6, "请填写主管单位编号和名称")]


def test_rule_set_changes_merge_grade_by_grade_and_bad_figures_are_refused():
    from services.application.eligibility import RuleSet

    stored = RuleSet.from_dict({"years_required": {"3": 20}})
    changed = stored.merged({"years_required": {"4": 9}})
    assert changed.years_required == {5: 0, 4: 9, 3: 20, 1: 25}
    for bad in ({"min_age": "abc"}, {"max_age": -5}, {"min_age": 70}, {"exceptional_waives_rules": "no"},
                {"years_required": {"4": -1}}, {"years_required": {"9": 3}}, {"years_required": [1]},
                {"grade2_min_education": "phd"}):
        with pytest.raises(ValueError) as exc:
            stored.merged(bad)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in str(exc.value)), bad
