"""Bad input gets a clear 4xx and changes nothing, never a bare 500 (API.md conventions):
the inputs a probe found, and the class of bug behind them — every body goes through a
schema before use. Hidden characters are refused; refusals are one log line."""
from __future__ import annotations

import pytest
from helpers import Api, admin, applicant, assert_error, decide, submitted

NESTED = "[" * 50_000 + "]" * 50_000


@pytest.mark.parametrize(("body", "field"), [
    ({"decision": "return", "reason": {"a": 1}}, "reason"),
    ({"decision": "return", "reason": ["x"]}, "reason"),
    ({"decision": "pass", "version": "new"}, "version"),
    ({"decision": "pass", "version": 1.5}, "version"),
    ({"decision": "pass", "version": True}, "version"),
    ({"decision": 7}, "decision"),
    ({"decision": "pass", "extra": 1}, "extra"),
])
def test_decisions_refuse_wrong_types(abuse, aprovince, body, field):
    _, _, app_id = submitted(abuse, aprovince)
    sup = admin(abuse, "zz_wsjw")
    assert_error(sup.post(f"/api/v1/admin/reviews/{app_id}/decisions", json=body), 400, "invalid", field)
    batch = {"application_ids": [app_id], **{k: v for k, v in body.items() if k != "version"}}
    if field != "version":
        assert_error(sup.post("/api/v1/admin/reviews/decisions", json=batch), 400, "invalid", field)
    assert sup.get(f"/api/v1/admin/reviews/{app_id}").json()["level"] == "supervisor"    # nothing changed


def test_batch_refuses_a_malformed_list(abuse, aprovince):
    sup = admin(abuse, "zz_wsjw")
    for ids in ("abc", [1, 2], [], ["x"] * 201, [{"a": 1}]):
        r = sup.post("/api/v1/admin/reviews/decisions", json={"application_ids": ids, "decision": "pass"})
        assert_error(r, 400, "invalid", "application_ids")


@pytest.mark.parametrize("path", ["/api/v1/sessions", "/api/v1/admin/sessions", "/api/v1/sms-codes"])
def test_deeply_nested_json_is_a_400(abuse, path):
    r = Api(abuse.url).post(path, data=NESTED, headers={"Content-Type": "application/json"})
    assert_error(r, 400, "invalid")


@pytest.mark.parametrize("body", [b"", b"null", b"[]", b'"text"', b"{", b"\xff\xfe"])
def test_login_bodies_that_are_not_an_object(abuse, body):
    r = Api(abuse.url).post("/api/v1/sessions", data=body, headers={"Content-Type": "application/json"})
    assert_error(r, 400, "invalid")


@pytest.mark.parametrize("year", ["99999999999999999999", "0", "1999", "2101", "-1"])
def test_years_outside_four_digits(abuse, aprovince, year):
    assert_error(aprovince.get(f"/api/v1/admin/years/{year}"), 400, "invalid", "year")
    assert_error(aprovince.get(f"/api/v1/admin/years/{year}/fees"), 400, "invalid", "year")
    assert_error(aprovince.put(f"/api/v1/admin/years/{year}/fees", json={"fees_fen": {"5": 1}}), 400,
                 "invalid", "year")
    assert_error(aprovince.get(f"/api/v1/admin/years/{year}/eligibility-rules"), 400, "invalid", "year")


@pytest.mark.parametrize("body", [
    {"counties": "410102"}, {"counties": [["410102", "1"]]}, {"counties": [{"county_code": 410102}]},
    {"counties": [{"county_code": "410102", "phone": {"x": 1}}]}, {}, {"counties": [{"phone": "1"}]},
])
def test_malformed_contacts(abuse, aprovince, body):
    before = aprovince.get("/api/v1/contacts").json()
    r = aprovince.put("/api/v1/admin/contacts", json=body)
    assert_error(r, 400, "invalid")
    assert aprovince.get("/api/v1/contacts").json() == before


@pytest.mark.parametrize(("path", "field"), [("/api/v1/admin/contacts", None), ("/api/v1/admin/years/2026", None)])
def test_a_put_without_a_body_is_refused(abuse, aprovince, path, field):
    r = aprovince.put(path)
    assert_error(r, 400, "invalid")


@pytest.mark.parametrize("csv", [
    b"code,name\nT1,\x00bad\n",                                  # NUL: not a CSV
    b"code,name\nT1,ok,extra,cells,here\n",                      # more cells than the header
    b'code,name\n"T1,unterminated\n',                            # an open quote
    "code,name\nT1,电\u202e工\n".encode(),                        # a direction override in a name
])
def test_csv_imports_never_crash(abuse, aprovince, csv):
    r = aprovince.put("/api/v1/admin/trades", files={"file": ("t.csv", csv, "text/csv")})
    assert r.status_code in (200, 400), r.text
    if r.status_code == 200:
        assert r.json()["imported"] == 0 or b"extra" in csv
    else:
        assert_error(r, 400, "invalid", "file")


# --- hidden characters ---------------------------------------------------------------------------
RLO, NUL = "\u202e", "\x00"


def test_hidden_characters_are_refused_in_names_reasons_and_passwords(abuse, aprovince):
    api, p = applicant(abuse, aprovince)
    r = api.put("/api/v1/me/password", json={"old_password": p.password, "new_password": f"Abc{RLO}12345678"})
    assert_error(r, 400, "invalid", "new_password")
    r = api.put("/api/v1/me/password", json={"old_password": p.password, "new_password": f"Abc{NUL}12345678"})
    assert_error(r, 400, "invalid", "new_password")
    r = api.put("/api/v1/me/application", json={"exceptional_reason": f"情况说明{RLO}txt.exe"})
    assert_error(r, 400, "invalid", "exceptional_reason")
    _, _, app_id = submitted(abuse, aprovince)
    sup = admin(abuse, "zz_wsjw")
    assert_error(decide(sup, app_id, "return", f"请补充{RLO}材料"), 400, "invalid", "reason")
    assert_error(decide(sup, app_id, "return", f"请补充{NUL}材料"), 400, "invalid", "reason")
    assert decide(sup, app_id, "return", "请补充材料\n第二行说明").status_code == 200     # lines are fine
    r = aprovince.post("/api/v1/admin/admins", json={"username": "rlo_test", "password": "Abc12345678",
                                                     "name": f"王{RLO}五", "phone": "0371-1", "role": "province"})
    assert_error(r, 400, "invalid", "name")
    r = aprovince.put("/api/v1/admin/contacts", json={"counties": [{"county_code": "410102", "phone": f"0371{NUL}1"}]})
    assert_error(r, 400, "invalid", "counties.phone")


def test_a_refusal_is_one_log_line_without_a_traceback(abuse, aprovince):
    sup = admin(abuse, "zz_wsjw")
    marker = "/api/v1/admin/reviews/no-such-case-" + "x" * 8
    for _ in range(20):
        assert sup.get(marker).status_code == 404
    log = abuse.log("review")
    assert "Traceback" not in log
    assert "refused <WorkerContext [review.get_case]" in log
