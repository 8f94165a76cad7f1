"""打印准考证 and 考场安排 on the fake RPC (R-D1, R-D2, R-D6): what the pages show from the
documents service's answers, which RPC each plain form calls with what, that a refusal is
shown on the page and a form without its CSRF token changes nothing. The real thing, in a
browser: tests/browser/test_ticket_pages.py."""
from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from fakes import ADMIN_TOKEN, APPLICANT_TOKEN, sealed_admin

import gateway.files
from kit.errors import Conflict, InvalidInput

APPLICANT = {"Authorization": f"Bearer {APPLICANT_TOKEN}"}
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
FORM_COOKIES = {"Cookie": f"gk_session={ADMIN_TOKEN}; gk_csrf=tok",
                "Content-Type": "application/x-www-form-urlencoded"}
SUBJECTS = [
    {"subject": "岗位技能", "site": "省直考点", "room": "第一考场", "start": "2026-06-13T06:00:00+00:00",
     "end": "2026-06-13T08:00:00+00:00", "place": "实训楼", "seat": 7},
    {"subject": "职业道德", "site": "省直考点", "room": "第一考场", "start": "2026-06-13T00:00:00+00:00",
     "end": "2026-06-13T01:00:00+00:00", "place": "经三路1号", "seat": 7},
    {"subject": "职业能力", "site": "省直考点", "room": "第一考场", "start": "2026-06-13T01:30:00+00:00",
     "end": "2026-06-13T03:00:00+00:00", "place": "经三路1号", "seat": 7}]
TICKET = {"available": True, "reason": None, "ticket_no": "260001141007", "name": "张伟", "gender": "男", "age": 41,
          "id_number": "410102198503120014", "unit": "河南省职业技能等级评价指导中心", "trade": "护理员",
          "grade": "四级", "subjects": SUBJECTS}
SITES = [{"site_code": "SZ01", "name": "省直考点", "address": "经三路1号", "city_code": "410000",
          "rooms": [{"room_code": "101", "name": "第一考场", "seats": 30, "number": 1, "seated": 1}]},
         {"site_code": "ZZ01", "name": "郑州考点", "address": "", "city_code": "410100",
          "rooms": [{"room_code": "1", "name": "第一考场", "seats": 40, "number": 1, "seated": 0}]}]


def progress(enabled: bool, reason: str | None = None) -> dict:
    return {"status": "approved", "application_window": None, "supervisor": None,
            "steps": [{"key": "ticket", "title": "打印准考证", "enabled": enabled, "reason": reason}]}


@pytest.fixture
def exam(rpc):
    rpc.answer("identity.current_year", {"year": 2026, "windows": {}, "switches": {"ticket_printing": True}})
    rpc.answer("documents.get_exam_sites", SITES)
    rpc.answer("documents.get_timetable", {})
    rpc.answer("documents.seats", {"items": [], "total": 0})
    rpc.answer("documents.put_exam_sites", lambda who, year, body: body["sites"])
    rpc.answer("documents.put_timetable", lambda who, year, body: body)
    return rpc


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- 打印准考证 -------------------------------------------------------------------------------
def test_the_ticket_page_shows_every_field_in_the_manuals_order_and_the_download(client, rpc):
    rpc.answer("application.progress", progress(True)).answer("documents.my_ticket", TICKET)
    r = client.simulate_get("/ticket", headers=APPLICANT)
    assert r.status_code == 200 and rpc.names == ["identity.resolve_session_view", "application.progress",
                                                  "documents.my_ticket"]
    text = text_of(r.text)
    for value in ("河南省机关事业单位工勤技能岗位等级考核", "准考证", "姓名 张伟", "性别 男", "年龄 41",
                  "准考证号 260001141007", "身份证号 410102198503120014", "工作单位 河南省职业技能等级评价指导中心",
                  "申报工种 护理员", "申报等级 四级", "应考人员须知", "ha.nva.net.cn"):
        assert value in text, value
    rows = re.findall(r'<tr data-subject="([^"]+)">', r.text)
    assert rows == ["职业道德", "职业能力", "岗位技能"]                        # the manual's order
    assert "2026-06-13 08:00-09:00" in text and "2026-06-13 14:00-16:00" in text   # Beijing time
    assert 'href="/ticket.pdf"' in r.text and 'src="/api/v1/me/application/files/personal_photo"' in r.text
    assert 'id="ticket-reason"' not in r.text


def test_while_printing_is_off_only_the_reason_shows(client, rpc):
    rpc.answer("application.progress", progress(False, "管理员开通准考证打印后方可打印"))
    rpc.answer("documents.my_ticket", {**TICKET, "available": False, "reason": "管理员开通准考证打印后方可打印"})
    r = client.simulate_get("/ticket", headers=APPLICANT)
    assert "管理员开通准考证打印后方可打印" in r.text
    assert "/ticket.pdf" not in r.text and "260001141007" not in r.text


def test_after_the_exam_the_ticket_shows_with_the_reason_and_no_download(client, rpc):
    rpc.answer("application.progress", progress(True))
    rpc.answer("documents.my_ticket", {**TICKET, "available": False, "reason": "考试时间已过，不能打印"})
    r = client.simulate_get("/ticket", headers=APPLICANT)
    assert 'id="ticket-reason"' in r.text and "考试时间已过，不能打印" in r.text
    assert "260001141007" in r.text and "/ticket.pdf" not in r.text


def test_the_pdf_is_passed_on_and_a_refusal_is_a_chinese_page(client, rpc, monkeypatch):
    passed = []
    monkeypatch.setattr(gateway.files, "pass_on", lambda resp, ticket: passed.append(ticket) or setattr(
        resp, "text", "%PDF"))
    rpc.answer("documents.my_ticket_pdf", {"url": "http://127.0.0.1:1/f"})
    assert client.simulate_get("/ticket.pdf", headers=APPLICANT).text == "%PDF" and passed
    rpc.answer("documents.my_ticket_pdf", Conflict("考试时间已过，不能打印", code="exam_over"))
    r = client.simulate_get("/ticket.pdf", headers=APPLICANT)
    assert r.status_code == 409 and "考试时间已过，不能打印" in r.text and "text/html" in r.headers["content-type"]


# --- 考场安排 ---------------------------------------------------------------------------------
def test_a_site_from_the_form_joins_the_years_list_and_the_page_follows(client, exam):
    form = {"csrf_token": "tok", "year": "2026", "original": "", "site_code": "LY01", "name": "洛阳考点",
            "address": "开元大道2号", "city_code": "410300", "rooms": "3", "room_code_0": "A1", "room_name_0": "",
            "room_seats_0": "2", "room_code_1": "", "room_name_1": "", "room_seats_1": ""}
    r = client.simulate_post("/admin/exam/sites", headers=FORM_COOKIES, body=urlencode(form))
    assert r.status_code == 303 and r.headers["location"] == "/admin/exam?year=2026&saved=site#sites"
    _, (who, year, body), _ = exam.calls[-1]
    assert year == 2026 and [s["site_code"] for s in body["sites"]] == ["SZ01", "ZZ01", "LY01"]
    assert body["sites"][0]["rooms"] == [{"room_code": "101", "name": "第一考场", "seats": 30}]
    assert body["sites"][2]["rooms"] == [{"room_code": "A1", "name": "A1", "seats": 2}]


def test_a_refused_site_is_shown_on_the_page_with_what_was_typed_and_nothing_is_sent(client, exam):
    form = {"csrf_token": "tok", "year": "2026", "site_code": "LY01", "name": "洛阳考点", "city_code": "410300",
            "rooms": "1", "room_code_0": "A1", "room_seats_0": "0"}
    r = client.simulate_post("/admin/exam/sites", headers=FORM_COOKIES, body=urlencode(form))
    assert r.status_code == 400 and "第1个考场：座位数须为1至500的整数" in r.text and 'value="洛阳考点"' in r.text
    assert "documents.put_exam_sites" not in exam.names
    exam.answer("documents.put_exam_sites", InvalidInput("sites.rooms.room_code：格式不正确",
                                                         field="sites.rooms.room_code"))
    form["room_seats_0"] = "2"
    r = client.simulate_post("/admin/exam/sites", headers=FORM_COOKIES, body=urlencode(form))
    assert r.status_code == 400 and "考场代码：格式不正确" in r.text
    r = client.simulate_post("/admin/exam/sites", headers=FORM_COOKIES,
                             body=urlencode({**form, "site_code": "SZ01"}))
    assert r.status_code == 409 and "考点代码SZ01已存在" in r.text


def test_the_forms_need_the_csrf_token_and_the_province(client, exam):
    form = {"year": "2026", "grade": "4"}
    r = client.simulate_post("/admin/exam/timetable", headers=FORM_COOKIES, body=urlencode(form))
    assert r.status_code == 403 and "页面已过期" in r.text
    exam.sessions["city"] = sealed_admin("city", "410100")
    r = client.simulate_post("/admin/exam/assign", headers={**FORM_COOKIES, "Cookie": "gk_session=city; gk_csrf=t"},
                             body=urlencode({"csrf_token": "t", "year": "2026"}))
    assert r.status_code == 403
    assert not [n for n in exam.names if n.startswith("documents.")]


def test_the_timetable_form_sends_beijing_time(client, exam):
    form = {"csrf_token": "tok", "year": "2026", "grade": "4", "place_2": "实训楼"}
    for i, (start, end) in enumerate((("08:00", "09:00"), ("09:30", "11:00"), ("14:00", "16:00"))):
        form[f"start_{i}"], form[f"end_{i}"] = f"2026-06-13T{start}", f"2026-06-13T{end}"
    r = client.simulate_post("/admin/exam/timetable", headers=FORM_COOKIES, body=urlencode(form))
    assert r.status_code == 303 and r.headers["location"].endswith("saved=timetable_4#grade-4")
    _, (_, _, body), _ = exam.calls[-1]
    assert body["4"][0] == {"subject": "职业道德", "start": "2026-06-13T08:00:00+08:00",
                            "end": "2026-06-13T09:00:00+08:00", "place": ""}
    assert body["4"][2]["place"] == "实训楼"
    r = client.simulate_post("/admin/exam/timetable", headers=FORM_COOKIES,
                             body=urlencode({**form, "end_1": ""}))
    assert r.status_code == 400 and "请填写职业能力的开始时间和结束时间" in r.text


def test_seating_and_a_job_land_on_the_page_with_their_result(client, exam):
    exam.answer("documents.assign_seats", {"assigned": 3, "already": 1, "waiting": 2})
    r = client.simulate_post("/admin/exam/assign", headers=FORM_COOKIES,
                             body=urlencode({"csrf_token": "tok", "year": "2026", "city_code": "410300"}))
    assert r.headers["location"] == ("/admin/exam?year=2026&assigned=3&already=1&waiting=2&assign_city=410300"
                                     "#assign")
    assert exam.calls[-1][1][2] == {"city_code": "410300"}
    page = client.simulate_get(r.headers["location"].split("#")[0], headers=ADMIN)
    assert "洛阳市：本次安排 3 人，此前已安排 1 人，待安排 2 人" in text_of(page.text)
    exam.answer("documents.create_job", {"job_id": "j1", "status": "queued"})
    r = client.simulate_post("/admin/exam/jobs", headers=FORM_COOKIES,
                             body=urlencode({"csrf_token": "tok", "year": "2026"}))
    assert r.headers["location"] == "/admin/exam?year=2026&job=j1#jobs"
    assert exam.calls[-1][1][1] == {"kind": "tickets", "year": 2026}
    exam.answer("documents.job", {"job_id": "j1", "kind": "tickets", "status": "running", "done": 2, "total": 5,
                                  "year": 2026, "city_code": None, "created_at": "2026-05-01T00:00:00+00:00"})
    page = client.simulate_get("/admin/exam", params={"job": "j1"}, headers=ADMIN)
    assert 'data-status="running"' in page.text and "全省准考证" in page.text
    assert re.search(r'id="job-zip"[^>]*hidden', page.text)


def test_a_city_sees_its_own_sites_and_no_forms(client, exam):
    exam.sessions["city"] = sealed_admin("city", "410100")
    r = client.simulate_get("/admin/exam", headers={"Authorization": "Bearer city"})
    assert r.status_code == 200 and "郑州考点" in r.text and "省直考点" not in r.text
    for form_id in ("site-form", "assign-form", "job-form", "sites-import"):
        assert f'id="{form_id}"' not in r.text
    seats = next(args for name, args, _ in exam.calls if name == "documents.seats")
    assert seats[2]["city_code"] == "410100"


def test_the_seat_lists_are_offered_per_site_and_for_the_callers_cities(client, exam, monkeypatch):
    """Issue 14: 考场座次表 links — per 考点 with someone seated, and for the chosen city (a city
    administrator: its own); the API passes the file on from the documents service's ticket."""
    r = client.simulate_get("/admin/exam", params={"city_code": "410000"}, headers=ADMIN)
    assert 'href="/api/v1/admin/years/2026/seat-lists.pdf?site_code=SZ01"' in r.text
    assert "seat-lists.pdf?site_code=ZZ01" not in r.text                              # nobody seated there
    assert 'id="seat-lists-xlsx" href="/api/v1/admin/years/2026/seat-lists.xlsx?city_code=410000"' in r.text
    assert 'id="seat-lists-zip" href="/api/v1/admin/years/2026/seat-lists.zip?city_code=410000"' in r.text
    exam.sessions["city"] = sealed_admin("city", "410100")
    exam.answer("documents.get_exam_sites", [{**SITES[1], "rooms": [{**SITES[1]["rooms"][0], "seated": 3}]}])
    r = client.simulate_get("/admin/exam", headers={"Authorization": "Bearer city"})
    assert 'id="seat-lists-pdf" href="/api/v1/admin/years/2026/seat-lists.pdf?city_code=410100"' in r.text
    ticket = {"url": "http://127.0.0.1:1/files/g", "sha256": None, "content_type": "application/pdf", "size": None,
              "filename": "考场座次表.pdf", "disposition": "attachment"}
    exam.answer("documents.seat_lists_export", ticket)
    monkeypatch.setattr(gateway.files, "pass_on", lambda resp, t: setattr(resp, "text", t["filename"]))
    r = client.simulate_get("/api/v1/admin/years/2026/seat-lists.zip", params={"site_code": "ZZ01", "x": "1"},
                            headers={"Authorization": "Bearer city"})
    assert r.status_code == 200 and r.text == "考场座次表.pdf"
    assert exam.calls[-1][1][1:] == (2026, "zip", {"site_code": "ZZ01"})
    exam.sessions["supervisor"] = sealed_admin("supervisor", "S410100-01")
    r = client.simulate_get("/api/v1/admin/years/2026/seat-lists.pdf", headers={"Authorization": "Bearer supervisor"})
    assert r.status_code == 403 and r.json["error"]["code"] == "role_not_allowed"


def test_the_import_templates_are_csv_headers(client, exam):
    r = client.simulate_get("/admin/exam/templates/exam-sites.csv", headers=ADMIN)
    assert r.status_code == 200 and r.content.decode("utf-8") == "\ufeff考点代码,考点名称,考点地址,省辖市代码,考场代码,考场名称,座位数\r\n"
    assert "attachment" in r.headers["content-disposition"]
    r = client.simulate_get("/admin/exam/templates/timetable.csv", headers=ADMIN)
    assert r.content.decode("utf-8").startswith("\ufeff等级,科目,开始时间,结束时间,地点")
    assert client.simulate_get("/admin/exam/templates/other.csv", headers=ADMIN).status_code == 404
