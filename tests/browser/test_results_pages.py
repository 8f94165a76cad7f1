"""考核结果, 打印电子证书, 证书核验 and 考核结果管理 in a real headless Chromium (R-D3 … R-D6, R-P2,
R-P4), at desktop and at 390×844: the province refuses a bad 合格线 on the page (nothing saved),
imports an Excel score file on /admin/results that makes one applicant 合格 and another 不合格
(the report on the page, an unknown ticket refused, a correction with its before and after) and
an earlier year's record; the failing applicant's 考核结果 shows 不合格 and the score table, the
passing one's 合格; the passing one opens 打印电子证书 from the steps, sees 基本信息 and both
records and downloads the certificate in the browser — pdftotext finds every field, pdffonts
every font embedded, and its QR code decodes (zbarimg) to /verify/{code}, which a stranger's
browser opens to 证书有效 with masked data only; the failing one is told 考核合格后方可下载电子证书,
and with printing off the passing one 管理员开通电子证书打印后方可下载. Also: statistics by city and
grade with their Excel, a city administrator reading its own, a bulk certificate job followed to
its ZIP with script and by reloading without, and an unknown code's Chinese 404.

The applicants (洛阳, no online payment) are approved and seated through the API; the module
puts the year's results window and certificate switch back at the end."""
from __future__ import annotations

import io
import re
import subprocess
import time
import zipfile
from datetime import datetime, timedelta

import pytest
from harness import ADMIN_PASSWORD
from helpers import Api, approved, random_source, wait_for, xlsx_bytes
from pages import (
    DESKTOP,
    PHONE,
    admin_login,
    applicant_login,
    check_layout,
    close,
    new_page,
    reload_until,
    shoot,
)
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

LUOYANG = ("U410300-001", "410300", "ly_nyj")      # no online payment: 终审通过 is enough for a seat
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UNKNOWN_TICKET = "269999999999"
NOT_PASSED = "考核合格后方可下载电子证书"
PRINTING_OFF = "管理员开通电子证书打印后方可下载"
HISTORY_TRADE = "汽车驾驶员"


def province_api(stack) -> Api:
    return Api(stack.url).login_admin("admin", ADMIN_PASSWORD)


def put_year(stack, year: int, **body) -> None:
    r = province_api(stack).put(f"/api/v1/admin/years/{year}", json=body)
    assert r.status_code == 200, r.text


@pytest.fixture(scope="module")
def sat(stack):
    """Four applicants of 洛阳 seated for this year's exam (a pair per screen size); results
    open, certificate printing on. Both are put back as they were afterwards."""
    province = province_api(stack)
    year = province.get("/api/v1/years/current").json()["year"]
    before = province.get(f"/api/v1/admin/years/{year}").json()
    now = datetime.now().astimezone().replace(microsecond=0)
    day = now + timedelta(days=3)
    rows = [{"subject": s, "start": (day + timedelta(hours=i)).isoformat(),
             "end": (day + timedelta(hours=i, minutes=50)).isoformat()} for i, s in
            enumerate(("职业道德", "职业能力", "岗位技能"))]
    timetable = province.get(f"/api/v1/admin/years/{year}/timetable").json()
    if not timetable.get("4"):          # a grade left out keeps its rows
        assert province.put(f"/api/v1/admin/years/{year}/timetable", json={"4": rows}).status_code == 200
    sites = province.get(f"/api/v1/admin/years/{year}/exam-sites").json()
    if not any(s["city_code"] == "410300" for s in sites):
        sites.append({"site_code": "LY19", "name": "洛阳市第十九考点", "address": "洛阳市", "city_code": "410300",
                      "rooms": [{"room_code": "1", "name": "第一考场", "seats": 60}]})
        body = [{k: s[k] for k in ("site_code", "name", "address", "city_code")} |
                {"rooms": [{k: r[k] for k in ("room_code", "name", "seats")} for r in s["rooms"]]} for s in sites]
        assert province.put(f"/api/v1/admin/years/{year}/exam-sites", json=body).status_code == 200
    people = [approved(stack, province_api(stack), *LUOYANG) for _ in range(4)]
    province = province_api(stack)
    r = province.post(f"/api/v1/admin/years/{year}/seat-assignments", json={"city_code": "410300"})
    assert r.status_code == 200, r.text
    seated = {r["application_id"]: r["ticket_no"] for r in province.get(
        f"/api/v1/admin/years/{year}/seat-assignments",
        params={"city_code": "410300", "page_size": 200}).json()["items"]}
    put_year(stack, year, windows={"results": {"start": (now - timedelta(hours=1)).isoformat(),
                                               "end": (now + timedelta(days=30)).isoformat()}},
             switches={"certificate_printing": True})
    yield {"year": year, "people": [(api, person, seated[app_id]) for api, person, app_id in people]}
    # a window cannot be taken away: without one before, it is closed (ended before the module began)
    results = before["windows"].get("results") or {"start": (now - timedelta(days=2)).isoformat(),
                                                    "end": (now - timedelta(days=1)).isoformat()}
    put_year(stack, year, windows={"results": results},
             switches={"certificate_printing": bool(before["switches"].get("certificate_printing"))})


def step_enabled(api: Api, key: str) -> bool:
    return next(s for s in api.get("/api/v1/me").json()["steps"] if s["key"] == key)["enabled"]


def import_on_page(page: Page, form: str, name: str, data: bytes, mime: str) -> None:
    page.set_input_files(f"#{form}-form input[type=file]", files=[{"name": name, "mimeType": mime, "buffer": data}])
    expect(page.locator(f"#{form}-filename")).to_have_text(name)
    page.locator(f"#{form}-form").get_by_role("button", name="上传导入").click()
    expect(page.locator(f"#{form}-report")).to_be_visible()


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout.replace(" ", "")


# --- the journey, at both sizes ----------------------------------------------------------------
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone-390"])
def test_scores_results_and_the_certificate_from_import_to_verification(stack, browser, sat, viewport, tmp_path):
    phone = viewport is PHONE
    year = sat["year"]
    (good_api, good, good_ticket), (bad_api, bad, bad_ticket) = sat["people"][2:] if phone else sat["people"][:2]
    lines_before = province_api(stack).get(f"/api/v1/admin/years/{year}/pass-lines").json()

    # --- the province: 考核结果管理 from the menu --------------------------------------------------
    admin = new_page(browser, stack, viewport)
    admin_login(admin, "admin", ADMIN_PASSWORD)
    admin.locator("nav.adminnav").get_by_role("link", name="考核结果管理").click()
    expect(admin).to_have_url(re.compile(r"/admin/results$"))
    expect(admin.locator("h1")).to_contain_text("考核结果管理")
    expect(admin.locator("#results-switches")).to_contain_text("已开通")
    if phone:
        check_layout(admin, "/admin/results")

    # a bad 合格线: said in Chinese on the page, with what was typed, and nothing saved
    admin.fill("#f-ethics", "abc")
    admin.fill("#f-total", "400")
    admin.get_by_role("button", name="保存合格线").click()
    expect(admin.locator("#pass-lines-error")).to_contain_text("合格线未保存")
    expect(admin.locator("[data-error-for=ethics]")).to_have_text("职业道德合格线须为0–100之间的整数")
    expect(admin.locator("[data-error-for=total]")).to_have_text("总成绩合格线须为0–300之间的整数")
    expect(admin.locator("#f-ethics")).to_have_value("abc")
    if phone:
        check_layout(admin, "/admin/results with the 合格线 refused")
    assert province_api(stack).get(f"/api/v1/admin/years/{year}/pass-lines").json() == lines_before
    admin.goto("/admin/results")
    expect(admin.locator("#f-ethics")).to_have_value(str(lines_before["subjects"]["职业道德"]))

    # 成绩导入: one 合格, one 不合格 (职业道德 below its line), an unknown ticket refused
    import_on_page(admin, "scores", "成绩.xlsx", xlsx_bytes([
        ["准考证号", "职业道德", "职业能力", "岗位技能"], [good_ticket, 80, 70.5, 60], [bad_ticket, 34, 80, 80],
        [UNKNOWN_TICKET, 60, 60, 60]]), XLSX)
    expect(admin.locator("#scores-summary")).to_contain_text("成功导入 2 人的成绩")
    expect(admin.locator("#scores-summary")).to_contain_text("1 行未导入")
    refused = admin.locator("#scores-refused tbody tr[data-line='4']")
    expect(refused).to_contain_text(UNKNOWN_TICKET)
    expect(refused).to_contain_text("准考证号不存在")
    expect(admin.locator("#scores-replaced")).to_be_hidden()
    bad_ethics = 34
    if not phone:       # a correction: the report shows the scores before and after
        import_on_page(admin, "scores", "更正.csv", f"准考证号,职业道德,职业能力,岗位技能\n{bad_ticket},33,80,80\n"
                       .encode(), "text/csv")
        expect(admin.locator("#scores-summary")).to_contain_text("其中 1 人为更正原有成绩")
        changed = admin.locator("#scores-replaced tbody tr[data-line='2']")
        expect(changed).to_contain_text(bad_ticket)
        expect(changed.locator("td").nth(2)).to_have_text("职业道德 34，职业能力 80，岗位技能 80")
        expect(changed.locator("td").nth(3)).to_have_text("职业道德 33，职业能力 80，岗位技能 80")
        bad_ethics = 33
    shoot(admin, tmp_path / "admin-results-import.png")
    if phone:
        check_layout(admin, "/admin/results with the import report")

    # 历年考核记录导入: the passing one's 2018 record; a bad line refused with why
    import_on_page(admin, "history", "历年记录.csv", (
        "身份证号,年度,类型,岗位工种,岗位等级,取得证书时间,考核结果\n"
        f"{good.id_number},2018,岗位等级考核,{HISTORY_TRADE},五级,2018-09-30,合格\n"
        "41010219850312001,2018,岗位等级考核,汽车驾驶员,五级,2018-09-30,合格\n").encode(), "text/csv")
    expect(admin.locator("#history-summary")).to_contain_text("成功导入 1 条考核记录")
    expect(admin.locator("#history-refused tbody tr[data-line='3']")).to_contain_text("身份证号须为18位")

    # 考核结果统计: 洛阳 as the API counts it
    admin.goto(f"/admin/results?year={year}")
    api_stats = province_api(stack).get(f"/api/v1/admin/years/{year}/results", params={"by": "city"}).json()
    luoyang = next(r for r in api_stats["rows"] if r["key"] == "410300")
    row = admin.locator("#stats-table tbody tr[data-key='410300']")
    expect(row.locator("td")).to_have_text(["洛阳市", str(luoyang["sat"]), str(luoyang["passed"]),
                                            f"{luoyang['rate'] * 100:.1f}%"])
    if phone:
        check_layout(admin, "/admin/results statistics")

    # --- the failing applicant: 不合格 and the score table -------------------------------------------
    failing = new_page(browser, stack, viewport)
    applicant_login(failing, bad)
    failing.goto("/result")
    expect(failing.locator("#result-name")).to_have_text("不合格")
    expect(failing.locator("#result-info [data-field=name]")).to_have_text(bad.name)
    expect(failing.locator("#result-info [data-field=id_number]")).to_have_text(bad.id_number)
    expect(failing.locator("#result-info [data-field=ticket_no]")).to_have_text(bad_ticket)
    expect(failing.locator("#result-scores thead th")).to_have_text(["科目", "本人分数", "单科最低线合格线"])
    expect(failing.locator("#result-scores tbody tr")).to_have_count(4)
    for subject, score, line in (("职业道德", bad_ethics, 35), ("职业能力", 80, 35), ("岗位技能", 80, 35),
                                 ("总成绩", bad_ethics + 160, 105)):
        expect(failing.locator(f"#result-scores tr[data-subject='{subject}'] td")).to_have_text(
            [subject, str(score), str(line)])
    shoot(failing, tmp_path / "result-fail.png")
    if phone:
        check_layout(failing, "/result 不合格")

    # --- the passing applicant: 合格, then 打印电子证书 from the steps ------------------------------------
    passing = new_page(browser, stack, viewport)
    applicant_login(passing, good)
    passing.goto("/result")
    expect(passing.locator("#result-name")).to_have_text("合格")
    expect(passing.locator("#result-info [data-field=ticket_no]")).to_have_text(good_ticket)
    expect(passing.locator("#result-scores")).to_have_count(0)
    if phone:
        check_layout(passing, "/result 合格")
    wait_for(lambda: step_enabled(good_api, "certificate"), what="application learning of 合格")
    step = passing.locator("nav.steps a[data-step=certificate]")
    reload_until(passing, "/home", step)
    expect(passing.locator("nav.steps a[data-step=result]")).to_have_attribute("href", "/result")
    step.click()
    expect(passing).to_have_url(re.compile(r"/certificate$"))
    expect(passing.locator("nav.steps li.active")).to_contain_text("打印电子证书")
    cert = good_api.get("/api/v1/me/certificate").json()
    basic = passing.locator("#cert-basic")
    expect(basic.locator("[data-field=name]")).to_have_text(good.name)
    expect(basic.locator("[data-field=id_number]")).to_have_text(good.id_number)
    for key in ("gender", "education", "work_start", "unit"):
        expect(basic.locator(f"[data-field={key}]")).to_have_text(cert["basic"][key])
    expect(basic.locator("[data-field=service_years]")).to_have_text(f"{cert['basic']['service_years']}年")
    expect(passing.locator("#cert-records thead th")).to_have_text(
        ["年度", "类型", "岗位工种", "岗位等级", "取得证书时间", "考核结果"])
    expect(passing.locator("#cert-records tr[data-year='2018'] td")).to_have_text(
        ["2018", "岗位等级考核", HISTORY_TRADE, "五级", "2018-09-30", "合格"])
    this_year = passing.locator(f"#cert-records tr[data-year='{year}'] td")
    expect(this_year.nth(0)).to_have_text(str(year))
    expect(this_year.nth(3)).to_have_text("四级")
    expect(this_year.nth(5)).to_have_text("合格")
    code = cert["verification_code"]
    expect(passing.locator("#cert-verify [data-field=verification_code]")).to_have_text(code)
    expect(passing.locator("#cert-verify-url")).to_have_text(f"{stack.url}/verify/{code}")
    shoot(passing, tmp_path / "certificate.png")
    if phone:
        check_layout(passing, "/certificate")

    # 下载证书 in the browser: every field, every font embedded, the QR code to the public page
    with passing.expect_download() as download:
        passing.get_by_role("link", name="下载证书").click()
    assert download.value.suggested_filename.endswith(".pdf")
    path = tmp_path / "certificate.pdf"
    download.value.save_as(path)
    assert path.read_bytes().startswith(b"%PDF")
    text = pdf_text(path)
    record_values = [v for r in cert["records"] for v in (str(r["year"]), r["kind"], r["trade"], r["grade_name"],
                                                        r["obtained_at"] or "—", r["result_name"])]
    for value in ("基本信息", f"姓名：{good.name}", f"性别：{cert['basic']['gender']}",
                  f"学历：{cert['basic']['education']}", f"身份证号：{good.id_number}",
                  f"参加工作时间：{cert['basic']['work_start']}", f"工作年限：{cert['basic']['service_years']}年",
                  f"所在单位：{cert['basic']['unit']}", "岗位等级考核记录", "年度", "类型", "岗位工种", "岗位等级",
                  "取得证书时间", "考核结果", f"验证码：{code}", *record_values):
        assert value.replace(" ", "") in text, value
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    font_lines = fonts.splitlines()[2:]
    assert font_lines and all(line.split()[-5] == "yes" for line in font_lines), fonts
    subprocess.run(["pdftoppm", "-r", "200", "-png", "-singlefile", str(path), str(tmp_path / "qr")], check=True)
    decoded = subprocess.run(["zbarimg", "--quiet", "--raw", str(tmp_path / "qr.png")], capture_output=True,
                             text=True, check=True).stdout.strip()
    assert decoded == f"{stack.url}/verify/{code}"

    # a stranger's browser opens the QR's address: 证书有效, masked data only
    stranger = new_page(browser, stack, viewport, extra_http_headers={"X-Forwarded-For": random_source()})
    response = stranger.goto(decoded)
    assert response.status == 200
    expect(stranger.locator("#verify-title")).to_have_text("证书有效")
    data = stranger.locator("#verify-data")
    masked_id = good.id_number[:6] + "********" + good.id_number[-4:]
    expect(data.locator("[data-field=id_number]")).to_have_text(masked_id)
    expect(data.locator("[data-field=name]")).to_have_text(good.name[0] + "*" * (len(good.name) - 1))
    expect(data.locator("[data-field=grade]")).to_have_text("四级")
    expect(data.locator("[data-field=trade]")).to_have_text(cert["records"][-1]["trade"])
    expect(data.locator("[data-field=year]")).to_have_text(str(year))
    expect(data.locator("[data-field=issued_at]")).to_have_text(re.compile(r"^\d{4}年\d{2}月\d{2}日$"))
    whole = stranger.content()
    assert good.id_number not in whole and good.name not in whole
    shoot(stranger, tmp_path / "verify.png")
    if phone:
        check_layout(stranger, "/verify/{code}")
    # the code typed into /verify leads to the same page
    stranger.goto("/verify")
    stranger.fill("#f-code", code.lower())
    stranger.get_by_role("button", name="查验").click()
    expect(stranger).to_have_url(re.compile(rf"/verify/{code}$"))
    expect(stranger.locator("#verify-title")).to_have_text("证书有效")

    # --- the failing one: no certificate ----------------------------------------------------------------
    failing.goto("/certificate")
    expect(failing.locator("#certificate-reason")).to_have_text(NOT_PASSED)
    expect(failing.locator("#certificate-download")).to_have_count(0)
    expect(failing.locator("#cert-basic")).to_have_count(0)
    if phone:
        check_layout(failing, "/certificate 不合格")

    # --- printing switched off: the passing one is told so, no download; then on again ---------------------
    put_year(stack, year, switches={"certificate_printing": False})
    try:
        wait_for(lambda: good_api.get("/api/v1/me/certificate").status_code == 409, what="documents learning of it")
        passing.goto("/certificate")
        expect(passing.locator("#certificate-reason")).to_have_text(PRINTING_OFF)
        expect(passing.locator("#certificate-download")).to_have_count(0)
        if phone:
            check_layout(passing, "/certificate printing off")
    finally:
        put_year(stack, year, switches={"certificate_printing": True})
    wait_for(lambda: good_api.get("/api/v1/me/certificate").status_code == 200, what="printing on again")
    close(admin, failing, passing, stranger)


def test_an_unknown_code_is_a_chinese_404_page(stack, browser):
    for viewport in (DESKTOP, PHONE):
        page = new_page(browser, stack, viewport, extra_http_headers={"X-Forwarded-For": random_source()})
        response = page.goto("/verify/AAAAAAAAAAAAAAAA")
        assert response.status == 404
        expect(page.locator("h1")).to_have_text("证书不存在或验证码有误")
        expect(page.locator("#verify-message")).to_contain_text("请核对证书上的验证码")
        expect(page.locator("#verify-title")).to_have_count(0)
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        if viewport is PHONE:
            check_layout(page, "/verify unknown")
        page.goto("/verify?code=<b>")
        expect(page.locator("#verify-error")).to_have_text("验证码由字母和数字组成，请核对后重新输入")
        close(page)


# --- the administrators' other parts ----------------------------------------------------------------
def test_statistics_export_a_city_reading_its_own_and_a_bulk_job_with_and_without_script(stack, browser, sat,
                                                                                        tmp_path):
    year = sat["year"]
    (_, _, ticket), (_, _, other) = sat["people"][:2]
    province = province_api(stack)
    if not province.get(f"/api/v1/admin/years/{year}/results", params={"by": "city"}).json()["rows"]:
        r = province.put("/api/v1/admin/scores", files={"file": ("s.csv", f"准考证号,职业道德,职业能力,岗位技能\n"
                                                                          f"{ticket},80,80,80\n{other},20,20,20\n"
                                                                          .encode(), "text/csv")})
        assert r.status_code == 200, r.text

    page = new_page(browser, stack)
    admin_login(page, "admin", ADMIN_PASSWORD)
    page.goto(f"/admin/results?year={year}")
    page.locator("#stats").get_by_role("link", name="按等级").click()
    expect(page.locator("#stats-table thead th").first).to_have_text("等级")
    expect(page.locator("#stats-table tbody tr[data-key='4'] td").first).to_have_text("四级")
    with page.expect_download() as download:
        page.get_by_role("link", name="导出Excel").click()
    path = tmp_path / "stats.xlsx"
    download.value.save_as(path)
    import openpyxl

    sheet = openpyxl.load_workbook(path).active
    assert [c.value for c in sheet[1]] == ["等级", "参考人数", "合格人数", "合格率"]
    assert any(row[0].value == "四级" for row in sheet.iter_rows(min_row=2))

    # 批量生成电子证书 for 洛阳, followed by the page's script every 2 s to its ZIP
    page.select_option("#f-job-city", "410300")
    page.get_by_role("button", name="批量生成电子证书").click()
    expect(page).to_have_url(re.compile(r"/admin/results\?year=\d+&job=\w+#cert-job$"))
    expect(page.locator("#cert-job-panel")).to_contain_text("洛阳市")
    expect(page.locator("#cert-job-status")).to_have_text("已完成", timeout=30_000)
    expect(page.locator("#cert-job-refresh")).to_be_hidden()
    with page.expect_download() as download:
        page.locator("#cert-job-zip").click()
    archive = zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes()))
    assert any(name.startswith(f"证书_{ticket}_") for name in archive.namelist()), archive.namelist()
    assert all(archive.read(name).startswith(b"%PDF") for name in archive.namelist())

    # without script: the same form, then 刷新进度 until it is done
    token = province_api(stack).token
    still = new_page(browser, stack, java_script_enabled=False)
    still.context.add_cookies([{"name": "gk_session", "value": token, "url": stack.url}])
    still.goto(f"/admin/results?year={year}")
    still.select_option("#f-job-city", "410300")
    still.get_by_role("button", name="批量生成电子证书").click()
    expect(still).to_have_url(re.compile(r"job=\w+"))
    deadline = time.monotonic() + 30
    while not still.locator("#cert-job-zip").is_visible():          # 刷新进度, as someone without script would
        assert time.monotonic() < deadline, still.locator("#cert-job-panel").inner_text()
        still.wait_for_timeout(300)
        still.get_by_role("link", name="刷新进度").click()
        still.wait_for_load_state()
    expect(still.locator("#cert-job-status")).to_have_text("已完成")
    # a bad 合格线 without script: refused on the page, nothing saved
    before = province_api(stack).get(f"/api/v1/admin/years/{year}/pass-lines").json()
    still.fill("#f-skill", "")
    still.get_by_role("button", name="保存合格线").click()
    expect(still.locator("[data-error-for=skill]")).to_have_text("请填写岗位技能合格线")
    assert province_api(stack).get(f"/api/v1/admin/years/{year}/pass-lines").json() == before

    # a city administrator: its own statistics, nothing to change
    city = new_page(browser, stack)
    admin_login(city, "ly_city")
    city.locator("nav.adminnav").get_by_role("link", name="考核结果管理").click()
    expect(city.locator("h1")).to_contain_text("洛阳市，只读")
    expect(city.locator("#stats-table tbody tr[data-key='410300']")).to_be_visible()
    expect(city.locator("#stats-table tbody tr[data-key]:not([data-key='410300'])")).to_have_count(0)
    for part in ("#pass-lines", "#scores", "#history", "#cert-job"):
        expect(city.locator(part)).to_have_count(0)
    close(page, still, city)
