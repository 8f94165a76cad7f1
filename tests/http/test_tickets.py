"""The exam's arrangement and the admission ticket on the real services (R-D1, R-D2, R-D6):
the province enters sites, rooms and the timetable (JSON or Excel), seats whoever may sit
the exam — after paying in a city that pays online, on 终审通过 elsewhere — and the
applicant downloads the ticket PDF while printing is on and until the exam ends. A bulk job
survives the documents service being killed in the middle of it. Time moves with the shared
clock file."""
from __future__ import annotations

import io
import subprocess
import zipfile
from datetime import datetime, timedelta

import pytest
import requests
from helpers import XLSX, Api, admin, approved, assert_error, wait_for, xlsx_bytes

FEES = {"5": 12000, "4": 15000, "3": 18000, "2": 24000, "1": 30000}
OPEN = "+90000"                      # 25 h after 终审通过: paying is open
EXAM_IN_DAYS = 6
LUOYANG = ("U410300-001", "410300", "ly_nyj")    # 洛阳 does not pay online here


def exam_times() -> tuple[datetime, dict]:
    day = (datetime.now().astimezone() + timedelta(days=EXAM_IN_DAYS)).replace(hour=0, minute=0, second=0,
                                                                               microsecond=0)
    rows = [{"subject": "职业道德", "start": day.replace(hour=8).isoformat(), "end": day.replace(hour=9).isoformat()},
            {"subject": "职业能力", "start": day.replace(hour=9, minute=30).isoformat(),
             "end": day.replace(hour=11).isoformat()},
            {"subject": "岗位技能", "start": day.replace(hour=14).isoformat(), "end": day.replace(hour=16).isoformat(),
             "place": "实训楼"}]
    return day.replace(hour=16), {"5": rows, "4": rows}


SITES = [{"site_code": "SZ01", "name": "河南省职业技能鉴定中心考点", "address": "郑州市金水区经三路1号",
          "city_code": "410000", "rooms": [{"room_code": "101", "name": "第一考场", "seats": 300}]},
         {"site_code": "LY01", "name": "洛阳市技师学院考点", "address": "洛阳市洛龙区开元大道2号", "city_code": "410300",
          "rooms": [{"room_code": "A1", "name": "第一考场", "seats": 2}, {"room_code": "A2", "name": "第二考场",
                                                                        "seats": 30}]}]


@pytest.fixture(scope="module")
def arranged(stack):
    province = Api(stack.url).login_admin("admin", __import__("harness").ADMIN_PASSWORD)
    year = province.get("/api/v1/years/current").json()["year"]
    before = province.get(f"/api/v1/admin/years/{year}/fees").json().get("online_payment_cities") or []
    r = province.put(f"/api/v1/admin/years/{year}/fees", json={"fees_fen": FEES,
                                                               "online_payment_cities": ["410000", "410100"]})
    assert r.status_code == 200, r.text
    last_end, table = exam_times()
    r = province.put(f"/api/v1/admin/years/{year}/timetable", json=table)
    assert r.status_code == 200, r.text
    # this module's sites, beside whatever other modules arranged (their seated rooms stay)
    mine = {s["site_code"] for s in SITES}
    kept = [{k: s[k] for k in ("site_code", "name", "address", "city_code")}
            | {"rooms": [{k: r[k] for k in ("room_code", "name", "seats")} for r in s["rooms"]]}
            for s in province.get(f"/api/v1/admin/years/{year}/exam-sites").json() if s["site_code"] not in mine]
    r = province.put(f"/api/v1/admin/years/{year}/exam-sites", json=kept + SITES)
    assert r.status_code == 200, r.text
    yield {"year": year, "last_end": last_end}
    province = Api(stack.url).login_admin("admin", __import__("harness").ADMIN_PASSWORD)
    province.put(f"/api/v1/admin/years/{year}", json={"switches": {"ticket_printing": False}})
    province.put(f"/api/v1/admin/years/{year}/fees", json={"online_payment_cities": before})


def province_now(stack) -> Api:
    return Api(stack.url).login_admin("admin", __import__("harness").ADMIN_PASSWORD)


def relogin(stack, person) -> Api:
    api = Api(stack.url)
    assert api.login(person.id_number, person.password).status_code == 201
    return api


def set_printing(stack, year: int, on: bool, api: Api) -> None:
    r = province_now(stack).put(f"/api/v1/admin/years/{year}", json={"switches": {"ticket_printing": on}})
    assert r.status_code == 200, r.text
    wait_for(lambda: (api.get("/api/v1/me/ticket").json()["reason"] != "管理员开通准考证打印后方可打印") == on,
             what="documents learning of the switch")


def assign(province: Api, year: int, **body) -> dict:
    r = province.post(f"/api/v1/admin/years/{year}/seat-assignments", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def pdf_tool(tool: str, data: bytes, tmp_path, *args: str) -> str:
    """What poppler's pdftotext / pdffonts / pdfimages say of a PDF."""
    path = tmp_path / f"{tool}.pdf"
    path.write_bytes(data)
    argv = [tool, *args, str(path), *(["-"] if tool == "pdftotext" else [])]
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


def test_after_paying_the_applicant_is_seated_and_downloads_the_ticket_until_the_exam_ends(stack, arranged,
                                                                                          tmp_path):
    year = arranged["year"]
    api, person, app_id = approved(stack, province_now(stack))          # 省直: pays online
    province = province_now(stack)
    assign(province, year, city_code="410000")
    ticket = api.get("/api/v1/me/ticket").json()
    assert ticket["available"] is False and ticket["ticket_no"] is None      # unpaid: no seat
    listed = province.get(f"/api/v1/admin/years/{year}/seat-assignments",
                          params={"status": "not_eligible", "city_code": "410000", "page_size": 200}).json()
    assert {r["application_id"]: r["reason"] for r in listed["items"]}[app_id] == "尚未缴费"
    assert_error(api.get("/api/v1/me/ticket.pdf"), 409, "not_open")

    stack.set_clock(OPEN)
    api = relogin(stack, person)
    order = api.post("/api/v1/me/payment/orders", json={"receipt_title": "河南省职业技能鉴定中心"}).json()
    r = requests.post(f"{stack.nontax_url}/api/pay/{order['payment_notice_no']}", data={"outcome": "paid"},
                      timeout=10)
    assert r.status_code == 200, r.text
    province = province_now(stack)
    wait_for(lambda: assign(province, year, city_code="410000")["assigned"] >= 1 and api.get(
        "/api/v1/me/ticket").json()["ticket_no"], what="the paid applicant seated")
    ticket = api.get("/api/v1/me/ticket").json()
    assert len(ticket["ticket_no"]) == 12 and ticket["ticket_no"].startswith(str(year)[2:])
    assert ticket["subjects"][0]["site"] == "河南省职业技能鉴定中心考点" and ticket["subjects"][0]["room"] == "第一考场"
    # printing is off: the page says so, the PDF is refused, the step tells why
    assert ticket["available"] is False and ticket["reason"] == "管理员开通准考证打印后方可打印"
    assert_error(api.get("/api/v1/me/ticket.pdf"), 409, "not_open")

    set_printing(stack, year, True, api)
    wait_for(lambda: next(s for s in api.get("/api/v1/me").json()["steps"] if s["key"] == "ticket")["enabled"],
             what="打印准考证 open in the applicant's steps")
    r = api.get("/api/v1/me/ticket.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert "attachment" in r.headers["content-disposition"] and int(r.headers["content-length"]) == len(r.content)
    text = pdf_tool("pdftotext", r.content, tmp_path, "-layout").replace(" ", "")
    for value in (ticket["ticket_no"], person.name, person.id_number, ticket["unit"], ticket["trade"], "四级",
                  "职业道德", "职业能力", "岗位技能", "河南省职业技能鉴定中心考点", "第一考场", "实训楼", "应考人员须知"):
        assert value in text, value
    fonts = pdf_tool("pdffonts", r.content, tmp_path).splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts        # the emb column
    images = pdf_tool("pdfimages", r.content, tmp_path, "-list").splitlines()[2:]
    assert len(images) == 1                                                           # the 2-inch photo
    again = api.get("/api/v1/me/ticket.pdf")
    assert again.content == r.content and again.headers["etag"] == r.headers["etag"]   # the cached copy

    # after the last subject ends the page refuses and so does the PDF
    stack.set_clock(f"+{(arranged['last_end'] - datetime.now().astimezone()).total_seconds() + 120:.0f}")
    api = relogin(stack, person)
    ticket = api.get("/api/v1/me/ticket").json()
    assert ticket["available"] is False and ticket["reason"] == "考试时间已过，不能打印"
    err = assert_error(api.get("/api/v1/me/ticket.pdf"), 409, "exam_over")
    assert err["message"] == "考试时间已过，不能打印"


def test_the_arrangement_takes_json_or_excel_and_bad_input_changes_nothing(stack, arranged):

    year = arranged["year"] + 1            # another year: this module's arrangement stays as it is
    province = province_now(stack)
    assert_error(province.put(f"/api/v1/admin/years/{year}/exam-sites", json={"sites": []}), 400, "invalid")
    bad = [{**SITES[0], "city_code": "999999"}]
    assert_error(province.put(f"/api/v1/admin/years/{year}/exam-sites", json=bad), 400, "invalid", "city_code")
    assert province.get(f"/api/v1/admin/years/{year}/exam-sites").json() == []
    data = xlsx_bytes([["考点代码", "考点名称", "考点地址", "省辖市代码", "考场代码", "考场名称", "座位数"],
                       ["ZZ01", "郑州市考点", "金水路1号", "410100", "1", "第一考场", 40],
                       ["ZZ01", "郑州市考点", "金水路1号", "410100", "2", "第二考场", 40]])
    r = province.put(f"/api/v1/admin/years/{year}/exam-sites", files={"file": ("考场.xlsx", data, XLSX)})
    assert r.status_code == 200, r.text
    assert [(s["site_code"], [x["seats"] for x in s["rooms"]]) for s in r.json()] == [("ZZ01", [40, 40])]
    r = province.put(f"/api/v1/admin/years/{year}/timetable",
                     files={"file": ("t.csv", "等级,科目,开始时间,结束时间\n四级,职业道德,明天,后天\n".encode(), "text/csv")})
    err = assert_error(r, 400, "invalid", "file")
    assert err["details"]["refused"] == [{"line": 2, "reason": "时间格式须为 2026-06-13 08:00"}]
    assert province.get(f"/api/v1/admin/years/{year}/timetable").json() == {}
    city = admin(stack, "zz_city")
    assert_error(city.put(f"/api/v1/admin/years/{year}/exam-sites", json=SITES), 403, "role_not_allowed")


def test_a_bulk_job_survives_killing_the_documents_service_mid_way(stack, arranged, tmp_path):
    """Tickets of 洛阳 (no online payment: 终审通过 is enough), one per chunk. The service is
    killed while a chunk is stuck (application, which serves the photos, is down); another
    start takes the stale chunk again and the ZIP holds every ticket."""
    year = arranged["year"]
    people = [approved(stack, province_now(stack), *LUOYANG) for _ in range(3)]
    province = province_now(stack)
    assert assign(province, year, city_code="410300")["assigned"] >= 3      # others' waiting ones too
    set_printing(stack, year, True, people[0][0])

    def seated() -> list[dict]:
        return province_now(stack).get(f"/api/v1/admin/years/{year}/seat-assignments",
                                       params={"city_code": "410300", "page_size": 200}).json()["items"]

    rows = seated()
    mine = {r["application_id"]: r["ticket_no"] for r in rows}
    # where they sit: the sites and rooms 洛阳 has now (an earlier test may have set others)
    sites = {r["site_code"] for r in rows if r["application_id"] in {a for _, _, a in people}}
    rooms = {f'{r["site_code"]}-{r["room_code"]}' for r in rows if r["application_id"] in {a for _, _, a in people}}
    assert all(app_id in mine for _, _, app_id in people)

    stack.stop_service("documents")
    stack.start_service("documents", GONGKAO_DOCUMENT_CHUNK_SIZE="1", GONGKAO_DOCUMENT_STALE_SECONDS="30")
    stack.wait_ready()
    stack.stop_service("application")              # the photos' server: a chunk needing one waits
    try:
        r = province.post("/api/v1/admin/document-jobs", json={"kind": "tickets", "year": year,
                                                                "city_code": "410300"})
        assert r.status_code == 202, r.text
        job_id, total = r.json()["job_id"], r.json()["total"]
        assert total == len(mine)
        sql = "SELECT count(*) FROM job_chunks WHERE job_id = :j AND status = :s"
        wait_for(lambda: stack.db_scalar("documents", sql, j=job_id, s="running") >= 1, what="a chunk under way")
        stack.kill_service("documents")
    finally:
        stack.start_service("application")
    status, done = stack.db_scalar("documents", "SELECT status || ':' || done FROM jobs WHERE id = :j",
                                   j=job_id).split(":")
    assert status == "running" and int(done) < total                          # killed mid-way
    stack.start_service("documents", GONGKAO_DOCUMENT_CHUNK_SIZE="1", GONGKAO_DOCUMENT_STALE_SECONDS="30")
    stack.wait_ready()
    stack.set_clock("+60")                     # the dead instance's claim is stale now
    province = province_now(stack)
    wait_for(lambda: province.get(f"/api/v1/admin/document-jobs/{job_id}").json()["status"] == "done",
             timeout=60, what="the job finished by the new instance")
    assert province.get(f"/api/v1/admin/document-jobs/{job_id}").json()["done"] == total
    assert stack.db_scalar("documents", "SELECT max(attempts) FROM job_chunks WHERE job_id = :j", j=job_id) == 2
    r = province.get(f"/api/v1/admin/document-jobs/{job_id}/archive.zip")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    names = {n.split("_")[0]: n for n in archive.namelist()}
    assert sorted(names) == sorted(mine.values()) and all(n.endswith(".pdf") for n in names.values())
    for _, person, app_id in people:
        assert person.id_number in pdf_tool("pdftotext", archive.read(names[mine[app_id]]), tmp_path)

    # issue 14: the proctors' seat lists of 洛阳, through the gateway — never in another city's
    ly, zz = admin(stack, "ly_city"), admin(stack, "zz_city")
    r = ly.get(f"/api/v1/admin/years/{year}/seat-lists.xlsx")
    assert r.status_code == 200 and r.headers["content-type"] == XLSX and "attachment" in r.headers["content-disposition"]
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(r.content), read_only=True)
    assert {ws.title for ws in book.worksheets} >= rooms
    cells = [c for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row if c]
    assert all(person.name in cells and mine[app_id] in cells and person.id_number not in cells
               for _, person, app_id in people)
    theirs = load_workbook(io.BytesIO(zz.get(f"/api/v1/admin/years/{year}/seat-lists.xlsx").content), read_only=True)
    assert not [ws.title for ws in theirs.worksheets if ws.title in rooms]
    assert_error(zz.get(f"/api/v1/admin/years/{year}/seat-lists.pdf", params={"city_code": "410300"}), 403,
                 "out_of_scope")
    text = ""
    for site in sorted(sites):
        r = ly.get(f"/api/v1/admin/years/{year}/seat-lists.pdf", params={"site_code": site})
        assert r.status_code == 200 and r.content[:5] == b"%PDF-"
        text += pdf_tool("pdftotext", r.content, tmp_path)
    assert "监考人员签名" in text and all(mine[app_id] in text for _, _, app_id in people)
    r = ly.get(f"/api/v1/admin/years/{year}/seat-lists.zip")                 # a PDF per 考点, sent as made
    assert r.status_code == 200 and "content-length" not in r.headers and r.headers["content-type"] == "application/zip"
    assert "考场座次表_" in zipfile.ZipFile(io.BytesIO(r.content)).namelist()[0]
    stack.stop_service("documents")
    stack.start_service("documents")
    stack.wait_ready()
