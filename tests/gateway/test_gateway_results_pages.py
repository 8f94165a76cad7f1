"""The pages after the exam on the fake RPC (R-D3 … R-D6, R-P2): 考核结果 (合格; 不合格 with the
score table; the reason alone outside the window), 打印电子证书 (the manual's blocks, or the
reason and no download), the PDF passed on, the public 证书核验 (masked data only; 404 and 429
pages in Chinese; a typed code goes to its page), and 考核结果管理 — the RPCs each page costs,
the 合格线 and 批量生成 forms (CSRF, POST → redirect → GET, a refusal shown with what was typed
and nothing sent), a city administrator's read-only statistics."""
from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from fakes import ADMIN_TOKEN, APPLICANT_TOKEN, ID_NUMBER, sealed_admin

import gateway.files
from kit.errors import Conflict, InvalidInput, NotFound, TooManyRequests

SESSION = "identity.resolve_session_view"
STEPS = [{"key": k, "title": t, "enabled": True, "reason": None} for k, t in (
    ("application", "报名信息"), ("review", "审核结果"), ("ticket", "打印准考证"), ("result", "考核结果"),
    ("certificate", "打印电子证书"))]
PROGRESS = {"status": "approved", "steps": STEPS, "application_window": None, "supervisor": None}
RESULT_FAIL = {"available": True, "reason": None, "result": "fail", "result_name": "不合格", "name": "张伟",
               "id_number": ID_NUMBER, "ticket_no": "260101041001",
               "scores": [{"subject": "职业道德", "score": 34.0, "pass_line": 35.0},
                          {"subject": "职业能力", "score": 80.0, "pass_line": 35.0},
                          {"subject": "岗位技能", "score": 70.5, "pass_line": 35.0}],
               "total": 184.5, "total_line": 105.0}
RESULT_PASS = {**RESULT_FAIL, "result": "pass", "result_name": "合格",
               "scores": [{**s, "score": 60.0} for s in RESULT_FAIL["scores"]], "total": 180.0}
CODE = "K7Q2M9X4T8P3W6R5"
CERT = {"verification_code": CODE, "verify_url": f"http://gk.example/verify/{CODE}",
        "issued_at": "2026-08-01T01:00:00+00:00",
        "basic": {"name": "张伟", "gender": "男", "education": "中专", "id_number": ID_NUMBER, "work_start": "2001-07",
                  "service_years": 25, "unit": "郑州市第一人民医院"},
        "records": [{"year": 2018, "kind": "岗位等级考核", "trade": "汽车驾驶员", "grade": 5, "grade_name": "五级",
                     "obtained_at": "2018-09-30", "result": "pass", "result_name": "合格"},
                    {"year": 2026, "kind": "岗位等级考核", "trade": "汽车驾驶员", "grade": 4, "grade_name": "四级",
                     "obtained_at": "2026-07-20", "result": "pass", "result_name": "合格"}]}
CHECK = {"valid": True, "name": "张*", "id_number": "410102********0014", "grade": "四级", "trade": "汽车驾驶员",
         "year": 2026, "issued_at": "2026-08-01T01:00:00+00:00"}
LINES = {"subjects": {"职业道德": 35, "职业能力": 35, "岗位技能": 35}, "total": 105}
STATS = {"year": 2026, "by": "city", "rows": [{"key": "410300", "label": "洛阳市", "sat": 2, "passed": 1, "rate": 0.5}],
         "total": {"sat": 2, "passed": 1, "rate": 0.5}}
YEAR = {"year": 2026, "windows": {"results": {"start": "2026-07-20T00:00:00+08:00",
                                              "end": "2026-08-20T00:00:00+08:00"}},
        "switches": {"certificate_printing": True}, "current": True}
JOB = {"job_id": "j1", "kind": "certificates", "status": "running", "done": 50, "total": 120, "year": 2026,
       "city_code": None, "created_at": "2026-08-01T01:00:00+00:00"}


def cookies(**values: str) -> dict:
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in values.items())}


APPLICANT = cookies(gk_session=APPLICANT_TOKEN)
ADMIN = cookies(gk_session=ADMIN_TOKEN, gk_csrf="tok")


def text(r) -> str:
    """The page's main part as text, tags gone, spaces squeezed."""
    main = r.text[r.text.find("<main"):r.text.find("</main>")]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


def form(**fields) -> dict:
    return {"body": urlencode({"csrf_token": "tok", **fields}),
            "headers": {**ADMIN, "Content-Type": "application/x-www-form-urlencoded"}}


@pytest.fixture
def answers(rpc):
    rpc.answer("application.progress", PROGRESS)
    rpc.answer("documents.my_result", RESULT_FAIL)
    rpc.answer("documents.my_certificate", CERT)
    rpc.answer("documents.check_certificate", CHECK)
    rpc.answer("identity.current_year", YEAR)
    rpc.answer("documents.get_pass_lines", LINES)
    rpc.answer("documents.results_stats", STATS)
    rpc.answer("documents.put_pass_lines", lambda who, year, body: body)
    rpc.answer("documents.create_job", {**JOB, "status": "queued", "done": 0})
    rpc.answer("documents.job", JOB)
    return rpc


# --- 考核结果 --------------------------------------------------------------------------------------
def test_a_failing_result_shows_the_score_table_with_the_lines_and_the_total(client, answers):
    r = client.simulate_get("/result", headers=APPLICANT)
    assert r.status_code == 200
    assert answers.names == [SESSION, "application.progress", "documents.my_result"]
    page = text(r)
    for part in ("姓名： 张伟", f"身份证号： {ID_NUMBER}", "准考证： 260101041001", "考核结果： 不合格", "考核成绩",
                 "科目 本人分数 单科最低线合格线", "职业道德 34 35", "职业能力 80 35", "岗位技能 70.5 35",
                 "总成绩 184.5 105"):
        assert part in page, part
    assert 'data-subject="职业道德" class="below-line"' in r.text
    assert 'href="/result"' in r.text                        # the step links to the page


def test_a_passing_result_says_only_pass_and_leads_to_the_certificate(client, answers):
    answers.answer("documents.my_result", RESULT_PASS)
    r = client.simulate_get("/result", headers=APPLICANT)
    page = text(r)
    assert "考核结果： 合格" in page and "考核成绩" not in page and "本人分数" not in page
    assert 'id="to-certificate" href="/certificate"' in r.text


def test_outside_the_window_the_reason_alone(client, answers):
    answers.answer("documents.my_result", {"available": False, "reason": "当前不是考核结果查询时间", "scores": []})
    r = client.simulate_get("/result", headers=APPLICANT)
    assert r.status_code == 200
    assert "当前不是考核结果查询时间" in text(r)
    assert "result-scores" not in r.text and "考核结果： " not in text(r)


def test_the_result_page_needs_a_login(client, answers):
    r = client.simulate_get("/result")
    assert r.status_code == 303 and r.headers["location"] == "/login"


# --- 打印电子证书 -----------------------------------------------------------------------------------
def test_the_certificate_page_shows_the_manuals_blocks_and_the_download(client, answers):
    r = client.simulate_get("/certificate", headers=APPLICANT)
    assert r.status_code == 200
    assert answers.names == [SESSION, "application.progress", "documents.my_certificate"]
    page = text(r)
    for part in ("下载证书", "基本信息", "姓名： 张伟", "性别： 男", "学历： 中专", f"身份证号： {ID_NUMBER}",
                 "参加工作时间： 2001-07", "工作年限： 25年", "所在单位： 郑州市第一人民医院", "岗位等级考核记录",
                 "年度 类型 岗位工种 岗位等级 取得证书时间 考核结果", "2018 岗位等级考核 汽车驾驶员 五级 2018-09-30 合格",
                 "2026 岗位等级考核 汽车驾驶员 四级 2026-07-20 合格", f"验证码： {CODE}", CERT["verify_url"],
                 "发证日期： 2026年08月01日"):
        assert part in page, part
    assert 'id="certificate-download" href="/certificate.pdf"' in r.text


@pytest.mark.parametrize("reason", ["考核合格后方可下载电子证书", "管理员开通电子证书打印后方可下载"])
def test_when_not_allowed_the_reason_and_no_download(client, answers, reason):
    answers.answer("documents.my_certificate", Conflict(reason, code="not_open"))
    r = client.simulate_get("/certificate", headers=APPLICANT)
    assert r.status_code == 200
    assert reason in text(r)
    assert "certificate.pdf" not in r.text and "基本信息" not in r.text


def test_the_pdf_is_passed_on_and_a_refusal_is_a_chinese_page(client, answers, monkeypatch):
    ticket = {"url": "http://127.0.0.1:1/f", "content_type": "application/pdf", "filename": "电子证书.pdf",
              "disposition": "attachment"}
    answers.answer("documents.my_certificate_pdf", ticket)
    passed = []
    monkeypatch.setattr(gateway.files, "pass_on", lambda resp, t: passed.append(t) or setattr(resp, "text", "%PDF"))
    r = client.simulate_get("/certificate.pdf", headers=APPLICANT)
    assert r.status_code == 200 and passed == [ticket]
    answers.answer("documents.my_certificate_pdf", Conflict("管理员开通电子证书打印后方可下载", code="not_open"))
    r = client.simulate_get("/certificate.pdf", headers=APPLICANT)
    assert r.status_code == 409 and r.headers["content-type"].startswith("text/html")
    assert "管理员开通电子证书打印后方可下载" in r.text


# --- 证书核验 ---------------------------------------------------------------------------------------
def test_the_public_check_shows_masked_data_only_for_one_rpc(client, answers):
    r = client.simulate_get(f"/verify/{CODE}", remote_addr="203.0.113.9")
    assert r.status_code == 200
    assert answers.names == ["documents.check_certificate"]
    assert answers.calls[0][1] == (CODE, "203.0.113.9")
    page = text(r)
    assert "证书有效" in page
    for part in ("姓名 张*", "身份证号 410102********0014", "等级 四级", "工种 汽车驾驶员", "年度 2026",
                 "发证日期 2026年08月01日"):
        assert part in page, part
    assert ID_NUMBER not in r.text and "张伟" not in r.text


def test_a_withdrawn_certificate_is_said_to_be_no_longer_valid(client, answers):
    answers.answer("documents.check_certificate", {**CHECK, "valid": False})
    page = text(client.simulate_get(f"/verify/{CODE}"))
    assert "证书已失效" in page and "证书有效" not in page


def test_an_unknown_code_is_a_chinese_404_and_a_throttled_source_a_429(client, answers):
    answers.answer("documents.check_certificate", NotFound("没有找到该证书，请核对验证码"))
    r = client.simulate_get("/verify/AAAAAAAAAAAAAAAA")
    assert r.status_code == 404 and "证书不存在或验证码有误" in text(r)
    assert 'action="/verify"' in r.text                       # try another code
    answers.answer("documents.check_certificate", TooManyRequests("当前网络核验证书过于频繁，请3分钟后再试",
                                                                  code="source_throttled",
                                                                  details={"retry_after": 170}))
    r = client.simulate_get(f"/verify/{CODE}")
    assert r.status_code == 429 and r.headers["retry-after"] == "170"
    assert "当前网络核验证书过于频繁，请3分钟后再试" in text(r)


def test_a_typed_code_goes_to_its_page_without_asking_anyone(client, answers):
    r = client.simulate_get("/verify", params={"code": " k7q2-m9x4 t8p3w6r5 "})
    assert r.status_code == 303 and r.headers["location"] == f"/verify/{CODE}"
    for typed, message in (("", "请输入证书验证码"), ("<script>", "验证码由字母和数字组成")):
        r = client.simulate_get("/verify", query_string=urlencode({"code": typed}))
        assert r.status_code == 400 and message in text(r), typed
    assert client.simulate_get("/verify").status_code == 200
    assert answers.names == []


# --- 考核结果管理 ------------------------------------------------------------------------------------
def test_the_province_page_costs_four_rpcs_and_shows_every_part(client, answers):
    r = client.simulate_get("/admin/results", headers=ADMIN)
    assert r.status_code == 200
    assert answers.names == [SESSION, "identity.current_year", "documents.get_pass_lines", "documents.results_stats"]
    assert answers.calls[-1][1][1:] == (2026, {"by": "city"})
    page = text(r)
    for part in ("考核结果管理", "合格线设置（2026年度）", "成绩导入", "考核结果统计（2026年度）", "历年考核记录导入",
                 "批量生成电子证书（2026年度）", "洛阳市 2 1 50.0%", "合计 2 1 50.0%", "已开通", "导出Excel"):
        assert part in page, part
    assert 'href="/api/v1/admin/years/2026/results.xlsx?by=city"' in r.text
    assert 'id="scores-export" href="/api/v1/admin/years/2026/scores.xlsx"' in r.text        # issue 14: the list
    assert re.search(r'id="f-ethics" name="ethics" value="35"', r.text)
    assert 'name="csrf_token" value="tok"' in r.text and "/static/results-admin.js" in r.text


def test_statistics_by_grade_for_another_year(client, answers):
    r = client.simulate_get("/admin/results", params={"year": "2025", "by": "grade"}, headers=ADMIN)
    assert r.status_code == 200 and answers.calls[-1][1][1:] == (2025, {"by": "grade"})
    assert 'results.xlsx?by=grade' in r.text and "电子证书打印" not in text(r)       # the switches are 2026's


def test_a_city_administrator_reads_its_statistics_only(client, rpc, answers):
    rpc.sessions["city"] = sealed_admin("city", "410300")
    r = client.simulate_get("/admin/results", headers=cookies(gk_session="city"))
    assert r.status_code == 200
    assert answers.names == [SESSION, "identity.current_year", "documents.results_stats"]
    page = text(r)
    assert "洛阳市，只读" in page and "考核结果统计" in page
    for absent in ("合格线设置", "成绩导入", "历年考核记录导入", "批量生成电子证书"):
        assert absent not in page, absent
    assert 'method="post"' not in r.text.split("<main")[1] and "results-admin.js" not in r.text
    answers.reset()
    r = client.simulate_post("/admin/results/pass-lines", **{**form(year="2026", ethics="30", ability="30",
                                                                      skill="30", total="90"),
                                                               "headers": {**cookies(gk_session="city", gk_csrf="tok"),
                                                                           "Content-Type": "application/x-www-form-urlencoded"}})
    assert r.status_code == 403 and "documents.put_pass_lines" not in answers.names


def test_pass_lines_are_saved_then_the_page_is_shown_again(client, answers):
    r = client.simulate_post("/admin/results/pass-lines", **form(year="2026", ethics="40", ability="35",
                                                                  skill="30", total="110"))
    assert r.status_code == 303 and r.headers["location"] == "/admin/results?year=2026&saved=pass-lines#pass-lines"
    name, args, _ = answers.calls[-1]
    assert name == "documents.put_pass_lines"
    assert args[1:] == (2026, {"subjects": {"职业道德": 40, "职业能力": 35, "岗位技能": 30}, "total": 110})
    r = client.simulate_get("/admin/results", params={"year": "2026", "saved": "pass-lines"}, headers=ADMIN)
    assert "合格线已保存" in text(r)


def test_bad_pass_lines_are_refused_on_the_page_with_what_was_typed(client, answers):
    r = client.simulate_post("/admin/results/pass-lines", **form(year="2026", ethics="abc", ability="101",
                                                                  skill="", total="400"))
    assert r.status_code == 400
    assert "documents.put_pass_lines" not in answers.names
    page = text(r)
    for part in ("合格线未保存", "职业道德合格线须为0–100之间的整数", "职业能力合格线须为0–100之间的整数",
                 "请填写岗位技能合格线", "总成绩合格线须为0–300之间的整数"):
        assert part in page, part
    assert 'id="f-ethics" name="ethics" value="abc"' in r.text and 'value="101"' in r.text
    answers.answer("documents.put_pass_lines", InvalidInput("单科合格线须在0–100之间", field="subjects"))
    r = client.simulate_post("/admin/results/pass-lines", **form(year="2026", ethics="35", ability="35",
                                                                  skill="35", total="105"))
    assert r.status_code == 400 and "单科合格线须在0–100之间" in text(r)


def test_the_forms_need_the_pages_csrf_token(client, answers):
    for path in ("/admin/results/pass-lines", "/admin/results/jobs"):
        r = client.simulate_post(path, body=urlencode({"year": "2026"}),
                                 headers={**ADMIN, "Content-Type": "application/x-www-form-urlencoded"})
        assert r.status_code == 403 and "页面已过期" in r.text
    assert answers.names == []


def test_a_bulk_job_is_created_then_followed(client, answers):
    r = client.simulate_post("/admin/results/jobs", **form(year="2026", city_code="410300"))
    assert r.status_code == 303 and r.headers["location"] == "/admin/results?year=2026&job=j1#cert-job"
    assert answers.calls[-1][1][1] == {"kind": "certificates", "year": 2026, "city_code": "410300"}
    answers.reset()
    r = client.simulate_get("/admin/results", params={"year": "2026", "job": "j1"}, headers=ADMIN)
    assert answers.names[-1] == "documents.job"
    page = text(r)
    assert "生成中" in page and "已生成 50 / 120 份" in page and "刷新进度" in page
    assert re.search(r'id="cert-job-zip"[^>]* hidden', r.text)
    answers.answer("documents.job", {**JOB, "status": "done", "done": 120})
    r = client.simulate_get("/admin/results", params={"year": "2026", "job": "j1"}, headers=ADMIN)
    assert 'href="/api/v1/admin/document-jobs/j1/archive.zip"' in r.text
    assert not re.search(r'id="cert-job-zip"[^>]* hidden', r.text)


def test_a_bad_job_request_changes_nothing(client, answers):
    r = client.simulate_post("/admin/results/jobs", **form(year="2026", city_code="999999"))
    assert r.status_code == 400 and "请选择省辖市" in text(r)
    r = client.simulate_post("/admin/results/jobs", **form(year="20x6"))
    assert r.status_code == 400 and "考核年度应为" in text(r)
    assert "documents.create_job" not in answers.names
    answers.answer("documents.job", NotFound("没有找到该批量任务"))
    r = client.simulate_get("/admin/results", params={"job": "nope"}, headers=ADMIN)
    assert r.status_code == 200 and "没有找到该批量任务" in text(r)
