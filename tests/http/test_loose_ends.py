"""Loose ends a new user found (issue 7), on the real services: steps that open only when they
apply, 网上缴费 only where the city pays online (R-F1), reviewers bound by the review window
(R-Y1, R-Y2), reference data changes in the audit log (R-I11), login names never shown."""
from __future__ import annotations

import io
from contextlib import contextmanager
from datetime import datetime

from helpers import admin, applicant, assert_error, decide, submitted, wait_for
from openpyxl import load_workbook

from kit.clock import CST


def steps(api) -> dict[str, dict]:
    return {s["key"]: s for s in api.get("/api/v1/me").json()["steps"]}


@contextmanager
def window(province, name: str, value: dict):
    """Sets one window of the current year, and puts it back afterwards."""
    cal = province.get("/api/v1/years/current").json()
    year, before = cal["year"], cal["windows"][name]
    r = province.put(f"/api/v1/admin/years/{year}", json={"windows": {name: value}})
    assert r.status_code == 200, r.text
    try:
        yield year
    finally:
        assert province.put(f"/api/v1/admin/years/{year}", json={"windows": {name: before}}).status_code == 200


PAST = {"start": "2020-01-01T00:00:00+08:00", "end": "2020-02-01T00:00:00+08:00"}


def test_later_steps_open_only_when_they_apply(stack, province):
    """A switch or a window alone opens nothing: 打印准考证, 考核结果 and 打印电子证书 stay closed,
    with the reason, for an applicant who never submitted — even with printing switched on."""
    api, _ = applicant(stack, province)
    year = province.get("/api/v1/years/current").json()["year"]
    assert province.put(f"/api/v1/admin/years/{year}", json={"switches": {
        "ticket_printing": True, "certificate_printing": True}}).status_code == 200
    try:
        with window(province, "results", {"start": "2020-01-01T00:00:00+08:00", "end": "2099-01-01T00:00:00+08:00"}):
            wait_for(lambda: steps(api)["result"]["reason"] != "考核结果尚未公布", what="the calendar copy")
            got = steps(api)
    finally:
        province.put(f"/api/v1/admin/years/{year}", json={"switches": {
            "ticket_printing": False, "certificate_printing": False}})
    assert [k for k, s in got.items() if s["enabled"]] == ["application"]
    assert got["ticket"]["reason"] == "终审通过后方可打印准考证"
    assert got["result"]["reason"] == "参加考核后方可查看考核结果"
    assert got["certificate"]["reason"] == "考核合格后方可下载电子证书"
    assert got["review"]["reason"] == "提交报名信息后可查看审核结果"


def test_online_payment_is_shown_only_where_the_city_pays_online(stack, province):
    """R-F1: the province names the cities that pay online this year (payment owns it); in
    the others the 网上缴费 step is hidden."""
    zz, _ = applicant(stack, province, city_code="410100")
    ly, _ = applicant(stack, province, city_code="410300")
    year = province.get("/api/v1/years/current").json()["year"]
    before = province.get(f"/api/v1/admin/years/{year}/fees").json()
    assert admin(stack, "zz_city").put(f"/api/v1/admin/years/{year}/fees", json={
        "online_payment_cities": ["410100"]}).status_code == 403
    r = province.put(f"/api/v1/admin/years/{year}/fees", json={
        "fees_fen": {"5": 12000, "4": 15000}, "online_payment_cities": ["410300"]})
    assert r.status_code == 200, r.text
    assert r.json()["online_payment_cities"] == ["410300"] and r.json()["fees_fen"]["4"] == 15000
    try:
        wait_for(lambda: steps(ly)["payment"]["visible"], what="payment.fees_set.v1 in application")
        assert steps(zz)["payment"]["visible"] is False
        assert steps(ly)["payment"]["enabled"] is False and steps(ly)["payment"]["reason"] == "终审通过后方可缴费"
        assert_error(province.put(f"/api/v1/admin/years/{year}/fees", json={"online_payment_cities": ["999999"]}),
                     400, "invalid", "online_payment_cities")
        assert_error(province.put(f"/api/v1/admin/years/{year}/fees", json={"fees_fen": {"6": 1}}),
                     400, "invalid", "fees_fen")
    finally:
        province.put(f"/api/v1/admin/years/{year}/fees",
                     json={"online_payment_cities": before["online_payment_cities"]})
    wait_for(lambda: not steps(ly)["payment"]["visible"], what="the cities put back")
    audit = province.get("/api/v1/admin/audit", params={"page_size": 20}).json()["items"]
    assert any(i["action"] == "fees.update" and i["actor"] == "admin" and i["target"] == str(year) for i in audit)


def test_reviewers_decide_only_inside_the_review_window(stack, province):
    _, _, app_id = submitted(stack, province)
    sup = admin(stack, "zz_wsjw")
    assert sup.get(f"/api/v1/admin/reviews/{app_id}").json()["review_open"] is True
    with window(province, "review", PAST):
        wait_for(lambda: sup.get(f"/api/v1/admin/reviews/{app_id}").json()["review_open"] is False,
                 what="review's calendar copy")
        assert_error(decide(sup, app_id, "pass"), 422, "outside_review_window")
        batch = sup.post("/api/v1/admin/reviews/decisions", json={"application_ids": [app_id], "decision": "pass"})
        assert batch.json()["results"][0]["error"]["code"] == "outside_review_window"
        case = sup.get(f"/api/v1/admin/reviews/{app_id}").json()
        assert case["level"] == "supervisor" and [h["decision"] for h in case["history"]] == ["submitted"]
    wait_for(lambda: sup.get(f"/api/v1/admin/reviews/{app_id}").json()["review_open"], what="the window back")
    assert decide(sup, app_id, "pass").status_code == 200


def test_reference_data_changes_are_audited(stack, province):
    """R-I11: units, trades, 咨询电话, eligibility figures and review chains changed by an
    administrator are in identity's one audit log, with before and after."""
    year = province.get("/api/v1/years/current").json()["year"]
    watched = ("contacts.update", "rules.update", "review_chain.set", "trades.import")

    def entries() -> list[dict]:
        return province.get("/api/v1/admin/audit", params={"page_size": 200}).json()["items"]

    seen = {(i["at"], i["action"]) for i in entries()}     # what earlier modules left
    old_phone = next(c["phone"] for c in province.get("/api/v1/contacts").json()["counties"]
                     if c["county_code"] == "410102")
    assert province.put("/api/v1/admin/contacts", json={"counties": [
        {"county_code": "410102", "phone": "0371-11112222"}]}).status_code == 200
    assert province.put("/api/v1/admin/contacts", json={"counties": [
        {"county_code": "410102", "phone": old_phone}]}).status_code == 200
    assert province.put(f"/api/v1/admin/years/{year}/eligibility-rules", json={"min_age": 18}).status_code == 200
    assert province.put(f"/api/v1/admin/years/{year}/eligibility-rules", json={"min_age": 8}).status_code == 200
    assert province.put("/api/v1/admin/review-chains/410300", json={
        "levels": ["supervisor", "city", "province"]}).status_code == 200
    csv = "code,name,category,new_codes\nT950,审计测试工种,测试,\n"
    assert province.put("/api/v1/admin/trades", files={"file": ("t.csv", csv.encode(), "text/csv")}).status_code == 200

    def actions():      # this test's own entries, the latest of each action
        return {i["action"]: i for i in reversed(entries()) if (i["at"], i["action"]) not in seen}

    found = wait_for(lambda: (a := actions()) and set(watched) <= set(a) and a, what="the audit events")
    contacts = found["contacts.update"]
    assert contacts["actor"] == "admin" and contacts["role"] == "province"
    assert contacts["before"] == {"410102": "0371-11112222"} and contacts["after"] == {"410102": old_phone}
    assert found["rules.update"]["target"] == str(year) and found["rules.update"]["after"]["min_age"] == 8
    assert found["review_chain.set"]["after"] == {"levels": ["supervisor", "city", "province"]}
    assert found["trades.import"]["after"] == {"imported": 1, "refused": 0}
    # another administrator sees only their own actions
    assert all(i["actor"] == "zz_city" for i in admin(stack, "zz_city").get("/api/v1/admin/audit").json()["items"])
    # issue 14: the page's filters, and the province's Excel with the same ones
    today = datetime.now(CST).date().isoformat()
    query = {"action": "review_chain.set", "actor": "admin", "scope": "province", "date_from": today}
    page = province.get("/api/v1/admin/audit", params=query).json()
    assert page["total"] >= 1 and {(i["action"], i["actor"]) for i in page["items"]} == {("review_chain.set", "admin")}
    r = province.get("/api/v1/admin/audit.xlsx", params=query)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(r.content), read_only=True).active.iter_rows(values_only=True))
    assert rows[0][:6] == ("时间", "操作人", "角色", "管理范围", "所属省辖市", "操作") and len(rows) - 1 == page["total"]
    assert {(r[1], r[5], r[6]) for r in rows[1:]} == {("admin", "设置审核流程", "review_chain.set")}
    assert_error(admin(stack, "zz_city").get("/api/v1/admin/audit.xlsx"), 403, "role_not_allowed")


def test_login_names_never_reach_applicants(stack, province):
    api, _ = applicant(stack, province)
    units = api.get("/api/v1/units", params={"city_code": "410100"}).json()
    logins = {"zz_wsjw", "zz_jyj", "ly_nyj", "sz_rst", "sz_jtt", "zz_city"}
    assert units and not {u["supervisor"]["admin"] for u in units} & logins
    assert all(u["supervisor"]["admin"].endswith("老师") for u in units)
    review = api.get("/api/v1/me/review").json()
    assert review["status"] == "not_submitted"
