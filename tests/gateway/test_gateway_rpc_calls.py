"""How many RPC calls each applicant API resource makes, and which, in order — recorded by the
fake RPC, so that a resource that starts asking one more service (or the same one twice)
shows up here. File bytes go over the services' own HTTP endpoints (kit.files), stubbed."""
from __future__ import annotations

import pytest
from fakes import APPLICANT_ACCOUNT, APPLICANT_TOKEN, ID_NUMBER, sealed_applicant

APPLICANT = {"Authorization": f"Bearer {APPLICANT_TOKEN}"}
SESSION = "identity.resolve_session_view"


MULTIPART_PHOTO = {"Content-Type": "multipart/form-data; boundary=b"}


def multipart(**fields: bytes) -> bytes:
    parts = []
    for name, value in fields.items():
        filename = '; filename="f.jpg"' if name in ("file", "id_card_photo") else ""
        parts.append(f'--b\r\nContent-Disposition: form-data; name="{name}"{filename}\r\n\r\n'.encode() + value + b"\r\n")
    return b"".join(parts) + b"--b--\r\n"


# (method, path, body, expected RPC calls in order)
CALLS = [
    ("GET", "/api/v1/me", None, [SESSION, "application.progress"]),
    ("DELETE", "/api/v1/me", {"sms_code": "123456"}, [SESSION, "identity.delete_self"]),
    ("PUT", "/api/v1/me/password", {"old_password": "a", "new_password": "b"}, [SESSION, "identity.change_password"]),
    ("GET", "/api/v1/me/application", None, [SESSION, "application.get_form"]),
    ("PUT", "/api/v1/me/application", {"education": "bachelor"}, [SESSION, "application.save_form"]),
    ("GET", "/api/v1/me/application/eligibility", None, [SESSION, "application.eligibility"]),
    ("GET", "/api/v1/me/application/choices", None, [SESSION, "application.choices"]),
    ("POST", "/api/v1/me/application/submit", None, [SESSION, "application.submit"]),
    ("POST", "/api/v1/me/application/files/personal_photo/stamp", None,
     [SESSION, "application.stamp_photo"]),
    ("GET", "/api/v1/me/application/files/personal_photo", None, [SESSION, "application.file_ticket"]),
    ("PUT", "/api/v1/me/application/files/personal_photo", multipart(file=b"jpg"),
     [SESSION, "application.upload_ticket"]),
    ("GET", "/api/v1/me/review", None, [SESSION, "review.applicant_review", "identity.review_contacts"]),
    ("DELETE", "/api/v1/sessions/current", None, ["identity.logout"]),
]


@pytest.mark.parametrize(("method", "path", "body", "expected"), CALLS, ids=[f"{m} {p}" for m, p, _, _ in CALLS])
def test_each_applicant_resource_makes_exactly_these_calls(client, rpc, answers, method, path, body, expected):
    kw = {"body": body, "headers": {**APPLICANT, **MULTIPART_PHOTO}} if isinstance(body, bytes) else \
        {"json": body, "headers": APPLICANT}
    r = client.simulate_request(method, path, **kw)
    assert r.status_code in (200, 204), r.text
    assert rpc.names == expected


def test_the_applicants_account_goes_to_the_application_service_as_identity_answered_it(client, rpc, answers):
    client.simulate_put("/api/v1/me/application", json={"education": "bachelor"}, headers=APPLICANT)
    name, args, kwargs = rpc.calls[-1]
    assert name == "application.save_form" and kwargs == {}
    assert args == (sealed_applicant() | {"seal": args[0]["seal"]}, APPLICANT_ACCOUNT, {"education": "bachelor"})


# Without a session: no resolve_session at all.
PUBLIC = [
    ("POST", "/api/v1/sms-codes", {"phone": "13900000000", "purpose": "register"}, ["identity.request_sms_code"]),
    ("POST", "/api/v1/sessions", {"id_number": ID_NUMBER, "password": "x"}, ["identity.login"]),
    ("POST", "/api/v1/registrations",
     multipart(city_code=b"410100", declared_grade=b"4", id_number=ID_NUMBER.encode(), birth_month=b"1985-03",
               name="张伟".encode(), phone=b"13900000000", sms_code=b"123456", password=b"Passw0rd2026",
               password_confirm=b"Passw0rd2026", agreed=b"true", id_card_photo=b"png"),
     ["identity.check_registration", "application.upload_ticket", "identity.register"]),
    ("GET", "/api/v1/years/current", None, ["identity.current_year"]),
    ("GET", "/api/v1/cities", None, ["application.list_cities"]),
    ("GET", "/api/v1/units", None, ["application.list_units"]),
    ("GET", "/api/v1/trades", None, ["application.list_trades"]),
    ("GET", "/api/v1/contacts", None, ["application.contacts"]),
    ("GET", "/api/v1/photo-spec", None, []),
]


@pytest.mark.parametrize(("method", "path", "body", "expected"), PUBLIC, ids=[f"{m} {p}" for m, p, _, _ in PUBLIC])
def test_each_public_resource_makes_exactly_these_calls(client, rpc, answers, method, path, body, expected):
    kw = {"body": body, "headers": MULTIPART_PHOTO} if isinstance(body, bytes) else {"json": body}
    r = client.simulate_request(method, path, **kw)
    assert r.status_code in (200, 201), r.text
    assert rpc.names == expected


def test_a_delete_self_code_request_looks_the_session_up_first(client, rpc, answers):
    r = client.simulate_post("/api/v1/sms-codes", json={"purpose": "delete_self"}, headers=APPLICANT)
    assert r.status_code == 201
    assert rpc.names == [SESSION, "identity.request_sms_code"]


def test_the_registration_photo_travels_over_the_file_endpoint_not_rpc(client, rpc, answers):
    body = PUBLIC[2][2]
    client.simulate_post("/api/v1/registrations", body=body, headers=MULTIPART_PHOTO)
    assert answers == [b"png"]
    name, args, _ = rpc.calls[-1]
    assert name == "identity.register" and args[1] == "1" * 64 and b"png" not in repr(rpc.calls).encode()
