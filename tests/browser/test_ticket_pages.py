"""打印准考证 and 考场安排 in the real browser (R-D1, R-D2, R-D6), at desktop and at phone size:
the province enters a site on the page (a bad room refused, nothing changed), imports a room
sheet for another year (a bad sheet's lines listed in Chinese, nothing changed), sets the 四级
timetable, seats the paid applicant and finds them in the seat list; the applicant sees
管理员开通准考证打印后方可打印 while printing is off, then opens 打印准考证 from the home page,
sees every field and downloads the PDF (every field in its text, every font embedded); a bulk
job is followed to its ZIP (with script, and without it by reloading); a proctor checks the QR
code's text; after the last subject the page says 考试时间已过，不能打印 and the PDF is a 409.

One 省直 applicant (a city that pays online) pays through the stand-in platform first. The
site SZ01 is the same as tests/http/test_tickets.py's, whichever module runs first. Ticket
printing is switched off again at the end."""
from __future__ import annotations

import re
import subprocess
import zipfile
from datetime import datetime, timedelta

import pytest
import requests
from harness import ADMIN_PASSWORD
from helpers import XLSX, Api, approved, wait_for, xlsx_bytes
from pages import (
    DESKTOP,
    PHONE,
    admin_login,
    applicant_login,
    check_layout,
    close,
    loaded,
    new_page,
    reload_until,
)
from playwright.sync_api import Page, expect

from kit import clock
from kit.config import settings
from services.documents import domain as documents_domain
from services.documents.schemas import TICKET_NOTICE

pytestmark = pytest.mark.browser

FEES = {"5": 12000, "4": 15000, "3": 18000, "2": 24000, "1": 30000}
ONLINE = ["410000", "410100"]            # as the payment and ticket API tests set them
OPEN = "+90000"                          # 25 h after 终审通过: paying is open
SITE = {"site_code": "SZ01", "name": "河南省职业技能鉴定中心考点", "address": "郑州市金水区经三路1号",
        "city_code": "410000", "room_code": "101", "room_name": "第一考场", "seats": "300"}
SUBJECTS = ("职业道德", "职业能力", "岗位技能")
PRINTING_OFF = "管理员开通准考证打印后方可打印"
EXAM_OVER = "考试时间已过，不能打印"


def province_api(stack) -> Api:
    return Api(stack.url).login_admin("admin", ADMIN_PASSWORD)


def exam_day() -> list[tuple[str, datetime, datetime, str]]:
    """The 四级 timetable, five days ahead in Beijing time: (subject, start, end, place)."""
    day = (datetime.now(clock.CST) + timedelta(days=5)).replace(hour=0, minute=0, second=0, microsecond=0)
    return [("职业道德", day.replace(hour=8), day.replace(hour=9), ""),
            ("职业能力", day.replace(hour=9, minute=30), day.replace(hour=11), ""),
            ("岗位技能", day.replace(hour=14), day.replace(hour=16), "实训楼")]


def span(start: datetime, end: datetime) -> str:
    return f"{start:%Y-%m-%d %H:%M}-{end:%H:%M}"


def set_printing(stack, year: int, on: bool, api: Api) -> None:
    r = province_api(stack).put(f"/api/v1/admin/years/{year}", json={"switches": {"ticket_printing": on}})
    assert r.status_code == 200, r.text
    wait_for(lambda: (api.get("/api/v1/me/ticket").json()["reason"] != PRINTING_OFF) == on,
             what="documents learning of the switch")


def relogin(stack, person) -> Api:
    api = Api(stack.url)
    assert api.login(person.id_number, person.password).status_code == 201
    return api


def pdf_tool(tool: str, path, *args: str) -> str:
    argv = [tool, *args, str(path), *(["-"] if tool == "pdftotext" else [])]
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def exam(stack):
    """The year's fees, printing off, and one 省直 applicant who passed review and paid;
    afterwards printing is off and the cities paying online are those of before."""
    province = province_api(stack)
    year = province.get("/api/v1/years/current").json()["year"]
    before = province.get(f"/api/v1/admin/years/{year}/fees").json()
    r = province.put(f"/api/v1/admin/years/{year}/fees", json={"fees_fen": FEES, "online_payment_cities": ONLINE})
    assert r.status_code == 200, r.text
    api, person, app_id = approved(stack, province)                 # 省直: pays online
    set_printing(stack, year, False, api)
    stack.set_clock(OPEN)
    try:
        api = relogin(stack, person)
        order = api.post("/api/v1/me/payment/orders", json={"receipt_title": "河南省职业技能鉴定中心"})
        assert order.status_code == 201, order.text
        r = requests.post(f"{stack.nontax_url}/api/pay/{order.json()['payment_notice_no']}",
                          data={"outcome": "paid"}, timeout=10)
        assert r.status_code == 200, r.text
        wait_for(lambda: api.get("/api/v1/me/payment").json()["status"] == "paid", what="the payment")
    finally:
        stack.set_clock(None)
    province = province_api(stack)
    wait_for(lambda: app_id in {x["application_id"] for x in province.get(
        f"/api/v1/admin/years/{year}/seat-assignments",
        params={"status": "waiting", "city_code": "410000", "page_size": 200}).json()["items"]},
        what="documents learning of the payment")
    yield {"year": year, "person": person, "app_id": app_id, "times": exam_day()}
    province = province_api(stack)
    province.put(f"/api/v1/admin/years/{year}", json={"switches": {"ticket_printing": False}})
    province.put(f"/api/v1/admin/years/{year}/fees",           # the other modules' cities again
                 json={"online_payment_cities": before.get("online_payment_cities") or []})


def open_exam_page(page: Page, year: int | None = None) -> None:
    page.goto("/admin" if year is None else f"/admin/exam?year={year}")
    if year is None:
        page.locator(".adminnav").get_by_role("link", name="考场安排").click()
    expect(page).to_have_url(re.compile(r"/admin/exam"))
    expect(page.locator("h1")).to_contain_text("考场安排")


def csv_file(text: str) -> dict:
    return {"name": "表.csv", "mimeType": "text/csv", "buffer": text.encode("utf-8")}


def xlsx_file(rows: list[list]) -> dict:
    return {"name": "考场.xlsx", "buffer": xlsx_bytes(rows), "mimeType": XLSX}


def test_the_province_arranges_the_exam_on_its_page(stack, browser, exam, tmp_path):
    year, person = exam["year"], exam["person"]
    # SZ01 is also tests/http/test_tickets.py's (same name and room): entered here unless that
    # module already did, then a site of this module's own is entered instead
    existing = {s["site_code"] for s in province_api(stack).get(f"/api/v1/admin/years/{year}/exam-sites").json()}
    site = SITE if SITE["site_code"] not in existing else {**SITE, "site_code": "SZ09", "name": "省直第九考点"}
    page = new_page(browser, stack)
    admin_login(page, "admin", ADMIN_PASSWORD)
    open_exam_page(page)
    sites_before = page.locator("#sites-table tbody tr").count()

    # 考点与考场: a room without a proper seat count is refused on the page and nothing is saved
    form = page.locator("#site-form")
    form.locator("#f-site_code").fill(site["site_code"])
    form.locator("#f-name").fill(site["name"])
    form.locator("#f-address").fill(site["address"])
    form.locator("#f-city_code").select_option(site["city_code"])
    form.get_by_label("第1个考场代码").fill(site["room_code"])
    form.get_by_label("第1个考场名称").fill(site["room_name"])
    form.get_by_label("第1个考场座位数").fill("0")
    form.get_by_role("button", name="保存考点").click()
    expect(page.locator("#sites [data-error=sites]")).to_have_text("第1个考场：座位数须为1至500的整数")
    expect(page.locator("#sites-table tbody tr")).to_have_count(sites_before)
    form = page.locator("#site-form")
    expect(form.locator("#f-name")).to_have_value(site["name"])              # what was typed is kept
    form.get_by_label("第1个考场座位数").fill(site["seats"])
    form.get_by_role("button", name="保存考点").click()
    expect(page.locator("#sites-saved")).to_have_text("考点已保存。")
    row = page.locator(f"#sites-table tr[data-site={site['site_code']}]")
    expect(row).to_contain_text(site["name"])
    expect(row.locator("li[data-room='101']")).to_contain_text("第一考场：300 座")

    # a bad sheet: every refused line in Chinese, the sites as they were
    page.locator("#sites-import-file").set_input_files(csv_file(
        "考点代码,考点名称,考点地址,省辖市代码,考场代码,考场名称,座位数\n"
        "SZ02,省直第二考点,郑州,410000,1,第一考场,三十\n,无代码考点,郑州,410000,1,第一考场,30\n"))
    page.locator("#sites-import").get_by_role("button", name="导入").click()
    refused = page.locator("#sites-import .refused-table tbody tr")
    expect(refused).to_have_count(2)
    expect(refused.nth(0)).to_contain_text("2座位数须为整数")
    expect(refused.nth(1)).to_contain_text("3考点代码不能为空")
    expect(page.locator("#sites-import [data-form-alert]")).to_contain_text("文件中有2行不正确，未导入任何考场")
    page.reload()
    expect(page.locator("#sites-table tr[data-site=SZ02]")).to_have_count(0)
    expect(page.locator(f"#sites-table tr[data-site={site['site_code']}]")).to_have_count(1)

    # 考试时间 for 四级 (Beijing time), then 安排考场 for 省直
    page.locator("#grade-4 summary").click()
    grade = page.locator("#grade-4 form")
    for subject, start, end, place in exam["times"]:
        grade.get_by_label(f"四级{subject}开始时间").fill(f"{start:%Y-%m-%dT%H:%M}")
        grade.get_by_label(f"四级{subject}结束时间").fill(f"{end:%Y-%m-%dT%H:%M}")
        grade.get_by_label(f"四级{subject}考核地点").fill(place)
    grade.get_by_role("button", name="保存四级考试时间").click()
    expect(page.locator("#timetable-saved")).to_be_visible()
    four = page.locator("#timetable-table tr[data-grade='4']")
    for subject, start, end, _ in exam["times"]:
        expect(four.locator(f"td[data-label={subject}]")).to_contain_text(span(start, end))
    page.locator("#assign-city").select_option("410000")
    page.get_by_role("button", name="安排考场").click()
    result = page.locator("#assign-result")
    expect(result).to_contain_text("省直：本次安排")
    assert int(result.locator("[data-count=assigned]").inner_text()) >= 1

    # the seat list: the applicant seated, with the ticket number and the room
    page.locator("#q-status").select_option("seated")
    page.locator("#q-city_code").select_option("410000")
    page.locator("#seat-filters").get_by_role("button", name="查询").click()
    mine = page.locator("#seats-table tbody tr", has_text=person.name)
    expect(mine).to_contain_text("已安排")
    expect(mine).to_contain_text("河南省职业技能鉴定中心考点 第一考场")
    ticket_no = mine.get_attribute("data-ticket")
    assert ticket_no and len(ticket_no) == 12 and ticket_no.startswith(str(year)[2:]), ticket_no
    exam["ticket_no"] = ticket_no

    # at phone size: a sheet for a later year (Excel), a bad timetable sheet, the seat list
    phone = new_page(browser, stack, PHONE)
    admin_login(phone, "admin", ADMIN_PASSWORD)
    open_exam_page(phone, year + 2)          # test_tickets.py imports into year + 1
    phone.locator("#sites-import-file").set_input_files(xlsx_file([
        ["考点代码", "考点名称", "考点地址", "省辖市代码", "考场代码", "考场名称", "座位数"],
        ["ZZ01", "郑州市考点", "金水路1号", "410100", "1", "第一考场", 40],
        ["ZZ01", "郑州市考点", "金水路1号", "410100", "2", "第二考场", 40]]))
    phone.locator("#sites-import").get_by_role("button", name="导入").click()
    expect(phone.locator("#sites-saved")).to_have_text("考场表已导入。")
    expect(phone.locator("#sites-table tr[data-site=ZZ01] li")).to_have_count(2)
    check_layout(phone, "/admin/exam after an import")
    phone.locator("#timetable-import-file").set_input_files(csv_file("等级,科目,开始时间,结束时间\n四级,职业道德,明天,后天\n"))
    phone.locator("#timetable-import").get_by_role("button", name="导入").click()
    expect(phone.locator("#timetable-import .refused-table tbody tr")).to_have_text("2时间格式须为 2026-06-13 08:00")
    check_layout(phone, "/admin/exam with refused lines")
    phone.reload()
    expect(phone.locator("#timetable-table tr[data-grade='4']")).to_contain_text("未设置")
    phone.goto(f"/admin/exam?year={year}&status=seated&city_code=410000#seats")
    expect(phone.locator("#seats-table tbody tr", has_text=person.name)).to_contain_text(ticket_no)
    check_layout(phone, "/admin/exam, the seat list")
    # issue 14: 考场座次表 of the city chosen, printable: the person's ticket number is in it
    lists = phone.request.get(phone.locator("#seat-lists-pdf").get_attribute("href"))
    assert lists.status == 200 and lists.headers["content-type"] == "application/pdf"
    assert "city_code=410000" in phone.locator("#seat-lists-pdf").get_attribute("href")
    (tmp_path / "seat-lists.pdf").write_bytes(lists.body())
    assert ticket_no in pdf_tool("pdftotext", tmp_path / "seat-lists.pdf")

    # a city administrator sees its own city's seat list and changes nothing
    city = new_page(browser, stack, PHONE)
    admin_login(city, "zz_city")
    open_exam_page(city)
    expect(city.locator("h1")).to_contain_text("只读")
    for form_id in ("#site-form", "#assign-form", "#job-form", "#sites-import"):
        expect(city.locator(form_id)).to_have_count(0)
    expect(city.locator("#seats")).to_be_visible()
    check_layout(city, "/admin/exam for a city")
    close(page, phone, city)


def test_while_printing_is_off_the_ticket_page_says_so(stack, browser, exam):
    person = exam["person"]
    for viewport in (DESKTOP, PHONE):
        page = new_page(browser, stack, viewport)
        applicant_login(page, person)
        step = page.locator("#step-list li[data-step=ticket]")
        expect(step).to_contain_text(PRINTING_OFF)
        expect(step.get_by_role("link")).to_have_count(0)
        page.goto("/ticket")
        expect(page.locator("#ticket-reason")).to_have_text(PRINTING_OFF)
        expect(page.locator("#ticket-download")).to_have_count(0)
        expect(page.locator("#ticket")).to_have_count(0)
        assert page.request.get("/ticket.pdf").status == 409
        if viewport is PHONE:
            check_layout(page, "/ticket while printing is off")
        close(page)


def check_ticket_page(page: Page, ticket: dict, person, times) -> None:
    expect(page.locator("#ticket .ticket-org")).to_have_text("河南省机关事业单位工勤技能岗位等级考核")
    expect(page.locator("#ticket-title")).to_have_text("准考证")
    for key in ("name", "gender", "age", "ticket_no", "id_number", "unit", "trade", "grade"):
        expect(page.locator(f"#ticket-info [data-field={key}]")).to_have_text(str(ticket[key]))
    assert ticket["name"] == person.name and ticket["id_number"] == person.id_number
    for th in ("姓名", "性别", "年龄", "准考证号", "身份证号", "工作单位", "申报工种", "申报等级"):
        expect(page.locator("#ticket-info th", has_text=th)).to_have_count(1)
    rows = page.locator("#ticket-subjects tbody tr")
    expect(rows).to_have_count(3)
    for i, (subject, start, end, place) in enumerate(times):
        row = rows.nth(i)
        expect(row.locator("td").nth(0)).to_have_text(subject)
        expect(row.locator("td[data-label=考点考场]")).to_have_text("河南省职业技能鉴定中心考点 第一考场")
        expect(row.locator("td[data-label=考试时间]")).to_have_text(span(start, end))
        expect(row.locator("td[data-label=考核地点]")).to_have_text(place or SITE["address"])
        expect(row.locator("td[data-label=座号]")).to_have_text(str(ticket["subjects"][0]["seat"]))
    expect(page.locator("#ticket-notice li")).to_have_count(8)
    expect(page.locator("#ticket-notice li").nth(7)).to_have_text(TICKET_NOTICE[7])
    loaded(page, "#ticket-photo")


def test_the_applicant_opens_the_ticket_from_home_and_downloads_the_pdf(stack, browser, exam, tmp_path):
    person, times = exam["person"], exam["times"]
    api = relogin(stack, person)
    set_printing(stack, exam["year"], True, api)
    wait_for(lambda: next(s for s in api.get("/api/v1/me").json()["steps"] if s["key"] == "ticket")["enabled"],
             what="打印准考证 open in the applicant's steps")
    ticket = api.get("/api/v1/me/ticket").json()
    assert ticket["available"] is True and ticket["ticket_no"] == exam["ticket_no"]
    for viewport, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
        page = new_page(browser, stack, viewport)
        applicant_login(page, person)
        page.locator("#step-list li[data-step=ticket]").get_by_role("link", name="打印准考证").click()
        expect(page).to_have_url(re.compile(r"/ticket$"))
        expect(page.locator("#ticket-reason")).to_have_count(0)
        check_ticket_page(page, ticket, person, times)
        if viewport is PHONE:
            check_layout(page, "/ticket")
        with page.expect_download() as download:
            page.get_by_role("link", name="下载准考证（PDF）").click()
        path = tmp_path / f"{name}.pdf"
        download.value.save_as(path)
        assert download.value.suggested_filename.endswith(".pdf")
        text = pdf_tool("pdftotext", path, "-layout").replace(" ", "")
        for value in ("河南省机关事业单位工勤技能岗位等级考核", "准考证", "姓名", "性别", "年龄", "准考证号", "身份证号",
                      "工作单位", "申报工种", "申报等级", person.name, ticket["gender"], str(ticket["age"]),
                      ticket["ticket_no"], person.id_number, ticket["unit"], ticket["trade"], ticket["grade"],
                      *SUBJECTS, "河南省职业技能鉴定中心考点", "第一考场", "实训楼", span(*times[0][1:3]).replace(" ", ""),
                      "应考人员须知"):
            assert value in text, (value, text[:2000])
        fonts = pdf_tool("pdffonts", path).splitlines()[2:]
        assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts    # the emb column
        close(page)


def test_a_bulk_job_is_followed_to_its_zip_and_a_proctor_checks_a_ticket(stack, browser, exam, tmp_path):
    person, year = exam["person"], exam["year"]
    ticket_no = exam["ticket_no"]
    page = new_page(browser, stack)
    admin_login(page, "admin", ADMIN_PASSWORD)
    open_exam_page(page)
    expect(page.locator("#printing-off")).to_have_count(0)                  # printing is on
    page.locator("#job-city").select_option("410000")
    page.get_by_role("button", name="批量生成准考证").click()
    panel = page.locator("#job-panel")
    expect(panel).to_contain_text("省直准考证")
    expect(page.locator("#job-zip")).to_be_visible(timeout=30_000)             # the page's poll
    expect(page.locator("#job-status")).to_have_text("已完成")
    with page.expect_download() as download:
        page.locator("#job-zip").click()
    path = tmp_path / "tickets.zip"
    download.value.save_as(path)
    names = zipfile.ZipFile(path).namelist()
    assert f"{ticket_no}_{person.name}.pdf" in names, names

    # 核验准考证: the QR code's text (number and signature) → whose ticket, where they sit
    code = documents_domain.ticket_seal(ticket_no, person.id_number, year, settings().internal_secret)
    page.locator("#check-code").fill(code)
    page.locator("#check-form").get_by_role("button", name="核验").click()
    result = page.locator("#check-result")
    expect(result).to_have_attribute("data-valid", "true")
    for text in (person.name, person.id_number[:4], ticket_no, "第一考场"):
        expect(result).to_contain_text(text)
    expect(result).not_to_contain_text(person.id_number)                        # masked
    page.locator("#check-code").fill(code[:-1] + ("0" if code[-1] != "0" else "1"))
    page.locator("#check-form").get_by_role("button", name="核验").click()
    expect(page.locator("#check-result")).to_have_attribute("data-valid", "false")
    expect(page.locator("#check-result")).to_contain_text("无效")

    # without script, at phone size: the job started by the plain form, followed by reloading
    state = page.context.storage_state()
    bare = new_page(browser, stack, PHONE, java_script_enabled=False, storage_state=state)
    bare.goto("/admin/exam")
    bare.get_by_role("button", name="批量生成准考证").click()
    expect(bare).to_have_url(re.compile(r"job=[0-9a-f]+"))
    url = bare.url.split("#")[0]              # the same URL with its #jobs would only scroll
    reload_until(bare, url, bare.locator("#job-zip:not([hidden])"), timeout=30)
    expect(bare.locator("#job-status")).to_have_text("已完成")
    check_layout(bare, "/admin/exam following a job")
    with bare.expect_download() as download:
        bare.locator("#job-zip").click()
    download.value.save_as(tmp_path / "province.zip")
    assert f"{ticket_no}_{person.name}.pdf" in zipfile.ZipFile(tmp_path / "province.zip").namelist()
    close(page, bare)


def test_after_the_exam_the_ticket_cannot_be_printed(stack, browser, exam):
    person = exam["person"]
    last_end = exam["times"][-1][2]
    stack.set_clock(f"+{(last_end - datetime.now(clock.CST)).total_seconds() + 120:.0f}")
    api = relogin(stack, person)
    wait_for(lambda: api.get("/api/v1/me/ticket").json()["reason"] == EXAM_OVER, what="the exam over")
    for viewport in (DESKTOP, PHONE):
        page = new_page(browser, stack, viewport)
        applicant_login(page, person)
        page.goto("/ticket")
        expect(page.locator("#ticket-reason")).to_have_text(EXAM_OVER)
        expect(page.locator("#ticket-download")).to_have_count(0)
        expect(page.get_by_role("link", name="下载准考证（PDF）")).to_have_count(0)
        expect(page.locator("#ticket-info [data-field=ticket_no]")).to_have_text(exam["ticket_no"])
        response = page.request.get("/ticket.pdf")
        assert response.status == 409 and EXAM_OVER in response.text()
        api_pdf = page.request.get("/api/v1/me/ticket.pdf")
        assert api_pdf.status == 409 and api_pdf.json()["error"]["code"] == "exam_over"
        if viewport is PHONE:
            check_layout(page, "/ticket after the exam")
        close(page)
