"""R-I7 as written: the lockout is not a weapon. Failures from one source lock that source
out of the account, not the owner elsewhere; the owner unlocks an applicant account with an
SMS code; administrators the same without the SMS; login, admin login and SMS are throttled
per source address. Login names never reach the public."""
from __future__ import annotations

from harness import ADMIN_PASSWORD
from helpers import Api, assert_error, random_source, register

from deploy.seed import DEMO_PASSWORD


def registered(abuse, aprovince):
    from helpers import new_person

    p = new_person(aprovince)
    assert register(abuse, Api(abuse.url), p).status_code == 201
    return p


def test_an_attacker_locks_only_their_own_source_and_the_owner_unlocks_by_sms(abuse, aprovince):
    p = registered(abuse, aprovince)
    attacker, owner = Api(abuse.url), Api(abuse.url)
    for _ in range(4):
        assert_error(attacker.login(p.id_number, "Wrong2026pass"), 401, "bad_credentials")
    err = assert_error(attacker.login(p.id_number, "Wrong2026pass"), 423, "locked")
    assert err["details"]["sms_unlock"] is True
    assert_error(attacker.login(p.id_number, p.password), 423, "locked")     # the right password too
    assert owner.login(p.id_number, p.password).status_code == 201           # the owner, elsewhere: in
    # the owner, from the locked source (the same office), unlocks with a code to their phone
    office = Api(abuse.url, source=attacker.source)
    r = office.post("/api/v1/sms-codes", json={"purpose": "unlock", "id_number": p.id_number})
    assert r.status_code == 201 and r.json()["phone"] == p.phone[:3] + "****" + p.phone[-4:]
    assert_error(office.post("/api/v1/sessions/unlock", json={"id_number": p.id_number, "sms_code": "000000"}),
                 400, "sms_code_invalid", "sms_code")
    code = abuse.sms_code(p.phone, "unlock")
    assert office.post("/api/v1/sessions/unlock", json={"id_number": p.id_number, "sms_code": code}).status_code == 204
    assert office.login(p.id_number, p.password).status_code == 201
    # a used code does not unlock twice
    assert_error(office.post("/api/v1/sessions/unlock", json={"id_number": p.id_number, "sms_code": code}),
                 400, "sms_code_invalid")


def test_administrators_are_locked_per_source_and_have_no_sms_unlock(abuse):
    attacker, owner = Api(abuse.url), Api(abuse.url)
    for _ in range(4):
        r = attacker.post("/api/v1/admin/sessions", json={"username": "zz_wsjw", "password": "Wrong2026pass"})
        assert_error(r, 401, "bad_credentials")
    r = attacker.post("/api/v1/admin/sessions", json={"username": "zz_wsjw", "password": "Wrong2026pass"})
    assert assert_error(r, 423, "locked")["details"]["sms_unlock"] is False
    r = attacker.post("/api/v1/admin/sessions", json={"username": "zz_wsjw", "password": DEMO_PASSWORD})
    assert_error(r, 423, "locked")
    owner.login_admin("zz_wsjw", DEMO_PASSWORD)                              # the reviewer works on
    assert owner.get("/api/v1/admin/me").json()["username"] == "zz_wsjw"
    # an unlock code is only for applicant accounts
    r = attacker.post("/api/v1/sms-codes", json={"purpose": "unlock", "id_number": "zz_wsjw"})
    assert_error(r, 404, "not_found", "id_number")


def test_login_and_sms_are_throttled_per_source(abuse, aprovince):
    p = registered(abuse, aprovince)
    noisy, quiet = Api(abuse.url), Api(abuse.url)
    for i in range(12):   # the limit of this system: 12 per ten minutes; each a different account
        r = noisy.login(f"41010219800101{i:03d}X", "Wrong2026pass")
        assert r.status_code == 401, r.text
    err = assert_error(noisy.login(p.id_number, p.password), 429, "source_throttled")
    assert err["details"]["retry_after"] > 0
    assert noisy.login(p.id_number, p.password).headers.get("Retry-After")
    assert quiet.login(p.id_number, p.password).status_code == 201           # another source: fine
    r = noisy.post("/api/v1/admin/sessions", json={"username": "admin", "password": ADMIN_PASSWORD})
    assert r.status_code == 201            # admin login has its own count
    sender = Api(abuse.url)
    for i in range(6):
        r = sender.post("/api/v1/sms-codes", json={"phone": f"1390000{i:04d}", "purpose": "register"})
        assert r.status_code == 201, r.text
    assert_error(sender.post("/api/v1/sms-codes", json={"phone": "13900009999", "purpose": "register"}),
                 429, "source_throttled")
    r = Api(abuse.url).post("/api/v1/sms-codes", json={"phone": "13900009999", "purpose": "register"})
    assert r.status_code == 201


def test_the_source_is_the_peer_unless_a_trusted_proxy_tells(abuse):
    """X-Forwarded-For counts only from a trusted proxy (here: loopback), and then its last
    untrusted entry; the entries a client made up before it do not help it."""
    spoofer = Api(abuse.url)
    for _ in range(5):
        r = spoofer.post("/api/v1/admin/sessions", json={"username": "ly_nyj", "password": "Wrong2026pass"},
                         headers={"X-Forwarded-For": f"{random_source()}, {spoofer.source}"})
    assert_error(r, 423, "locked")
    r = spoofer.post("/api/v1/admin/sessions", json={"username": "ly_nyj", "password": DEMO_PASSWORD},
                     headers={"X-Forwarded-For": f"{random_source()}, {spoofer.source}"})
    assert_error(r, 423, "locked")
    assert Api(abuse.url).login_admin("ly_nyj", DEMO_PASSWORD).token


def test_login_names_never_leave_the_admin_pages(abuse):
    anonymous = Api(abuse.url)
    units = anonymous.get("/api/v1/units").json()
    assert units
    admins = {"zz_wsjw", "zz_jyj", "ly_nyj", "sz_rst", "sz_jtt", "zz_city", "ly_city", "zz_zhongyuan"}
    text = anonymous.get("/api/v1/units").text + anonymous.get("/api/v1/contacts").text
    assert not any(name in text for name in admins)
