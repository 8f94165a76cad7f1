"""An applicant's views kept by the gateway processes (issue 12, gateway.views) are never
shown stale past a second: a reviewer's decision reaches both gateway worker processes within
one second (review.viewers_changed.v1, application.viewers_changed.v1); the applicant's own
save is seen on the very next request, whichever process takes it; a window that closes by
the clock closes on every process at that second. The system under test runs gunicorn with two
worker processes; requests go on fresh connections from many threads, so both serve (and
keep) the views first."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from helpers import Api, admin, applicant, decide, relogin, submitted

WITHIN = 1.0


def burst(api: Api, path: str, n: int = 24, cookies: dict | None = None) -> list[dict]:
    """``n`` GETs at once on fresh connections (both gateway workers take some)."""
    def one(_):
        fresh = Api(api.base, source=api.source)
        fresh.token = api.token
        r = fresh.get(path, cookies=cookies or {})
        assert r.status_code == 200, r.text
        return r.json()
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(n)))


def seen_within(api: Api, path: str, check, started: float) -> float:
    while True:
        answers = burst(api, path, 16)
        elapsed = time.monotonic() - started
        if all(check(a) for a in answers):
            return elapsed
        assert elapsed < WITHIN, f"{path}: still stale on {sum(not check(a) for a in answers)} of 16 after " \
                                 f"{elapsed:.2f} s"


def test_a_reviewers_return_reaches_every_gateway_process_within_a_second(stack, province):
    api, _, app_id = submitted(stack, province)
    for path in ("/api/v1/me", "/api/v1/me/review", "/api/v1/me/application"):
        assert all(a["status"] == "in_review" for a in burst(api, path, 32))      # kept by both now
    r = decide(admin(stack, "zz_wsjw"), app_id, "return", "照片不清晰，请重新上传")
    assert r.status_code == 200, r.text
    started = time.monotonic()
    assert seen_within(api, "/api/v1/me/review", lambda a: a["status"] == "returned", started) < WITHIN
    assert seen_within(api, "/api/v1/me", lambda a: a["status"] == "returned", started) < WITHIN
    assert seen_within(api, "/api/v1/me/application",
                       lambda a: a["status"] == "returned" and a["locked"] is False, started) < WITHIN


def test_the_applicants_own_save_is_seen_at_once_on_every_process(stack, province):
    api, _ = applicant(stack, province)
    assert api.put("/api/v1/me/application", json={"education": "senior_high"}).status_code == 200
    time.sleep(WITHIN)                                   # (what that save announced has arrived)
    assert {a["education"] for a in burst(api, "/api/v1/me/application", 32)} == {"senior_high"}   # kept
    r = api.put("/api/v1/me/application", json={"education": "bachelor"})
    assert r.status_code == 200, r.text
    wrote = r.cookies.get("gk_wrote")
    assert wrote, "the save sets the short-lived cookie that makes every process ask again"
    # at once, whichever process: the browser sends the cookie with its next requests
    assert {a["education"] for a in burst(api, "/api/v1/me/application", 32, {"gk_wrote": wrote})} == {"bachelor"}
    # an API client without the cookie: within the second the event takes
    assert seen_within(api, "/api/v1/me/application", lambda a: a["education"] == "bachelor",
                       time.monotonic()) < WITHIN


def test_a_window_that_closes_by_the_clock_closes_on_every_process_at_that_second(stack, province):
    windows = Api(stack.url).get("/api/v1/years/current").json()["windows"]
    end = datetime.fromisoformat(windows["application"]["end"])
    _, person = applicant(stack, province)
    try:
        stack.set_clock((end - timedelta(seconds=5)).isoformat())
        api = relogin(stack, person)                    # a session of the moved clock

        def step(a: dict) -> dict:
            return next(s for s in a["steps"] if s["key"] == "application")

        assert all(step(a)["enabled"] for a in burst(api, "/api/v1/me", 32))          # kept by both
        stack.set_clock((end + timedelta(seconds=1)).isoformat())
        steps = [step(a) for a in burst(api, "/api/v1/me", 32)]
        assert {(s["enabled"], s["reason"]) for s in steps} == {(False, "当前不是报名时间")}
    finally:
        stack.set_clock(None)
