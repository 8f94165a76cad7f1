"""The applicant's pages around the forms, as a new user meets them (issue 7 loose ends, R-P1,
R-P2; issue 8 page items): the 修改密码 link, the whole 报考人员手册, 咨询电话 by city, the home
page's next step, the steps, contrast, the Content-Security-Policy and logging out by POST, and
every applicant page on a phone."""
from __future__ import annotations

import re
import time

import pytest
import requests
from harness import ADMIN_PASSWORD
from helpers import Api
from pages import (
    PHONE,
    SMALL_PHONE,
    admin_login,
    applicant,
    applicant_login,
    check_layout,
    close,
    contrast,
    low_contrast,
    new_page,
    returned,
    submitted,
)
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

RETURN_REASON = "个人照片背景不符合要求，且学历证明材料不清晰，请按要求重新上传后再提交"
CSP_PARTS = ("default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'",
             "frame-ancestors 'none'", "form-action 'self'")


@pytest.fixture(scope="module")
def returned_applicant(stack):
    """One applicant whose submitted form the 主管单位 has 退回ed (shared by this module's tests)."""
    province = Api(stack.url).login_admin("admin", ADMIN_PASSWORD)
    _, person, _ = returned(stack, province, RETURN_REASON)
    return person


def test_applicant_header_links_to_password(stack, province, browser):
    person = applicant(stack, province)
    page = new_page(browser, stack)
    applicant_login(page, person)
    for path in ("/home", "/application", "/manual/applicant"):
        page.goto(path)
        expect(page.locator("header").get_by_role("link", name="修改密码")).to_have_attribute("href", "/password")
    page.locator("header").get_by_role("link", name="修改密码").click()
    expect(page).to_have_url(re.compile(r"/password$"))
    expect(page.locator("h1")).to_have_text("修改密码")
    close(page)


def test_applicant_manual_has_every_chapter(stack, browser):
    page = new_page(browser, stack)
    page.goto("/manual/applicant")
    manual = page.locator("#applicant-manual")
    for heading in ("一、注册登录", "1. 注册", "2. 登录", "3. 密码重置", "二、报名", "1. 开始报名", "2. 审核结果",
                    "3. 缴费", "4. 打印准考证", "三、考核结果查询", "四、打印电子证书"):
        expect(manual.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    expect(page.locator("#apply-points li")).to_have_count(15)      # 基本信息填报注意点
    expect(page.locator("#apply-points li").nth(14)).to_contain_text("工资审核表和考核优秀（优秀党员）材料由上级审核员上传")
    expect(page.locator("#apply-buttons li")).to_have_count(3)     # 删除本人信息, 保存, 提交
    expect(page.locator("#ticket-rules li")).to_have_count(8)      # 应考人员须知
    expect(page.locator("#ticket-rules li").nth(7)).to_contain_text("ha.nva.net.cn")
    for text in ("注册成功后跳转至登录页面", "系统会弹窗提示原因", "终止该报考人员本年度申报",
                 "2-5 级终审通过 24 小时后才可以缴费，1 级终审通过 48 小时后，才可以缴费",
                 "收据信息一旦提交，本年度无法修改", "确认缴费", "取消缴费", "考试时间已过",
                 "合格", "不合格", "下载电子证书"):
        expect(manual).to_contain_text(text)
    scores = page.locator("#score-table tbody tr")
    expect(scores).to_have_count(4)
    for i, subject in enumerate(("职业道德", "职业能力", "岗位技能", "总成绩")):
        expect(scores.nth(i).locator("td").first).to_have_text(subject)
    expect(scores.nth(0)).to_contain_text("35")
    close(page)


def test_contacts_page_lists_county_phones_by_city(stack, province, browser):
    page = new_page(browser, stack)
    page.goto("/manual/contacts")
    expect(page.locator("#center-phone")).to_have_text(re.compile(r"^\d{3,4}-\d{7,8}$"))
    zhengzhou = page.locator("[data-city='郑州市']")
    expect(zhengzhou.locator("h3")).to_have_text("郑州市")
    expect(zhengzhou.locator("tr[data-county='410102']")).to_contain_text("中原区")
    expect(zhengzhou.locator("tr[data-county='410102']")).to_contain_text("0371-67180102")
    expect(page.locator("[data-city='洛阳市'] tr[data-county='410303']")).to_contain_text("0379-63910303")
    # a phone the province publishes shows under its own city at once, and goes when removed
    r = province.put("/api/v1/admin/contacts", json={"counties": [{"county_code": "410204", "phone": "0371-22220204"}]})
    assert r.status_code == 200, r.text
    try:
        page.reload()
        expect(page.locator("[data-city='开封市'] tr[data-county='410204']")).to_contain_text("鼓楼区")
        expect(page.locator("[data-city='开封市'] tr[data-county='410204']")).to_contain_text("0371-22220204")
        expect(page.locator("[data-city='郑州市'] tr[data-county='410204']")).to_have_count(0)
    finally:
        province.put("/api/v1/admin/contacts", json={"counties": [{"county_code": "410204", "phone": ""}]})
    page.reload()
    expect(page.locator("tr[data-county='410204']")).to_have_count(0)
    close(page)


def test_steps_show_only_visible_ones_and_closed_ones_are_no_links(stack, province, browser):
    """R-P2: 郑州 pays offline (no online-payment city yet): 网上缴费 is hidden and the others are
    numbered 1 to 5; a closed step is no link and says why, in the steps bar and on the home page."""
    person = applicant(stack, province)
    page = new_page(browser, stack)
    applicant_login(page, person)
    steps = page.locator("nav.steps li")
    expect(steps).to_have_count(5)
    for i, title in enumerate(("报名信息", "审核结果", "打印准考证", "考核结果", "打印电子证书")):
        expect(steps.nth(i)).to_contain_text(f"{i + 1}{title}")
    expect(page.locator("nav.steps [data-step=payment]")).to_have_count(0)
    expect(page.locator("nav.steps a")).to_have_count(1)                       # 报名信息 only
    expect(page.locator("nav.steps a[data-step=application]")).to_have_attribute("href", "/application")
    for key, reason in (("review", "提交报名信息后可查看审核结果"), ("ticket", "终审通过后方可打印准考证")):
        closed = page.locator(f"nav.steps [data-step={key}]")
        expect(closed).to_have_attribute("aria-disabled", "true")
        expect(closed).to_have_attribute("title", reason)
        expect(closed).not_to_have_attribute("href", re.compile(".*"))
        expect(page.locator(f"#step-list [data-step={key}]")).to_contain_text(reason)   # visible text
        expect(page.locator(f"#step-list [data-step={key}] a")).to_have_count(0)
    close(page)


def test_home_tells_what_to_do_next(stack, province, browser):
    person = applicant(stack, province)
    page = new_page(browser, stack)
    applicant_login(page, person)
    expect(page.locator("main")).not_to_contain_text("正在逐步开放")
    expect(page.locator("#next-text")).to_contain_text("请点击“报名信息”")
    expect(page.locator("#next-button")).to_have_attribute("href", "/application")
    page.locator("#next-button").click()
    expect(page).to_have_url(re.compile(r"/application$"))

    _, waiting, _ = submitted(stack, province)                  # another applicant, in review
    other = new_page(browser, stack)
    applicant_login(other, waiting)
    expect(other.locator("#next-text")).to_contain_text("正在审核中")
    expect(other.locator("#next-button")).to_have_attribute("href", "/review")
    expect(other.locator("#next-step")).to_contain_text("打印准考证")
    expect(other.locator("#next-step")).to_contain_text("终审通过后方可打印准考证")
    close(page, other)


def test_returned_banner_and_disabled_steps_are_readable(stack, browser, returned_applicant):
    """WCAG AA: every text at least 4.5:1 against what is behind it, computed in the browser from
    the elements' own colours (the 退回 banner, the closed steps and their numbers, and every text
    of the pages' main part and steps bar). The home and 审核结果 pages list the 退回 notice
    once, with its reason (消息通知, issue 14)."""
    page = new_page(browser, stack)
    applicant_login(page, returned_applicant)
    page.locator("#returned-dialog").get_by_role("button", name="关闭").click()
    page.goto("/application")
    banner = page.locator("#returned-banner")
    expect(banner).to_contain_text(RETURN_REASON)
    assert contrast(banner) >= 4.5
    closed = page.locator("nav.steps .step.disabled .step-off")
    expect(closed.first).to_be_visible()
    for i in range(closed.count()):
        assert contrast(closed.nth(i)) >= 4.5, closed.nth(i).inner_text()
        assert contrast(closed.nth(i).locator(".num")) >= 4.5
    for path in ("/home", "/application", "/review"):
        page.goto(path)
        if path != "/application":          # 消息通知 (issue 14): the 退回 SMS, once, with its reason
            message = page.locator("#messages li.message")
            expect(message).to_have_count(1)
            expect(message).to_have_attribute("data-kind", "returned")
            expect(message.locator(".message-text")).to_contain_text(f"退回原因：{RETURN_REASON}")
        assert low_contrast(page, "main") == [], path
        assert low_contrast(page, ".infobar") == [], path
    close(page)


def test_file_inputs_are_named_and_not_tab_stops(stack, province, browser):
    """Each upload is reached once by the keyboard, through its visible button; the file input
    behind it has a name and is no tab stop of its own."""
    def tab_stops(page: Page) -> list[str]:
        page.locator("body").focus()
        seen = []
        for _ in range(120):
            page.keyboard.press("Tab")
            key = page.evaluate("""() => { const el = document.activeElement;
                if (!el || el === document.body || el.gkSeen) return null;   // out of the page, or round again
                el.gkSeen = true;
                return el.type === 'file' ? 'FILE:' + el.id : (el.dataset.upload || el.dataset.fileFor || el.id || el.tagName); }""")
            if key is None:
                break
            seen.append(key)
        return seen

    page = new_page(browser, stack)
    page.goto("/register")
    page.get_by_label("已阅读并同意").check()
    page.get_by_role("button", name="下一步").click()
    expect(page.locator("#f-id_card_photo")).to_have_accessible_name(re.compile("身份证"))
    stops = tab_stops(page)
    assert not [s for s in stops if s.startswith("FILE:")], stops
    assert stops.count("f-id_card_photo") == 1, stops          # the 选择图片 button
    with page.expect_file_chooser():
        page.locator("[data-file-for=f-id_card_photo]").press("Enter")

    person = applicant(stack, province)
    applicant_login(page, person)
    page.goto("/application")
    kinds = ("id_card_photo", "personal_photo", "education_proof", "grade_certificate")
    for kind in kinds:
        expect(page.locator(f"#file-{kind}")).to_have_accessible_name(re.compile(".+"))
    stops = tab_stops(page)
    assert not [s for s in stops if s.startswith("FILE:")], stops
    for kind in kinds:
        assert stops.count(kind) == 1, (kind, stops)
    with page.expect_file_chooser():
        page.locator("[data-upload=personal_photo]").press("Enter")
    close(page)


def test_html_pages_have_a_csp_and_the_tests_see_violations(stack, province, browser):
    person = applicant(stack, province)
    http = requests.Session()
    for path in ("/login", "/register", "/manual/applicant", "/manual/contacts", "/photo-tool", "/admin/login",
                 "/no-such-page"):
        r = http.get(stack.url + path, timeout=30)
        assert r.headers["Content-Type"].startswith("text/html"), path
        for part in CSP_PARTS:
            assert part in r.headers.get("Content-Security-Policy", ""), (path, r.headers)
    token = http.post(stack.url + "/api/v1/sessions", json={"id_number": person.id_number,
                                                            "password": person.password}, timeout=30).json()["token"]
    for path in ("/home", "/application", "/review", "/password"):
        r = http.get(stack.url + path, cookies={"gk_session": token}, allow_redirects=False, timeout=30)
        assert r.status_code == 200 and "script-src 'self'" in r.headers["Content-Security-Policy"], path
    assert "script-src 'self'" not in requests.get(stack.url + "/api/v1/years/current", timeout=30) \
        .headers.get("Content-Security-Policy", "")

    # an inline script is refused by the browser, and new_page records the violation
    page = new_page(browser, stack)
    page.goto("/login")
    page.evaluate("() => { const s = document.createElement('script'); s.textContent = 'window.inline = 1';"
                  " document.body.appendChild(s); }")
    assert page.evaluate("() => window.inline") is None
    deadline = time.time() + 5          # the console message arrives on its own time
    while not any("Content Security Policy" in e or "CSP violation" in e for e in page.js_errors):
        assert time.time() < deadline, "the CSP violation was not recorded"
        page.wait_for_timeout(50)
    page.js_errors.clear()
    close(page)


def test_logout_is_a_post_and_a_link_ends_nothing(stack, province, browser):
    person = applicant(stack, province)
    page = new_page(browser, stack)
    applicant_login(page, person)
    # a link from elsewhere (a GET) shows the button and ends nothing
    page.goto("/logout")
    expect(page.locator("#logout-page")).to_contain_text("确定要退出登录吗")
    page.goto("/home")
    expect(page).to_have_url(re.compile(r"/home$"))
    # a cross-site GET or a POST without the page's CSRF token: still logged in
    cookie = next(c["value"] for c in page.context.cookies() if c["name"] == "gk_session")
    r = requests.get(stack.url + "/logout", cookies={"gk_session": cookie}, allow_redirects=False, timeout=30)
    assert r.status_code == 200 and "退出登录" in r.text
    r = requests.post(stack.url + "/logout", cookies={"gk_session": cookie}, allow_redirects=False, timeout=30)
    assert r.status_code == 403
    assert requests.get(stack.url + "/api/v1/me", cookies={"gk_session": cookie}, timeout=30).status_code == 200
    # the header's 退出 button: the session ends on the server
    page.locator("header").get_by_role("button", name="退出").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    assert requests.get(stack.url + "/api/v1/me", cookies={"gk_session": cookie}, timeout=30).status_code == 401
    page.goto("/home")
    expect(page).to_have_url(re.compile(r"/login$"))

    admin = new_page(browser, stack)
    admin_login(admin, "admin", ADMIN_PASSWORD)
    admin.goto("/admin/logout")
    admin.get_by_role("button", name="退出登录").click()
    expect(admin).to_have_url(re.compile(r"/admin/login$"))
    admin.goto("/admin")
    expect(admin).to_have_url(re.compile(r"/admin/login$"))
    close(page, admin)


# --- phones --------------------------------------------------------------------------------
def test_every_applicant_page_fits_a_phone(stack, browser, returned_applicant):
    """390×844 (and 360×740 for the forms): no sideways scrolling, labels right above their
    controls, tables inside the screen (stacked or scrolling in their own box), and the 退回
    reason readable (its box many characters wide)."""
    anonymous = new_page(browser, stack, PHONE)
    for path in ("/", "/login", "/register", "/manual/applicant", "/manual/contacts", "/manual/policies",
                 "/photo-tool", "/no-such-page"):
        anonymous.goto(path)
        check_layout(anonymous, path)
    anonymous.goto("/register")
    anonymous.get_by_label("已阅读并同意").check()
    anonymous.get_by_role("button", name="下一步").click()
    expect(anonymous.locator("#register-form")).to_be_visible()
    check_layout(anonymous, "/register 个人注册")
    anonymous.get_by_role("button", name="注册").click()            # every error shown: still fits
    expect(anonymous.locator("[data-error-for=name]")).to_be_visible()
    check_layout(anonymous, "/register with errors")

    page = new_page(browser, stack, PHONE)
    applicant_login(page, returned_applicant)
    dialog = page.locator("#returned-dialog")
    expect(dialog).to_be_visible()
    assert dialog.locator("#returned-dialog-reason").bounding_box()["width"] >= 200
    check_layout(page, "/home with the 退回 pop-up")
    dialog.get_by_role("button", name="关闭").click()
    for path in ("/", "/home", "/application", "/review", "/password", "/manual/applicant", "/manual/contacts",
                 "/manual/policies", "/photo-tool", "/no-such-page"):
        page.goto(path)
        check_layout(page, path)
    page.goto("/review")
    reason_cell = page.locator("#review-steps tr[data-decision=return] td.reason")
    expect(reason_cell).to_have_text(RETURN_REASON)
    assert reason_cell.bounding_box()["width"] >= 200, reason_cell.bounding_box()
    assert page.locator("#review-reason").bounding_box()["width"] >= 120
    message = page.locator("#messages li[data-kind=returned] .message-text")      # 消息通知, issue 14
    expect(message).to_contain_text(RETURN_REASON)
    assert message.bounding_box()["width"] >= 300, message.bounding_box()
    page.goto("/application")
    assert page.locator("#returned-banner").bounding_box()["width"] >= 300

    small = new_page(browser, stack, SMALL_PHONE)
    small.goto("/login")
    check_layout(small, "/login at 360")
    small.goto("/register")
    small.get_by_label("已阅读并同意").check()
    small.get_by_role("button", name="下一步").click()
    check_layout(small, "/register at 360")
    applicant_login(small, returned_applicant)
    for path in ("/application", "/password"):
        small.goto(path)
        check_layout(small, f"{path} at 360")
    close(anonymous, page, small)
