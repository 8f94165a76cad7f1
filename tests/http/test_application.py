"""The 报名信息 form through the gateway on the real broker and database (R-A1 … R-A6,
R-Y2): save, eligibility, submit, uploads, who may see the files, the submitted event."""
from __future__ import annotations

import csv as csv_module
import io
import json
import re
from datetime import datetime, timedelta

import sqlalchemy as sa
from helpers import (
    Api,
    BrokerTap,
    applicant,
    assert_error,
    fill_valid,
    jpeg_bytes,
    png_bytes,
    register,
    upload,
    wait_for,
)
from PIL import Image

from deploy.seed import DEMO_PASSWORD, trades_csv


def test_form_exists_from_registration_prefilled(stack, province):
    api, p = applicant(stack, province)
    form = api.get("/api/v1/me/application").json()
    assert form["status"] == "not_submitted" and form["locked"] is False
    assert (form["name"], form["id_number"], form["phone"], form["target_grade"]) == (p.name, p.id_number, p.phone, 4)
    assert form["gender"] == ("M" if int(p.id_number[16]) % 2 else "F") and form["birth_month"] == p.birth_month
    assert set(form["files"]) == {"id_card_photo"}
    photo = api.get(form["files"]["id_card_photo"]["url"])
    assert photo.status_code == 200 and photo.headers["Content-Type"] == "image/png"
    assert photo.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in photo.headers["Content-Security-Policy"]


def test_save_keeps_left_out_fields_and_guards_read_only(stack, province):
    api, p = applicant(stack, province)
    r = api.put("/api/v1/me/application", json={"education": "bachelor", "work_start": "2001-07"})
    assert r.status_code == 200, r.text
    year = r.json()["year"]
    assert r.json()["service_years"] == year - 2001 + 1 == r.json()["service_years_max"]  # default: the maximum
    r = api.put("/api/v1/me/application", json={"service_years": 12})
    assert r.json()["education"] == "bachelor" and r.json()["work_start"] == "2001-07"
    assert r.json()["service_years"] == 12
    assert api.put("/api/v1/me/application", json={"name": p.name}).status_code == 200   # unchanged: fine
    for body, field in (({"name": "别人"}, "name"), ({"id_number": "11010519491231002X"}, "id_number"),
                        ({"target_grade": 1}, "target_grade"), ({"phone": "13900000000"}, "phone"),
                        ({"education": "phd"}, "education"), ({"work_start": "2001-13"}, "work_start"),
                        ({"unit_id": "U410300-001"}, "unit_id"),       # a unit of another city
                        ({"current_trade": "NOPE"}, "current_trade"), ({"pledge": "yes"}, "pledge"),
                        ({"service_years": "many"}, "service_years"), ({"whatever": 1}, "whatever")):
        code = "read_only" if field in ("name", "id_number", "target_grade", "phone") else "invalid"
        assert_error(api.put("/api/v1/me/application", json=body), 400, code, field)
    form = api.get("/api/v1/me/application").json()
    assert form["name"] == p.name and form["education"] == "bachelor" and form["unit_id"] is None


def test_choosing_a_unit_fixes_county_and_supervisor_and_the_header(stack, province):
    api, _ = applicant(stack, province)
    form = api.put("/api/v1/me/application", json={"unit_id": "U410100-003"}).json()
    assert form["county_code"] == "410103" and form["supervisor_id"] == "S410100-02"
    assert form["unit"]["supervisor"]["admin"] == "孙老师"  # a display name, never a login name
    me = api.get("/api/v1/me").json()
    assert me["supervisor"]["admin"] == "孙老师" and me["supervisor"]["phone"]


def test_eligibility_lists_every_rule_and_submit_names_every_failure(stack, province):
    api, _ = applicant(stack, province)
    result = api.get("/api/v1/me/application/eligibility").json()
    assert result["eligible"] is False
    names = [r["rule"] for r in result["rules"]]
    assert names == ["required", *(f"R-A4.{i}" for i in range(1, 14))]
    r = api.post("/api/v1/me/application/submit")
    details = assert_error(r, 422, "not_eligible")["details"]
    failed = {d["rule"] for d in details}
    assert failed == {x["rule"] for x in result["rules"] if not x["passed"]}
    # a fresh form (nothing filled in but the ID card photo): every rule that needs a field fails
    assert failed == {"required", "R-A4.2", "R-A4.3", "R-A4.4", "R-A4.5", "R-A4.6", "R-A4.8", "R-A4.10",
                      "R-A4.12", "R-A4.13"}
    assert all(d["message"] for d in details)
    assert api.get("/api/v1/me/application").json()["status"] == "not_submitted"


def test_too_few_years_is_422_naming_the_rule(stack, province):
    api, _ = applicant(stack, province)
    fill_valid(api)
    year = api.get("/api/v1/me/application").json()["year"]
    api.put("/api/v1/me/application", json={"work_start": f"{year - 8}-01", "service_years": 9})
    details = assert_error(api.post("/api/v1/me/application/submit"), 422, "not_eligible")["details"]
    assert [d["rule"] for d in details] == ["R-A4.5"] and details[0]["field"] == "service_years"


def test_submit_locks_the_form_and_shows_in_review(stack, province):
    api, p = applicant(stack, province)
    fill_valid(api)
    assert api.get("/api/v1/me/application/eligibility").json()["eligible"] is True
    r = api.post("/api/v1/me/application/submit")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "in_review" and r.json()["locked"] is True and r.json()["round"] == 1
    assert_error(api.put("/api/v1/me/application", json={"education": "bachelor"}), 409, "locked")
    assert_error(upload(api, "personal_photo", jpeg_bytes(413, 579)), 409, "locked")
    assert_error(api.post("/api/v1/me/application/submit"), 409, "locked")
    me = api.get("/api/v1/me").json()
    assert me["status"] == "in_review"
    assert next(s for s in me["steps"] if s["key"] == "review")["enabled"] is True
    # identity learnt it: self-deletion is closed now
    wait_for(lambda: api.get("/api/v1/me").json()["account"]["ever_submitted"], what="identity's copy")


def test_application_window_edges(stack, province):
    api, p = applicant(stack, province)
    fill_valid(api)
    end = datetime.fromisoformat(api.get("/api/v1/years/current").json()["windows"]["application"]["end"])
    stack.set_clock((end + timedelta(seconds=1)).isoformat())
    assert api.login(p.id_number, p.password).status_code == 201   # weeks later: a new session
    r = api.post("/api/v1/me/application/submit")
    assert "当前不是报名时间" in assert_error(r, 422, "outside_application_window")["message"]
    r = api.put("/api/v1/me/application", json={"education": "bachelor"})
    assert_error(r, 422, "outside_application_window")
    assert_error(upload(api, "education_proof", png_bytes(), "e.png", "image/png"), 422, "outside_application_window")
    stack.set_clock(end.isoformat())
    assert api.post("/api/v1/me/application/submit").status_code == 200


def test_uploads_are_checked_by_content_and_size(stack, province):
    api, _ = applicant(stack, province)
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"
    r = upload(api, "education_proof", pdf, "diploma.jpg", "image/jpeg")
    assert "JPG" in assert_error(r, 415, "unsupported_media_type", "file")["message"]
    r = upload(api, "education_proof", b"#!/bin/sh\nrm -rf /\n", "run.png", "image/png")
    assert_error(r, 415, "unsupported_media_type", "file")
    big = io.BytesIO()
    Image.effect_noise((2600, 2600), 90).convert("RGB").save(big, "PNG")
    assert big.tell() > 5 * 1024 * 1024
    assert_error(upload(api, "education_proof", big.getvalue(), "big.png", "image/png"), 413, "too_large", "file")
    bomb = io.BytesIO()
    Image.new("1", (20000, 20000)).save(bomb, "PNG")   # tiny file, 400 megapixels
    r = upload(api, "education_proof", bomb.getvalue(), "bomb.png", "image/png")
    assert_error(r, 413, "too_large", "file")
    r = upload(api, "personal_photo", jpeg_bytes(600, 400))   # landscape: not 5:7
    assert "宽高比" in assert_error(r, 400, "invalid", "file")["message"]
    r = upload(api, "personal_photo", jpeg_bytes(280, 392))   # 5:7 but too small
    assert_error(r, 400, "invalid", "file")
    assert_error(upload(api, "unknown_kind", jpeg_bytes()), 404, "not_found")
    # EXIF (with GPS) is stripped; the 2-inch photo is normalised to 413×579
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    src = io.BytesIO()
    Image.new("RGB", (500, 700), (250, 250, 250)).save(src, "JPEG", exif=exif)
    form = upload(api, "personal_photo", src.getvalue()).json()
    meta = form["files"]["personal_photo"]
    assert (meta["width"], meta["height"], meta["content_type"]) == (413, 579, "image/jpeg")
    stored = Image.open(io.BytesIO(api.get(meta["url"]).content))
    assert stored.size == (413, 579) and not stored.getexif()
    # nothing refused above was stored
    assert set(form["files"]) == {"id_card_photo", "personal_photo"}


def test_add_id_number_keeps_the_original(stack, province):
    api, p = applicant(stack, province)
    r = api.post("/api/v1/me/application/files/personal_photo/stamp")
    assert_error(r, 422, "no_personal_photo", "personal_photo")
    original = upload(api, "personal_photo", jpeg_bytes(413, 579)).json()["files"]["personal_photo"]
    form = api.post("/api/v1/me/application/files/personal_photo/stamp").json()
    stamped = form["stamped_photo"]
    assert stamped["sha256"] != original["sha256"]
    assert form["files"]["personal_photo"]["sha256"] == original["sha256"]
    image = Image.open(io.BytesIO(api.get("/api/v1/me/application/files/personal_photo_stamped").content))
    assert image.size == (413, 579)


def test_files_are_served_to_the_owner_and_admins_in_scope_only(stack, province):
    """R-I12: a draft stays the applicant's own; once submitted, administrators in scope see
    its files, the others get the same 404 as for nothing at all."""
    api, p = applicant(stack, province)
    fill_valid(api)  # unit U410100-001: 郑州, 中原区, 主管单位 S410100-01
    app_id = api.get("/api/v1/me/application").json()["application_id"]
    path = f"/api/v1/admin/applications/{app_id}/files/personal_photo"
    other, _ = applicant(stack, province)
    assert_error(other.get(path), 403, "wrong_kind")               # another applicant
    assert_error(Api(stack.url).get(path), 401, "unauthenticated") # nobody
    admins = {user: Api(stack.url).login_admin(user, DEMO_PASSWORD)
              for user in ("zz_city", "zz_zhongyuan", "zz_wsjw", "ly_city", "zz_jyj", "ly_nyj")}
    for user, admin in [*admins.items(), ("admin", province)]:       # the draft: nobody but its owner
        assert_error(admin.get(path), 404, "not_found")
    assert api.post("/api/v1/me/application/submit").status_code == 200
    for user, status in (("zz_city", 200), ("zz_zhongyuan", 200), ("zz_wsjw", 200),
                         ("ly_city", 404), ("zz_jyj", 404), ("ly_nyj", 404)):
        r = admins[user].get(path)
        assert r.status_code == status, (user, r.text[:200])
        if status == 200:
            assert r.headers["Content-Type"] == "image/jpeg" and r.content[:3] == b"\xff\xd8\xff"
            assert int(r.headers["Content-Length"]) == len(r.content)
            assert r.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
        else:
            assert_error(r, 404, "not_found")
    assert province.get(path).status_code == 200
    assert_error(other.get("/api/v1/me/application/files/personal_photo"), 404, "not_found")  # they have none


def test_reference_data_trades_and_contacts(api, province):
    trades = api.get("/api/v1/trades").json()
    by_name = {t["name"]: t for t in trades}
    shipped = {row["code"]: row for row in csv_module.DictReader(io.StringIO(trades_csv().decode("utf-8-sig")))}
    assert len(shipped) >= 20 and "汽车驾驶员" in by_name
    for code, row in shipped.items():                                # the shipped catalogue, mappings included
        t = next(t for t in trades if t["code"] == code)
        mapped = [c.strip() for c in re.split(r"[;；]", row["new_codes"] or "") if c.strip()]
        assert (t["name"], t["new_trades"]) == (row["name"], mapped), code
    contacts = api.get("/api/v1/contacts").json()
    assert contacts["center_phone"] and any(c["county_code"] == "410102" for c in contacts["counties"])
    csv = "code,name,category,new_codes\nT900,测试新工种,测试,\nT901,测试旧工种,测试,T900\nbad code,x,,\nT902,引用不存在,,T999\n"
    r = province.put("/api/v1/admin/trades", files={"file": ("trades.csv", csv.encode(), "text/csv")})
    assert r.status_code == 200, r.text
    assert r.json()["imported"] == 2 and {x["line"] for x in r.json()["refused"]} == {4, 5}
    assert {"T900", "T901"} <= {t["code"] for t in api.get("/api/v1/trades").json()}
    zz = Api(api.base).login_admin("zz_city", DEMO_PASSWORD)
    r = zz.put("/api/v1/admin/trades", files={"file": ("t.csv", csv.encode(), "text/csv")})
    assert_error(r, 403, "role_not_allowed")


def test_the_rule_set_is_data_per_year(stack, province):
    api, _ = applicant(stack, province)
    fill_valid(api)
    year = api.get("/api/v1/me/application").json()["year"]
    api.put("/api/v1/me/application", json={"work_start": f"{year - 8}-01", "service_years": 9})
    assert api.get("/api/v1/me/application/eligibility").json()["eligible"] is False
    rules = province.get(f"/api/v1/admin/years/{year}/eligibility-rules").json()
    try:
        r = province.put(f"/api/v1/admin/years/{year}/eligibility-rules",
                         json={"years_required": {**rules["years_required"], "4": 9}})
        assert r.status_code == 200, r.text
        assert api.get("/api/v1/me/application/eligibility").json()["eligible"] is True
        zz = Api(stack.url).login_admin("zz_city", DEMO_PASSWORD)
        assert_error(zz.put(f"/api/v1/admin/years/{year}/eligibility-rules", json={}), 403, "role_not_allowed")
    finally:
        province.put(f"/api/v1/admin/years/{year}/eligibility-rules", json=rules)


def test_account_deletion_removes_the_application(stack, province):
    api, p = applicant(stack, province)
    api.put("/api/v1/me/application", json={"education": "bachelor"})
    zz = Api(stack.url).login_admin("zz_city", DEMO_PASSWORD)
    assert zz.delete(f"/api/v1/admin/accounts/{p.id_number}").status_code == 204
    stack.set_clock("+61")
    assert register(stack, Api(stack.url), p).status_code == 201
    again = Api(stack.url)
    again.login(p.id_number, p.password)
    form = wait_for(lambda: (f := again.get("/api/v1/me/application").json())["education"] is None and f,
                    what="the old form gone")
    assert form["status"] == "not_submitted" and form["round"] == 0


class Listener(BrokerTap):
    """A consumer on application.events in the test vhost, counting each event id."""

    def __init__(self, stack, routing_key="application.submitted.v1"):
        self.seen: dict[str, int] = {}
        self.bodies: dict[str, dict] = {}
        super().__init__(stack, ["application.events"], routing_key)

    def on_message(self, body, message):
        body = body if isinstance(body, dict) else json.loads(body)
        self.seen[body["event_id"]] = self.seen.get(body["event_id"], 0) + 1
        self.bodies[body["event_id"]] = body

    def for_application(self, app_id):
        return {k: n for k, n in self.seen.items() if self.bodies[k]["data"]["application_id"] == app_id}


def unpublished(stack, app_id: str) -> list:
    """application's outbox rows for this application's submission not yet published."""
    engine = sa.create_engine(stack.env["GONGKAO_APPLICATION_DB_URL"])
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(
                "SELECT event_id FROM outbox WHERE event_type = 'application.submitted.v1' "
                "AND envelope->'data'->>'application_id' = :a AND published_at IS NULL"), {"a": app_id}).all()
    finally:
        engine.dispose()


def test_submitted_event_reaches_a_listener_exactly_once_across_a_restart(stack, province):
    """The service stops between commit and publish: the event waits in the outbox and is
    published once when it is back; a further restart publishes nothing again (the marker: a
    later submission, which the relay publishes after anything older still waiting)."""
    listener = Listener(stack)
    try:
        api, p = applicant(stack, province)
        fill_valid(api)
        app_id = api.get("/api/v1/me/application").json()["application_id"]
        marker_api, _ = applicant(stack, province)
        fill_valid(marker_api)
        marker_id = marker_api.get("/api/v1/me/application").json()["application_id"]
        stack.stop_service("application")
        stack.start_service("application", GONGKAO_OUTBOX_RELAY="false")   # commits, never publishes
        stack.wait_ready()
        assert api.post("/api/v1/me/application/submit").status_code == 200
        assert len(unpublished(stack, app_id)) == 1                        # committed, waiting in the outbox
        assert listener.for_application(app_id) == {}
        stack.stop_service("application")                                  # "crash" before publishing
        stack.start_service("application")
        stack.wait_ready()
        got = wait_for(lambda: listener.for_application(app_id), what="the submitted event")
        assert list(got.values()) == [1], got
        assert unpublished(stack, app_id) == []
        body = listener.bodies[next(iter(got))]
        assert body["event_type"] == "application.submitted.v1"
        data = body["data"]
        assert set(data) == {"application_id", "year", "id_number", "name", "gender", "target_grade", "route",
                             "target_trade", "target_trade_name", "unit_id", "supervisor_id", "county_code",
                             "city_code", "round", "submitted_at", "form"}
        assert (data["unit_id"], data["supervisor_id"], data["county_code"], data["city_code"]) == \
            ("U410100-001", "S410100-01", "410102", "410100")
        assert "personal_photo" in data["form"]["files"]
        stack.stop_service("application")
        stack.start_service("application")
        stack.wait_ready()
        assert marker_api.post("/api/v1/me/application/submit").status_code == 200
        wait_for(lambda: listener.for_application(marker_id), what="the marker's submitted event")
        assert list(listener.for_application(app_id).values()) == [1]
        assert list(listener.for_application(marker_id).values()) == [1]
    finally:
        listener.close()


def test_province_imports_units_with_their_supervisors(api, province):
    head = "unit_id,name,city_code,county_code,supervisor_id,supervisor_name,supervisor_admin,supervisor_phone\n"
    csv = (head + "U410200-001,开封市博物馆,410200,410202,S410200-01,开封市文化广电和旅游局,kf_wlj,0371-23300001\n"
           "U410200-002,错误县区,410200,410102,S410200-01,开封市文化广电和旅游局,kf_wlj,0371-23300001\n").encode("gbk")
    r = province.put("/api/v1/admin/units", files={"file": ("units.csv", csv, "text/csv")})
    assert r.status_code == 200, r.text
    assert r.json()["imported"] == 1 and [x["line"] for x in r.json()["refused"]] == [3]
    units = api.get("/api/v1/units", params={"city_code": "410200"}).json()
    assert ("U410200-001", "410202", "kf_wlj") in {(u["unit_id"], u["county_code"], u["supervisor"]["admin"])
                                                   for u in units}
    assert "U410200-002" not in {u["unit_id"] for u in units}
    zz = Api(api.base).login_admin("zz_city", DEMO_PASSWORD)
    assert_error(zz.put("/api/v1/admin/units", files={"file": ("u.csv", csv, "text/csv")}), 403, "role_not_allowed")
