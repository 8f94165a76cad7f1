"""Who may call what, at the gateway (gateway/auth.py, kit.access), with a fake RPC: no
session, the wrong kind of account, the wrong role, the forced password change (R-I8), a
principal whose seal does not hold, and CSRF on cookie sessions. A refused request reaches no
service beyond identity's session lookup."""
from __future__ import annotations

import pytest
from fakes import ADMIN_TOKEN, APPLICANT_TOKEN, sealed_admin, sealed_applicant
from helpers import assert_error

from kit import access, signing

ACCOUNT = {"year": 2026, "id_number": "410102198503120014", "must_change_password": False}
PROGRESS = {"status": "not_submitted", "steps": [], "application_window": None, "supervisor": None}


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


# --- no session --------------------------------------------------------------------------------
@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/me/application"),
    ("POST", "/api/v1/me/application/submit"),
    ("GET", "/api/v1/me/review"),
    ("GET", "/api/v1/admin/me"),
    ("GET", "/api/v1/admin/reviews"),
    ("PUT", "/api/v1/admin/years/2026"),
])
def test_without_a_session_it_is_401_and_no_service_is_asked(client, rpc, method, path):
    assert_error(client.simulate_request(method, path), 401, "unauthenticated")
    assert rpc.names == []
    assert_error(client.simulate_request(method, path, headers=bearer("ended-token")), 401, "unauthenticated")
    assert rpc.names == ["identity.resolve_session_view"]


# --- kind and role -----------------------------------------------------------------------------
@pytest.mark.parametrize(("token", "method", "path"), [
    (APPLICANT_TOKEN, "GET", "/api/v1/admin/me"),
    (APPLICANT_TOKEN, "GET", "/api/v1/admin/reviews"),
    (APPLICANT_TOKEN, "POST", "/api/v1/admin/reviews/abc/decisions"),
    (APPLICANT_TOKEN, "GET", "/api/v1/admin/applications/abc/files/personal_photo"),
    (ADMIN_TOKEN, "GET", "/api/v1/me"),
    (ADMIN_TOKEN, "PUT", "/api/v1/me/application"),
    (ADMIN_TOKEN, "GET", "/api/v1/me/review"),
])
def test_the_wrong_kind_of_account_is_403_wrong_kind(client, rpc, token, method, path):
    assert_error(client.simulate_request(method, path, headers=bearer(token), json={}), 403, "wrong_kind")
    assert rpc.names == ["identity.resolve_session_view"]


@pytest.mark.parametrize(("role", "scope", "method", "path"), [
    ("city", "410100", "PUT", "/api/v1/admin/years/2026"),
    ("city", "410100", "PUT", "/api/v1/admin/trades"),
    ("city", "410100", "PUT", "/api/v1/admin/review-chains/410100"),
    ("supervisor", "S410100-01", "GET", "/api/v1/admin/admins"),
    ("supervisor", "S410100-01", "PUT", "/api/v1/admin/roster"),
    ("county", "410102", "POST", "/api/v1/admin/supplementary-registrations"),
])
def test_a_role_without_the_right_is_403_role_not_allowed(client, rpc, role, scope, method, path):
    rpc.sessions["t"] = sealed_admin(role, scope)
    assert_error(client.simulate_request(method, path, headers=bearer("t"), json={}), 403, "role_not_allowed")
    assert rpc.names == ["identity.resolve_session_view"]


# --- the forced password change (R-I8) ---------------------------------------------------------
def test_an_applicant_who_must_change_the_password_may_only_do_that(client, rpc):
    rpc.sessions["t"] = sealed_applicant(must_change_password=True)
    rpc.answer("identity.me", {**ACCOUNT, "must_change_password": True}).answer("application.progress", PROGRESS)
    rpc.answer("identity.change_password", {"must_change_password": False}).answer("identity.logout", None)
    r = client.simulate_get("/api/v1/me", headers=bearer("t"))
    assert r.status_code == 200 and r.json["must_change_password"] is True
    for method, path in (("GET", "/api/v1/me/application"), ("PUT", "/api/v1/me/application"),
                         ("POST", "/api/v1/me/application/submit"), ("DELETE", "/api/v1/me"),
                         ("GET", "/api/v1/me/review"), ("POST", "/api/v1/me/application/files/personal_photo/stamp")):
        rpc.reset()
        r = client.simulate_request(method, path, headers=bearer("t"), json={"sms_code": "123456"})
        assert_error(r, 403, "must_change_password")
        assert rpc.names == ["identity.resolve_session_view"], (method, path)
    r = client.simulate_post("/api/v1/sms-codes", headers=bearer("t"), json={"purpose": "delete_self"})
    assert_error(r, 403, "must_change_password")
    r = client.simulate_put("/api/v1/me/password", headers=bearer("t"),
                            json={"old_password": "123", "new_password": "Fresh2026pass"})
    assert r.status_code == 200
    assert client.simulate_delete("/api/v1/sessions/current", headers=bearer("t")).status_code == 204


def test_an_administrator_who_must_change_the_password_may_only_do_that(client, rpc):
    rpc.sessions["t"] = sealed_admin("city", "410100", must_change_password=True)
    rpc.answer("identity.change_password", {"must_change_password": False})
    assert client.simulate_get("/api/v1/admin/me", headers=bearer("t")).status_code == 200
    for method, path in (("GET", "/api/v1/admin/admins"), ("GET", "/api/v1/admin/reviews"),
                         ("GET", "/api/v1/admin/audit"), ("PUT", "/api/v1/admin/years/2026"),
                         ("PUT", "/api/v1/me/password")):
        r = client.simulate_request(method, path, headers=bearer("t"), json={})
        assert_error(r, 403, "must_change_password" if path != "/api/v1/me/password" else "wrong_kind")
    r = client.simulate_put("/api/v1/admin/me/password", headers=bearer("t"),
                            json={"old_password": "Start2026pass", "new_password": "Own2026pass"})
    assert r.status_code == 200
    assert [name for name in rpc.names if name != "identity.resolve_session_view"] == ["identity.change_password"]


# --- only a sealed principal counts ------------------------------------------------------------
def unsealed(principal: dict) -> dict:
    return {k: v for k, v in principal.items() if k != "seal"}


@pytest.mark.parametrize("forged", [
    unsealed(sealed_admin()),                                              # no seal at all
    {**unsealed(sealed_admin()), "seal": "not-a-token"},
    {**unsealed(sealed_admin()), "seal": signing.dumps("file-ticket", unsealed(sealed_admin()))},  # wrong purpose
    {**unsealed(sealed_admin()),
     "seal": signing._serializer(access.SEAL_PURPOSE, "another-secret").dumps(unsealed(sealed_admin()))},
])
def test_a_principal_whose_seal_does_not_hold_is_nobody(client, rpc, forged):
    rpc.sessions["t"] = forged
    assert_error(client.simulate_get("/api/v1/admin/me", headers=bearer("t")), 401, "unauthenticated")
    assert_error(client.simulate_get("/api/v1/admin/reviews", headers=bearer("t")), 401, "unauthenticated")


def test_the_plain_fields_next_to_the_seal_are_not_trusted(client, rpc):
    rpc.sessions["t"] = {**sealed_applicant(), "kind": "admin", "role": "province"}
    assert_error(client.simulate_get("/api/v1/admin/admins", headers=bearer("t")), 403, "wrong_kind")
    rpc.sessions["c"] = {**sealed_admin("city", "410100"), "role": "province"}
    assert_error(client.simulate_put("/api/v1/admin/years/2026", headers=bearer("c"), json={}), 403,
                 "role_not_allowed")


# --- CSRF on cookie sessions -------------------------------------------------------------------
def cookies(**values: str) -> dict:
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in values.items())}


@pytest.mark.parametrize(("method", "path"), [
    ("PUT", "/api/v1/me/application"),
    ("POST", "/api/v1/me/application/submit"),
    ("DELETE", "/api/v1/me"),
    ("PUT", "/api/v1/me/password"),
    ("POST", "/api/v1/admin/reviews/abc/decisions"),
    ("DELETE", "/api/v1/sessions/current"),
    ("POST", "/api/v1/sessions"),                  # logging in again over a session cookie
])
def test_a_cookie_session_changing_something_needs_the_csrf_token(client, rpc, method, path):
    for headers in (cookies(gk_session=APPLICANT_TOKEN),                                   # no token at all
                    cookies(gk_session=APPLICANT_TOKEN, gk_csrf="abc"),                   # cookie, no header
                    {**cookies(gk_session=APPLICANT_TOKEN, gk_csrf="abc"), "X-CSRF-Token": "abd"},
                    {**cookies(gk_session=APPLICANT_TOKEN), "X-CSRF-Token": "abc"}):      # header, no cookie
        assert_error(client.simulate_request(method, path, headers=headers, json={}), 403, "csrf_failed")
    assert rpc.names == []                                                # refused before anything else


def test_with_the_token_reading_or_a_bearer_token_no_csrf_is_needed(client, rpc):
    rpc.answer("application.submit", {"status": "in_review", "files": {}})
    rpc.answer("identity.me", ACCOUNT).answer("application.progress", PROGRESS)
    good = {**cookies(gk_session=APPLICANT_TOKEN, gk_csrf="abc"), "X-CSRF-Token": "abc"}
    assert client.simulate_post("/api/v1/me/application/submit", headers=good).status_code == 200
    assert client.simulate_get("/api/v1/me", headers=cookies(gk_session=APPLICANT_TOKEN)).status_code == 200
    assert client.simulate_post("/api/v1/me/application/submit", headers=bearer(APPLICANT_TOKEN)).status_code == 200


def test_a_csrf_cookie_is_handed_out_once(client, rpc):
    rpc.answer("application.list_cities", [])
    first = client.simulate_get("/api/v1/cities")
    token = first.cookies["gk_csrf"].value
    assert len(token) >= 24 and first.cookies["gk_csrf"].same_site == "Strict"
    again = client.simulate_get("/api/v1/cities", headers=cookies(gk_csrf=token))
    assert "gk_csrf" not in again.cookies


def test_login_sets_an_http_only_session_cookie(client, rpc):
    rpc.answer("identity.login", {"token": "new-token", "must_change_password": False})
    r = client.simulate_post("/api/v1/sessions", json={"id_number": "410102198503120014", "password": "Passw0rd2026"})
    assert r.status_code == 201 and r.cookies["gk_session"].value == "new-token"
    assert r.cookies["gk_session"].http_only and r.cookies["gk_session"].same_site == "Lax"
    # the source address goes with it (R-I7: the lock and the throttle are per source)
    assert rpc.calls == [("identity.login", ("410102198503120014", "Passw0rd2026", "127.0.0.1"), {})]
