"""Scores, 考核结果 and the electronic certificate on the real services (R-D3 … R-D5): an Excel
import turns one applicant 合格 and another 不合格; the steps follow; the passing one's
certificate PDF holds every field, embeds its fonts, and its QR code decodes (zbarimg) to the
public page's URL, whose API confirms it with masked data; results close with their window."""
from __future__ import annotations

import subprocess
from datetime import datetime, timedelta

import pytest
from helpers import Api, approved, assert_error, wait_for, xlsx_bytes

LUOYANG = ("U410300-001", "410300", "ly_nyj")      # no online payment: 终审通过 is enough for a seat


def province_now(stack) -> Api:
    return Api(stack.url).login_admin("admin", __import__("harness").ADMIN_PASSWORD)


def put_year(stack, year: int, **body) -> None:
    r = province_now(stack).put(f"/api/v1/admin/years/{year}", json=body)
    assert r.status_code == 200, r.text


@pytest.fixture(scope="module")
def sat(stack):
    """Two applicants of 洛阳 seated for this year's exam; results open, certificates on."""
    province = province_now(stack)
    year = province.get("/api/v1/years/current").json()["year"]
    before = province.get(f"/api/v1/admin/years/{year}").json()
    now = datetime.now().astimezone().replace(microsecond=0)
    day = now + timedelta(days=3)
    rows = [{"subject": s, "start": (day + timedelta(hours=i)).isoformat(),
             "end": (day + timedelta(hours=i, minutes=50)).isoformat()} for i, s in
            enumerate(("职业道德", "职业能力", "岗位技能"))]
    assert province.put(f"/api/v1/admin/years/{year}/timetable", json={"4": rows}).status_code == 200
    sites = province.get(f"/api/v1/admin/years/{year}/exam-sites").json()
    if not any(s["city_code"] == "410300" for s in sites):
        sites.append({"site_code": "LY09", "name": "洛阳市第九考点", "address": "洛阳市", "city_code": "410300",
                      "rooms": [{"room_code": "1", "name": "第一考场", "seats": 50}]})
    body = [{k: s[k] for k in ("site_code", "name", "address", "city_code")} |
            {"rooms": [{k: r[k] for k in ("room_code", "name", "seats")} for r in s["rooms"]]} for s in sites]
    assert province.put(f"/api/v1/admin/years/{year}/exam-sites", json=body).status_code == 200
    people = [approved(stack, province_now(stack), *LUOYANG) for _ in range(2)]
    province = province_now(stack)
    assert province.post(f"/api/v1/admin/years/{year}/seat-assignments", json={"city_code": "410300"}).status_code \
        == 200
    seated = {r["application_id"]: r["ticket_no"] for r in province.get(
        f"/api/v1/admin/years/{year}/seat-assignments", params={"city_code": "410300", "page_size": 200}).json()["items"]}
    put_year(stack, year, windows={"results": {"start": (now - timedelta(hours=1)).isoformat(),
                                               "end": (now + timedelta(days=30)).isoformat()}},
             switches={"certificate_printing": True})
    yield {"year": year, "people": people, "tickets": [seated[app_id] for _, _, app_id in people]}
    put_year(stack, year, switches={"certificate_printing": False},
             **({"windows": {"results": before["windows"]["results"]}} if before["windows"].get("results") else {}))


def step(api: Api, key: str) -> dict:
    return next(s for s in api.get("/api/v1/me").json()["steps"] if s["key"] == key)


def test_an_excel_import_makes_one_pass_and_one_fail_and_the_passing_one_gets_a_verifiable_certificate(
        stack, sat, tmp_path):
    (good, good_person, _), (bad, bad_person, _) = sat["people"]
    t = sat["tickets"]
    province = province_now(stack)
    xl = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    r = province.put("/api/v1/admin/scores", files={"file": ("成绩.xlsx", xlsx_bytes([
        ["准考证号", "职业道德", "职业能力", "岗位技能"], [t[0], 80, 70.5, 60], [t[1], 34, 80, 80],
        ["269999999999", 60, 60, 60]]), xl)})
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["imported"] == 2 and report["refused"] == [{"line": 4, "ticket_no": "269999999999",
                                                               "reason": "准考证号不存在"}]
    mine = good.get("/api/v1/me/result").json()
    assert mine["available"] and mine["result"] == "pass" and mine["ticket_no"] == t[0]
    theirs = bad.get("/api/v1/me/result").json()
    assert theirs["result"] == "fail" and theirs["total"] == 194 and theirs["total_line"] == 105
    assert [(x["subject"], x["score"], x["pass_line"]) for x in theirs["scores"]] == [
        ("职业道德", 34, 35), ("职业能力", 80, 35), ("岗位技能", 80, 35)]
    wait_for(lambda: step(good, "certificate")["enabled"] and step(bad, "result")["enabled"],
             what="application learning of the results")
    assert step(bad, "certificate")["reason"] == "考核合格后方可下载电子证书"
    assert_error(bad.get("/api/v1/me/certificate.pdf"), 409, "not_open")
    assert_error(bad.get("/api/v1/me/certificate"), 409, "not_open")

    cert = good.get("/api/v1/me/certificate").json()
    r = good.get("/api/v1/me/certificate.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    path = tmp_path / "c.pdf"
    path.write_bytes(r.content)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout.replace(" ", "")
    for value in (good_person.name, good_person.id_number, "岗位等级考核记录", "合格", cert["verification_code"],
                  cert["basic"]["unit"], cert["basic"]["education"]):
        assert value in text, value
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    assert all(line.split()[-5] == "yes" for line in fonts.splitlines()[2:])
    subprocess.run(["pdftoppm", "-r", "200", "-png", "-singlefile", str(path), str(tmp_path / "c")], check=True)
    decoded = subprocess.run(["zbarimg", "--quiet", "--raw", str(tmp_path / "c.png")], capture_output=True,
                             text=True, check=True).stdout.strip()
    assert decoded == f"{stack.url}/verify/{cert['verification_code']}"
    check = Api(stack.url).get(f"/api/v1/certificates/{cert['verification_code']}")
    assert check.status_code == 200
    body = check.json()
    assert body["valid"] is True and body["id_number"] != good_person.id_number and "*" in body["id_number"]
    assert body["name"] != good_person.name and body["year"] == sat["year"]
    assert_error(Api(stack.url).get("/api/v1/certificates/AAAAAAAAAAAAAAAA"), 404, "not_found")


def test_results_close_with_their_window(stack, sat):
    (good, _, _), _ = sat["people"]
    later = datetime.now().astimezone() + timedelta(days=40)
    put_year(stack, sat["year"], windows={"results": {"start": later.isoformat(),
                                                      "end": (later + timedelta(days=5)).isoformat()}})
    wait_for(lambda: good.get("/api/v1/me/result").json()["reason"] == "当前不是考核结果查询时间",
             what="documents learning of the window")
    assert good.get("/api/v1/me/result").json()["available"] is False
