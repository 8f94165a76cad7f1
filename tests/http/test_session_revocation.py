"""The gateway keeps a session's principal instead of asking identity on every request (issue
12), and forgets it on every gateway process within one second of a logout, a password change,
an administrator's reset or a deletion (identity.principal_changed.v1). The system under test
runs gunicorn with two worker processes: requests are sent from many threads at once, so both
processes serve (and keep) the session before it is revoked."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from helpers import Api, BrokerTap, applicant

WITHIN = 1.0


class ResolveTap(BrokerTap):
    """Counts identity.resolve_session_view calls as they cross the broker."""

    def __init__(self, stack):
        self.count = 0
        super().__init__(stack, ["nameko-rpc"], "identity.resolve_session_view")

    def on_message(self, body, message):
        self.count += 1


def burst(api: Api, n: int = 24) -> list[int]:
    """``n`` GET /api/v1/me at once, on fresh connections (both gateway workers take some)."""
    def one(_):
        fresh = Api(api.base, source=api.source)
        fresh.token = api.token
        return fresh.get("/api/v1/me").status_code
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(n)))


def revoked_within(api: Api, started: float) -> float:
    """Seconds after ``started`` until bursts see only 401; fails past one second."""
    while True:
        codes = burst(api, 16)
        elapsed = time.monotonic() - started
        if set(codes) == {401}:
            return elapsed
        assert elapsed < WITHIN, f"still served {codes.count(200)}× after {elapsed:.2f} s"


def test_a_session_is_resolved_once_per_process_not_once_per_request(stack, province):
    api, _ = applicant(stack, province)
    tap = ResolveTap(stack)
    try:
        assert set(burst(api, 60)) == {200}
        time.sleep(0.3)
        first = tap.count
        # once per process, plus the first requests racing it (8 at once over 2 processes, and a
        # fetch that an unrelated forget overtook is not kept): far from once per request
        assert 1 <= first <= 16, first
        assert set(burst(api, 60)) == {200}
        time.sleep(0.3)
        assert tap.count - first <= 1, tap.count - first     # kept: at most a process that had none
    finally:
        tap.close()


@pytest.mark.parametrize("how", ["logout", "password_change", "admin_reset", "deletion"])
def test_revocation_reaches_every_gateway_process_within_a_second(stack, province, how):
    api, person = applicant(stack, province)
    other = Api(stack.url)                                  # a second session of the same person
    assert other.login(person.id_number, person.password).status_code == 201
    victim = other if how != "logout" else api
    assert set(burst(victim, 40)) == {200}                  # kept by both processes
    started = time.monotonic()
    if how == "logout":
        assert api.delete("/api/v1/sessions/current").status_code == 204
    elif how == "password_change":
        r = api.put("/api/v1/me/password", json={"old_password": person.password, "new_password": "Newpass2026xy"})
        assert r.status_code == 200, r.text
    elif how == "admin_reset":
        r = province.post(f"/api/v1/admin/accounts/{person.id_number}/password-reset")
        assert r.status_code == 200, r.text
        victim = api
    else:
        assert api.post("/api/v1/sms-codes", json={"purpose": "delete_self"}).status_code == 201
        r = api.delete("/api/v1/me", json={"sms_code": stack.sms_code(person.phone, "delete_self")})
        assert r.status_code == 204, r.text
        victim = other
    elapsed = revoked_within(victim, started)
    assert elapsed < WITHIN
    if how == "password_change":
        # the session that changed it goes on, and no longer as "must change" or stale
        assert set(burst(api, 16)) == {200}


def test_reference_data_kept_by_the_gateways_follows_an_import_within_a_second(stack, province):
    """The trade catalogue is kept by every gateway process (issue 12); an import makes each
    of them fetch it again."""
    def codes() -> set[str]:
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: Api(stack.url).get("/api/v1/trades").json(), range(16)))
        return set.intersection(*({t["code"] for t in a} for a in answers))

    assert "T977" not in codes()                              # kept by both processes now
    csv = "code,name,category,new_codes\nT977,缓存测试工种,测试,\n"
    assert province.put("/api/v1/admin/trades", files={"file": ("t.csv", csv.encode(), "text/csv")}).status_code == 200
    started = time.monotonic()
    while "T977" not in codes():
        assert time.monotonic() - started < WITHIN, "a gateway process still shows the old catalogue"
