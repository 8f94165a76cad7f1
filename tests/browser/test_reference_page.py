"""基础数据维护 in a real headless Chromium (R-P4, R-P1 咨询电话, R-A4 rules per year, R-R1 chains per
city): the province administrator imports units (GBK CSV, one good row, one refused with its
Chinese reason) and trades, sets a 县区 咨询电话, changes a 工龄要求 and a city's 审核流程 and puts
both back. A city administrator gets 无权访问.

The rules and the chain are shared by the whole test session: whatever this test changes it
restores, in the page and, should the test fail half-way, through the API."""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from harness import ADMIN_PASSWORD
from pages import new_page
from playwright.sync_api import Page, expect

from deploy.seed import DEMO_PASSWORD

pytestmark = pytest.mark.browser

UNITS_HEADER = "unit_id,name,city_code,county_code,supervisor_id,supervisor_name,supervisor_admin,supervisor_phone"
GOOD_UNIT = "U410200-950,开封市龙亭区测试中心,410200,410202,S410200-950,开封市测试管理局,kf_test,0371-23950000"
BAD_UNIT = "U410200-951,开封市越界单位,410200,410102,S410200-950,开封市测试管理局,kf_test,0371-23950000"
TRADES_CSV = "code,name,category,new_codes\nT950,测试工种九五零,测试类别,T950;T015\n"
CITY_CHAIN = "主管单位 → 省辖市 → 省评价中心"
DIRECT_CHAIN = "主管单位 → 省评价中心"
SCREENSHOT = Path("/tmp/reference-page.png")


def admin_login(page: Page, username: str, password: str) -> None:
    page.goto("/admin/login")
    page.fill("#f-username", username)
    page.fill("#f-password", password)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/admin$"))


def current_year(province) -> int:
    r = province.get("/api/v1/years/current")
    return r.json()["year"] if r.status_code == 200 else date.today().year


def test_province_maintains_reference_data(stack, province, browser, tmp_path):
    year = current_year(province)
    rules_url = f"/api/v1/admin/years/{year}/eligibility-rules"
    original_years = province.get(rules_url).json()["years_required"]
    assert original_years["4"] == 10, original_years
    original_chain = province.get("/api/v1/admin/review-chains/410200").json()["levels"]
    assert original_chain == ["supervisor", "city", "province"], original_chain

    page = new_page(browser, stack)
    try:
        admin_login(page, "admin", ADMIN_PASSWORD)
        page.locator("nav.adminnav").get_by_role("link", name="基础数据维护").click()
        expect(page).to_have_url(re.compile(r"/admin/reference$"))
        expect(page.locator("h1")).to_have_text("基础数据维护")
        expect(page.locator("#units-table")).to_contain_text("郑州市第一人民医院")
        expect(page.locator("#trades-table")).to_contain_text("汽车驾驶员")

        # --- 单位及主管单位: a GBK file, one good row and one of another city's county ----------
        units_file = tmp_path / "units.csv"
        units_file.write_bytes(f"{UNITS_HEADER}\n{GOOD_UNIT}\n{BAD_UNIT}\n".encode("gbk"))
        form = page.locator("#units-form")
        form.get_by_role("button", name="上传导入").click()
        expect(form.locator("[data-error-for=file]")).to_have_text("请选择要导入的 CSV 文件")
        page.set_input_files("#f-units-file", str(units_file))
        expect(page.locator("#units-filename")).to_have_text("units.csv")
        form.get_by_role("button", name="上传导入").click()
        result = page.locator("#units-result")
        expect(result).to_be_visible()
        expect(result.locator("[data-count=imported]")).to_have_text("1")
        expect(result.locator("[data-count=refused_count]")).to_have_text("1")
        expect(result).to_contain_text("导入 1 个单位")
        refused = page.locator("#units-refused tbody tr")
        expect(refused).to_have_count(1)
        expect(refused.locator("td")).to_have_text(["3", "U410200-951", "县区不属于该省辖市"])
        unit = page.locator("#units-table tr[data-unit='U410200-950'] td")
        expect(unit).to_have_text(["U410200-950", "开封市龙亭区测试中心", "开封市", "龙亭区", "开封市测试管理局",
                                   "kf_test", "0371-23950000"])
        expect(page.locator("#units-table tr[data-unit='U410200-951']")).to_have_count(0)
        expect(page.locator("#units-filename")).to_have_text("未选择文件")

        # --- 工种目录: a new trade mapped to itself and to 电工 ----------------------------------
        trades_file = tmp_path / "trades.csv"
        trades_file.write_text(TRADES_CSV, encoding="utf-8")
        page.set_input_files("#f-trades-file", str(trades_file))
        page.locator("#trades-form").get_by_role("button", name="上传导入").click()
        expect(page.locator("#trades-result [data-count=imported]")).to_have_text("1")
        expect(page.locator("#trades-result [data-count=refused_count]")).to_have_text("0")
        expect(page.locator("#trades-refused")).to_be_hidden()
        expect(page.locator("#trades-table tr[data-trade='T950'] td")).to_have_text(
            ["T950", "测试工种九五零", "测试类别", "测试工种九五零、电工"])

        # --- 咨询电话 for 开封市龙亭区 -------------------------------------------------------
        contacts = page.locator("#contacts-form")
        contacts.get_by_role("button", name="保存").click()
        expect(contacts.locator("[data-error-for=county_code]")).to_have_text("请选择县区")
        page.select_option("#f-county_code", "410202")
        page.fill("#f-phone", "0371-23950202")
        contacts.get_by_role("button", name="保存").click()
        expect(page.locator("#contacts-message")).to_have_text("已保存：开封市龙亭区 咨询电话 0371-23950202")
        expect(page.locator("#contacts-table tr[data-county='410202'] td").nth(3)).to_have_text("0371-23950202")
        expect(page.locator("#contacts-table tr[data-county='410102']")).to_contain_text("0371-67180102")
        page.screenshot(path=str(SCREENSHOT), full_page=True)
        print(f"screenshot: {SCREENSHOT}")

        # --- 申报条件: 四级 工龄要求 10 → 9, kept after a reload, then back to 10 ---------------
        rules = page.locator("#rules-form")
        expect(page.locator("#rules-year")).to_have_text(str(year))
        expect(page.locator("#f-years-4")).to_have_value("10")
        page.fill("#f-years-4", "9")
        rules.get_by_role("button", name="保存申报条件").click()
        expect(page.locator("#rules-message")).to_contain_text("四级工龄要求")
        page.reload()
        expect(page.locator("#f-years-4")).to_have_value("9")
        expect(page.locator("#f-years-3")).to_have_value(str(original_years["3"]))
        expect(page.locator("#f-years-1")).to_have_value(str(original_years["1"]))
        expect(page.locator("#contacts-table tr[data-county='410202']")).to_contain_text("0371-23950202")
        page.fill("#f-min_age", "70")
        rules.get_by_role("button", name="保存申报条件").click()
        expect(rules.locator("[data-error-for=max_age]")).to_have_text("年龄上限应大于年龄下限")
        page.fill("#f-min_age", str(province.get(rules_url).json()["min_age"]))
        page.fill("#f-years-4", "10")
        rules.get_by_role("button", name="保存申报条件").click()
        expect(page.locator("#rules-message")).to_contain_text("已保存")
        assert province.get(rules_url).json()["years_required"] == original_years
        page.reload()
        expect(page.locator("#f-years-4")).to_have_value("10")

        # --- 审核流程: 开封 主管单位→省评价中心, kept after a reload, then back --------------------
        kaifeng = page.locator("#chains-table tr[data-city='410200']")
        expect(kaifeng.locator("[data-chain-text]")).to_have_text(CITY_CHAIN)
        direct = page.locator("#chains-table tr[data-city='410000']")
        expect(direct.locator("[data-chain-text]")).to_have_text(DIRECT_CHAIN)
        expect(direct.locator("select option")).to_have_text([DIRECT_CHAIN])
        expect(kaifeng.locator("select option")).to_have_text([CITY_CHAIN, DIRECT_CHAIN])
        kaifeng.locator("select").select_option(label=DIRECT_CHAIN)
        kaifeng.get_by_role("button", name="保存").click()
        expect(kaifeng.locator("[data-saved]")).to_have_text("已保存")
        expect(kaifeng.locator("[data-chain-text]")).to_have_text(DIRECT_CHAIN)
        page.reload()
        expect(kaifeng.locator("[data-chain-text]")).to_have_text(DIRECT_CHAIN)
        kaifeng.locator("select").select_option(label=CITY_CHAIN)
        kaifeng.get_by_role("button", name="保存").click()
        expect(kaifeng.locator("[data-saved]")).to_have_text("已保存")
        expect(kaifeng.locator("[data-chain-text]")).to_have_text(CITY_CHAIN)
        assert province.get("/api/v1/admin/review-chains/410200").json()["levels"] == original_chain
        assert page.js_errors == []
    finally:
        page.context.close()
        province.put(rules_url, json={"years_required": original_years})
        province.put("/api/v1/admin/review-chains/410200", json={"levels": original_chain})


def test_city_admin_gets_no_access(stack, browser):
    page = new_page(browser, stack)
    try:
        admin_login(page, "zz_city", DEMO_PASSWORD)
        expect(page.locator("nav.adminnav")).not_to_contain_text("基础数据维护")
        resp = page.goto("/admin/reference")
        assert resp is not None and resp.status == 403
        expect(page.locator("h1")).to_have_text("无权访问")
        expect(page.locator(".error-message")).to_have_text("您的管理员角色无权进行此操作")
        assert page.js_errors == []
    finally:
        page.context.close()
