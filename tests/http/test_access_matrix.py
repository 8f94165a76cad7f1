"""Every operation × every kind of caller, inside and outside scope (issue 8): generated from
the served OpenAPI description (its ``x-access``), every cell asserted — the status, and for
a refusal its code: 401 ``unauthenticated``, 403 ``wrong_kind`` / ``role_not_allowed`` /
``out_of_scope``, 404 for a case outside the caller's scope. A 2xx happens only where the
contract allows it. Requests in the allowed cells are chosen to change nothing."""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from helpers import Api, admin, applicant, id_number, jpeg_bytes, png_bytes, submitted

from deploy.seed import DEMO_PASSWORD

CALLERS = ("anonymous", "applicant", "other_applicant", "province", "city", "city_out", "county", "county_out",
           "supervisor", "supervisor_out")
ROLE_OF = {"province": "province", "city": "city", "city_out": "city", "county": "county",
           "county_out": "county", "supervisor": "supervisor", "supervisor_out": "supervisor"}
# who is in the scope of the applicant's case: 郑州 (410100), 中原区 (410102), 郑州市卫生健康委员会
IN_SCOPE = {"province", "city", "county", "supervisor"}


@dataclass
class Recipe:
    """How to call an operation harmlessly, and what an allowed caller gets."""

    kw: dict = field(default_factory=dict)
    ok: int | dict = 200              # the status of an allowed caller (or per caller)
    scope: str | None = None          # "case": outside scope is 404; "account": 403 out_of_scope
    fresh: bool = False               # ends the caller's session: use a session of its own


def csv(text: str) -> dict:
    return {"files": {"file": ("t.csv", text.encode(), "text/csv")}}


def recipes(w: dict) -> dict[tuple[str, str], Recipe]:
    app, year, pid, nobody = w["app_id"], w["year"], w["id_number"], w["nobody"]
    return {
        ("get", "/healthz"): Recipe(),
        ("get", "/readyz"): Recipe(),
        ("get", "/api/v1/openapi.json"): Recipe(),
        ("get", "/api/v1/years/current"): Recipe(),
        ("get", "/api/v1/cities"): Recipe(),
        ("get", "/api/v1/units"): Recipe(),
        ("get", "/api/v1/trades"): Recipe(),
        ("get", "/api/v1/contacts"): Recipe(),
        ("get", "/api/v1/photo-spec"): Recipe(),
        ("post", "/api/v1/sms-codes"): Recipe({"json": {"purpose": "register", "phone": "123"}}, 400),
        ("post", "/api/v1/registrations"): Recipe({"files": {"nonsense": ("a", b"b")}}, 400),
        ("post", "/api/v1/sessions"): Recipe({"json": {"id_number": pid, "password": "Wrong2026pass"}}, 401),
        ("delete", "/api/v1/sessions/current"): Recipe(ok=204, fresh=True),
        ("post", "/api/v1/sessions/unlock"): Recipe({"json": {"id_number": pid, "sms_code": "12"}}, 400),
        ("get", "/api/v1/me"): Recipe(),
        ("delete", "/api/v1/me"): Recipe({"json": {"sms_code": "000000"}},
                                         {"applicant": 409, "other_applicant": 400}),
        ("put", "/api/v1/me/password"): Recipe({"json": {"old_password": "Wrong2026pass",
                                                         "new_password": "Abcd12345678"}}, 400),
        ("get", "/api/v1/me/application"): Recipe(),
        ("put", "/api/v1/me/application"): Recipe({"json": {}}, {"applicant": 409, "other_applicant": 200}),
        ("get", "/api/v1/me/application/eligibility"): Recipe(),
        ("get", "/api/v1/me/application/choices"): Recipe(),
        ("post", "/api/v1/me/application/submit"): Recipe(ok={"applicant": 409, "other_applicant": 422}),
        ("put", "/api/v1/me/application/files/{kind}"): Recipe(
            {"files": {"file": ("e.png", b"", "image/png")}}, 400),
        ("get", "/api/v1/me/application/files/{kind}"): Recipe(ok={"applicant": 200, "other_applicant": 404}),
        ("post", "/api/v1/me/application/files/personal_photo/stamp"): Recipe(
            ok={"applicant": 409, "other_applicant": 422}),
        ("get", "/api/v1/me/review"): Recipe(),
        ("get", "/api/v1/me/payment"): Recipe(),
        ("post", "/api/v1/me/payment/orders"): Recipe({"json": {"receipt_title": "单位"}}, 409),   # not approved
        ("post", "/api/v1/me/payment/orders/{order_no}/cancel"): Recipe(ok=404),
        ("post", "/api/v1/callbacks/nontax"): Recipe({"data": {"order_no": "x"}}, 400),            # unsigned
        ("get", "/api/v1/admin/payments"): Recipe(),
        ("get", "/api/v1/admin/payments.xlsx"): Recipe(),
        ("post", "/api/v1/admin/payments/offline"): Recipe({"json": {"application_id": app}}, 404),  # not approved
        ("post", "/api/v1/admin/payments/reconcile"): Recipe(),
        ("get", "/api/v1/admin/payments/mismatches"): Recipe(),
        ("get", "/api/v1/me/ticket"): Recipe(),
        ("get", "/api/v1/me/ticket.pdf"): Recipe(ok=409),                                      # no seat
        ("get", "/api/v1/me/result"): Recipe(),
        ("get", "/api/v1/me/certificate"): Recipe(ok=409),                                     # not passed
        ("get", "/api/v1/me/certificate.pdf"): Recipe(ok=409),
        ("get", "/api/v1/certificates/{code}"): Recipe(ok=404),
        ("get", "/api/v1/admin/years/{year}/pass-lines"): Recipe(),
        ("put", "/api/v1/admin/years/{year}/pass-lines"): Recipe({"json": {"total": 999}}, 400),
        ("put", "/api/v1/admin/scores"): Recipe(csv("ticket_no,职业道德,职业能力,岗位技能\n")),
        ("put", "/api/v1/admin/assessment-history"): Recipe(csv("id_number,year,kind,trade,grade,obtained_at,result\n")),
        ("get", "/api/v1/admin/years/{year}/results"): Recipe(),
        ("get", "/api/v1/admin/years/{year}/results.xlsx"): Recipe(),
        ("get", "/api/v1/admin/years/{year}/scores.xlsx"): Recipe(),
        ("get", "/api/v1/admin/years/{year}/exam-sites"): Recipe(),
        ("put", "/api/v1/admin/years/{year}/exam-sites"): Recipe({"json": {}}, 400),          # not a list
        ("get", "/api/v1/admin/years/{year}/timetable"): Recipe(),
        ("put", "/api/v1/admin/years/{year}/timetable"): Recipe({"json": {"9": []}}, 400),
        ("get", "/api/v1/admin/years/{year}/seat-assignments"): Recipe(),
        ("post", "/api/v1/admin/years/{year}/seat-assignments"): Recipe({"json": {"city_code": "x"}}, 400),
        ("get", "/api/v1/admin/years/{year}/seat-lists.xlsx"): Recipe(),
        ("get", "/api/v1/admin/years/{year}/seat-lists.pdf"): Recipe(),
        ("get", "/api/v1/admin/years/{year}/seat-lists.zip"): Recipe(),
        ("get", "/api/v1/admin/ticket-checks/{code}"): Recipe(),
        ("post", "/api/v1/admin/document-jobs"): Recipe({"json": {"kind": "x"}}, 400),
        ("get", "/api/v1/admin/document-jobs/{job_id}"): Recipe(ok=404),
        ("get", "/api/v1/admin/document-jobs/{job_id}/archive.zip"): Recipe(ok=404),
        ("post", "/api/v1/admin/sessions"): Recipe({"json": {"username": "nobody", "password": "x"}}, 401),
        ("delete", "/api/v1/admin/sessions/current"): Recipe(ok=204, fresh=True),
        ("get", "/api/v1/admin/me"): Recipe(),
        ("put", "/api/v1/admin/me/password"): Recipe({"json": {"old_password": "Wrong2026pass",
                                                               "new_password": "Abcd12345678"}}, 400),
        ("get", "/api/v1/admin/admins"): Recipe(),
        ("post", "/api/v1/admin/admins"): Recipe({"json": {}}, 400),
        ("put", "/api/v1/admin/roster"): Recipe(csv("id_number,name\n")),
        ("get", "/api/v1/admin/accounts/{id_number}"): Recipe(scope="account", kw={"_id": pid}),
        ("delete", "/api/v1/admin/accounts/{id_number}"): Recipe(ok=404, kw={"_id": nobody}),
        ("post", "/api/v1/admin/accounts/{id_number}/password-reset"): Recipe(ok=404, kw={"_id": nobody}),
        ("post", "/api/v1/admin/supplementary-registrations"): Recipe({"json": {}}, 400),
        ("get", "/api/v1/admin/years/{year}"): Recipe(),
        ("put", "/api/v1/admin/years/{year}"): Recipe({"json": {}}),
        ("get", "/api/v1/admin/years/{year}/fees"): Recipe(),
        ("put", "/api/v1/admin/years/{year}/fees"): Recipe({"json": {}}),
        ("get", "/api/v1/admin/years/{year}/eligibility-rules"): Recipe(),
        ("put", "/api/v1/admin/years/{year}/eligibility-rules"): Recipe({"json": {}}),
        ("get", "/api/v1/admin/audit"): Recipe(),
        ("get", "/api/v1/admin/audit.xlsx"): Recipe(),
        ("get", "/api/v1/admin/applications/{application_id}/files/{kind}"): Recipe(scope="case"),
        ("put", "/api/v1/admin/trades"): Recipe(csv("code,name\n")),
        ("put", "/api/v1/admin/units"): Recipe(csv(
            "unit_id,name,city_code,county_code,supervisor_id,supervisor_name,supervisor_admin,supervisor_phone\n")),
        ("put", "/api/v1/admin/contacts"): Recipe({"json": {"counties": []}}),
        ("get", "/api/v1/admin/reviews"): Recipe(),
        ("get", "/api/v1/admin/reviews.xlsx"): Recipe(),
        ("post", "/api/v1/admin/reviews/decisions"): Recipe(
            {"json": {"application_ids": [app], "decision": "reject"}}, 400),
        ("get", "/api/v1/admin/reviews/{application_id}"): Recipe(scope="case"),
        ("post", "/api/v1/admin/reviews/{application_id}/decisions"): Recipe(
            {"json": {"decision": "pass", "version": 99999}}, 409, scope="case"),
        ("put", "/api/v1/admin/reviews/{application_id}/files/{kind}"): Recipe(
            {"files": {"file": ("w.png", png_bytes(), "image/png")}}, 400, scope="case"),
        ("get", "/api/v1/admin/reviews/{application_id}/files/{kind}"): Recipe(ok=404, scope="case"),
        ("get", "/api/v1/admin/statistics"): Recipe(),
        ("get", "/api/v1/admin/statistics.xlsx"): Recipe(),
        ("get", "/api/v1/admin/applications.xlsx"): Recipe(),
        ("get", "/api/v1/admin/review-chains/{city_code}"): Recipe(),
        ("put", "/api/v1/admin/review-chains/{city_code}"): Recipe(
            {"json": {"levels": ["supervisor", "city", "province"]}}),
        "_year": year,
    }


def expected(caller: str, access: dict, recipe: Recipe) -> tuple[int, str | None]:
    """(status, error code or None) of one cell."""
    who = access["who"]
    if who != "anyone":
        if caller == "anonymous":
            return 401, "unauthenticated"
        is_admin = caller in ROLE_OF
        if (who == "admin") != is_admin:
            return 403, "wrong_kind"
        if who == "admin" and ROLE_OF[caller] not in access["roles"]:
            return 403, "role_not_allowed"
        if recipe.scope and caller not in IN_SCOPE:
            return (404, "not_found") if recipe.scope == "case" else (403, "out_of_scope")
    ok = recipe.ok if isinstance(recipe.ok, int) else recipe.ok[caller]
    return ok, None


@pytest.fixture(scope="module")
def world(stack):
    province = Api(stack.url).login_admin("admin", __import__("harness").ADMIN_PASSWORD)
    owner, person, app_id = submitted(stack, province)          # 郑州市第一人民医院: 中原区, S410100-01
    other, _ = applicant(stack, province)
    username = f"county_{app_id[:6]}"                            # a county admin of 二七区 (410103)
    r = province.post("/api/v1/admin/admins", json={"username": username, "password": "Start2026pass",
                                                     "name": "测试", "phone": "0371-1", "role": "county",
                                                     "scope_code": "410103"})
    assert r.status_code == 201, r.text
    county_out = Api(stack.url).login_admin(username, "Start2026pass")
    r = county_out.put("/api/v1/admin/me/password", json={"old_password": "Start2026pass",
                                                          "new_password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    logins = {"province": ("admin", __import__("harness").ADMIN_PASSWORD), "city": ("zz_city", DEMO_PASSWORD),
              "city_out": ("ly_city", DEMO_PASSWORD), "county": ("zz_zhongyuan", DEMO_PASSWORD),
              "county_out": (username, DEMO_PASSWORD), "supervisor": ("zz_wsjw", DEMO_PASSWORD),
              "supervisor_out": ("zz_jyj", DEMO_PASSWORD)}
    return {"app_id": app_id, "id_number": person.id_number, "person": person, "other": other,
            "owner": owner, "province": province, "logins": logins,
            "year": province.get("/api/v1/years/current").json()["year"],
            "nobody": id_number(birth="19800101", region="410105")}


def client(stack, world, caller: str, fresh: bool) -> Api:
    if caller == "anonymous":
        return Api(stack.url)
    if caller in ("applicant", "other_applicant"):
        if not fresh:
            return world["owner"] if caller == "applicant" else world["other"]
        api = Api(stack.url)
        person = world["person"] if caller == "applicant" else None
        if person is None:
            api, _ = applicant(stack, world["province"])
            return api
        assert api.login(person.id_number, person.password).status_code == 201
        return api
    key = f"_session_{caller}"
    if fresh or key not in world:
        api = admin(stack, *world["logins"][caller])
        if fresh:
            return api
        world[key] = api
    return world[key]


def test_every_operation_for_every_caller(stack, world):
    spec = Api(stack.url).get("/api/v1/openapi.json").json()
    table = recipes(world)
    ops = [(m, p, o) for p, methods in spec["paths"].items() for m, o in methods.items()]
    assert {(m, p) for m, p, _ in ops} == {k for k in table if k != "_year"}, "every operation has a recipe"
    # the personal photo must exist for the file cells that expect 200
    cells, failures = 0, []
    for method, path, op in ops:
        recipe = table[(method, path)]
        kw = dict(recipe.kw)
        concrete = path.replace("{application_id}", world["app_id"]).replace("{year}", str(world["year"])) \
            .replace("{city_code}", "410100").replace("{id_number}", kw.pop("_id", world["id_number"])) \
            .replace("{order_no}", "GK-NO-SUCH-ORDER").replace("{job_id}", "0" * 32).replace("{code}", "260100000000.0")
        concrete = concrete.replace("{kind}", "wage_review_form" if "/admin/reviews/" in path else "personal_photo")
        if method == "put" and path == "/api/v1/me/application/files/{kind}":
            concrete = concrete.replace("personal_photo", "education_proof")
        for caller in CALLERS:
            want = expected(caller, op["x-access"], recipe)
            api = client(stack, world, caller, recipe.fresh)
            r = api.request(method.upper(), concrete, **kw)
            cells += 1
            got_code = r.json().get("error", {}).get("code") if r.headers.get("Content-Type", "").startswith(
                "application/json") and r.status_code >= 400 else None
            if r.status_code != want[0] or (want[1] is not None and got_code != want[1]):
                failures.append(f"{method.upper()} {path} as {caller}: want {want}, got {r.status_code} {got_code}")
            if 200 <= r.status_code < 300 and want[0] >= 300:
                failures.append(f"{method.upper()} {path} as {caller}: a 2xx the contract does not allow")
    print(f"\naccess matrix: {len(ops)} operations × {len(CALLERS)} callers = {cells} cells")
    assert not failures, "\n".join(failures)
    assert cells == len(ops) * len(CALLERS) >= 500
    # and nothing changed for the applicant: the case still waits at the 主管单位
    case = world["province"].get(f"/api/v1/admin/reviews/{world['app_id']}").json()
    assert case["level"] == "supervisor" and [h["decision"] for h in case["history"]] == ["submitted"]
    assert world["owner"].get("/api/v1/me/application/files/personal_photo").content[:3] == jpeg_bytes()[:3]
