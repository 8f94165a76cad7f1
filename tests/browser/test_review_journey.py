"""The review chain in a real headless Chromium (R-R1 … R-R3, R-P2, R-P4): a 主管单位 reviewer
退回s a submitted application (a reason is required), the applicant sees the 退回 pop-up, edits
and resubmits; the 主管单位 passes it on the case page, the 省辖市 by 批量通过 in the queue, the
省评价中心 on the case page; the applicant's 审核结果 shows 审核通过, every step with masked
reviewer names and every level's contact. A 县区 administrator only looks.

The applicant is registered, filled in and submitted through the API to save time; everything
after that happens in the pages. Services talk through events: after a decision the pages are
reloaded until the new state shows."""
from __future__ import annotations

import re
import time

import pytest
from harness import ADMIN_PASSWORD
from helpers import Api, jpeg_bytes, new_person, png_bytes, register
from pages import (
    VALID_4_BY_YEARS,
    admin_api,
    admin_login,
    applicant_login,
    close,
    decide,
    loaded,
    new_page,
    reload_until,
    submitted,
    upload,
)
from PIL import Image
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

CONFIRM_SUBMIT = "提交后信息不能被删除，也不能被修改，确认提交？"
RETURN_REASON = "个人照片不清晰，且文化程度与学历证明不一致，请修改后重新提交"


def shoot(page: Page, path) -> None:
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")


def open_case_from_queue(page: Page, app_id: str, status_label: str = "待我审核") -> None:
    row = page.locator(f"#queue-table tr[data-id='{app_id}']")
    reload_until(page, "/admin/reviews?status=pending", row)
    expect(page.locator("#q-status option:checked")).to_have_text(status_label)
    row.get_by_role("link", name="查看").click()
    expect(page).to_have_url(re.compile(rf"/admin/reviews/{app_id}$"))


def decide_on_case_page(page: Page, decision_label: str, reason: str | None = None) -> None:
    panel = page.locator("#decision-panel")
    panel.get_by_label(decision_label, exact=True).check()
    if reason is not None:
        panel.locator("#f-reason").fill(reason)
    panel.get_by_role("button", name="提交审核意见").click()


def test_return_resubmit_and_three_levels_pass(stack, province, browser, tmp_path):
    _, person, app_id = submitted(stack, province)           # 郑州市第一人民医院, 四级, 文化程度 高中

    # --- the 主管单位 (zz_wsjw, 孔德明) finds the case, looks at the photos, 退回s it ----------
    sup = new_page(browser, stack)
    admin_login(sup, "zz_wsjw")
    expect(sup.locator("#review-entry")).to_contain_text("待我审核")
    expect(sup.locator("[data-testid=pending-count]")).to_have_text(re.compile(r"^\d+$"))
    sup.locator("nav.adminnav").get_by_role("link", name="报名审核").click()
    expect(sup).to_have_url(re.compile(r"/admin/reviews$"))
    expect(sup.locator("h1")).to_contain_text("报名审核")
    open_case_from_queue(sup, app_id)
    expect(sup.locator("h1")).to_contain_text(person.name)
    expect(sup.locator("#case-status")).to_have_text("待主管单位审核")
    expect(sup.locator("#case-chain li.chain-current")).to_contain_text("主管单位")
    expect(sup.locator("[data-testid=case-education]")).to_have_text("高中")
    expect(sup.locator("#case-form")).to_contain_text("郑州市第一人民医院")
    expect(sup.locator("#case-form")).to_contain_text("按工作年限申报")
    expect(sup.locator("#case-form")).to_contain_text("护理员")
    for kind in ("id_card_photo", "personal_photo", "education_proof"):
        loaded(sup, f"#img-{kind}")
    expect(sup.locator("a:has(#img-personal_photo)")).to_have_attribute("target", "_blank")
    shoot(sup, tmp_path / "admin-case.png")

    decide_on_case_page(sup, "退回")                           # no reason: the API's message
    reason_error = sup.locator("#decision-panel [data-error-for=reason]")
    expect(reason_error).to_be_visible()
    expect(reason_error).to_have_text("退回须填写原因")
    expect(sup).to_have_url(re.compile(rf"/admin/reviews/{app_id}$"))
    decide_on_case_page(sup, "退回", RETURN_REASON)
    expect(sup).to_have_url(re.compile(r"/admin/reviews(\?.*)?$"))
    expect(sup.locator("#page-notice")).to_contain_text("退回")
    expect(sup.locator(f"#queue-table tr[data-id='{app_id}']")).to_have_count(0)   # not pending any more

    # --- the applicant: the 退回 pop-up with the reason, then edit and resubmit --------------
    me = new_page(browser, stack)
    applicant_login(me, person)
    dialog = me.locator("#returned-dialog")
    reload_until(me, "/home", dialog)
    expect(dialog.locator("h2")).to_have_text("您的报名信息已被退回")
    expect(dialog.locator("#returned-dialog-reason")).to_have_text(RETURN_REASON)
    expect(dialog).to_contain_text("主管单位审核员 孔**")
    expect(dialog.get_by_role("link", name="查看审核结果")).to_be_visible()
    shoot(me, tmp_path / "applicant-returned-popup.png")
    dialog.get_by_role("link", name="修改报名信息").click()
    expect(me).to_have_url(re.compile(r"/application$"))
    expect(me.locator("#returned-banner")).to_contain_text(RETURN_REASON)
    expect(me.locator("#app-status")).to_have_text("退回")
    me.goto("/home", wait_until="networkidle")                 # closed once: not again this session
    expect(me.locator("#returned-dialog")).to_be_hidden()
    me.goto("/review")
    expect(me.locator("#review-status")).to_have_text("退回")
    expect(me.locator("#review-reason")).to_have_text(RETURN_REASON)
    expect(me.locator("#returned-dialog")).to_be_hidden()
    me.get_by_role("link", name="修改报名信息").click()
    expect(me).to_have_url(re.compile(r"/application$"))
    expect(me.locator("#f-education")).to_be_enabled()
    me.select_option("#f-education", label="大学本科")
    me.get_by_role("button", name="保存").click()
    expect(me.locator("#toast")).to_have_text("已保存")
    me.once("dialog", lambda d: d.accept() if d.message == CONFIRM_SUBMIT else d.dismiss())
    me.get_by_role("button", name="提交").click()
    expect(me.locator("#app-status")).to_have_text("审核中")
    me.goto("/review")
    expect(me.locator("#review-status")).to_have_text("审核中")

    # --- the 主管单位 passes the resubmitted form on the case page -------------------------------
    open_case_from_queue(sup, app_id)
    expect(sup.locator("[data-testid=case-education]")).to_have_text("大学本科")
    history = sup.locator("#case-history tbody tr")
    expect(history).to_have_count(3)
    expect(history.nth(1)).to_contain_text("孔德明")
    expect(history.nth(1)).to_contain_text(RETURN_REASON)
    decide_on_case_page(sup, "通过")
    expect(sup.locator("#page-notice")).to_contain_text("已转至省辖市审核")

    # --- a 县区 administrator (中原区) sees the case, read-only ----------------------------------
    county = new_page(browser, stack)
    admin_login(county, "zz_zhongyuan")
    county_row = county.locator(f"#queue-table tr[data-id='{app_id}']")
    reload_until(county, "/admin/reviews", county_row)
    expect(county.locator("#q-status option:checked")).to_have_text("全部")
    expect(county.locator("input.row-check")).to_have_count(0)
    expect(county.locator("#batch-pass")).to_have_count(0)
    county_row.get_by_role("link", name="查看").click()
    expect(county.locator("#decision-panel")).to_have_count(0)
    expect(county.locator("#case-chain li.chain-current")).to_contain_text("省辖市")

    # --- the 省辖市 (zz_city, 王建国) passes it with 批量通过 in the queue -------------------------
    city = new_page(browser, stack)
    admin_login(city, "zz_city")
    row = city.locator(f"#queue-table tr[data-id='{app_id}']")
    reload_until(city, "/admin/reviews", row)
    expect(row).to_contain_text(person.name)
    expect(row).to_contain_text(person.id_number[:6] + "********" + person.id_number[-4:])
    expect(row).to_contain_text("郑州市第一人民医院")
    expect(row).to_contain_text("四级")
    expect(row).to_contain_text("省辖市")
    expect(city.locator("#batch-pass")).to_be_disabled()
    row.locator("input.row-check").check()
    expect(city.locator("#selected-count")).to_have_text("1")
    confirms = []
    city.once("dialog", lambda d: (confirms.append(d.message), d.accept()))
    city.get_by_role("button", name="批量通过").click()
    result = city.locator("#batch-result")
    expect(result).to_be_visible()
    expect(city.locator("#batch-summary")).to_have_text("批量通过完成：成功 1 条，失败 0 条。")
    expect(result.locator(f"tr[data-id='{app_id}']")).to_contain_text("成功")
    assert confirms and "审核通过" in confirms[0] and person.name in confirms[0], confirms
    shoot(city, tmp_path / "admin-queue.png")
    # the filters: a plain GET form; the units offered are the city's own
    city.goto("/admin/reviews")
    expect(city.locator("#q-unit_id option[value='U410300-001']")).to_have_count(0)     # 洛阳: not in scope
    city.select_option("#q-status", "all")
    city.select_option("#q-unit_id", "U410100-001")
    city.select_option("#q-grade", "4")
    city.get_by_role("button", name="查询").click()
    expect(city).to_have_url(re.compile(r"unit_id=U410100-001"))
    expect(city.locator(f"#queue-table tr[data-id='{app_id}']")).to_contain_text("待省评价中心审核")
    expect(city.locator(f"#queue-table tr[data-id='{app_id}'] input.row-check")).to_have_count(0)
    city.select_option("#q-grade", "1")
    city.get_by_role("button", name="查询").click()
    expect(city.locator(f"#queue-table tr[data-id='{app_id}']")).to_have_count(0)
    city.goto("/admin/reviews?status=all&submitted_from=2026-02-30")
    expect(city.locator("#queue-error")).to_contain_text("日期")

    # --- the 省评价中心 gives the final pass on the case page -------------------------------------
    prov = new_page(browser, stack)
    admin_login(prov, "admin", ADMIN_PASSWORD)
    reload_until(prov, f"/admin/reviews/{app_id}", prov.locator("#decision-panel"))
    expect(prov.locator("#case-chain li.chain-current")).to_contain_text("省评价中心")
    history = prov.locator("#case-history tbody tr")
    expect(history).to_have_count(5)
    expect(history.nth(4)).to_contain_text("王建国")
    decide_on_case_page(prov, "通过")
    expect(prov.locator("#page-notice")).to_contain_text("终审通过")

    # --- the applicant's 审核结果 -------------------------------------------------------------
    status = me.locator("#review-status")
    reload_until(me, "/review", me.locator("#review-status", has_text="审核通过"))
    expect(status).to_have_text("审核通过")
    expect(me.locator("nav.steps li.active")).to_contain_text("审核结果")
    expect(me.locator("[data-testid=review-congrats]")).to_contain_text("恭喜")
    expect(me.locator("#review-approved")).to_contain_text("网上缴费")
    steps = me.locator("#review-steps tbody tr")
    expect(steps).to_have_count(6)
    expected = [("报考人员", person.name[0] + "*" * (len(person.name) - 1), "已提交", None),
                ("主管单位", "孔**", "退回", RETURN_REASON),
                ("报考人员", person.name[0] + "*" * (len(person.name) - 1), "已提交", None),
                ("主管单位", "孔**", "主管单位审核通过", None),
                ("省辖市", "王**", "省辖市审核通过", None),
                ("省评价中心", None, "省评价中心审核通过", None)]
    for i, (level, reviewer, outcome, reason) in enumerate(expected):
        cells = steps.nth(i).locator("td")
        expect(cells.nth(1)).to_have_text(level)
        if reviewer:
            expect(cells.nth(2)).to_have_text(reviewer)
        expect(cells.nth(3)).to_contain_text(outcome)
        if reason:
            expect(cells.nth(4)).to_have_text(reason)
        expect(cells.nth(5)).to_have_text(re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"))
    assert "孔德明" not in me.locator("main").inner_text() and "王建国" not in me.locator("main").inner_text()
    contacts = me.locator("#review-contacts tbody tr")
    expect(contacts).to_have_count(3)
    expect(contacts.nth(0)).to_contain_text("主管单位")
    expect(contacts.nth(0)).to_contain_text("孔**")                 # masked: never a login name
    assert "zz_wsjw" not in me.locator("main").inner_text()
    expect(contacts.nth(0)).to_contain_text("0371-67180001")
    expect(contacts.nth(1)).to_contain_text("省辖市")
    expect(contacts.nth(1)).to_contain_text("0371-67180000")
    expect(contacts.nth(2)).to_contain_text("省评价中心")
    expect(contacts.nth(2).locator("td").nth(2)).to_have_text(re.compile(r"\d{3,4}-\d{7,8}"))
    shoot(me, tmp_path / "applicant-review-approved.png")

    close(sup, me, county, city, prov)


def test_conflict_reject_and_reopen(stack, province, browser, tmp_path):
    """Two reviewers on one case: the second gets the 409 with the current state and 刷新;
    审核不通过 needs a reason and a confirmation; the applicant reads the manual's text; the
    province reopens it and the applicant gets the 退回 pop-up."""
    _, person, app_id = submitted(stack, province)
    first, second = new_page(browser, stack), new_page(browser, stack)
    for page in (first, second):
        admin_login(page, "zz_wsjw")
        reload_until(page, f"/admin/reviews/{app_id}", page.locator("#decision-panel"))
    decide_on_case_page(first, "通过")
    expect(first.locator("#page-notice")).to_contain_text("已转至省辖市审核")
    decide_on_case_page(second, "退回", "材料不全")
    conflict = second.locator("#decision-conflict")
    expect(conflict).to_be_visible()
    expect(conflict).to_contain_text("待省辖市审核")
    shoot(second, tmp_path / "admin-case-conflict.png")
    conflict.get_by_role("button", name="刷新").click()
    expect(second.locator("#not-your-turn")).to_contain_text("待省辖市审核")
    expect(second.locator("#decision-panel")).to_have_count(0)

    city = new_page(browser, stack)
    admin_login(city, "zz_city")
    reload_until(city, f"/admin/reviews/{app_id}", city.locator("#decision-panel"))
    decide_on_case_page(city, "审核不通过")
    expect(city.locator("#decision-panel [data-error-for=reason]")).to_have_text("审核不通过须填写原因")
    confirms = []
    city.once("dialog", lambda d: (confirms.append(d.message), d.accept()))
    decide_on_case_page(city, "审核不通过", "工作年限不符合申报条件")
    expect(city.locator("#page-notice")).to_contain_text("审核不通过")
    assert confirms and "终止" in confirms[0], confirms

    me = new_page(browser, stack)
    applicant_login(me, person)
    reload_until(me, "/review", me.locator("#review-status", has_text="审核不通过"))
    expect(me.locator("[data-testid=rejected-text]")).to_have_text(
        "审核员认为该报考人员不符合本年度报考条件，终止该报考人员本年度申报。报考人员无法再进行修改提交，"
        "若报考人员对该审核意见有异议，可电话咨询审核人员。若沟通后认定符合报考条件，但需要修改报考填报信息，"
        "需联系审核员将该条申请退回给本人后，再进行修改提交。")
    expect(me.locator("#review-reason")).to_have_text("工作年限不符合申报条件")
    expect(me.locator("#review-contacts tbody tr")).to_have_count(3)
    shoot(me, tmp_path / "applicant-review-rejected.png")

    prov = new_page(browser, stack)
    admin_login(prov, "admin", ADMIN_PASSWORD)
    prov.goto(f"/admin/reviews/{app_id}")
    expect(prov.locator("#case-chain li.chain-stopped")).to_contain_text("省辖市")
    panel = prov.locator("#reopen-panel")
    panel.get_by_role("button", name="重新退回修改").click()
    expect(panel.locator("[data-error-for=reason]")).to_have_text("重新退回修改须填写原因")
    panel.locator("#f-reopen-reason").fill("经核实符合条件，请修改工作年限后重新提交")
    panel.get_by_role("button", name="重新退回修改").click()
    expect(prov.locator("#page-notice")).to_contain_text("已重新退回报考人员修改")

    reload_until(me, "/home", me.locator("#returned-dialog"))
    expect(me.locator("#returned-dialog-reason")).to_have_text("经核实符合条件，请修改工作年限后重新提交")
    me.keyboard.press("Escape")
    expect(me.locator("#returned-dialog")).to_be_hidden()
    me.goto("/review", wait_until="networkidle")
    expect(me.locator("#review-status")).to_have_text("退回")
    expect(me.locator("#returned-dialog")).to_be_hidden()

    close(first, second, city, me, prov)


def test_grade_one_materials_uploaded_by_the_city(stack, province, browser, tmp_path):
    """一级 (R-R4): the 省辖市 uploads 工资审核表 and 考核优秀材料 on the case page; the province
    sees them view-only and gives the final pass."""
    person = new_person(province, birth="19700101")
    p_api = Api(stack.url)
    assert register(stack, p_api, person, declared_grade="1").status_code == 201
    assert p_api.login(person.id_number, person.password).status_code == 201
    form = {"current_grade": 2, "grade_obtained_year": 2015, "route": "certificate", "work_start": "1990-01",
            "service_years": None, "current_trade": "T013", "target_trade": "T013"}
    r = p_api.put("/api/v1/me/application", json={**VALID_4_BY_YEARS, **form})
    assert r.status_code == 200, r.text
    assert upload(p_api, "personal_photo", jpeg_bytes(413, 579)).status_code == 200
    for kind in ("education_proof", "grade_certificate"):
        assert upload(p_api, kind, png_bytes(), "x.png", "image/png").status_code == 200
    r = p_api.post("/api/v1/me/application/submit")
    assert r.status_code == 200, r.text
    app_id = r.json()["application_id"]
    sup = admin_api(stack, "zz_wsjw")
    deadline = time.time() + 15
    while decide(sup, app_id, "pass").status_code != 200:        # the case opens by event
        assert time.time() < deadline, "the case did not open"
        time.sleep(0.2)

    wage = tmp_path / "wage.png"
    excellence = tmp_path / "excellence.jpg"
    Image.new("RGB", (900, 640), (236, 244, 232)).save(wage, "PNG")
    Image.new("RGB", (640, 900), (250, 236, 236)).save(excellence, "JPEG")

    city = new_page(browser, stack)
    admin_login(city, "zz_city")
    reload_until(city, f"/admin/reviews/{app_id}", city.locator("#decision-panel"))
    materials = city.locator("#case-materials")
    expect(materials).to_contain_text("工资审核表")
    expect(materials).to_contain_text("考核优秀（优秀党员）材料")
    expect(materials.locator(".case-file-empty")).to_have_count(2)
    expect(city.locator("#case-form")).to_contain_text("一级（高级技师）")
    loaded(city, "#img-grade_certificate")
    city.locator("#material-wage_review_form").set_input_files(str(wage))
    expect(city.locator("#page-notice")).to_have_text("工资审核表已上传。")
    loaded(city, "#img-wage_review_form")
    city.locator("#material-excellence_material").set_input_files(str(excellence))
    expect(city.locator("#page-notice")).to_have_text("考核优秀（优秀党员）材料已上传。")
    loaded(city, "#img-excellence_material")
    shoot(city, tmp_path / "admin-case-grade-one.png")
    decide_on_case_page(city, "通过")
    expect(city.locator("#page-notice")).to_contain_text("已转至省评价中心审核")

    prov = new_page(browser, stack)
    admin_login(prov, "admin", ADMIN_PASSWORD)
    reload_until(prov, f"/admin/reviews/{app_id}", prov.locator("#decision-panel"))
    loaded(prov, "#img-wage_review_form")
    loaded(prov, "#img-excellence_material")
    expect(prov.locator("#case-materials input[type=file]")).to_have_count(0)
    expect(prov.locator("#case-materials")).to_contain_text("仅供查看")
    decide_on_case_page(prov, "通过")
    expect(prov.locator("#page-notice")).to_contain_text("终审通过")

    close(city, prov)
