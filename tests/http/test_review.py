"""The review chain through the gateway on the real broker and database (R-R1 … R-R4)."""
from __future__ import annotations

import json
import threading

from helpers import (
    VALID_4_BY_YEARS,
    Api,
    BrokerTap,
    admin,
    app_status,
    applicant,
    assert_error,
    decide,
    handler_queue,
    jpeg_bytes,
    png_bytes,
    register,
    submitted,
    upload,
    wait_for,
    wait_handled,
)
from nameko.standalone.events import event_dispatcher

from kit import clock

SUBMITTED_QUEUE = handler_queue("application", "application.submitted.v1", "review", "on_submitted")
RETURNED_QUEUE = handler_queue("review", "review.returned.v1", "application", "on_returned")


class ReturnedTap(BrokerTap):
    """Copies of review.returned.v1 as review published them."""

    def __init__(self, stack):
        self.events: list[dict] = []
        super().__init__(stack, ["review.events"], "review.returned.v1")

    def on_message(self, body, message):
        self.events.append(body if isinstance(body, dict) else json.loads(body))


def notice_lines(stack, phone: str) -> list[dict]:
    """The notices the development SMS gateway wrote for ``phone`` (API.md's outbox lines)."""
    lines = [json.loads(line) for line in stack.sms_outbox.read_text(encoding="utf-8").splitlines()]
    return [m for m in lines if m["phone"] == phone and m["purpose"] == "notice"]


def test_three_levels_pass_and_the_applicant_sees_every_step(stack, province):
    api, p, app_id = submitted(stack, province)
    sup, city = admin(stack, "zz_wsjw"), admin(stack, "zz_city")
    pending = sup.get("/api/v1/admin/reviews", params={"status": "pending"}).json()
    assert app_id in {i["application_id"] for i in pending["items"]}
    assert app_id not in {i["application_id"] for i in city.get("/api/v1/admin/reviews").json()["items"]}
    r = decide(city, app_id, "pass")
    assert assert_error(r, 409, "not_at_your_level")["details"]["level"] == "supervisor"
    case = sup.get(f"/api/v1/admin/reviews/{app_id}").json()
    assert case["snapshot"]["name"] == p.name and case["can_decide"] is True
    photo = sup.get(case["snapshot"]["files"]["personal_photo"]["url"])
    assert photo.status_code == 200 and photo.headers["Content-Type"] == "image/jpeg"
    assert decide(sup, app_id, "pass").json()["level"] == "city"
    assert_error(decide(sup, app_id, "pass"), 409, "not_at_your_level")    # not at the supervisor any more
    assert decide(city, app_id, "pass").json()["level"] == "province"
    r = decide(province, app_id, "pass")
    assert r.status_code == 200 and r.json()["status"] == "approved" and r.json()["outcome"] == "finally_approved"
    assert r.json()["finally_approved_at"]
    wait_for(lambda: app_status(api) == "approved")
    review = api.get("/api/v1/me/review").json()
    assert review["status"] == "approved"
    assert [(s["level"], s["decision"]) for s in review["steps"]] == [
        ("applicant", "submitted"), ("supervisor", "pass"), ("city", "pass"), ("province", "pass")]
    assert review["steps"][1]["reviewer"] == "孔**"          # 孔德明, masked
    assert all(s["at"] for s in review["steps"])
    assert "reviewer_name" not in review["steps"][1]
    assert [c["level"] for c in review["contacts"]] == ["supervisor", "city", "province"]
    assert all(c["phone"] for c in review["contacts"])
    assert [c["name"] for c in review["contacts"]][:2] == ["孔**", "王**"]   # masked, never login names
    payment = next(s for s in api.get("/api/v1/me").json()["steps"] if s["key"] == "payment")
    assert payment["reason"] != "终审通过后方可缴费"


def test_return_needs_a_reason_unlocks_the_form_and_resubmission_restarts_the_chain(stack, province):
    api, _, app_id = submitted(stack, province)
    sup = admin(stack, "zz_wsjw")
    assert_error(decide(sup, app_id, "return"), 400, "reason_required", "reason")
    assert_error(decide(sup, app_id, "return", "   "), 400, "reason_required", "reason")
    assert decide(sup, app_id, "return", "个人照片不清晰，请重新上传").status_code == 200
    wait_for(lambda: app_status(api) == "returned")
    review = api.get("/api/v1/me/review").json()
    assert review["status"] == "returned" and review["reason"] == "个人照片不清晰，请重新上传"
    assert api.get("/api/v1/me/application").json()["review_note"] == "个人照片不清晰，请重新上传"
    assert upload(api, "personal_photo", jpeg_bytes(413, 579, (240, 240, 255))).status_code == 200
    r = api.post("/api/v1/me/application/submit")
    assert r.status_code == 200 and r.json()["round"] == 2
    wait_for(lambda: province.get(f"/api/v1/admin/reviews/{app_id}").json()["round"] == 2)
    case = sup.get(f"/api/v1/admin/reviews/{app_id}").json()
    assert case["level"] == "supervisor" and case["status"] == "in_review"
    assert [(h["round"], h["decision"]) for h in case["history"]] == [
        (1, "submitted"), (1, "return"), (2, "submitted")]
    assert case["history"][1]["reviewer_username"] == "zz_wsjw"


def test_reject_locks_the_year_and_only_that_level_or_above_reopens(stack, province):
    api, _, app_id = submitted(stack, province)
    sup, city = admin(stack, "zz_wsjw"), admin(stack, "zz_city")
    decide(sup, app_id, "pass")
    assert_error(decide(city, app_id, "reject"), 400, "reason_required", "reason")
    assert decide(city, app_id, "reject", "工龄不符合申报条件").status_code == 200
    wait_for(lambda: app_status(api) == "rejected")
    assert_error(api.put("/api/v1/me/application", json={"education": "bachelor"}), 409, "locked")
    assert_error(api.post("/api/v1/me/application/submit"), 409, "locked")
    review = api.get("/api/v1/me/review").json()
    assert review["status"] == "rejected" and review["reason"] == "工龄不符合申报条件"
    assert_error(decide(city, app_id, "pass"), 409, "not_at_your_level")
    r = decide(sup, app_id, "reopen", "经沟通可以申报")            # below the level that rejected
    assert assert_error(r, 409, "state_conflict")["details"]["status"] == "rejected"
    assert_error(decide(province, app_id, "reopen"), 400, "reason_required", "reason")
    assert decide(province, app_id, "reopen", "经核实符合条件，请修改工作年限后重新提交").status_code == 200
    wait_for(lambda: app_status(api) == "returned")
    assert api.put("/api/v1/me/application", json={"education": "bachelor"}).status_code == 200


def test_scope_other_units_and_cities_cannot_see_or_decide(stack, province):
    _, _, app_id = submitted(stack, province)                       # 郑州市第一人民医院, 主管单位 S410100-01
    for user in ("zz_jyj", "ly_nyj", "ly_city", "sz_rst"):
        other = admin(stack, user)
        assert_error(other.get(f"/api/v1/admin/reviews/{app_id}"), 404, "not_found")
        assert_error(decide(other, app_id, "pass"), 404, "not_found")
        items = other.get("/api/v1/admin/reviews", params={"status": "all", "page_size": 100}).json()["items"]
        assert app_id not in {i["application_id"] for i in items}, user
    county = admin(stack, "zz_zhongyuan")                              # 中原区: may look, not decide
    assert county.get(f"/api/v1/admin/reviews/{app_id}").status_code == 200
    assert_error(decide(county, app_id, "pass"), 403, "out_of_scope")
    applicant_api, _ = applicant(stack, province)
    assert_error(applicant_api.get(f"/api/v1/admin/reviews/{app_id}"), 403, "wrong_kind")
    assert_error(Api(stack.url).get("/api/v1/admin/reviews"), 401, "unauthenticated")


def test_provincial_units_go_from_supervisor_to_province(stack, province):
    api, _, app_id = submitted(stack, province, unit="U410000-001", city="410000")
    case = province.get(f"/api/v1/admin/reviews/{app_id}").json()
    assert case["chain"] == ["supervisor", "province"]
    assert decide(admin(stack, "sz_rst"), app_id, "pass").json()["level"] == "province"
    assert decide(province, app_id, "pass").json()["status"] == "approved"
    wait_for(lambda: app_status(api) == "approved")


def test_grade_one_needs_the_upper_reviewers_materials(stack, province):
    form = {"current_grade": 2, "grade_obtained_year": 2015, "route": "certificate", "work_start": "1990-01",
            "service_years": None, "current_trade": "T013", "target_trade": "T013"}
    api, p = applicant(stack, province, birth="19700101")
    stack.set_clock("+61")
    # the person registered for 四级; 一级 needs an account declared for 一级
    province.delete(f"/api/v1/admin/accounts/{p.id_number}")
    p_api = Api(stack.url)
    assert register(stack, p_api, p, declared_grade="1").status_code == 201
    assert p_api.login(p.id_number, p.password).status_code == 201
    r = p_api.put("/api/v1/me/application", json={**VALID_4_BY_YEARS, **form})
    assert r.status_code == 200, r.text
    for kind, data in (("personal_photo", jpeg_bytes(413, 579)), ("education_proof", png_bytes()),
                       ("grade_certificate", png_bytes())):
        assert upload(p_api, kind, data, "x.png" if kind != "personal_photo" else "p.jpg",
                      "image/png" if kind != "personal_photo" else "image/jpeg").status_code == 200
    r = p_api.post("/api/v1/me/application/submit")
    assert r.status_code == 200, r.text
    app_id = r.json()["application_id"]
    wait_for(lambda: province.get(f"/api/v1/admin/reviews/{app_id}").status_code == 200)
    sup, city = admin(stack, "zz_wsjw"), admin(stack, "zz_city")
    decide(sup, app_id, "pass")
    path = f"/api/v1/admin/reviews/{app_id}/files/wage_review_form"
    assert_error(sup.put(path, files={"file": ("w.png", png_bytes(), "image/png")}), 403, "wrong_level")
    decide(city, app_id, "pass")
    assert_error(decide(province, app_id, "pass"), 422, "materials_missing")     # too late for the city now
    assert decide(province, app_id, "return", "请市级审核员补充一级材料").status_code == 200
    wait_for(lambda: app_status(p_api) == "returned")
    assert p_api.post("/api/v1/me/application/submit").status_code == 200
    wait_for(lambda: province.get(f"/api/v1/admin/reviews/{app_id}").json()["round"] == 2)
    decide(sup, app_id, "pass")
    assert city.put(path, files={"file": ("w.png", png_bytes(), "image/png")}).status_code == 200
    r = city.put(f"/api/v1/admin/reviews/{app_id}/files/excellence_material",
                 files={"file": ("e.pdf", b"%PDF-1.4", "application/pdf")})
    assert_error(r, 415, "unsupported_media_type", "file")
    assert city.put(f"/api/v1/admin/reviews/{app_id}/files/excellence_material",
                    files={"file": ("e.png", png_bytes(), "image/png")}).status_code == 200
    assert province.get(path).status_code == 200
    decide(city, app_id, "pass")
    assert decide(province, app_id, "pass").json()["status"] == "approved"


def test_two_reviewers_at_once_exactly_one_wins(stack, province):
    _, _, app_id = submitted(stack, province)
    r = province.post("/api/v1/admin/admins", json={"username": f"zz_wsjw_{app_id[:6]}", "password": "Second2026pass",
                                                     "name": "第二审核员", "phone": "0371-60000001",
                                                     "role": "supervisor", "scope_code": "S410100-01"})
    assert r.status_code == 201
    second = Api(stack.url)
    second.token = second.post("/api/v1/admin/sessions", json={"username": f"zz_wsjw_{app_id[:6]}",
                                                                "password": "Second2026pass"}).json()["token"]
    second.put("/api/v1/admin/me/password", json={"old_password": "Second2026pass", "new_password": "Second2027pass"})
    first = admin(stack, "zz_wsjw")
    results = {}
    barrier = threading.Barrier(2)

    def go(name, api, decision, reason):
        barrier.wait()
        results[name] = decide(api, app_id, decision, reason)

    threads = [threading.Thread(target=go, args=("a", first, "pass", None)),
               threading.Thread(target=go, args=("b", second, "return", "材料不全"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(r.status_code for r in results.values())
    assert codes == [200, 409], {k: (r.status_code, r.text[:200]) for k, r in results.items()}
    winner = next(r for r in results.values() if r.status_code == 200).json()
    loser = next(r for r in results.values() if r.status_code == 409)
    # the loser waited for the row lock, then found the case moved on: at the city, or returned
    assert assert_error(loser, 409, "not_at_your_level")["details"] == {
        "status": winner["status"], "level": winner["level"], "version": winner["version"],
        "status_name": winner["status_name"]}
    case = province.get(f"/api/v1/admin/reviews/{app_id}").json()
    assert len([h for h in case["history"] if h["decision"] != "submitted"]) == 1
    # a stale version is refused too
    r = decide(province, app_id, "reject", "版本过期", version=case["version"] - 1)
    assert assert_error(r, 409, "state_conflict")["details"]["version"] == case["version"]


def test_redelivered_submission_opens_no_second_case(stack, province):
    """The submitted event delivered again — under a new id (the round guards it) and then
    under the same id (the inbox does) — changes nothing. The marker: a later, distinct
    submission handled by the same handler; once its case is open and the handler's queue
    holds nothing unhandled, the redeliveries before it were handled too."""
    _, p, app_id = submitted(stack, province, unit="U410100-004")    # a unit no other test uses
    case = province.get(f"/api/v1/admin/reviews/{app_id}").json()
    envelope = {"event_id": "redelivered-" + app_id, "event_type": "application.submitted.v1",
                "occurred_at": "2026-12-01T10:00:00+08:00",
                "data": {"application_id": app_id, "year": case["snapshot"]["year"], "id_number": p.id_number,
                         "name": p.name, "gender": "M", "target_grade": 4, "route": "years", "target_trade": "T013",
                         "unit_id": "U410100-004", "supervisor_id": "S410100-02", "county_code": "410122",
                         "city_code": "410100", "round": 1, "form": case["snapshot"]}}
    dispatch = event_dispatcher({"AMQP_URI": stack.amqp_uri})
    dispatch("application", "application.submitted.v1", envelope)
    dispatch("application", "application.submitted.v1", envelope)
    _, _, marker = submitted(stack, province, unit="U410100-004")    # waits for the marker's case
    wait_handled(stack, SUBMITTED_QUEUE)
    after = province.get(f"/api/v1/admin/reviews/{app_id}").json()
    assert [h["decision"] for h in after["history"]] == ["submitted"]
    assert (after["version"], after["round"], after["status"]) == (case["version"], 1, "in_review")
    page = province.get("/api/v1/admin/reviews", params={"status": "all", "unit_id": "U410100-004"}).json()
    assert page["total"] == 2 and sorted(i["application_id"] for i in page["items"]) == sorted([app_id, marker])


def test_batch_pass_checks_each_case(stack, province):
    ids = [submitted(stack, province)[2] for _ in range(2)]
    _, _, other_unit = submitted(stack, province, unit="U410100-003")   # 主管单位 S410100-02
    sup = admin(stack, "zz_wsjw")
    r = sup.post("/api/v1/admin/reviews/decisions", json={"application_ids": [*ids, other_unit], "decision": "pass"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["succeeded"] == 2 and body["failed"] == 1
    refusal = next(x for x in body["results"] if x["application_id"] == other_unit)
    assert (refusal["ok"], refusal["status"], refusal["error"]["code"]) == (False, 404, "not_found")
    r = sup.post("/api/v1/admin/reviews/decisions", json={"application_ids": ids, "decision": "return"})
    assert_error(r, 400, "reason_required", "reason")
    for app_id in ids:
        assert province.get(f"/api/v1/admin/reviews/{app_id}").json()["level"] == "city"


def test_queue_filters_and_paging(stack, province):
    _, person, app_id = submitted(stack, province, unit="U410100-002")
    sup = admin(stack, "zz_wsjw")
    mine = sup.get("/api/v1/admin/reviews", params={"unit_id": "U410100-002", "status": "all"}).json()
    assert mine["total"] == 1 and [i["application_id"] for i in mine["items"]] == [app_id]   # no other test uses it
    assert mine["items"][0]["unit_id"] == "U410100-002"
    # lists mask ID numbers (API.md; issue 8): the full one is on the case page only
    assert mine["items"][0]["id_number"] == person.id_number[:6] + "********" + person.id_number[-4:]
    assert person.id_number not in sup.get("/api/v1/admin/reviews", params={"status": "all"}).text
    assert sup.get("/api/v1/admin/reviews", params={"grade": 1, "unit_id": "U410100-002"}).json()["total"] == 0
    for page, expected in ((1, [app_id]), (2, [])):
        body = sup.get("/api/v1/admin/reviews", params={"status": "all", "unit_id": "U410100-002", "page_size": 1,
                                                        "page": page}).json()
        assert (body["total"], [i["application_id"] for i in body["items"]]) == (1, expected)
    assert_error(sup.get("/api/v1/admin/reviews", params={"status": "bogus"}), 400, "invalid", "status")
    assert_error(sup.get("/api/v1/admin/reviews", params={"submitted_from": "yesterday"}), 400, "invalid",
                 "submitted_from")
    today = clock.local_now().date().isoformat()                     # the queue's dates are Beijing dates
    assert sup.get("/api/v1/admin/reviews", params={"unit_id": "U410100-002", "submitted_from": "2000-01-01",
                                                    "submitted_to": "2000-01-02"}).json()["total"] == 0
    r = sup.get("/api/v1/admin/reviews", params={"status": "all", "unit_id": "U410100-002", "submitted_to": today})
    assert r.json()["total"] == 1


def test_reviewers_see_the_files_as_submitted_not_later_edits(stack, province):
    api, _, app_id = submitted(stack, province)
    sup = admin(stack, "zz_wsjw")
    path = f"/api/v1/admin/applications/{app_id}/files/personal_photo"
    before = sup.get(path).content
    assert decide(sup, app_id, "return", "请更换照片").status_code == 200
    wait_for(lambda: app_status(api) == "returned")
    assert upload(api, "personal_photo", jpeg_bytes(413, 579, (200, 230, 255))).status_code == 200
    assert sup.get(path).content == before                       # round 1 is what was reviewed
    api.post("/api/v1/me/application/files/personal_photo/stamp")
    assert api.post("/api/v1/me/application/submit").status_code == 200
    wait_for(lambda: province.get(f"/api/v1/admin/reviews/{app_id}").json()["round"] == 2)
    assert sup.get(path).content != before                       # round 2: the new photo
    case = sup.get(f"/api/v1/admin/reviews/{app_id}").json()
    stamped = case["snapshot"]["stamped_photo"]["url"]
    assert stamped.startswith("/api/v1/admin/") and sup.get(stamped).status_code == 200


def test_review_chains_are_configured_by_the_province_per_city(stack, province):
    assert province.get("/api/v1/admin/review-chains/410200").json()["levels"] == ["supervisor", "city", "province"]
    for city, levels, field in (("999999", ["supervisor", "province"], "city_code"),
                                ("410000", ["supervisor", "city", "province"], "levels"),
                                ("410200", ["city", "province"], "levels"),
                                ("410200", ["supervisor", "province", "city"], "levels")):
        r = province.put(f"/api/v1/admin/review-chains/{city}", json={"levels": levels})
        assert_error(r, 400, "invalid", field)
    r = admin(stack, "zz_city").put("/api/v1/admin/review-chains/410100", json={"levels": ["supervisor", "province"]})
    assert_error(r, 403, "role_not_allowed")
    r = province.put("/api/v1/admin/review-chains/410200", json={"levels": ["supervisor", "province"]})
    assert r.status_code == 200
    assert province.get("/api/v1/admin/review-chains/410200").json()["levels"] == ["supervisor", "province"]
    province.put("/api/v1/admin/review-chains/410200", json={"levels": ["supervisor", "city", "province"]})


def test_eligibility_figures_merge_and_refuse_nonsense(stack, province):
    year = province.get("/api/v1/years/current").json()["year"]
    path = f"/api/v1/admin/years/{year}/eligibility-rules"
    before = province.get(path).json()
    try:
        assert province.put(path, json={"years_required": {"3": 20}}).status_code == 200
        after = province.put(path, json={"years_required": {"4": 9}}).json()
        assert after["years_required"] == {**before["years_required"], "3": 20, "4": 9}
        for bad in ({"min_age": "abc"}, {"max_age": -5}, {"exceptional_waives_rules": "no"}, ["x"]):
            assert_error(province.put(path, json=bad), 400, "invalid")
    finally:
        province.put(path, json=before)


def test_a_returned_applicant_finds_the_sms_in_the_outbox_exactly_once_when_the_event_comes_twice(stack, province):
    """Issue 14's done-when: the supervisor returns the application; review.returned.v1 — the
    very envelope review published, caught on the broker — is delivered twice more. The SMS
    outbox holds one notice/returned line with the reason. The marker: the applicant
    resubmits and is returned again; once that second SMS is there and application's handler
    queue holds nothing unhandled, the redeliveries were handled too. The home and 审核结果
    pages list both notices (消息通知), newest first."""
    tap = ReturnedTap(stack)
    try:
        api, p, app_id = submitted(stack, province)
        sup = admin(stack, "zz_wsjw")
        assert decide(sup, app_id, "return", "学历证明材料不清晰").status_code == 200
        original = wait_for(lambda: next((e for e in tap.events if e["data"]["application_id"] == app_id), None),
                            what="review.returned.v1 on the broker")
    finally:
        tap.close()
    first = wait_for(lambda: notice_lines(stack, p.phone), what="the returned SMS")
    dispatch = event_dispatcher({"AMQP_URI": stack.amqp_uri})
    dispatch("review", "review.returned.v1", original)
    dispatch("review", "review.returned.v1", original)
    assert api.post("/api/v1/me/application/submit").status_code == 200
    wait_for(lambda: province.get(f"/api/v1/admin/reviews/{app_id}").json()["round"] == 2, what="round 2")
    assert decide(sup, app_id, "return", "个人照片背景不符合要求").status_code == 200
    wait_for(lambda: len(notice_lines(stack, p.phone)) >= 2, what="the second returned SMS")
    wait_handled(stack, RETURNED_QUEUE)
    lines = notice_lines(stack, p.phone)
    assert [m["kind"] for m in lines] == ["returned", "returned"] and lines[0] == first[0]
    assert set(lines[0]) == {"phone", "purpose", "kind", "text", "sent_at"}
    assert "退回原因：学历证明材料不清晰" in lines[0]["text"] and "个人照片背景不符合要求" in lines[1]["text"]
    assert p.id_number not in lines[0]["text"]
    me = api.get("/api/v1/me").json()
    assert [n["text"] for n in me["notices"]] == [lines[1]["text"], lines[0]["text"]]
    for path in ("/home", "/review"):
        page = api.get(path).text
        listed = page[page.index('id="messages"'):]
        assert "消息通知" in listed and listed.index("个人照片背景不符合要求") < listed.index("学历证明材料不清晰")
