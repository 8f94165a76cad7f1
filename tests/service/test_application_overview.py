"""Issue 14 (R-P4): the application service's 统计 and 报名信息导出 on a worker over its own
PostgreSQL database, no broker. Each count, each grouping, the filters, the trend over the
years, the scope of every administrator role (a city never sees another city's rows), the
review levels as review counts them (a fake review here), and the Excel files' columns."""
from __future__ import annotations

import io
import uuid
from datetime import timedelta

import openpyxl
import pytest
import sqlalchemy as sa
from builders import NOW, PROVINCE, YEAR, admin, envelope, year_updated
from nameko.testing.services import worker_factory

from deploy.seed import SUPERVISORS, UNITS, trades_csv
from kit.errors import Forbidden, InvalidInput, Unauthenticated
from services.application.models import Application
from services.application.service import ApplicationService

SERVICE = "application"
CITY = admin("city", "410100")                    # 郑州
COUNTY = admin("county", "410102")                # 中原区 (U410100-001)
SUPERVISOR = admin("supervisor", "S410100-02")    # 郑州市教育局 (U410100-003, U410100-004)
UNIT_OF = {u[0]: u for u in UNITS}
COUNTS = ("registered", "submitted", "in_review", "returned", "rejected", "approved", "paid", "seated", "passed")


def application(year: int = YEAR, unit: str | None = "U410100-001", city: str = "410100", grade: int = 4,
                trade: str | None = "T013", status: str = "not_submitted", round: int = 0, paid: bool = False,
                seated: bool = False, result: str | None = None) -> Application:
    """An application row as the events leave it (the form's unit fixes county and 主管单位)."""
    u = UNIT_OF.get(unit)
    seq = uuid.uuid4().hex
    return Application(
        id=seq, year=year, id_number=f"4101021980{seq[:8]}", name="张伟", gender="M", birth_month="1980-05",
        phone="13900000001", city_code=u[2] if u else city, target_grade=grade, unit_id=unit,
        county_code=u[3] if u else None, supervisor_id=u[4] if u else None, education="senior_high",
        work_start="2000-03", service_years=26, current_grade=5, current_trade="T013", grade_obtained_year=2018,
        target_trade=trade, route="years", exceptional=False, frontline=True, exceptional_reason="",
        prohibited=False, pledge=True, files={}, status=status, round=round,
        submitted_at=NOW if round else None, review_note="照片不清晰" if status == "returned" else None,
        paid_at=NOW + timedelta(days=2) if paid else None, ticket_no=f"26{seq[:10]}" if seated else None,
        result=result, created_at=NOW, updated_at=NOW)


# The world of these tests: 郑州 (two counties, two 主管单位), 洛阳, and one earlier year.
WORLD = [
    dict(unit="U410100-001", status="in_review", round=1),                       # 中原区, 卫健委
    dict(unit="U410100-001", status="returned", round=1),                        # submitted, then returned
    dict(unit="U410100-001", grade=3, status="in_review", round=2),              # resubmitted: counted once
    dict(unit="U410100-003", grade=5, status="approved", round=1, paid=True, seated=True, result="pass"),
    dict(unit="U410100-004", grade=5, trade="T001", status="approved", round=1, paid=True, seated=True,
         result="fail"),
    dict(unit="U410100-003", status="rejected", round=1),
    dict(unit=None, trade=None),                                                   # registered only
    dict(unit="U410300-001", status="approved", round=1, paid=True),             # 洛阳
    dict(unit="U410300-002", grade=5, status="returned", round=1),               # 洛阳
    dict(year=YEAR - 1, unit="U410100-001", status="approved", round=1, paid=True, seated=True, result="pass"),
    dict(year=YEAR - 1, unit="U410300-001", status="rejected", round=1),
]


class Review:
    """Review's ``level_counts`` as the worker's RpcProxy: what it was asked, and a fixed answer."""

    def __init__(self, rows: list[dict] | None = None):
        self.asked: list[tuple[dict, dict]] = []
        self.rows = rows or []

    def level_counts(self, principal, query):
        self.asked.append((principal, query))
        return {"rows": self.rows}


@pytest.fixture
def svc(db, clock):
    review = Review()
    worker = worker_factory(ApplicationService, db=db, review=review)
    assert worker.on_year_updated(year_updated()) == "applied"
    worker.upsert_reference(
        PROVINCE, [dict(id=i, name=n, city_code=c, admin=a, phone=p) for i, n, c, a, p in SUPERVISORS],
        [dict(id=i, name=n, city_code=c, county_code=k, supervisor_id=s) for i, n, c, k, s in UNITS])
    assert worker.import_trades(PROVINCE, {}, trades_csv())["refused"] == []
    with db.tx() as s:
        s.add_all([application(**row) for row in WORLD])
    return worker


def by_key(stats: dict) -> dict:
    return {r["key"]: r for r in stats["rows"]}


def counts(row: dict) -> tuple:
    return tuple(row[c] for c in COUNTS)


def test_each_count_by_city_for_the_province(svc):
    """R-P4, issue 14: registered = accounts; submitted = submitted at least once whatever the
    status now (a returned one, a resubmitted one once); review status by the current status;
    paid, seated, passed cumulative. Totals are the sum of the rows."""
    stats = svc.statistics(PROVINCE, {"group_by": "city"})
    assert stats["year"] == YEAR and stats["group_by"] == "city"
    rows = by_key(stats)
    assert set(rows) == {"410100", "410300"}
    assert rows["410100"]["name"] == "郑州市" and rows["410300"]["name"] == "洛阳市"
    #                            reg sub rev ret rej app paid seat pass
    assert counts(rows["410100"]) == (7, 6, 2, 1, 1, 2, 2, 2, 1)
    assert counts(rows["410300"]) == (2, 2, 0, 1, 0, 1, 1, 0, 0)
    assert counts(stats["totals"]) == (9, 8, 2, 2, 1, 3, 3, 2, 1)


def test_a_city_never_sees_another_city_a_county_and_a_supervisor_only_their_own(svc):
    """Issue 14: scope in the service — a city its city, a county its county (an applicant
    without a unit is the city's, not the county's), a 主管单位 its units' applicants."""
    city = svc.statistics(CITY, {"group_by": "city"})
    assert [r["key"] for r in city["rows"]] == ["410100"] and city["totals"]["registered"] == 7
    county = svc.statistics(COUNTY, {"group_by": "unit"})
    assert [(r["key"], r["name"]) for r in county["rows"]] == [("U410100-001", "郑州市第一人民医院")]
    assert counts(county["totals"]) == (3, 3, 2, 1, 0, 0, 0, 0, 0)
    supervisor = svc.statistics(SUPERVISOR, {"group_by": "unit"})
    assert {r["key"] for r in supervisor["rows"]} == {"U410100-003", "U410100-004"}
    assert counts(supervisor["totals"]) == (3, 3, 0, 0, 1, 2, 2, 2, 1)
    # the other city's administrator sees none of 郑州 even when asking for it by filter
    assert svc.statistics(admin("city", "410300"), {"city_code": "410100"})["rows"] == []


GROUPS = {
    "county": {"410102": ("郑州市中原区", 3), "410103": ("郑州市二七区", 2), "410122": ("郑州市中牟县", 1),
               None: ("未选择单位或无县区", 1)},
    "supervisor": {"S410100-01": ("郑州市卫生健康委员会", 3), "S410100-02": ("郑州市教育局", 3), None: ("未选择单位", 1)},
    "unit": {"U410100-001": ("郑州市第一人民医院", 3), "U410100-003": ("郑州市第二中学", 2),
             "U410100-004": ("中牟县第一高级中学", 1), None: ("未选择单位", 1)},
    "grade": {"5": ("五级", 2), "4": ("四级", 4), "3": ("三级", 1)},
    "trade": {"T013": ("护理员", 5), "T001": ("汽车驾驶员", 1), None: ("未填写工种", 1)},
}


def test_each_grouping_names_its_keys_from_their_sources(svc):
    """Issue 14: by county, 主管单位, unit, grade and trade — names from GB/T 2260, the units
    and 主管单位, the grade labels and the trade catalogue; rows without a key say why, last."""
    for group_by, expected in GROUPS.items():
        stats = svc.statistics(CITY, {"group_by": group_by})
        assert {r["key"]: (r["name"], r["registered"]) for r in stats["rows"]} == expected, group_by
        assert stats["totals"]["registered"] == 7
        if group_by == "grade":
            assert [r["name"] for r in stats["rows"]] == ["五级", "四级", "三级"]
        else:
            assert stats["rows"][-1]["key"] is None, group_by


def test_filters_by_grade_and_trade_apply_to_the_table_and_the_trend(svc):
    """Issue 14: the same filters for the table, the totals and the trend over the years."""
    stats = svc.statistics(PROVINCE, {"group_by": "city", "grade": "4"})
    assert {r["key"]: r["registered"] for r in stats["rows"]} == {"410100": 4, "410300": 1}
    assert stats["filters"] == {"grade": 4}
    assert [(t["year"], t["registered"], t["approved"], t["passed"]) for t in stats["trend"]] == [
        (YEAR - 1, 2, 1, 1), (YEAR, 5, 1, 0)]
    trade = svc.statistics(PROVINCE, {"group_by": "grade", "trade": "T001"})
    assert [(r["key"], r["registered"], r["passed"]) for r in trade["rows"]] == [("5", 1, 0)]


def test_an_earlier_year_and_the_trend_reach_back(svc):
    """Issue 14: the current and earlier years; the trend counts each year of the same scope."""
    earlier = svc.statistics(CITY, {"year": YEAR - 1})
    assert earlier["year"] == YEAR - 1
    assert counts(earlier["totals"]) == (1, 1, 0, 0, 0, 1, 1, 1, 1)
    assert [t["year"] for t in earlier["trend"]] == [YEAR - 1]
    assert [(t["year"], t["registered"]) for t in svc.statistics(CITY)["trend"]] == [(YEAR - 1, 1), (YEAR, 7)]
    assert svc.statistics(CITY, {"year": 2001})["rows"] == []


def test_the_trend_reaches_back_ten_years_and_no_further(svc, db):
    """Boundaries: the trend holds the chosen year and the nine before it (TREND_YEARS), not the
    tenth before; a later year is not in an earlier year's trend."""
    with db.tx() as s:
        s.add_all([application(year=YEAR - 9), application(year=YEAR - 10), application(year=YEAR + 1)])
    years = [t["year"] for t in svc.statistics(CITY)["trend"]]
    assert years == [YEAR - 9, YEAR - 1, YEAR]
    assert [t["year"] for t in svc.statistics(CITY, {"year": YEAR + 1})["trend"]] == [YEAR - 1, YEAR, YEAR + 1]


def test_a_deleted_account_is_no_longer_counted(svc, db):
    """An account deleted by an administrator (to re-register with another city or grade)
    takes its application with it: after a submission it leaves registered and submitted
    (review withdraws its case the same way), the rest stays."""
    with db.tx() as s:
        gone = s.get(Application, s.scalars(sa.select(Application.id).where(
            Application.status == "returned", Application.city_code == "410100")).one())
        year, id_number = gone.year, gone.id_number
    before = counts(svc.statistics(CITY)["totals"])
    assert svc.on_account_deleted(envelope("identity.account_deleted.v1",
                                           {"year": year, "id_number": id_number})) == "applied"
    after = counts(svc.statistics(CITY)["totals"])
    assert [b - a for b, a in zip(before, after, strict=True)] == [1, 1, 0, 1, 0, 0, 0, 0, 0]


def test_review_levels_come_from_review_for_the_same_query_and_principal(svc):
    """Issue 14 "review status by level": review counts the cases waiting at each level (it
    owns the chain); the service asks it with the caller's own sealed principal and the same
    grouping and filters, and puts the counts on the rows and the totals."""
    svc.review.rows = [{"key": "U410100-001", "supervisor": 1, "city": 1, "province": 0}]
    stats = svc.statistics(COUNTY, {"group_by": "unit", "grade": 4})
    principal, query = svc.review.asked[-1]
    assert principal == COUNTY
    assert query == {"year": YEAR, "group_by": "unit", "grade": 4, "trade": None, "city_code": None}
    assert stats["rows"][0]["in_review_levels"] == {"supervisor": 1, "city": 1, "province": 0}
    assert stats["totals"]["in_review_levels"] == {"supervisor": 1, "city": 1, "province": 0}


def test_a_bad_query_is_refused_naming_the_field(svc):
    for query, field in (({"group_by": "school"}, "group_by"), ({"grade": 9}, "grade"), ({"year": 1999}, "year"),
                         ({"grade": "四"}, "grade"), ({"page": 2}, "page")):
        with pytest.raises(InvalidInput) as exc:
            svc.statistics(PROVINCE, query)
        assert exc.value.code == "invalid" and exc.value.field == field, query


def test_applicants_and_unsealed_callers_are_refused(svc):
    from builders import Person

    with pytest.raises(Forbidden) as exc:
        svc.statistics(Person().principal, {})
    assert exc.value.code == "wrong_kind"
    with pytest.raises(Forbidden) as exc:
        svc.applications_export(Person().principal, {})
    assert exc.value.code == "wrong_kind"
    with pytest.raises(Unauthenticated):
        svc.statistics({"kind": "admin", "role": "province", "id": 1, "name": "x"}, {})


def sheets(body) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(io.BytesIO(body.read()), read_only=True)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}


def test_the_statistics_excel_holds_the_same_numbers_as_the_answer(svc):
    """Issue 14 "finds the same numbers as on the page": the file is made from the same
    statistics — the header, every row, the 合计, the trend, and the query it answers."""
    svc.review.rows = [{"key": "4", "supervisor": 2, "city": 0, "province": 0}]
    stats = svc.statistics(CITY, {"group_by": "grade", "trade": "T013"})
    body, size = svc.make_statistics_xlsx(CITY, {"group_by": "grade", "trade": "T013", "year": YEAR})
    assert size > 0
    book = sheets(body)
    table = book[f"{YEAR}年报名统计"]
    assert list(table[0]) == ["申报等级", "注册人数", "提交人数", "审核中", "待主管单位审核", "待省辖市审核",
                              "待省评价中心审核", "退回", "审核不通过", "审核通过", "已缴费", "已安排考场", "考核合格"]
    levels = lambda c: [c["in_review_levels"][lv] for lv in ("supervisor", "city", "province")]  # noqa: E731
    expected = [[r["name"], *counts(r)[:3], *levels(r), *counts(r)[3:]] for r in stats["rows"]]
    expected.append(["合计", *counts(stats["totals"])[:3], *levels(stats["totals"]), *counts(stats["totals"])[3:]])
    assert [list(r) for r in table[1:]] == expected
    assert expected[0][0] == "五级" and expected[-1][1] == 5
    assert [list(r) for r in book["历年趋势"][1:]] == [[t["year"], *counts(t)] for t in stats["trend"]]
    asked = dict(book["统计条件"][1:])
    assert asked["管理范围"] == "郑州市" and asked["申报工种"] == "护理员" and asked["申报等级"] == "全部"


def test_the_export_tickets_pin_the_current_year_and_carry_the_caller(svc):
    """The file is made when fetched: its ticket names the year asked for (the current one
    unless given) and the caller, whose scope the making checks again."""
    svc.statistics_export(CITY, {"group_by": "unit"})
    (action, args, principal), kw = svc.files.generated_ticket.call_args
    assert (action, args["year"], args["group_by"], principal) == ("statistics_xlsx", YEAR, "unit", CITY)
    assert kw["filename"] == f"报名统计_{YEAR}年_按单位.xlsx"
    svc.applications_export(COUNTY, {"status": "approved"})
    (action, args, principal), kw = svc.files.generated_ticket.call_args
    assert (action, args["year"], args["status"], principal) == ("applications_xlsx", YEAR, "approved", COUNTY)


def test_the_applications_excel_has_every_field_one_row_each_in_scope_and_masked(svc):
    """Issue 14: 报名信息导出 — one row per application of the caller's scope with its fields
    (names, not codes), filtered by status, grade, trade and unit; ID numbers and phones masked
    as in every list (API.md)."""
    body, _ = svc.make_applications_xlsx(CITY, {})
    rows = sheets(body)["报名信息"]
    header = list(rows[0])
    assert header[:8] == ["报名编号", "考核年度", "姓名", "身份证号", "性别", "出生年月", "手机号", "省辖市"]
    assert {"县区", "主管单位", "单位", "申报岗位等级", "申报岗位工种", "状态", "缴费时间", "准考证号", "考核结果"} <= set(header)
    data = [dict(zip(header, r)) for r in rows[1:]]
    assert len(data) == 7 and {d["省辖市"] for d in data} == {"郑州市"}
    assert all(d["考核年度"] == YEAR for d in data)
    assert all("*" in d["身份证号"] and d["手机号"] == "139****0001" for d in data)
    passed = next(d for d in data if d["考核结果"] == "合格")
    assert passed["单位"] == "郑州市第二中学" and passed["主管单位"] == "郑州市教育局" and passed["县区"] == "二七区"
    assert passed["申报岗位等级"] == "五级" and passed["申报岗位工种"] == "护理员" and passed["状态"] == "审核通过"
    assert passed["准考证号"].startswith("26") and passed["缴费时间"]
    returned = next(d for d in data if d["状态"] == "退回")
    assert returned["审核意见"] == "照片不清晰" and returned["提交次数"] == 1

    def ids(principal, query):
        body, _ = svc.make_applications_xlsx(principal, query)
        return len(sheets(body)["报名信息"]) - 1

    assert ids(CITY, {"status": "approved"}) == 2
    assert ids(CITY, {"grade": 5}) == 2
    assert ids(CITY, {"trade": "T001"}) == 1
    assert ids(CITY, {"unit_id": "U410100-001"}) == 3
    assert ids(CITY, {"unit_id": "U410300-001"}) == 0          # another city's unit: nothing
    assert ids(admin("city", "410300"), {}) == 2
    assert ids(COUNTY, {}) == 3 and ids(SUPERVISOR, {}) == 3
    assert ids(PROVINCE, {}) == 9 and ids(PROVINCE, {"year": YEAR - 1}) == 2
    with pytest.raises(InvalidInput) as exc:
        svc.applications_export(CITY, {"status": "paid"})
    assert exc.value.field == "status"
