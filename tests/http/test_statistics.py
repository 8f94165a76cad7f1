"""Issue 14 (R-P4) on the real services: 报名统计 and the two Excel exports through the gateway's
HTTP API. A city administrator's statistics and applications.xlsx hold only their city, a
county administrator's only their county; the files' header columns; the statistics file
has the JSON's numbers; 审核中 split by level (review's count) adds up; an applicant is
refused with ``wrong_kind``."""
from __future__ import annotations

from io import BytesIO

import pytest
from helpers import XLSX, Api, admin, applicant, assert_error, submitted, wait_for
from openpyxl import load_workbook

APPLICATION_HEADER = [
    "报名编号", "考核年度", "姓名", "身份证号", "性别", "出生年月", "手机号", "省辖市", "县区", "主管单位", "单位", "文化程度",
    "参加工作时间", "工作年限", "现岗位等级", "现岗位工种", "现等级取得时间", "申报岗位等级", "申报岗位工种", "申报途径", "破格",
    "一线", "是否存在禁止申报的情形", "状态", "提交次数", "最近提交时间", "审核意见", "缴费时间", "准考证号", "考核结果"]
COUNT_HEADER = ["注册人数", "提交人数", "审核中", "待主管单位审核", "待省辖市审核", "待省评价中心审核", "退回", "审核不通过",
                "审核通过", "已缴费", "已安排考场", "考核合格"]
LEVELS = ("supervisor", "city", "province")


@pytest.fixture(scope="module")
def world(stack):
    """In 郑州: one submitted in 中原区 (U410100-001) and one who chose a unit in 二七区
    (U410100-003); in 洛阳: one registered."""
    province = Api(stack.url).login_admin("admin", __import__("harness").ADMIN_PASSWORD)
    owner, _, zhongyuan = submitted(stack, province)
    other, _ = applicant(stack, province)
    r = other.put("/api/v1/me/application", json={"unit_id": "U410100-003"})
    assert r.status_code == 200, r.text
    luoyang, _ = applicant(stack, province, city_code="410300")
    return {"owner": owner, "zhongyuan": zhongyuan, "erqi": r.json()["application_id"],
            "luoyang": luoyang.get("/api/v1/me/application").json()["application_id"],
            "year": province.get("/api/v1/years/current").json()["year"]}


def sheets(r) -> dict[str, list[list]]:
    assert r.status_code == 200, r.text[:300]
    assert r.headers["Content-Type"].startswith(XLSX) and "attachment" in r.headers["Content-Disposition"]
    book = load_workbook(BytesIO(r.content), read_only=True)
    return {ws.title: [list(row) for row in ws.iter_rows(values_only=True)] for ws in book.worksheets}


def applications(api: Api, **query) -> list[dict]:
    rows = sheets(api.get("/api/v1/admin/applications.xlsx", params=query))["报名信息"]
    assert rows[0] == APPLICATION_HEADER
    return [dict(zip(rows[0], row)) for row in rows[1:]]


def test_a_city_administrator_sees_only_their_city_in_the_statistics_and_both_files(stack, world):
    """Issue 14: a city administrator never sees another city's rows — statistics by city and
    by county, applications.xlsx (its header, 郑州 only, 洛阳's application absent), and
    statistics.xlsx with the JSON's numbers for the same query."""
    city = admin(stack, "zz_city")
    by_city = city.get("/api/v1/admin/statistics", params={"group_by": "city"}).json()
    assert [r["key"] for r in by_city["rows"]] == ["410100"] and by_city["rows"][0]["name"] == "郑州市"
    by_county = city.get("/api/v1/admin/statistics", params={"group_by": "county", "grade": 4}).json()
    assert {"410102", "410103"} <= {r["key"] for r in by_county["rows"]}
    assert all(r["key"] is None or r["key"].startswith("4101") for r in by_county["rows"])

    rows = applications(city)
    ids = {r["报名编号"] for r in rows}
    assert {world["zhongyuan"], world["erqi"]} <= ids and world["luoyang"] not in ids
    assert {r["省辖市"] for r in rows} == {"郑州市"} and {r["考核年度"] for r in rows} == {world["year"]}
    mine = next(r for r in rows if r["报名编号"] == world["zhongyuan"])
    assert (mine["单位"], mine["县区"], mine["主管单位"], mine["状态"]) == ("郑州市第一人民医院", "中原区",
                                                                  "郑州市卫生健康委员会", "审核中")
    assert "*" in mine["身份证号"] and "*" in mine["手机号"]
    assert {r["报名编号"] for r in applications(city, unit_id="U410100-003")} >= {world["erqi"]}
    assert world["zhongyuan"] not in {r["报名编号"] for r in applications(city, status="approved")}

    query = {"group_by": "county", "grade": 4, "year": world["year"]}

    def same_numbers() -> dict | None:
        """The file and the JSON of the same query, read one after the other (events of other
        tests may still be arriving: both are read again until they agree)."""
        stats = city.get("/api/v1/admin/statistics", params=query).json()
        book = sheets(city.get("/api/v1/admin/statistics.xlsx", params=query))
        table = book[f"{world['year']}年报名统计"]
        assert table[0] == ["县区", *COUNT_HEADER]
        expected = [[r["name"], *cells(r)] for r in stats["rows"]] + [["合计", *cells(stats["totals"])]]
        return book if table[1:] == expected else None

    book = wait_for(same_numbers, what="the file's numbers equal the JSON's")
    assert book["历年趋势"][0] == ["考核年度", *(h for h in COUNT_HEADER if not h.startswith("待"))]
    assert dict(map(tuple, book["统计条件"][1:]))["管理范围"] == "郑州市"


def cells(counts: dict) -> list[int]:
    levels = counts["in_review_levels"]
    return [counts["registered"], counts["submitted"], counts["in_review"], *(levels[lv] for lv in LEVELS),
            *(counts[c] for c in ("returned", "rejected", "approved", "paid", "seated", "passed"))]


def test_a_county_administrator_sees_only_their_county(stack, world):
    """Issue 14: 中原区's administrator — statistics by county and by unit, applications.xlsx:
    中原区 only (二七区's applicant of the same city is not there)."""
    county = admin(stack, "zz_zhongyuan")
    assert [r["key"] for r in county.get("/api/v1/admin/statistics", params={"group_by": "county"}).json()["rows"]] \
        == ["410102"]
    units = county.get("/api/v1/admin/statistics", params={"group_by": "unit"}).json()["rows"]
    assert [r["key"] for r in units] == ["U410100-001"]
    rows = applications(county)
    ids = {r["报名编号"] for r in rows}
    assert world["zhongyuan"] in ids and world["erqi"] not in ids and world["luoyang"] not in ids
    assert {r["县区"] for r in rows} == {"中原区"}


def test_in_review_by_level_adds_up_to_in_review(stack, world):
    """Issue 14 "review status by level": review's count of the cases at each level adds up to
    the applications in review (the submitted one waits at its 主管单位)."""
    supervisor = admin(stack, "zz_wsjw")

    def settled():
        totals = supervisor.get("/api/v1/admin/statistics", params={"group_by": "unit"}).json()["totals"]
        return totals if sum(totals["in_review_levels"].values()) == totals["in_review"] else None

    totals = wait_for(settled, what="levels adding up")
    assert totals["in_review_levels"]["supervisor"] >= 1 and totals["in_review"] >= 1


def test_an_applicant_is_refused_every_overview_operation(stack, world):
    for path in ("/api/v1/admin/statistics", "/api/v1/admin/statistics.xlsx", "/api/v1/admin/applications.xlsx"):
        assert_error(world["owner"].get(path), 403, "wrong_kind")
        assert_error(Api(stack.url).get(path), 401, "unauthenticated")
    assert_error(admin(stack, "zz_city").get("/api/v1/admin/statistics", params={"group_by": "school"}), 400,
                 "invalid", "group_by")
