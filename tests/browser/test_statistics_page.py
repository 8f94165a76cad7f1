"""Issue 14's "done when", tried as a person would: a city administrator opens 报名统计, filters
by grade, downloads the Excel file and finds the same numbers as on the page — at desktop
and at phone size (390×844), the charts drawn with the locally served Chart.js, no script
error and no Content Security Policy violation."""
from __future__ import annotations

import io
import re

import pytest
from harness import ADMIN_PASSWORD
from openpyxl import load_workbook
from pages import (
    DESKTOP,
    PHONE,
    Api,
    admin_login,
    applicant_api,
    check_layout,
    close,
    expect,
    new_page,
    shoot,
)


@pytest.fixture(scope="module")
def case(stack):
    """A 四级 applicant of 郑州 who chose 郑州市第一人民医院 (中原区): a row of the table."""
    api, _ = applicant_api(stack, Api(stack.url).login_admin("admin", ADMIN_PASSWORD))
    r = api.put("/api/v1/me/application", json={"unit_id": "U410100-001"})
    assert r.status_code == 200, r.text
    return r.json()["application_id"]


def page_table(page) -> list[list]:
    """The statistics table as the page shows it: the name, then every number; 合计 last."""
    return page.eval_on_selector_all(
        "#stats-table tbody tr[data-key], #stats-table tfoot tr",
        "rows => rows.map(r => [r.querySelector('th').textContent.trim(),"
        " ...[...r.querySelectorAll('td')].map(td => Number(td.textContent))])")


def downloaded(page) -> dict[str, list[list]]:
    with page.expect_download() as info:
        page.locator("#stats-export").click()
    download = info.value
    assert re.fullmatch(r"报名统计_\d{4}年_按县区\.xlsx", download.suggested_filename), download.suggested_filename
    book = load_workbook(io.BytesIO(open(download.path(), "rb").read()), read_only=True)
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in book.worksheets}


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone-390"])
def test_a_city_administrator_filters_by_grade_and_the_excel_has_the_pages_numbers(stack, browser, case, viewport,
                                                                                  tmp_path):
    page = new_page(browser, stack, viewport)
    admin_login(page, "zz_city")
    nav = page.locator("nav.adminnav")
    nav.get_by_role("link", name="报名统计").click()
    expect(page).to_have_url(re.compile(r"/admin/statistics$"))
    expect(page.locator("h1")).to_contain_text("管理范围：郑州市")
    expect(page.locator("#s-group_by")).to_have_value("county")          # a city starts with its counties
    expect(page.locator("#s-city_code")).to_have_count(0)                # one city: no city filter

    page.select_option("#s-grade", "4")
    page.get_by_role("button", name="查询").click()
    expect(page).to_have_url(re.compile(r"/admin/statistics\?year=\d{4}&group_by=county&grade=4"))
    expect(page.locator("#s-grade")).to_have_value("4")
    year = page.locator("#statistics-page").get_attribute("data-year")
    export = page.locator("#stats-export")
    expect(export).to_have_attribute("href", f"/api/v1/admin/statistics.xlsx?year={year}&group_by=county&grade=4")
    expect(page.locator("#stats-table tr[data-key='410102'] th")).to_have_text("郑州市中原区")
    expect(page.locator("#stats-table tr[data-key='410300']")).to_have_count(0)
    expect(page.locator("#stats-charts")).to_have_attribute("data-drawn", "true")
    assert page.locator("#stats-bar").bounding_box()["height"] > 100

    # the file holds the page's numbers; events of other tests may still be arriving, so the
    # page is read again (and the file fetched again) until the two were read at one state
    for _ in range(5):
        shown = page_table(page)
        book = downloaded(page)
        if book[f"{year}年报名统计"][1:] == shown:
            break
        page.reload()
    table = book[f"{year}年报名统计"]
    assert table[1:] == shown, (table, shown)
    header = page.eval_on_selector_all("#stats-table thead th", "hs => hs.map(h => h.textContent.trim())")
    assert table[0] == header and header[:4] == ["县区", "注册人数", "提交人数", "审核中"]
    assert shown[-1][0] == "合计" and shown[-1][1] == sum(r[1] for r in shown[:-1])
    conditions = dict(map(tuple, book["统计条件"][1:]))
    assert (conditions["申报等级"], conditions["管理范围"]) == ("四级", "郑州市")
    if viewport is PHONE:
        check_layout(page, "报名统计 at 390 px")
    shoot(page, tmp_path / f"statistics-{viewport['width']}.png")
    close(page)
