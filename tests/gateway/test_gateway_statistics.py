"""Issue 14 (R-P4): the 报名统计 page and the overview API through the gateway with a fake RPC —
the filters reach the service as given, the page shows the service's numbers in the table,
its 合计 and the trend, the Excel links carry the same filters, a city administrator's page
never asks for another city, a refused filter is said in Chinese. The page costs two RPCs."""
from __future__ import annotations

import json
import re

import pytest
from fakes import ADMIN_TOKEN, sealed_admin

import gateway.files
from kit.errors import InvalidInput

CITY_TOKEN = "city-token"
LEVELS = {"supervisor": 1, "city": 1, "province": 0}


def counts(registered: int, submitted: int, **kw) -> dict:
    out = {"registered": registered, "submitted": submitted, "in_review": 2, "returned": 1, "rejected": 0,
           "approved": 3, "paid": 2, "seated": 1, "passed": 1, "in_review_levels": LEVELS}
    return {**out, **kw}


STATS = {"year": 2026, "group_by": "county", "filters": {"grade": 4},
         "rows": [{"key": "410102", "name": "郑州市中原区", **counts(7, 6)},
                  {"key": None, "name": "未选择单位或无县区", **counts(1, 0, in_review=0, approved=0)}],
         "totals": counts(8, 6),
         "trend": [{"year": 2025, **counts(3, 3, in_review_levels=None)}, {"year": 2026, **counts(8, 6)}]}


@pytest.fixture
def city(rpc, answers):
    rpc.sessions[CITY_TOKEN] = sealed_admin("city", "410100")
    rpc.answer("application.statistics", STATS)
    rpc.answer("application.list_trades", [{"code": "T013", "name": "护理员", "category": "", "new_trades": []}])
    return rpc


def cookie(token: str) -> dict:
    return {"Cookie": f"gk_session={token}"}


def statistics_calls(rpc) -> list[tuple]:
    return [args for name, args, _ in rpc.calls if name == "application.statistics"]


def cells(html: str, key: str) -> list[str]:
    row = re.search(rf'<tr data-key="{key}">(.*?)</tr>', html, re.S).group(1)
    return re.findall(r'<td class="num">(\d+)</td>', row)


def test_a_city_administrator_filters_by_grade_and_sees_the_services_numbers(client, city):
    """Issue 14: the page shows the service's numbers — each row, 合计 (审核中 split by level
    after it), the trend — and the Excel links carry the same filters; a city administrator's
    city_code is never sent (the service scopes anyway)."""
    r = client.simulate_get("/admin/statistics", params={"grade": "4", "city_code": "410300"},
                            headers=cookie(CITY_TOKEN))
    assert r.status_code == 200, r.text
    (principal, query), = statistics_calls(city)
    assert principal["role"] == "city" and query == {"grade": "4", "group_by": "county"}
    html = r.text
    assert "管理范围：郑州市" in html and "按县区统计" in html
    # registered, submitted, in_review, its three levels, returned, rejected, approved, paid, seated, passed
    assert cells(html, "410102") == ["7", "6", "2", "1", "1", "0", "1", "0", "3", "2", "1", "1"]
    assert cells(html, "total") == ["8", "6", "2", "1", "1", "0", "1", "0", "3", "2", "1", "1"]
    assert cells(html, "")[:2] == ["1", "0"] and "未选择单位或无县区" in html
    assert re.findall(r'<tr data-year="(\d+)">', html) == ["2025", "2026"]
    assert 'href="/api/v1/admin/statistics.xlsx?year=2026&amp;group_by=county&amp;grade=4"' in html
    assert 'href="/api/v1/admin/applications.xlsx?year=2026&amp;grade=4"' in html
    assert 'src="/static/vendor/chartjs/chart.umd.min.js' in html and "cdn" not in html.lower()
    chart = json.loads(re.search(r'id="stats-chart-data">(.*?)</script>', html, re.S).group(1))
    assert chart["rows"][0] == {"name": "郑州市中原区", "registered": 7, "submitted": 6, "approved": 3, "paid": 2,
                                "passed": 1}
    assert [t["year"] for t in chart["trend"]] == [2025, 2026] and chart["series"][0] == ["registered", "注册人数"]
    assert len(city.calls) == 3     # the session, the statistics, the trade catalogue (then kept)


def test_the_province_may_filter_by_city_and_a_refused_filter_is_said_in_chinese(client, city):
    client.simulate_get("/admin/statistics", params={"city_code": "410300", "group_by": "unit"},
                        headers=cookie(ADMIN_TOKEN))
    assert statistics_calls(city)[-1][1] == {"city_code": "410300", "group_by": "unit"}
    city.answer("application.statistics", InvalidInput("考核年度：数值过小", field="year"))
    r = client.simulate_get("/admin/statistics", params={"year": "1990"}, headers=cookie(ADMIN_TOKEN))
    assert r.status_code == 200 and "考核年度：数值过小" in r.text and "没有符合条件的报名数据" in r.text


def test_the_api_passes_the_query_on_and_streams_the_files(client, city, monkeypatch):
    """GET /api/v1/admin/statistics answers the service's JSON; statistics.xlsx and
    applications.xlsx hand the service's ticket to the file stream, with the same query."""
    r = client.simulate_get("/api/v1/admin/statistics", params={"group_by": "grade", "trade": "T013", "x": "1"},
                            headers=cookie(CITY_TOKEN))
    assert r.status_code == 200 and r.json == STATS
    assert statistics_calls(city)[-1][1] == {"group_by": "grade", "trade": "T013"}
    streamed = []
    monkeypatch.setattr(gateway.files, "pass_on", lambda resp, ticket: streamed.append(ticket))
    city.answer("application.statistics_export", {"url": "s"}).answer("application.applications_export", {"url": "a"})
    client.simulate_get("/api/v1/admin/statistics.xlsx", params={"grade": "4"}, headers=cookie(CITY_TOKEN))
    client.simulate_get("/api/v1/admin/applications.xlsx", params={"status": "approved", "unit_id": "U1"},
                        headers=cookie(CITY_TOKEN))
    assert streamed == [{"url": "s"}, {"url": "a"}]
    exports = {name: args[1] for name, args, _ in city.calls if name.endswith("_export")}
    assert exports == {"application.statistics_export": {"grade": "4"},
                       "application.applications_export": {"status": "approved", "unit_id": "U1"}}
