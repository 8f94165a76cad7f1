"""Login, sessions, passwords, administrators and their scopes, through the gateway on
the real broker and database (R-I7 … R-I11, R-Y1, R-Y3)."""
from __future__ import annotations

from datetime import datetime, timedelta

from helpers import Api, admin, assert_error, new_person, register, registered, wait_for


# --- R-I7 ---------------------------------------------------------------------------
def test_lockout_threshold_and_expiry(stack, province):
    p = registered(stack, province)
    api = Api(stack.url)
    t0 = datetime.fromisoformat("2026-12-02T09:00:00+08:00")
    stack.set_clock(t0.isoformat())
    for _ in range(4):
        assert_error(api.login(p.id_number, "Wrong2026pass"), 401, "bad_credentials")
    r = api.login(p.id_number, "Wrong2026pass")  # the 5th failure locks
    assert "锁定" in assert_error(r, 423, "locked")["message"]
    assert_error(api.login(p.id_number, p.password), 423, "locked")   # even the right password, while locked
    stack.set_clock((t0 + timedelta(minutes=30) - timedelta(seconds=1)).isoformat())
    assert_error(api.login(p.id_number, p.password), 423, "locked")
    stack.set_clock((t0 + timedelta(minutes=30)).isoformat())
    assert api.login(p.id_number, p.password).status_code == 201


def test_success_resets_failure_count(stack, province):
    p = registered(stack, province)
    api = Api(stack.url)
    for _ in range(4):
        assert_error(api.login(p.id_number, "Wrong2026pass"), 401, "bad_credentials")
    assert api.login(p.id_number, p.password).status_code == 201
    for _ in range(4):
        assert_error(api.login(p.id_number, "Wrong2026pass"), 401, "bad_credentials")
    assert api.login(p.id_number, p.password).status_code == 201


def test_unknown_account_and_wrong_password_look_alike(api):
    r = api.login("11010519491231002X", "Whatever2026")
    assert assert_error(r, 401, "bad_credentials")["message"] == "身份证号或密码错误"


def test_idle_session_expires_and_logout_ends_it(stack, province):
    p = registered(stack, province)
    api = Api(stack.url)
    t0 = datetime.fromisoformat("2026-12-02T10:00:00+08:00")
    stack.set_clock(t0.isoformat())
    assert api.login(p.id_number, p.password).status_code == 201
    stack.set_clock((t0 + timedelta(minutes=29)).isoformat())
    assert api.get("/api/v1/me").status_code == 200      # activity keeps it alive
    stack.set_clock((t0 + timedelta(minutes=58)).isoformat())
    assert api.get("/api/v1/me").status_code == 200
    stack.set_clock((t0 + timedelta(minutes=88)).isoformat())
    assert_error(api.get("/api/v1/me"), 401, "unauthenticated")      # 30 minutes idle
    stack.set_clock(None)
    assert api.login(p.id_number, p.password).status_code == 201
    assert api.delete("/api/v1/sessions/current").status_code == 204
    assert_error(api.get("/api/v1/me"), 401, "unauthenticated")


def test_cookie_session_needs_csrf_token(stack, province):
    p = registered(stack, province)
    api = Api(stack.url)
    r = api.http.post(stack.url + "/api/v1/sessions", json={"id_number": p.id_number, "password": p.password})
    assert r.status_code == 201 and "gk_session" in r.cookies
    cookie_header = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie_header
    assert api.http.get(stack.url + "/api/v1/me").status_code == 200   # reading needs no token
    r = api.http.put(stack.url + "/api/v1/me/password", json={"old_password": p.password,
                                                              "new_password": "Newer2026pass"})
    assert_error(r, 403, "csrf_failed")
    csrf = api.http.cookies.get("gk_csrf")
    assert csrf
    r = api.http.put(stack.url + "/api/v1/me/password", headers={"X-CSRF-Token": csrf},
                     json={"old_password": p.password, "new_password": "Newer2026pass"})
    assert r.status_code == 200, r.text


# --- passwords (R-I6, R-I8) ------------------------------------------------------------
def test_change_password_rules_and_other_sessions_end(stack, province):
    p = registered(stack, province)
    a, b = Api(stack.url), Api(stack.url)
    assert a.login(p.id_number, p.password).status_code == 201
    assert b.login(p.id_number, p.password).status_code == 201
    r = a.put("/api/v1/me/password", json={"old_password": "Nope2026pass", "new_password": "Newer2026pass"})
    assert_error(r, 400, "bad_old_password", "old_password")
    r = a.put("/api/v1/me/password", json={"old_password": p.password, "new_password": "short1"})
    assert_error(r, 400, "invalid", "new_password")
    r = a.put("/api/v1/me/password", json={"old_password": p.password, "new_password": "Newer2026pass"})
    assert r.status_code == 200
    assert a.get("/api/v1/me").status_code == 200    # this session stays
    assert_error(b.get("/api/v1/me"), 401, "unauthenticated")    # the other one ended
    assert_error(Api(stack.url).login(p.id_number, p.password), 401, "bad_credentials")
    assert Api(stack.url).login(p.id_number, "Newer2026pass").status_code == 201


def test_reset_to_123_forces_a_change_and_ends_sessions(stack, province):
    p = registered(stack, province)
    applicant = Api(stack.url)
    assert applicant.login(p.id_number, p.password).status_code == 201
    city = admin(stack, "zz_city")
    r = city.post(f"/api/v1/admin/accounts/{p.id_number}/password-reset")
    assert r.status_code == 200 and r.json()["must_change_password"] is True
    assert_error(applicant.get("/api/v1/me"), 401, "unauthenticated")  # session ended
    r = applicant.login(p.id_number, "123")
    assert r.status_code == 201 and r.json()["must_change_password"] is True
    assert applicant.get("/api/v1/me").status_code == 200             # may see who they are
    r = applicant.delete("/api/v1/me", json={"sms_code": "123456"})  # but nothing else
    assert_error(r, 403, "must_change_password")
    r = applicant.post("/api/v1/sms-codes", json={"purpose": "delete_self"})
    assert_error(r, 403, "must_change_password")
    r = applicant.put("/api/v1/me/password", json={"old_password": "123", "new_password": "123"})
    assert_error(r, 400, "invalid", "new_password")                    # 123 is no valid password
    r = applicant.put("/api/v1/me/password", json={"old_password": "123", "new_password": "Fresh2026pass"})
    assert r.status_code == 200
    me = applicant.get("/api/v1/me").json()
    assert me["must_change_password"] is False


def test_reset_unlocks_a_locked_account(stack, province):
    p = registered(stack, province)
    api = Api(stack.url)
    for _ in range(5):
        api.login(p.id_number, "Wrong2026pass")
    assert_error(api.login(p.id_number, p.password), 423, "locked")
    assert admin(stack, "zz_city").post(f"/api/v1/admin/accounts/{p.id_number}/password-reset").status_code == 200
    assert api.login(p.id_number, "123").status_code == 201


# --- scopes (R-I10) --------------------------------------------------------------------
def test_city_admin_scope(stack, province):
    luoyang = registered(stack, province, city_code="410300", region="410303")
    zhengzhou = registered(stack, province)
    zz = admin(stack, "zz_city")
    for method, path in (("post", f"/api/v1/admin/accounts/{luoyang.id_number}/password-reset"),
                         ("delete", f"/api/v1/admin/accounts/{luoyang.id_number}"),
                         ("get", f"/api/v1/admin/accounts/{luoyang.id_number}")):
        assert_error(getattr(zz, method)(path), 403, "out_of_scope")
    assert Api(stack.url).login(luoyang.id_number, luoyang.password).status_code == 201  # untouched
    ly = admin(stack, "ly_city")
    assert ly.post(f"/api/v1/admin/accounts/{luoyang.id_number}/password-reset").status_code == 200
    assert_error(ly.post(f"/api/v1/admin/accounts/{zhengzhou.id_number}/password-reset"), 403, "out_of_scope")
    # a county admin: the applicant has chosen no unit yet, so the account is the city's
    county = admin(stack, "zz_zhongyuan")
    r = county.post(f"/api/v1/admin/accounts/{zhengzhou.id_number}/password-reset")
    assert_error(r, 403, "out_of_scope")
    # a supervisor admin resets nothing; an applicant is no admin at all
    sup = admin(stack, "zz_wsjw")
    r = sup.post(f"/api/v1/admin/accounts/{zhengzhou.id_number}/password-reset")
    assert_error(r, 403, "role_not_allowed")
    applicant = Api(stack.url)
    applicant.login(zhengzhou.id_number, zhengzhou.password)
    r = applicant.post(f"/api/v1/admin/accounts/{luoyang.id_number}/password-reset")
    assert_error(r, 403, "wrong_kind")
    # the province may do it for anyone
    assert province.get(f"/api/v1/admin/accounts/{luoyang.id_number}").status_code == 200
    r = zz.get(f"/api/v1/admin/accounts/{zhengzhou.id_number}")
    assert r.status_code == 200 and "****" in r.json()["phone"]


def test_admin_deletes_account_and_person_registers_again(stack, province):
    p = registered(stack, province)
    zz = admin(stack, "zz_city")
    assert zz.delete(f"/api/v1/admin/accounts/{p.id_number}").status_code == 204
    assert_error(Api(stack.url).login(p.id_number, p.password), 401, "bad_credentials")
    assert_error(zz.delete(f"/api/v1/admin/accounts/{p.id_number}"), 404, "not_found", "id_number")
    stack.set_clock("+61")
    p.city_code = "410300"   # now with the corrected city
    assert register(stack, Api(stack.url), p).status_code == 201


def test_self_deletion_needs_a_fresh_code(stack, province):
    p = registered(stack, province)
    api = Api(stack.url)
    api.login(p.id_number, p.password)
    assert_error(api.delete("/api/v1/me", json={"sms_code": "000000"}), 400, "sms_code_invalid", "sms_code")
    r = api.post("/api/v1/sms-codes", json={"purpose": "delete_self"})
    assert r.status_code == 201 and "****" in r.json()["phone"]
    r = api.delete("/api/v1/me", json={"sms_code": stack.sms_code(p.phone, "delete_self")})
    assert r.status_code == 204
    assert_error(Api(stack.url).login(p.id_number, p.password), 401, "bad_credentials")


# --- 补报 (R-I9) ---------------------------------------------------------------------------
def test_supplementary_registration(stack, province):
    p = new_person(province, on_roster=False)
    body = {"city_code": "410100", "declared_grade": 5, "id_number": p.id_number, "name": p.name, "phone": p.phone}
    r = admin(stack, "ly_city").post("/api/v1/admin/supplementary-registrations", json=body)
    assert_error(r, 403, "out_of_scope", "city_code")
    r = admin(stack, "zz_wsjw").post("/api/v1/admin/supplementary-registrations", json=body)
    assert_error(r, 403, "role_not_allowed")
    zz = admin(stack, "zz_city")
    r = zz.post("/api/v1/admin/supplementary-registrations", json={**body, "id_number": "123"})
    assert_error(r, 400, "invalid", "id_number")
    r = zz.post("/api/v1/admin/supplementary-registrations", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["supplementary"] is True
    r = zz.post("/api/v1/admin/supplementary-registrations", json=body)
    assert_error(r, 409, "already_registered", "id_number")
    applicant = Api(stack.url)
    r = applicant.login(p.id_number, "123")
    assert r.status_code == 201 and r.json()["must_change_password"] is True


# --- administrators (R-I11) --------------------------------------------------------------
def test_who_may_create_which_administrator(stack, province):
    zz = admin(stack, "zz_city")
    base = {"password": "Start2026pass", "name": "测试员", "phone": "0371-66660000"}
    r = zz.post("/api/v1/admin/admins", json={**base, "username": "zz_erqi", "role": "county",
                                              "scope_code": "410103"})
    assert r.status_code == 201, r.text
    assert r.json()["scope_city"] == "410100"
    r = zz.post("/api/v1/admin/admins", json={**base, "username": "zz_sup2", "role": "supervisor",
                                              "scope_code": "S410100-02"})
    assert r.status_code == 201, r.text
    for body in ({"username": "ly_laocheng", "role": "county", "scope_code": "410302"},
                 {"username": "ly_sup", "role": "supervisor", "scope_code": "S410300-01"},
                 {"username": "zz_city2", "role": "city", "scope_code": "410100"},
                 {"username": "prov2", "role": "province"}):
        assert_error(zz.post("/api/v1/admin/admins", json={**base, **body}), 403, "out_of_scope")
    r = admin(stack, "zz_zhongyuan").post("/api/v1/admin/admins", json={**base, "username": "x1",
                                                                         "role": "county", "scope_code": "410102"})
    assert_error(r, 403, "role_not_allowed")
    r = province.post("/api/v1/admin/admins", json={**base, "username": "zz_erqi", "role": "county",
                                                    "scope_code": "410103"})
    assert_error(r, 409, "conflict", "username")
    r = province.post("/api/v1/admin/admins", json={**base, "username": "bad", "role": "county",
                                                    "scope_code": "999999"})
    assert_error(r, 400, "invalid", "scope_code")
    r = province.post("/api/v1/admin/admins", json={**base, "username": "ly_city2", "role": "city",
                                                    "scope_code": "410300"})
    assert r.status_code == 201
    # a new administrator must change the password first
    new = Api(stack.url)
    r = new.post("/api/v1/admin/sessions", json={"username": "zz_erqi", "password": "Start2026pass"})
    assert r.status_code == 201 and r.json()["must_change_password"] is True
    new.token = r.json()["token"]
    assert_error(new.get("/api/v1/admin/admins"), 403, "must_change_password")
    assert new.put("/api/v1/admin/me/password", json={"old_password": "Start2026pass",
                                                     "new_password": "Own2026pass"}).status_code == 200
    # the city sees its own administrators only
    names = {a["username"] for a in zz.get("/api/v1/admin/admins").json()}
    assert "zz_erqi" in names and "ly_city" not in names


def test_roster_import_reports_refused_rows(stack, province):
    from helpers import id_number

    good = id_number()
    csv = ("id_number,name\n"
           f"{good},周杰\n"
           "410102198503120010,错号\n"
           f"{good},周杰\n").encode("gbk")
    r = province.put("/api/v1/admin/roster", files={"file": ("名单.csv", csv, "text/csv")})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["added"], body["updated"], body["unchanged"], body["refused_count"]) == (1, 0, 0, 2)  # a fresh ID
    assert [row["line"] for row in body["refused"]] == [3, 4]
    r = admin(stack, "zz_wsjw").put("/api/v1/admin/roster", files={"file": ("r.csv", csv, "text/csv")})
    assert_error(r, 403, "role_not_allowed")
    r = province.put("/api/v1/admin/roster", files={"file": ("r.csv", b"a,b\n1,2\n", "text/csv")})
    assert_error(r, 400, "invalid", "file")


def test_every_admin_action_is_audited(stack, province):
    p = registered(stack, province)
    zz = admin(stack, "zz_city")
    zz.post(f"/api/v1/admin/accounts/{p.id_number}/password-reset")
    items = zz.get("/api/v1/admin/audit").json()["items"]
    entry = next(i for i in items if i["action"] == "account.password_reset")
    assert entry["actor"] == "zz_city" and entry["role"] == "city" and entry["scope"] == "410100"
    assert entry["before"]["must_change_password"] is False and entry["after"]["must_change_password"] is True
    assert entry["target"] != p.id_number and entry["target"].endswith(p.id_number[-4:])
    assert "password_hash" not in str(entry)


# --- the exam year (R-Y1, R-Y3) ----------------------------------------------------------
def test_year_calendar_is_set_by_the_province_only(stack, province):
    cal = province.get("/api/v1/years/current").json()
    year = cal["year"]
    assert_error(admin(stack, "zz_city").put(f"/api/v1/admin/years/{year}", json={}), 403, "role_not_allowed")
    r = province.put(f"/api/v1/admin/years/{year}", json={"windows": {"registration": {
        "start": "2026-12-01T00:00:00+08:00", "end": "2026-11-01T00:00:00+08:00"}}})
    assert_error(r, 400, "invalid", "windows.registration")
    r = province.put(f"/api/v1/admin/years/{year}", json={"windows": {"nonsense": {}}})
    assert_error(r, 400, "invalid", "windows.nonsense")
    r = province.put(f"/api/v1/admin/years/{year}", json={"switches": {"ticket_printing": True}})
    assert r.status_code == 200
    now = province.get("/api/v1/years/current").json()
    assert now["switches"]["ticket_printing"] is True and now["windows"] == cal["windows"]
    province.put(f"/api/v1/admin/years/{year}", json={"switches": {"ticket_printing": False}})


def test_calendar_change_reaches_the_application_service(stack, province):
    """identity.year_updated.v1 goes through the outbox; application keeps a copy and the
    applicant's 报名信息 step follows it."""
    p = registered(stack, province)
    api = Api(stack.url)
    api.login(p.id_number, p.password)
    cal = province.get("/api/v1/years/current").json()
    year, window = cal["year"], cal["windows"]["application"]
    assert api.get("/api/v1/me").json()["steps"][0]["enabled"] is True
    province.put(f"/api/v1/admin/years/{year}", json={"windows": {"application": {
        "start": "2020-01-01T00:00:00+08:00", "end": "2020-02-01T00:00:00+08:00"}}})
    try:
        step = wait_for(lambda: (s := api.get("/api/v1/me").json()["steps"][0])["enabled"] is False and s,
                        what="application's copy of the calendar")
        assert step["reason"] == "当前不是报名时间"
    finally:
        province.put(f"/api/v1/admin/years/{year}", json={"windows": {"application": window}})


def test_a_county_admin_manages_the_applicants_whose_unit_is_in_the_county(stack, province):
    """application.unit_chosen.v1 tells identity the county (R-I10)."""
    p = registered(stack, province)
    applicant = Api(stack.url)
    applicant.login(p.id_number, p.password)
    county = admin(stack, "zz_zhongyuan")                                   # 中原区 410102
    path = f"/api/v1/admin/accounts/{p.id_number}/password-reset"
    account = f"/api/v1/admin/accounts/{p.id_number}"
    assert_error(county.post(path), 403, "out_of_scope")                   # no unit yet: the city's
    assert applicant.put("/api/v1/me/application", json={"unit_id": "U410100-002"}).status_code == 200  # 金水区
    wait_for(lambda: province.get(account).json()["county_code"] == "410105", what="identity's copy of the unit")
    assert_error(county.post(path), 403, "out_of_scope")                   # another county's now
    assert applicant.put("/api/v1/me/application", json={"unit_id": "U410100-001"}).status_code == 200  # 中原区
    wait_for(lambda: province.get(account).json()["county_code"] == "410102", what="identity's copy of the unit")
    assert county.post(path).status_code == 200
