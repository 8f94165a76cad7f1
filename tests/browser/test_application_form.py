"""The 报名信息 page in a real headless Chromium (R-A1 … R-A6, R-P2): fill a valid 四级 form by
工作年限, upload the photos by clicking them, 添加身份证号, 保存 with the eligibility panel turning
green, come back and find everything, 提交 and find the form locked; an incomplete 提交 names the
failed rules and leaves the form editable; 删除本人信息 with an SMS code; what the form offers
(routes, 申报岗位工种, required marks) is the service's answer, not the page's own rule."""
from __future__ import annotations

import re

import pytest
from helpers import Api
from pages import applicant, applicant_api, applicant_login, close, fill_valid, loaded, new_page, upload
from PIL import Image
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

CONFIRM_SUBMIT = "提交后信息不能被删除，也不能被修改，确认提交？"
RULES = "#elig-list li"
PASSED = "#elig-list li.pass"
FAILED = "#elig-list li.fail"


def login(page: Page, person) -> None:
    applicant_login(page, person)


def open_from_nav(page: Page) -> None:
    page.locator("nav.steps a[data-step=application]").click()
    expect(page).to_have_url(re.compile(r"/application$"))
    expect(page.locator("h1")).to_contain_text("报名信息")


def upload_by_click(page: Page, kind: str, path) -> None:
    """点击图片即可进行替换: the image opens the file chooser and the file goes up at once."""
    with page.expect_file_chooser() as chooser:
        page.locator(f"[data-upload={kind}]").click()
    chooser.value.set_files(str(path))


def passed_count(page: Page) -> int:
    return page.locator(PASSED).count()


def test_fill_save_come_back_and_submit(stack, province, browser, tmp_path):
    person = applicant(stack, province)
    photo = tmp_path / "photo-2cun.jpg"
    Image.new("RGB", (413, 579), (236, 240, 248)).save(photo, "JPEG")
    diploma = tmp_path / "diploma.png"
    Image.new("RGB", (800, 600), (250, 245, 230)).save(diploma, "PNG")

    page = new_page(browser, stack)
    login(page, person)
    open_from_nav(page)
    expect(page.locator("nav.steps li.active")).to_contain_text("报名信息")

    # The manual's texts, the read-only registration data, and a panel full of red rules.
    main = page.locator("main")
    expect(main).to_contain_text("*本人承诺保证所填写内容真实有效，如有虚假，本人承担一切责任")
    expect(main).to_contain_text("如果不具备破格晋级的条件，请不要勾选")
    expect(main).to_contain_text("是否存在禁止申报的情形（如：目前在处分期内、被立案尚未结案等）")
    expect(main).to_contain_text("最大值=考核年度-参加工作年份+1，只允许往下修改")
    expect(main).to_contain_text("1、需上传学历证书原件照片")
    expect(page.locator(".photo-tip").first).to_have_text("点击图片即可进行替换")
    expect(page.locator("#f-name")).to_have_text(person.name)
    expect(page.locator("#f-id_number")).to_have_text(person.id_number)
    expect(page.locator("#f-phone")).to_have_text(person.phone)
    expect(page.locator("#f-birth_month")).to_have_text(person.birth_month)
    expect(page.locator("#f-target_grade")).to_have_text("四级（中级工）")
    expect(page.locator("#app-status")).to_have_text("未提交")
    loaded(page, "#img-id_card_photo")  # the ID card photo from registration
    expect(page.locator(RULES)).to_have_count(14)
    expect(page.locator(FAILED).first).to_be_visible()
    expect(page.locator("#elig-list")).to_contain_text("以下必填项未填写")
    empty_passed = passed_count(page)
    assert 0 < empty_passed < 14
    expect(page.locator(".app-form .rule-failed").first).to_be_visible()  # failed fields are marked

    # Routes offered for 四级: both (plus 请选择).
    expect(page.locator("#f-route option")).to_have_count(3)

    # Fill every field of a valid 四级 form by 工作年限.
    page.select_option("#f-unit_id", "U410100-001")
    expect(page.locator("#f-unit_id option:checked")).to_have_text("郑州市第一人民医院")
    expect(page.locator("#unit-supervisor")).to_contain_text("郑州市卫生健康委员会")
    page.select_option("#f-education", label="高中")
    page.select_option("#f-work_start_year", "2000")
    page.select_option("#f-work_start_month", "03")
    year = int(page.evaluate("JSON.parse(document.getElementById('application-data').textContent).form.year"))
    max_years = str(year - 2000 + 1)
    expect(page.locator("#f-service_years")).to_have_value(max_years)      # defaults to the maximum
    expect(page.locator("#f-service_years")).to_have_attribute("max", max_years)
    page.select_option("#f-current_grade", "5")
    page.select_option("#f-current_trade", label="护理员")
    expect(page.locator("#f-current_trade")).to_have_value("T013")
    page.select_option("#f-target_trade", label="护理员")
    page.select_option("#f-route", "years")
    expect(page.locator("#f-route option:checked")).to_have_text("按工作年限申报")
    page.check("#f-prohibited-no")
    page.check("#f-pledge")
    expect(page.locator("#grade-certificate-text")).to_have_text("需上传五级（初级工）工勤岗位等级证书原件照片。")

    # Uploads go at once; the panel is asked again after each.
    upload_by_click(page, "personal_photo", photo)
    loaded(page, "#img-personal_photo")
    upload_by_click(page, "education_proof", diploma)
    loaded(page, "#img-education_proof")
    expect(page.locator("#elig-list li[data-rule='R-A4.13']")).to_have_class(re.compile(r"\bpass\b"))
    after_uploads = passed_count(page)
    assert after_uploads > empty_passed

    # 添加身份证号: the stamped copy appears next to the original.
    expect(page.locator("#stamped-col")).to_be_hidden()
    page.get_by_role("button", name="+ 添加身份证号").click()
    loaded(page, "#img-stamped")
    expect(page.locator("#stamped-tip")).to_have_text("已添加身份证号")

    # 保存: the toast, then every rule green.
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.locator("#toast")).to_have_text("已保存")
    expect(page.locator(PASSED)).to_have_count(14)
    expect(page.locator(FAILED)).to_have_count(0)
    expect(page.locator("#elig-verdict")).to_have_text("符合申报条件")
    expect(page.locator("#elig-passed")).to_have_text("14")
    expect(page.locator(".app-form .rule-failed")).to_have_count(0)
    assert empty_passed < after_uploads < 14
    expect(page.locator("#toast")).to_be_hidden()
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(tmp_path / "application-filled.png"), full_page=True)

    # Come back: every value is still there.
    page.goto("/home")
    open_from_nav(page)
    for selector, value in (("#f-unit_id", "U410100-001"), ("#f-education", "senior_high"),
                            ("#f-work_start_year", "2000"), ("#f-work_start_month", "03"),
                            ("#f-service_years", max_years), ("#f-current_grade", "5"),
                            ("#f-current_trade", "T013"), ("#f-target_trade", "T013"), ("#f-route", "years")):
        expect(page.locator(selector)).to_have_value(value)
    expect(page.locator("#unit-supervisor")).to_contain_text("郑州市卫生健康委员会")
    expect(page.locator("#f-prohibited-no")).to_be_checked()
    expect(page.locator("#f-prohibited-yes")).not_to_be_checked()
    expect(page.locator("#f-pledge")).to_be_checked()
    expect(page.locator("#f-exceptional")).not_to_be_checked()
    for img in ("#img-id_card_photo", "#img-personal_photo", "#img-education_proof", "#img-stamped"):
        loaded(page, img)
    expect(page.locator(PASSED)).to_have_count(14)
    expect(page.locator("nav.steps [data-step=review]")).to_have_attribute("aria-disabled", "true")

    # 提交 after the confirmation: locked, 审核中, 审核结果 open.
    dialogs: list[str] = []

    def accept(dialog):
        dialogs.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    page.get_by_role("button", name="提交", exact=True).click()
    expect(page.locator("#locked-banner")).to_be_visible()
    assert dialogs == [CONFIRM_SUBMIT]
    expect(page.locator("#app-status")).to_have_text("审核中")
    expect(page.locator("#locked-banner")).to_contain_text("审核中")
    for selector in ("#f-unit_id", "#f-education", "#f-work_start_year", "#f-service_years", "#f-current_grade",
                     "#f-target_trade", "#f-route", "#f-pledge", "#f-prohibited-no", "#f-exceptional",
                     "[data-upload=personal_photo]", "[data-upload=education_proof]"):
        expect(page.locator(selector)).to_be_disabled()
    for name in ("保存", "提交", "删除本人信息", "+ 添加身份证号"):
        expect(page.get_by_role("button", name=name, exact=True)).to_have_count(0)
    expect(page.locator("#f-unit_id")).to_have_value("U410100-001")
    review = page.locator("nav.steps a[data-step=review]")
    expect(review).to_have_attribute("href", "/review")
    loaded(page, "#img-stamped")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(tmp_path / "application-locked.png"), full_page=True)

    # The API agrees: submitted, and a save is refused.
    api = Api(stack.url)
    assert api.login(person.id_number, person.password).status_code == 201
    form = api.get("/api/v1/me/application").json()
    assert form["status"] == "in_review" and form["locked"] is True and form["round"] == 1
    assert api.put("/api/v1/me/application", json={"education": "bachelor"}).status_code == 409

    close(page)


def test_incomplete_submit_names_failed_rules_and_delete_self(stack, province, browser, tmp_path):
    person = applicant(stack, province, birth="19850920")
    page = new_page(browser, stack)
    login(page, person)
    open_from_nav(page)

    page.select_option("#f-unit_id", "U410100-003")
    expect(page.locator("#unit-supervisor")).to_contain_text("郑州市教育局")
    page.select_option("#f-education", "bachelor")
    page.select_option("#f-work_start_year", "2010")
    # Half a month is refused before anything is sent.
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.locator("[data-error-for=work_start]")).to_have_text("请同时选择参加工作时间的年份和月份")
    page.select_option("#f-work_start_month", "07")
    page.fill("#f-service_years", "99")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.locator("[data-error-for=service_years]")).to_contain_text("只允许往下修改")
    page.select_option("#f-work_start_month", "08")  # back to the maximum

    # 四级 by certificate: the grade certificate and its year become required.
    page.select_option("#f-current_grade", "5")
    page.select_option("#f-route", "certificate")
    expect(page.locator("#grade-certificate-req")).to_be_visible()

    page.get_by_role("button", name="提交", exact=True).click()
    alert = page.locator("#form-alert")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("报名信息不符合申报条件")
    expect(alert.locator("li").first).to_be_visible()
    expect(alert).to_contain_text("以下必填项未填写")
    expect(alert).to_contain_text("现岗位工种")
    expect(alert).to_contain_text("资料上传：请上传")
    failed = alert.locator("li").count()
    expect(page.locator(FAILED)).to_have_count(failed)
    expect(page.locator("#elig-list li[data-rule='R-A4.6']")).to_have_class(re.compile(r"\bfail\b"))
    expect(page.locator("#elig-list li[data-rule='R-A4.6']")).to_contain_text("请先填写现等级取得时间")
    for field in ("grade_obtained_year", "current_trade", "target_trade", "pledge", "prohibited",
                  "personal_photo", "education_proof", "grade_certificate"):
        expect(page.locator(f".app-form [data-field={field}].rule-failed").first).to_be_visible()
    expect(page.locator(".app-form [data-field=unit_id].rule-failed")).to_have_count(0)
    # Still editable, nothing submitted, what was filled is saved.
    expect(page.locator("#app-status")).to_have_text("未提交")
    expect(page.locator("#f-unit_id")).to_be_enabled()
    expect(page.get_by_role("button", name="保存", exact=True)).to_be_enabled()
    expect(page.locator("#locked-banner")).to_have_count(0)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(tmp_path / "application-incomplete.png"), full_page=True)
    page.reload()
    expect(page.locator("#f-unit_id")).to_have_value("U410100-003")
    expect(page.locator("#f-route")).to_have_value("certificate")

    # 删除本人信息: a fresh SMS code, then the account is gone.
    page.get_by_role("button", name="删除本人信息").click()
    dialog = page.locator("#delete-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="确认删除").click()
    expect(dialog.locator("[data-error-for=sms_code]")).to_have_text("请输入6位短信验证码")
    sms = dialog.locator("#delete-sms-button")
    sms.click()
    expect(sms).to_have_text(re.compile(r"\d+秒后重新获取"))
    page.fill("#f-delete-code", stack.sms_code(person.phone, "delete_self"))
    dialog.get_by_role("button", name="确认删除").click()
    expect(dialog.locator("#delete-done")).to_contain_text("本人信息已删除")
    expect(page).to_have_url(re.compile(r"/login$"))
    assert Api(stack.url).login(person.id_number, person.password).status_code == 401
    close(page)


def test_submit_checks_before_it_asks_to_confirm(stack, province, browser):
    """提交 saves and checks first: an incomplete form shows every failure and is never asked
    about (nor sent); only an eligible form gets the 提交后信息不能被删除… confirmation."""
    api, person = applicant_api(stack, province)
    page = new_page(browser, stack)
    dialogs: list[str] = []

    def answer(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", answer)
    login(page, person)
    page.goto("/application")
    page.select_option("#f-unit_id", "U410100-001")
    page.get_by_role("button", name="提交", exact=True).click()
    alert = page.locator("#form-alert")
    expect(alert).to_contain_text("报名信息不符合申报条件")
    failed = page.locator(FAILED)
    expect(alert.locator("li")).to_have_count(failed.count())
    assert failed.count() >= 5
    expect(alert).to_contain_text("以下必填项未填写")
    assert dialogs == []                                   # never asked: the check came first
    expect(page.locator("#app-status")).to_have_text("未提交")
    assert api.get("/api/v1/me/application").json()["unit_id"] == "U410100-001"   # saved

    fill_valid(api)                                         # now eligible (through the API)
    page.reload()
    with page.expect_event("dialog"):
        page.get_by_role("button", name="提交", exact=True).click()
    expect(page.locator("#form-alert")).to_be_hidden()
    assert dialogs == [CONFIRM_SUBMIT]                     # dismissed: nothing is sent
    expect(page.get_by_role("button", name="提交", exact=True)).to_be_enabled()
    expect(page.locator("#app-status")).to_have_text("未提交")
    assert api.get("/api/v1/me/application").json()["status"] == "not_submitted"
    close(page)


def test_reuploaded_photo_shows_the_new_stamp_or_asks_for_it(stack, province, browser, tmp_path):
    """A new 2-inch photo: when the answer carries a new stamped copy the preview shows it; when the
    stamped copy is gone (stamped_photo null) the page says 请重新点击“添加身份证号”.

    Both answers are made by the real service (the photo goes up, and is stamped when the answer
    is to carry a stamped copy) and handed to the page in place of its own request, so the test
    holds whether or not the service stamps a new photo by itself."""
    api, person = applicant_api(stack, province)
    fill_valid(api)
    first = api.post("/api/v1/me/application/files/personal_photo/stamp")
    assert first.status_code == 200 and first.json()["stamped_photo"], first.text
    other = tmp_path / "new-photo.jpg"
    page = new_page(browser, stack)
    login(page, person)
    page.goto("/application")
    loaded(page, "#img-stamped")
    note = page.locator("#stamp-note")
    expect(note).to_be_hidden()
    photo_url = re.compile(r"/api/v1/me/application/files/personal_photo$")

    def answer_with(stamped: bool):
        def handler(route):
            r = upload(api, "personal_photo", other.read_bytes())
            assert r.status_code == 200, r.text
            form = r.json()
            if stamped and not form["stamped_photo"]:
                form = api.post("/api/v1/me/application/files/personal_photo/stamp").json()
            if not stamped:
                form["stamped_photo"] = None
            route.fulfill(status=200, json=form)
        return handler

    # stamped_photo null in the answer: the old stamped copy goes, and the page says so
    Image.new("RGB", (413, 579), (210, 225, 245)).save(other, "JPEG")
    page.route(photo_url, answer_with(stamped=False))
    upload_by_click(page, "personal_photo", other)
    expect(note).to_be_visible()
    expect(note).to_contain_text("请重新点击“添加身份证号”")
    expect(page.locator("#stamped-col")).to_be_hidden()
    page.unroute(photo_url)
    page.get_by_role("button", name="+ 添加身份证号").click()
    loaded(page, "#img-stamped")
    expect(note).to_be_hidden()

    # an answer that carries a freshly stamped copy: the preview shows the new one
    Image.new("RGB", (413, 579), (250, 235, 215)).save(other, "JPEG")
    before = page.locator("#img-stamped").get_attribute("src")
    page.route(photo_url, answer_with(stamped=True))
    upload_by_click(page, "personal_photo", other)
    expect(page.locator("#img-stamped")).not_to_have_attribute("src", before)
    sha = api.get("/api/v1/me/application").json()["stamped_photo"]["sha256"]
    expect(page.locator("#img-stamped")).to_have_attribute("src", re.compile(sha[:12]))
    loaded(page, "#img-stamped")
    expect(note).to_be_hidden()
    close(page)


def test_field_errors_clear_when_the_field_changes(stack, province, browser):
    person = applicant(stack, province)
    page = new_page(browser, stack)
    login(page, person)
    page.goto("/application")
    unit = page.locator(".app-form .field[data-field=unit_id]")
    education = page.locator(".app-form .field[data-field=education]")
    expect(unit).to_have_class(re.compile(r"\brule-failed\b"))           # from the eligibility panel
    expect(education).to_have_class(re.compile(r"\brule-failed\b"))
    page.select_option("#f-unit_id", "U410100-001")
    expect(unit).not_to_have_class(re.compile(r"\brule-failed\b"))       # fixed: the frame goes
    expect(education).to_have_class(re.compile(r"\brule-failed\b"))     # not fixed: it stays

    page.select_option("#f-work_start_year", "2005")
    page.get_by_role("button", name="保存", exact=True).click()
    error = page.locator("[data-error-for=work_start]")
    expect(error).to_have_text("请同时选择参加工作时间的年份和月份")
    work = page.locator(".app-form .field[data-field=work_start]")
    expect(work).to_have_class(re.compile(r"\bhas-error\b"))
    page.select_option("#f-work_start_month", "09")
    expect(error).to_be_hidden()
    expect(work).not_to_have_class(re.compile(r"\bhas-error\b"))
    close(page)


def test_what_the_form_offers_comes_from_the_service(stack, province, browser):
    """Routes, 申报岗位工种 and the * marks follow GET …/choices for the unsaved controls; the page
    shows whatever the service answers (it keeps no rule of its own)."""
    person = applicant(stack, province)                     # 四级
    page = new_page(browser, stack)
    login(page, person)
    page.goto("/application")
    trades = page.locator("#f-target_trade option")
    all_trades = len(Api(stack.url).get("/api/v1/trades").json()) + 1      # and 请选择
    # nothing chosen yet: the service says choose the current trade first
    expect(trades).to_have_count(1)
    expect(page.locator("#target-trade-note")).to_contain_text("请先选择现岗位工种")

    # 打字员 (→ 计算机信息处理员) by certificate: only the mapped new trade, with the note
    page.select_option("#f-current_grade", "5")
    page.select_option("#f-current_trade", label="打字员")
    page.select_option("#f-route", "certificate")
    expect(trades).to_have_count(2)
    expect(page.locator("#f-target_trade option[value=T020]")).to_have_text("计算机信息处理员")
    expect(page.locator("#target-trade-note")).to_contain_text("只能从现岗位工种（打字员）对应的新工种中选择：计算机信息处理员")
    expect(page.locator("#grade-certificate-req")).to_be_visible()
    expect(page.locator(".field[data-field=grade_obtained_year] .field-label .req")).to_be_visible()
    # by 工作年限 the choice is free again and the certificate is not required
    page.select_option("#f-route", "years")
    expect(trades).to_have_count(all_trades)
    expect(page.locator("#target-trade-note")).to_be_hidden()
    expect(page.locator("#grade-certificate-req")).to_be_hidden()
    # 未定级: 现岗位工种 is no longer required
    page.select_option("#f-current_grade", "0")
    expect(page.locator(".field[data-field=current_trade] .field-label .req")).to_be_hidden()

    # whatever the service answers is what the page offers: here it offers one route only
    def one_route(route):
        response = route.fetch()
        route.fulfill(status=200, json={**response.json(), "routes": ["certificate"]})

    page.route(re.compile(r"/api/v1/me/application/choices\?"), one_route)
    page.select_option("#f-current_grade", "5")
    expect(page.locator("#f-route option")).to_have_count(2)
    expect(page.locator("#f-route")).to_have_value("certificate")
    close(page)
