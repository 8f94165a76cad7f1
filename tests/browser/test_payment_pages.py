"""网上缴费 and the administrators' payment pages in a real headless Chromium (issue 9; R-F1 …
R-F4, R-P2, R-P4): an approved applicant of a city paying online sees when paying opens, enters
the 收据名称, waits out the confirmation's countdown, pays on the stand-in platform and comes back
to 已缴费, after which 打印准考证 says what comes next — at desktop and both phone sizes; 取消缴费
makes no order, an order made elsewhere is refused in Chinese, a fixed title is read-only, the
page follows a payment that arrives while it waits; not_open and an unreachable platform are said
in Chinese and 确认缴费 can be tried again; before 终审通过 the step is closed and no link, and a
city paying offline has no 网上缴费 step; the province sees payments with their sum, exports
them, sees a mismatch and reconciles; a city administrator sees its own city and records an
offline payment; the province sets fees and online cities per year.

Applicants are registered, submitted and approved through the API to save time; time moves with
the shared clock file (sessions idle out after 30 minutes of it, so people log in again). The
module sets 省直 as the one city paying online and puts the list back afterwards: other modules
count on 郑州 paying offline."""
from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone

import pytest
from harness import ADMIN_PASSWORD, port_open
from helpers import Api, applicant, approved, pay_at_platform, relogin, wait_for
from pages import (
    DESKTOP,
    PHONE,
    SMALL_PHONE,
    admin_login,
    applicant_login,
    check_layout,
    close,
    new_page,
    reload_until,
    shoot,
)
from playwright.sync_api import Page, expect

from deploy.seed import DEMO_PASSWORD

pytestmark = pytest.mark.browser

FEES = {"5": 12000, "4": 15000, "3": 18000, "2": 24000, "1": 30000}
ONLINE = ["410000"]       # 省直 pays online; 郑州 and 洛阳 stay offline (other modules count on 郑州)
OPEN = "+90000"           # 25 h after 终审通过: paying is open for 二到五级
LUOYANG = {"unit": "U410300-001", "city": "410300", "supervisor": "ly_nyj"}
TITLE = "河南省职业技能等级评价指导中心"
RECEIPT_WARNING = "收据信息一旦提交，本年度无法修改，如需报销，请先与报销单位确认收据名称后，再进行缴费。"
TICKET_NEXT = "管理员开通准考证打印后方可打印"
STEPS_OFFLINE = ("报名信息", "审核结果", "打印准考证", "考核结果", "打印电子证书")
BEIJING = timezone(timedelta(hours=8))


@pytest.fixture(scope="module")
def year(stack):
    """The province's fees for the current year, 省直 paying online; the online cities as they
    were are put back afterwards."""
    province = Api(stack.url).login_admin("admin", ADMIN_PASSWORD)
    year = province.get("/api/v1/years/current").json()["year"]
    before = province.get(f"/api/v1/admin/years/{year}/fees").json()
    r = province.put(f"/api/v1/admin/years/{year}/fees", json={"fees_fen": FEES, "online_payment_cities": ONLINE})
    assert r.status_code == 200, r.text
    yield year
    r = Api(stack.url).login_admin("admin", ADMIN_PASSWORD).put(
        f"/api/v1/admin/years/{year}/fees", json={"online_payment_cities": before["online_payment_cities"]})
    assert r.status_code == 200, r.text


def cn(iso: str) -> str:
    """An API time as the pages show it: Beijing time, 2026年03月02日10时00分00秒."""
    return datetime.fromisoformat(iso).astimezone(BEIJING).strftime("%Y年%m月%d日%H时%M分%S秒")


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def confirm_view(page: Page, title: str) -> None:
    """收据名称 (typed in unless the year's title is fixed) → 下一步: the confirmation view with
    确认缴费 still disabled."""
    field = page.locator("#f-receipt_title")
    if field.is_editable():
        field.fill(title)
    page.get_by_role("button", name="下一步").click()
    expect(page.locator("#pay-step-confirm")).to_be_visible()
    expect(page.locator("#pay-step-title")).to_be_hidden()
    expect(page.locator("#confirm-title")).to_have_text(title)
    expect(page.get_by_role("button", name="确认缴费")).to_be_disabled()


# --- the applicant ------------------------------------------------------------------------------
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE, SMALL_PHONE], ids=["desktop", "phone-390", "phone-360"])
def test_an_approved_applicant_pays_online_and_is_told_what_comes_next(stack, province, browser, year, viewport,
                                                                     tmp_path):
    phone = viewport is not DESKTOP
    api, person, app_id = approved(stack, province)
    mine = api.get("/api/v1/me/payment").json()
    assert (mine["online"], mine["status"], mine["amount_fen"]) == (True, "not_due", FEES["4"])

    page = new_page(browser, stack, viewport)
    applicant_login(page, person)
    step = page.locator("nav.steps a[data-step=payment]")
    reload_until(page, "/home", step)                       # application learns of the online cities by event
    expect(page.locator("nav.steps li")).to_have_count(6)
    expect(step).to_have_attribute("href", "/payment")
    expect(step.locator(".num")).to_have_text("3")
    step.click()
    expect(page).to_have_url(re.compile(r"/payment$"))
    expect(page.locator("nav.steps li.active")).to_contain_text("网上缴费")

    # before paying opens: the review result, the amount, the status, when it opens and why
    expect(page.locator("#pay-review-result")).to_have_text("审核通过")
    expect(page.locator("#pay-amount")).to_have_text("150.00 元")
    expect(page.locator("#pay-status")).to_have_text("未到缴费时间")
    expect(page.locator("#pay-opens-at")).to_have_text(cn(mine["opens_at"]))
    rule = page.locator("#pay-rule")
    expect(rule).to_contain_text("2-5级终审通过24小时后才可以缴费，1级终审通过48小时后，才可以缴费")
    expect(rule).to_contain_text(f"缴费时间：{cn(mine['window']['start'])} 至 {cn(mine['window']['end'])}")
    expect(page.locator("#receipt-form")).to_have_count(0)
    shoot(page, tmp_path / "payment-not-due.png")
    if phone:
        check_layout(page, "/payment before it opens")

    # 25 hours later: the 收据名称 with the manual's warning, then the confirmation
    stack.set_clock(OPEN)
    applicant_login(page, person)
    page.goto("/payment")
    expect(page.locator("#pay-status")).to_have_text("未缴费")
    expect(page.locator("#receipt-warning")).to_have_text(RECEIPT_WARNING)
    if phone:
        check_layout(page, "/payment 收据名称")
    confirm_view(page, TITLE)
    expect(page.locator("#confirm-name")).to_have_text(person.name)
    expect(page.locator("#confirm-id-number")).to_have_text(person.id_number)
    expect(page.locator("#confirm-amount")).to_have_text("150.00 元")
    expect(page.locator("#confirm-countdown")).to_contain_text("秒后可点击【确认缴费】")
    expect(page.locator("#pay-step-confirm")).to_contain_text("应仔细核对人员名称和身份证号")
    shoot(page, tmp_path / "payment-confirm.png")
    if phone:
        check_layout(page, "/payment 确认缴费")
    pay = page.get_by_role("button", name="确认缴费")
    expect(pay).to_be_enabled(timeout=10_000)               # the countdown ran out
    expect(page.locator("#confirm-countdown")).to_be_hidden()
    pay.click()

    # the stand-in platform's pay page, then back to 网上缴费
    expect(page).to_have_url(re.compile(rf"^{re.escape(stack.nontax_url)}/pay/\d{{20}}$"))
    expect(page.locator("#amount")).to_have_text("150.00 元")
    page.get_by_role("button", name="支付", exact=True).click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(stack.url)}/payment\?order=GK\w+$"))
    # the callback may come a moment later: the page follows by itself
    expect(page.locator("#pay-status")).to_have_text("已缴费", timeout=30_000)
    expect(page.locator("#pay-back")).to_have_text("支付成功，考核费用已缴纳。")
    paid = relogin(stack, person).get("/api/v1/me/payment").json()
    assert paid["status"] == "paid" and paid["receipt_title"] == TITLE
    expect(page.locator("#pay-paid-at")).to_have_text(cn(paid["paid_at"]))
    expect(page.locator("#pay-receipt-title")).to_have_text(TITLE)
    expect(page.locator("#pay-orders tbody tr")).to_have_count(1)
    expect(page.locator(f"#pay-orders tr[data-order='{paid['orders'][0]['order_no']}']")).to_contain_text("已支付")

    # what comes next: 打印准考证 (the steps follow the fee by event)
    reload_until(page, "/payment", page.locator("#pay-next", has_text=TICKET_NEXT))
    expect(page.locator("#pay-next")).to_have_text(f"下一步：打印准考证。{TICKET_NEXT}。")
    expect(page.locator("nav.steps [data-step=ticket]")).to_have_attribute("title", TICKET_NEXT)
    shoot(page, tmp_path / "payment-paid.png")
    if phone:
        check_layout(page, "/payment 已缴费")
    page.goto("/home")
    expect(page.locator("#next-text")).to_have_text("报名信息已终审通过，考核费用已缴纳。")
    expect(page.locator("#next-step")).to_have_text(f"下一步“打印准考证”：{TICKET_NEXT}")
    close(page)


def test_cancelling_the_confirmation_makes_no_order_and_a_fixed_title_is_read_only(stack, province, browser, year,
                                                                                  tmp_path):
    _, person, app_id = approved(stack, province)
    stack.set_clock(OPEN)
    api = relogin(stack, person)
    page = new_page(browser, stack, PHONE)
    applicant_login(page, person)
    page.goto("/payment")
    title = page.locator("#f-receipt_title")
    expect(title).to_be_editable()
    page.get_by_role("button", name="下一步").click()                    # no title: said at the field
    expect(page.locator("[data-error-for=receipt_title]")).to_have_text("请填写收据名称")

    # 取消缴费 on the confirmation: back to the title, as typed, still editable
    confirm_view(page, "郑州市第一人民医院")
    page.get_by_role("button", name="取消缴费").click()
    expect(page.locator("#pay-step-title")).to_be_visible()
    expect(page.locator("#pay-step-confirm")).to_be_hidden()
    expect(title).to_have_value("郑州市第一人民医院")
    expect(title).to_be_editable()

    # meanwhile an order is made elsewhere (another tab): 确认缴费 here is refused, in Chinese
    confirm_view(page, TITLE)
    made = api.post("/api/v1/me/payment/orders", json={"receipt_title": TITLE})
    assert made.status_code == 201, made.text
    made = made.json()
    page.get_by_role("button", name="确认缴费").click(timeout=10_000)
    expect(page.locator("#pay-step-confirm [data-form-alert]")).to_have_text("您有一笔待支付的订单，请先完成支付或取消该订单")
    expect(page).to_have_url(re.compile(r"/payment$"))
    page.get_by_role("button", name="刷新页面").click()

    # the open order: its 缴费通知书编号, amount, expiry, 继续支付 to the platform's pay page
    expect(page.locator("#pay-status")).to_have_text("待支付")
    expect(page.locator("#open-notice-no")).to_have_text(made["payment_notice_no"])
    expect(page.locator("#open-order")).to_contain_text("150.00 元")
    expect(page.locator("#open-expires-at")).to_have_text(cn(made["expires_at"]))
    expect(page.get_by_role("link", name="继续支付")).to_have_attribute("href", made["pay_url"])
    check_layout(page, "/payment 待支付")
    shoot(page, tmp_path / "payment-open-order.png")

    # to the platform and back without paying (关闭): still waiting, with 刷新
    page.get_by_role("link", name="继续支付").click()
    expect(page).to_have_url(made["pay_url"])
    page.get_by_role("button", name="关闭").click()
    expect(page).to_have_url(re.compile(rf"/payment\?order={made['order_no']}$"))
    expect(page.locator("#pay-waiting")).to_contain_text("正在确认支付结果")
    expect(page.get_by_role("button", name="刷新", exact=True)).to_be_visible()

    # 取消订单: the title stays fixed for the year, shown read-only
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="取消订单").click()
    expect(page).to_have_url(re.compile(r"/payment$"))
    expect(page.locator("#page-notice")).to_have_text("订单已取消。")
    expect(page.locator("#pay-status")).to_have_text("未缴费")
    expect(title).to_have_value(TITLE)
    expect(title).not_to_be_editable()
    expect(page.locator("#receipt-warning")).to_have_text("收据名称本年度已确定，不能修改。")
    expect(page.locator("#pay-receipt-title")).to_have_text(TITLE)
    expect(page.locator(f"#pay-orders tr[data-order='{made['order_no']}']")).to_contain_text("已取消")
    confirm_view(page, TITLE)
    page.get_by_role("button", name="取消缴费").click()
    expect(page.locator("#pay-step-title")).to_be_visible()

    # the one order is the one made through the API: neither 取消缴费 made any
    mine = api.get("/api/v1/me/payment").json()
    assert [(o["order_no"], o["status"]) for o in mine["orders"]] == [(made["order_no"], "cancelled")]
    assert mine["receipt_title"] == TITLE

    # with the fixed title, a new order; back from the platform before paying, the page waits,
    # and follows by itself when the payment arrives
    confirm_view(page, TITLE)
    page.get_by_role("button", name="确认缴费").click(timeout=10_000)
    expect(page).to_have_url(re.compile(rf"^{re.escape(stack.nontax_url)}/pay/\d{{20}}$"))
    notice = page.url.rsplit("/", 1)[1]
    page.get_by_role("button", name="关闭").click()
    expect(page.locator("#pay-waiting")).to_be_visible()
    expect(page.locator("#open-notice-no")).to_have_text(notice)
    pay_at_platform(stack, notice)                                       # paid elsewhere (another device)
    expect(page.locator("#pay-status")).to_have_text("已缴费", timeout=30_000)
    expect(page.locator("#pay-back")).to_have_text("支付成功，考核费用已缴纳。")
    close(page)


def test_refusals_at_the_confirmation_are_said_in_chinese_and_it_can_be_tried_again(stack, province, browser, year):
    api, person, app_id = approved(stack, province)
    opens_at = api.get("/api/v1/me/payment").json()["opens_at"]
    stack.set_clock(OPEN)
    page = new_page(browser, stack)
    applicant_login(page, person)
    page.goto("/payment")
    confirm_view(page, TITLE)
    pay = page.get_by_role("button", name="确认缴费")
    alert = page.locator("#pay-step-confirm [data-form-alert]")
    expect(pay).to_be_enabled(timeout=10_000)

    # the clock goes back to before paying opens (as if the page had been left open): 409
    # not_open, saying when paying opens
    stack.set_clock(None)
    pay.click()
    expect(alert).to_contain_text(f"将于{cn(opens_at)}开放缴费")
    expect(pay).to_be_disabled()

    # the platform is away: 503 in Chinese, and 确认缴费 can be clicked again once it is back
    stack.set_clock(OPEN)
    page.get_by_role("button", name="取消缴费").click()
    confirm_view(page, TITLE)
    expect(pay).to_be_enabled(timeout=10_000)
    stack.stop_service("nontax")
    try:
        pay.click()
        expect(alert).to_have_text("非税缴费平台暂时无法访问，请稍后再试")
        expect(pay).to_be_enabled()
    finally:
        stack.start_nontax()
        wait_for(lambda: port_open("127.0.0.1", stack.nontax_port), what="the platform back")
    pay.click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(stack.nontax_url)}/pay/\d{{20}}$"))
    mine = relogin(stack, person).get("/api/v1/me/payment").json()
    assert [o["status"] for o in mine["orders"]] == ["open", "cancelled"]     # the refused one is closed
    assert mine["status"] == "pending" and mine["receipt_title"] == TITLE
    close(page)


def test_the_payment_step_shows_only_where_paying_online_and_opens_at_final_approval(stack, province, browser,
                                                                                     year):
    # 省直 pays online: before 终审通过 the step is there, closed, no link, saying why
    api, registered = applicant(stack, province, city_code="410000")
    wait_for(lambda: {s["key"]: s for s in api.get("/api/v1/me").json()["steps"]}["payment"]["visible"],
             what="the online cities reaching the application service")
    page = new_page(browser, stack, PHONE)
    applicant_login(page, registered)
    expect(page.locator("nav.steps li")).to_have_count(6)
    closed = page.locator("nav.steps [data-step=payment]")
    expect(closed).to_have_attribute("aria-disabled", "true")
    expect(closed).to_have_attribute("title", "终审通过后方可缴费")
    expect(page.locator("nav.steps a[data-step=payment]")).to_have_count(0)
    page.goto("/payment")                                                   # typed in: says why
    expect(page.locator("#pay-closed")).to_contain_text("终审通过后方可缴费")
    expect(page.locator("#receipt-form")).to_have_count(0)
    close(page)

    # 洛阳 pays offline: no 网上缴费 step, even once approved; 打印准考证 is numbered 3
    _, person, _ = approved(stack, province, **LUOYANG)
    page = new_page(browser, stack, PHONE)
    applicant_login(page, person)
    steps = page.locator("nav.steps li")
    expect(steps).to_have_count(5)
    for i, title in enumerate(STEPS_OFFLINE):
        expect(steps.nth(i)).to_contain_text(f"{i + 1}{title}")
    expect(page.locator("nav.steps [data-step=payment]")).to_have_count(0)
    expect(page.locator("nav.steps [data-step=ticket]")).to_have_attribute("title", TICKET_NEXT)
    expect(page.locator("#next-text")).to_have_text("恭喜您，报名信息已终审通过！")
    page.goto("/review")
    expect(page.locator("#review-approved")).to_be_visible()
    expect(page.locator("#review-approved").get_by_role("link", name="网上缴费")).to_have_count(0)
    page.goto("/payment")                                                   # typed in: says why
    expect(page.locator("#pay-closed")).to_have_text("您所在的地市未开通网上缴费，请按当地通知线下缴费。")
    expect(page.locator("#receipt-form")).to_have_count(0)
    close(page)


# --- administrators -----------------------------------------------------------------------------
def test_administrators_see_payments_record_offline_and_reconcile(stack, province, browser, year, tmp_path):
    online_api, online_person, online_app = approved(stack, province)
    late_api, late_person, late_app = approved(stack, province)
    silent_api, silent_person, silent_app = approved(stack, province)
    ly_api, ly_person, ly_app = approved(stack, province, **LUOYANG)
    stack.set_clock(OPEN)
    orders = {}
    for name, person in (("online", online_person), ("late", late_person), ("silent", silent_person)):
        api = relogin(stack, person)
        r = api.post("/api/v1/me/payment/orders", json={"receipt_title": TITLE})
        assert r.status_code == 201, r.text
        orders[name] = (api, r.json())
    pay_at_platform(stack, orders["online"][1]["payment_notice_no"])
    late_api, late = orders["late"]
    assert late_api.post(f"/api/v1/me/payment/orders/{late['order_no']}/cancel").status_code == 200
    pay_at_platform(stack, late["payment_notice_no"])                  # money on a cancelled order
    pay_at_platform(stack, orders["silent"][1]["payment_notice_no"], "paid_silently")   # no callback
    for name in ("online", "late"):
        wait_for(lambda n=name: orders[n][0].get("/api/v1/me/payment").json()["status"] == "paid",
                 what=f"the {name} payment's callback")
    province = Api(stack.url).login_admin("admin", ADMIN_PASSWORD)

    # --- the province: the list with its filters, the sum, the export, the mismatch ------------
    page = new_page(browser, stack)
    admin_login(page, "admin", ADMIN_PASSWORD)
    page.locator("nav.adminnav").get_by_role("link", name="缴费管理").click()
    expect(page).to_have_url(re.compile(r"/admin/payments$"))
    expect(page.locator("h1")).to_contain_text("缴费管理")
    expect(page.locator("#online-cities")).to_contain_text("开通网上缴费的地市：省直")
    page.select_option("#p-status", "paid")
    page.select_option("#p-city_code", "410000")
    page.get_by_role("button", name="查询").click()
    expect(page).to_have_url(re.compile(r"/admin/payments\?status=paid&city_code=410000"))
    listing = province.get("/api/v1/admin/payments",
                           params={"status": "paid", "city_code": "410000", "page_size": 100}).json()
    assert {online_app, late_app} <= {i["application_id"] for i in listing["items"]}
    assert listing["sum_fen"] == sum(i["amount_fen"] for i in listing["items"]) >= 2 * FEES["4"]
    expect(page.locator("#payments-total")).to_have_text(str(listing["total"]))
    expect(page.locator("#payments-sum")).to_have_text(yuan(listing["sum_fen"]))
    expect(page.locator("#payments-summary")).to_contain_text(f"合计 {yuan(listing['sum_fen'])} 元")
    row = page.locator(f"#payments-table tr[data-id='{online_app}']")
    for text in (online_person.name, "省直", "四级", "150.00", "已缴费", "网上缴费"):
        expect(row).to_contain_text(text)
    expect(page.locator(f"#payments-table tr[data-id='{silent_app}']")).to_have_count(0)   # still unpaid
    export = page.locator("#payments-export")
    expect(export).to_have_text("导出Excel")
    expect(export).to_have_attribute("href", "/api/v1/admin/payments.xlsx?status=paid&city_code=410000")
    xlsx = page.request.get(export.get_attribute("href"))
    assert xlsx.status == 200 and "spreadsheetml" in xlsx.headers["content-type"]
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.body()), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == listing["total"] + 1 and online_person.name in {r[1] for r in rows[1:]}
    shoot(page, tmp_path / "admin-payments.png")
    mismatch = page.locator(f"#mismatch-table tr[data-order='{late['order_no']}']")
    expect(mismatch).to_contain_text("订单取消或过期后到账")
    expect(mismatch).to_contain_text("150.00")

    # --- 立即对账, once the silent order is older than the reconciliation's 10 minutes --------
    stack.set_clock("+90700")
    page.get_by_role("button", name="立即对账").click()
    result = page.locator("#reconcile-result")
    expect(result).to_have_text(re.compile(r"^对账完成：查询订单 \d+ 笔，确认到账 \d+ 笔，其中对账异常 \d+ 笔。$"))
    silent = relogin(stack, silent_person).get("/api/v1/me/payment").json()
    assert silent["status"] == "paid"                      # settled by asking the platform
    page.reload()
    expect(page.locator(f"#payments-table tr[data-id='{silent_app}']")).to_contain_text("已缴费")

    # --- a city administrator (洛阳): its city only, 登记线下缴费 -----------------------------------
    city = new_page(browser, stack)
    admin_login(city, "ly_city")
    nav = city.locator("nav.adminnav")
    expect(nav.get_by_role("link", name="缴费管理")).to_be_visible()
    expect(nav.get_by_role("link", name="考核费用设置")).to_have_count(0)
    nav.get_by_role("link", name="缴费管理").click()
    expect(city.locator("h1")).to_contain_text("洛阳市")
    expect(city.locator("#p-city_code option")).to_have_text(["洛阳市"])
    expect(city.locator(f"#payments-table tr[data-id='{ly_app}']")).to_contain_text("未缴费")
    expect(city.locator("#payments-table tbody tr[data-city]:not([data-city='410300'])")).to_have_count(0)
    expect(city.locator(f"#payments-table tr[data-id='{online_app}']")).to_have_count(0)
    expect(city.locator(f"#mismatch-table tr[data-order='{late['order_no']}']")).to_have_count(0)
    expect(city.get_by_role("button", name="立即对账")).to_have_count(0)
    city_list = Api(stack.url).login_admin("ly_city", DEMO_PASSWORD).get("/api/v1/admin/payments").json()
    expect(city.locator("#payments-total")).to_have_text(str(city_list["total"]))
    form = city.locator("#offline-form")
    form.locator("#f-application_id").fill(online_app)                 # not its city: refused in Chinese
    form.get_by_role("button", name="登记").click()
    expect(form.locator("[data-form-alert]")).to_have_text("没有找到该终审通过的报考人员，或不在您的管理范围内")
    city.locator(f"#payments-table tr[data-id='{ly_app}']").get_by_role("button", name="登记线下缴费").click()
    expect(form.locator("#f-application_id")).to_have_value(ly_app)
    form.locator("#f-note").fill("现场缴费，票据号 0001")
    form.get_by_role("button", name="登记").click()
    expect(city.locator("#page-notice")).to_contain_text(f"已登记 {ly_person.name}")
    ly_row = city.locator(f"#payments-table tr[data-id='{ly_app}']")
    expect(ly_row).to_contain_text("已线下缴费")
    expect(ly_row).to_contain_text("线下缴费")
    expect(ly_row).to_contain_text("150.00")
    shoot(city, tmp_path / "city-payments.png")
    assert relogin(stack, ly_person).get("/api/v1/me/payment").json()["status"] == "offline"
    close(page, city)


def test_the_province_sets_fees_and_online_cities_per_year(stack, browser, year, tmp_path):
    page = new_page(browser, stack)
    admin_login(page, "admin", ADMIN_PASSWORD)
    page.locator("nav.adminnav").get_by_role("link", name="考核费用设置").click()
    expect(page).to_have_url(re.compile(r"/admin/fees$"))
    # the current year as the module set it
    expect(page.locator("#fees-updated")).to_contain_text(f"{year}年度，最近修改：")
    for grade, fen in FEES.items():
        expect(page.locator(f"#f-fee-{grade}")).to_have_value(yuan(fen))
    expect(page.get_by_label("省直", exact=True)).to_be_checked()
    expect(page.get_by_label("洛阳市", exact=True)).not_to_be_checked()

    # next year, set here
    nxt = year + 1
    page.fill("#y-year", str(nxt))
    page.get_by_role("button", name="查看").click()
    expect(page).to_have_url(re.compile(rf"/admin/fees\?year={nxt}$"))
    expect(page.locator("#fees-updated")).to_have_text(f"{nxt}年度尚未设置考核费用。")
    for grade, value in (("5", "130"), ("4", "160.5"), ("3", "190.05"), ("2", "12.345"), ("1", "200000")):
        page.fill(f"#f-fee-{grade}", value)
    page.get_by_label("省直", exact=True).check()
    page.get_by_label("开封市", exact=True).check()
    save = page.get_by_role("button", name="保存")
    save.click()                                                       # 12.345 元: the page says so
    expect(page.locator("[data-error-for='fee.2']")).to_have_text("请输入金额（元），最多两位小数")
    page.fill("#f-fee-2", "")                                          # left out: keeps (no) fee
    save.click()                                                       # 200000 元: the service refuses
    expect(page.locator("[data-error-for=fees_fen]")).to_contain_text("费用应为 0 至 10000000 分之间的整数")
    shoot(page, tmp_path / "admin-fees.png")
    expect(page).to_have_url(re.compile(rf"/admin/fees\?year={nxt}$"))
    page.fill("#f-fee-1", "320")
    save.click()
    expect(page).to_have_url(re.compile(rf"/admin/fees\?year={nxt}&saved=1$"))
    expect(page.locator("#fees-saved")).to_have_text("已保存。")
    page.reload()
    for grade, value in (("5", "130.00"), ("4", "160.50"), ("3", "190.05"), ("2", ""), ("1", "320.00")):
        expect(page.locator(f"#f-fee-{grade}")).to_have_value(value)
    expect(page.get_by_label("省直", exact=True)).to_be_checked()
    expect(page.get_by_label("开封市", exact=True)).to_be_checked()
    expect(page.get_by_label("郑州市", exact=True)).not_to_be_checked()
    saved = Api(stack.url).login_admin("admin", ADMIN_PASSWORD).get(f"/api/v1/admin/years/{nxt}/fees").json()
    assert saved["fees_fen"] == {"5": 13000, "4": 16050, "3": 19005, "1": 32000}
    assert saved["online_payment_cities"] == ["410000", "410200"]

    # a city administrator has no fees page
    city = new_page(browser, stack)
    admin_login(city, "ly_city")
    city.goto("/admin/fees")
    expect(city.locator("h1")).to_have_text("无权访问")
    close(page, city)
