"""Registration through the gateway on the real broker and database (R-I1 … R-I6, R-Y2)."""
from __future__ import annotations

import random
from datetime import datetime, timedelta

import sqlalchemy as sa
from helpers import Api, assert_error, jpeg_bytes, new_person, png_bytes, register

from deploy.seed import with_check_digit


def test_register_then_login(stack, api, province):
    p = new_person(province)
    r = register(stack, api, p)
    assert r.status_code == 201, r.text
    assert r.json()["id_number"] == p.id_number
    assert api.login(p.id_number, p.password).status_code == 201
    me = api.get("/api/v1/me")
    assert me.status_code == 200, me.text
    account = me.json()["account"]
    assert (account["name"], account["city_code"], account["declared_grade"]) == (p.name, "410100", 4)
    assert account["gender"] == ("M" if int(p.id_number[16]) % 2 else "F")
    assert account["birth_month"] == p.birth_month
    assert account["id_card_photo"] and len(account["id_card_photo"]) == 64
    assert [s["title"] for s in me.json()["steps"]] == ["报名信息", "审核结果", "网上缴费", "打印准考证",
                                                        "考核结果", "打印电子证书"]
    # the same ID cannot register twice in one year
    stack.set_clock("+61")
    again = register(stack, Api(stack.url), p)
    assert_error(again, 409, "already_registered", "id_number")


def test_lowercase_x_is_the_same_person(stack, api, province):
    p = new_person(province)
    while not p.id_number.endswith("X"):
        p = new_person(province)
    r = register(stack, api, p, id_number=p.id_number.lower())
    assert r.status_code == 201, r.text
    assert api.login(p.id_number.lower(), p.password).status_code == 201


def test_roster_refusals(stack, api, province):
    stranger = new_person(province, on_roster=False)
    r = register(stack, api, stranger)
    assert "补报" in assert_error(r, 422, "not_on_roster", "id_number")["message"]
    p = new_person(province)
    r = register(stack, api, p, name="张冠李")
    assert_error(r, 422, "roster_mismatch", "name")


def test_field_validation_is_400_and_names_the_field(stack, api, province):
    p = new_person(province)
    cases = [
        ({"id_number": p.id_number[:-1] + ("1" if p.id_number[-1] != "1" else "2")}, "id_number"),
        ({"birth_month": "1999-01"}, "birth_month"),
        ({"password": "abcdefgh", "password_confirm": "abcdefgh"}, "password"),
        ({"password_confirm": "Other2026pass"}, "password_confirm"),
        ({"city_code": "999999"}, "city_code"),
        ({"declared_grade": "6"}, "declared_grade"),
        ({"agreed": "false"}, "agreed"),
        ({"sms_code": "12ab"}, "sms_code"),
    ]
    assert api.post("/api/v1/sms-codes", json={"phone": p.phone, "purpose": "register"}).status_code == 201
    code = stack.sms_code(p.phone)
    for over, field in cases:
        r = api.post("/api/v1/registrations", data=p.registration(code, **over),
                     files={"id_card_photo": ("id.png", png_bytes(), "image/png")})
        assert_error(r, 400, "invalid", field)
    # nothing was written and the code was not used up: the person can still register
    r = api.post("/api/v1/registrations", data=p.registration(code),
                 files={"id_card_photo": ("id.png", png_bytes(), "image/png")})
    assert r.status_code == 201, r.text


def test_id_card_photo_is_required_and_checked(stack, api, province):
    p = new_person(province)
    api.post("/api/v1/sms-codes", json={"phone": p.phone, "purpose": "register"})
    code = stack.sms_code(p.phone)
    form = p.registration(code)
    r = api.post("/api/v1/registrations", data=form, files={"agreed": (None, form.pop("agreed"))})
    assert_error(r, 400, "invalid", "id_card_photo")
    r = api.post("/api/v1/registrations", data=p.registration(code), files={"other": ("x.txt", b"x")})
    assert_error(r, 400, "invalid", "other")
    pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"
    r = api.post("/api/v1/registrations", data=p.registration(code),
                 files={"id_card_photo": ("photo.jpg", pdf, "image/jpeg")})
    assert_error(r, 415, "unsupported_media_type", "id_card_photo")
    script = b"<script>alert(1)</script>"
    r = api.post("/api/v1/registrations", data=p.registration(code),
                 files={"id_card_photo": ("photo.png", script, "image/png")})
    assert_error(r, 415, "unsupported_media_type", "id_card_photo")
    truncated = png_bytes()[:200]
    r = api.post("/api/v1/registrations", data=p.registration(code),
                 files={"id_card_photo": ("photo.png", truncated, "image/png")})
    assert_error(r, 415, "unsupported_media_type", "id_card_photo")
    big = b"\xff\xd8\xff" + b"\0" * (5 * 1024 * 1024)
    r = api.post("/api/v1/registrations", data=p.registration(code),
                 files={"id_card_photo": ("big.jpg", big, "image/jpeg")})
    assert_error(r, 413, "too_large", "id_card_photo")
    # a JPEG works, and the code was not used up by the refusals
    r = api.post("/api/v1/registrations", data=p.registration(code),
                 files={"id_card_photo": ("id.jpg", jpeg_bytes(), "image/jpeg")})
    assert r.status_code == 201, r.text


def _code_at(stack, api, person, at: datetime) -> str:
    stack.set_clock(at.isoformat())
    r = api.post("/api/v1/sms-codes", json={"phone": person.phone, "purpose": "register"})
    assert r.status_code == 201, r.text
    return stack.sms_code(person.phone)


def _register_with(api, person, code):
    return api.post("/api/v1/registrations", data=person.registration(code),
                    files={"id_card_photo": ("id.png", png_bytes(), "image/png")})


def test_registration_window_edges_to_the_second(stack, api, province):
    window = api.get("/api/v1/years/current").json()["windows"]["registration"]
    start, end = datetime.fromisoformat(window["start"]), datetime.fromisoformat(window["end"])
    late, early, last = new_person(province), new_person(province), new_person(province)

    code = _code_at(stack, api, late, end + timedelta(seconds=1))
    message = assert_error(_register_with(api, late, code), 422, "outside_registration_window")["message"]
    assert "当前不是注册时间" in message and "已结束" in message

    code = _code_at(stack, api, early, start - timedelta(seconds=30))
    stack.set_clock((start - timedelta(seconds=1)).isoformat())
    r = _register_with(api, early, code)
    assert "尚未开始" in assert_error(r, 422, "outside_registration_window")["message"]
    stack.set_clock(start.isoformat())
    assert _register_with(api, early, code).status_code == 201  # the refusal used nothing up

    code = _code_at(stack, api, last, end - timedelta(seconds=30))
    stack.set_clock(end.isoformat())
    assert _register_with(api, last, code).status_code == 201


def test_sms_throttle_expiry_and_attempts(stack, api, province):
    p = new_person(province)
    t0 = datetime.fromisoformat("2026-12-01T10:00:00+08:00")
    stack.set_clock(t0.isoformat())
    assert api.post("/api/v1/sms-codes", json={"phone": p.phone, "purpose": "register"}).status_code == 201
    stack.set_clock((t0 + timedelta(seconds=59)).isoformat())
    r = api.post("/api/v1/sms-codes", json={"phone": p.phone, "purpose": "register"})
    assert_error(r, 429, "sms_throttled")
    assert r.headers["Retry-After"] == "1"
    # expiry: 5 minutes (the code is refused at 300 s, accepted at 299 s)
    code = stack.sms_code(p.phone)
    stack.set_clock((t0 + timedelta(seconds=300)).isoformat())
    files = {"id_card_photo": ("id.png", png_bytes(), "image/png")}
    r = api.post("/api/v1/registrations", data=p.registration(code), files=files)
    assert "已过期" in assert_error(r, 400, "sms_code_invalid", "sms_code")["message"]
    # a fresh code (60 s passed); five wrong tries use it up, even the right one is refused then
    assert api.post("/api/v1/sms-codes", json={"phone": p.phone, "purpose": "register"}).status_code == 201
    code = stack.sms_code(p.phone)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for left in (4, 3, 2, 1):
        r = api.post("/api/v1/registrations", data=p.registration(wrong), files=files)
        assert f"还可尝试{left}次" in assert_error(r, 400, "sms_code_invalid", "sms_code")["message"]
    r = api.post("/api/v1/registrations", data=p.registration(wrong), files=files)
    assert_error(r, 400, "sms_code_invalid", "sms_code")
    r = api.post("/api/v1/registrations", data=p.registration(code), files=files)
    assert "次数过多" in assert_error(r, 400, "sms_code_invalid", "sms_code")["message"]
    # at 299 s a new code is still good
    stack.set_clock((t0 + timedelta(seconds=400)).isoformat())
    assert api.post("/api/v1/sms-codes", json={"phone": p.phone, "purpose": "register"}).status_code == 201
    code = stack.sms_code(p.phone)
    stack.set_clock((t0 + timedelta(seconds=400 + 299)).isoformat())
    assert api.post("/api/v1/registrations", data=p.registration(code), files=files).status_code == 201


def test_sms_code_input_checked(api):
    assert_error(api.post("/api/v1/sms-codes", json={"phone": "12345", "purpose": "register"}), 400, "invalid",
                 "phone")
    r = api.post("/api/v1/sms-codes", json={"phone": "13900000000", "purpose": "other"})
    assert_error(r, 400, "invalid", "purpose")
    r = api.post("/api/v1/sms-codes", data="not json", headers={"Content-Type": "application/json"})
    assert_error(r, 400, "invalid", None)
    assert_error(api.post("/api/v1/sms-codes", json={"purpose": "delete_self"}), 401, "unauthenticated")


def test_feb_29_birthday_registers(stack, api, province):
    p = new_person(province, birth="19880229")
    assert p.birth_month.endswith("-02")
    assert register(stack, api, p).status_code == 201


def test_id_of_another_province_registers(stack, api, province):
    """People born elsewhere work in Henan too: the region is checked at province level."""
    p = new_person(province, region="110105")
    assert register(stack, api, p).status_code == 201
    assert p.id_number == with_check_digit(p.id_number[:17])


def test_a_refused_registration_leaves_no_file(stack, api, province):
    engine = sa.create_engine(stack.env["GONGKAO_APPLICATION_DB_URL"])

    def stored() -> int:
        with engine.connect() as conn:
            return conn.scalar(sa.text("SELECT count(*) FROM blobs"))

    try:
        p = new_person(province)
        assert api.post("/api/v1/sms-codes", json={"phone": p.phone, "purpose": "register"}).status_code == 201
        photo = png_bytes(color=tuple(random.randrange(256) for _ in range(3)), width=601)   # content of its own
        before = stored()
        r = api.post("/api/v1/registrations", data=p.registration(stack.sms_code(p.phone), birth_month="1999-01"),
                     files={"id_card_photo": ("id.png", photo, "image/png")})
        assert_error(r, 400, "invalid", "birth_month")
        assert stored() == before
    finally:
        engine.dispose()
