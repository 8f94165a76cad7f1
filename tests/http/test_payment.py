"""网上缴费 on the real services and the stand-in platform (R-F1 … R-F5): when paying opens,
the receipt title, orders, signed callbacks that never count twice nor lose a payment,
reconciliation, mismatches, offline records. Time moves with the shared clock file."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
import requests
from helpers import Api, BrokerTap, admin, approved, assert_error, wait_for

from kit.config import settings
from services.payment.platforms.hmac_sha256 import signed

FEES = {"5": 12000, "4": 15000, "3": 18000, "2": 24000, "1": 30000}
OPEN = "+90000"          # 25 h after 终审通过: paying is open for grades 2–5


@pytest.fixture(scope="module", autouse=True)
def fees(stack):
    province = Api(stack.url).login_admin("admin", __import__("harness").ADMIN_PASSWORD)
    year = province.get("/api/v1/years/current").json()["year"]
    before = province.get(f"/api/v1/admin/years/{year}/fees").json().get("online_payment_cities") or []
    r = province.put(f"/api/v1/admin/years/{year}/fees", json={"fees_fen": FEES,
                                                               "online_payment_cities": ["410000", "410100"]})
    assert r.status_code == 200, r.text
    yield year
    province = Api(stack.url).login_admin("admin", __import__("harness").ADMIN_PASSWORD)
    province.put(f"/api/v1/admin/years/{year}/fees", json={"online_payment_cities": before})   # as other modules expect


def province_now(stack) -> Api:
    """The province administrator, logged in at the clock as it is now."""
    return Api(stack.url).login_admin("admin", __import__("harness").ADMIN_PASSWORD)


def relogin(stack, person) -> Api:
    """After the clock moved, a session idled out: log in again."""
    api = Api(stack.url)
    assert api.login(person.id_number, person.password).status_code == 201
    return api


def pay_at_platform(stack, notice: str, outcome: str = "paid") -> dict:
    r = requests.post(f"{stack.nontax_url}/api/pay/{notice}", data={"outcome": outcome}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


class FeePaidTap(BrokerTap):
    def __init__(self, stack):
        self.events: list[dict] = []
        super().__init__(stack, ["payment.events"], "payment.fee_paid.v1")

    def on_message(self, body, message):
        self.events.append(body)

    def of(self, app_id: str) -> list[dict]:
        return [e for e in self.events if e["data"]["application_id"] == app_id]


def callback_fields(order: dict, amount: int | None = None, now: datetime | None = None, **over) -> dict:
    fields = signed({"order_no": order["order_no"], "payment_notice_no": order["payment_notice_no"],
                     "amount_fen": amount if amount is not None else order["amount_fen"], "status": "PAID",
                     "paid_at": datetime.now().astimezone().replace(microsecond=0).isoformat()},
                    settings().nontax_secret, now or datetime.now().astimezone())
    fields.update(over)
    return fields


def ordered(stack, province, title: str = "河南省职业技能等级评价指导中心") -> tuple[Api, object, str, dict]:
    """An approved applicant with an open order (the clock moved past the 24 h)."""
    stack.set_clock(None)
    _, person, app_id = approved(stack, province)
    stack.set_clock(OPEN)
    api = relogin(stack, person)
    r = api.post("/api/v1/me/payment/orders", json={"receipt_title": title})
    assert r.status_code == 201, r.text
    return api, person, app_id, r.json()


def test_paying_opens_24_hours_after_final_approval_inside_the_window(stack, province):
    api, person, app_id = approved(stack, province)
    mine = api.get("/api/v1/me/payment").json()
    assert mine["online"] is True and mine["status"] == "not_due" and mine["amount_fen"] == 15000
    opens = datetime.fromisoformat(mine["opens_at"])
    err = assert_error(api.post("/api/v1/me/payment/orders", json={"receipt_title": "单位"}), 409, "not_open")
    assert datetime.fromisoformat(err["details"]["opens_at"]) == opens and "开放缴费" in err["message"]
    stack.set_clock((opens - timedelta(seconds=1)).isoformat())
    api = relogin(stack, person)
    assert_error(api.post("/api/v1/me/payment/orders", json={"receipt_title": "单位"}), 409, "not_open")
    stack.set_clock(opens.isoformat())
    api = relogin(stack, person)
    assert api.get("/api/v1/me/payment").json()["status"] == "unpaid"
    # outside the payment window: refused, saying so
    cal = province.get("/api/v1/years/current").json()
    end = datetime.fromisoformat(cal["windows"]["payment"]["end"])
    stack.set_clock((end + timedelta(seconds=1)).isoformat())
    api = relogin(stack, person)
    err = assert_error(api.post("/api/v1/me/payment/orders", json={"receipt_title": "单位"}), 409, "not_open")
    assert "已结束" in err["message"]
    assert api.get("/api/v1/me/payment").json()["orders"] == []


def test_an_order_pays_at_the_platform_and_the_callback_settles_it_once(stack, province):
    tap = FeePaidTap(stack)
    try:
        api, person, app_id, order = ordered(stack, province)
        assert len(order["payment_notice_no"]) == 20 and order["payment_notice_no"].isdigit()
        assert order["amount_fen"] == 15000 and order["pay_url"].startswith(stack.nontax_url + "/pay/")
        assert api.get("/api/v1/me/payment").json()["status"] == "pending"
        assert_error(api.post("/api/v1/me/payment/orders", json={"receipt_title": "河南省职业技能等级评价指导中心"}),
                     409, "order_open")
        pay_at_platform(stack, order["payment_notice_no"])
        mine = wait_for(lambda: (m := api.get("/api/v1/me/payment").json())["status"] == "paid" and m,
                        what="the platform's callback")
        assert mine["orders"][0]["status"] == "paid" and mine["paid_at"]
        wait_for(lambda: len(tap.of(app_id)) == 1, what="payment.fee_paid.v1")
        event = tap.of(app_id)[0]["data"]
        assert (event["amount_fen"], event["channel"], event["target_grade"]) == (15000, "online", 4)
        assert_error(api.post("/api/v1/me/payment/orders", json={"receipt_title": "河南省职业技能等级评价指导中心"}),
                     409, "already_paid")
        # the steps follow: 打印准考证 says what comes next
        steps = wait_for(lambda: (st := {s["key"]: s for s in api.get("/api/v1/me").json()["steps"]})
                         ["ticket"]["reason"] != "缴费后方可打印准考证" and st, what="application learning of it")
        assert steps["ticket"]["reason"] == "管理员开通准考证打印后方可打印"
    finally:
        tap.close()


def test_the_receipt_title_is_fixed_by_the_first_confirmed_order(stack, province):
    api, person, app_id, order = ordered(stack, province, title="郑州市第一人民医院")
    assert api.post(f"/api/v1/me/payment/orders/{order['order_no']}/cancel").json()["status"] == "cancelled"
    err = assert_error(api.post("/api/v1/me/payment/orders", json={"receipt_title": "另一个单位"}), 409,
                       "receipt_title_fixed", "receipt_title")
    assert err["details"]["receipt_title"] == "郑州市第一人民医院"
    again = api.post("/api/v1/me/payment/orders", json={"receipt_title": "郑州市第一人民医院"})
    assert again.status_code == 201 and again.json()["order_no"] != order["order_no"]
    assert api.get("/api/v1/me/payment").json()["receipt_title"] == "郑州市第一人民医院"
    assert_error(api.post("/api/v1/me/payment/orders", json={"receipt_title": ""}), 400, "invalid", "receipt_title")


def callbacks(stack, order_no: str) -> int:
    return stack.db_scalar("payment", "SELECT count(*) FROM callbacks WHERE order_no = :o", o=order_no)


@pytest.mark.parametrize("case", ["forged", "stale", "wrong_amount", "unknown_order", "not_paid", "wrong_notice"])
def test_a_bad_callback_is_a_4xx_and_changes_nothing(stack, province, case):
    api, person, app_id, order = ordered(stack, province)
    now = datetime.now().astimezone() + timedelta(seconds=90000)   # the system's (moved) clock
    fields = {
        "forged": lambda: {**callback_fields(order, now=now), "amount_fen": str(order["amount_fen"] - 1)},
        "stale": lambda: callback_fields(order, now=now - timedelta(minutes=6)),
        "wrong_amount": lambda: callback_fields(order, amount=order["amount_fen"] - 100, now=now),
        "unknown_order": lambda: callback_fields({**order, "order_no": "GK-NO-SUCH"}, now=now),
        "not_paid": lambda: callback_fields(order, now=now, status="UNPAID"),
        "wrong_notice": lambda: callback_fields({**order, "payment_notice_no": "1" * 20}, now=now),
    }[case]()
    if case == "not_paid":   # re-signed, so that only the status is wrong
        fields = signed({k: v for k, v in fields.items() if k not in ("sign", "sign_type", "nonce", "timestamp")},
                        settings().nontax_secret, now)
    r = requests.post(stack.url + "/api/v1/callbacks/nontax", data=fields, timeout=10)
    expected = {"forged": (400, "bad_signature"), "stale": (400, "stale_timestamp"),
                "wrong_amount": (400, "wrong_amount"), "unknown_order": (404, "unknown_order"),
                "not_paid": (400, "bad_status"), "wrong_notice": (404, "unknown_order")}[case]
    assert_error(r, *expected)
    assert r.text != "success"
    assert api.get("/api/v1/me/payment").json()["status"] == "pending"
    assert callbacks(stack, order["order_no"]) == 0


def test_the_same_callback_ten_times_and_ten_at_once_is_one_payment(stack, province):
    tap = FeePaidTap(stack)
    try:
        api, person, app_id, order = ordered(stack, province)
        now = datetime.now().astimezone() + timedelta(seconds=90000)
        answers = [requests.post(stack.url + "/api/v1/callbacks/nontax", data=callback_fields(order, now=now),
                                 timeout=10) for _ in range(10)]
        results: list[requests.Response] = []
        barrier = threading.Barrier(10)

        def send():
            barrier.wait()
            results.append(requests.post(stack.url + "/api/v1/callbacks/nontax",
                                         data=callback_fields(order, now=now), timeout=30))

        threads = [threading.Thread(target=send) for _ in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert [(r.status_code, r.text) for r in answers + results] == [(200, "success")] * 20
        outcomes = stack.db_scalar("payment", "SELECT string_agg(outcome, ',' ORDER BY id) FROM callbacks "
                                              "WHERE order_no = :o", o=order["order_no"]).split(",")
        assert outcomes == ["paid"] + ["repeat"] * 19
        # the marker: an event of another applicant paid after, so everything before it is seen
        _, _, marker_app, marker = ordered(stack, province)
        pay_at_platform(stack, marker["payment_notice_no"])
        wait_for(lambda: tap.of(marker_app), what="the marker's fee_paid")
        assert len(tap.of(app_id)) == 1
        assert stack.db_scalar("payment", "SELECT count(*) FROM mismatches WHERE application_id = :a", a=app_id) == 0
    finally:
        tap.close()


def test_a_lost_callback_is_settled_by_reconciliation(stack, province):
    api, person, app_id, order = ordered(stack, province)
    pay_at_platform(stack, order["payment_notice_no"], "paid_silently")
    assert api.get("/api/v1/me/payment").json()["status"] == "pending"
    assert_error(admin(stack, "zz_city").post("/api/v1/admin/payments/reconcile"), 403, "role_not_allowed")
    stack.set_clock(f"+{90000 + 601}")      # open longer than GONGKAO_RECONCILE_AFTER_SECONDS
    prov = Api(stack.url).login_admin("admin", __import__("harness").ADMIN_PASSWORD)
    result = prov.post("/api/v1/admin/payments/reconcile").json()
    assert result["settled"] >= 1 and result["checked"] >= result["settled"]
    api = relogin(stack, person)
    mine = api.get("/api/v1/me/payment").json()
    assert mine["status"] == "paid" and mine["orders"][0]["status"] == "paid"
    assert stack.db_scalar("payment", "SELECT settled_by FROM orders WHERE order_no = :o",
                           o=order["order_no"]) == "query"
    again = prov.post("/api/v1/admin/payments/reconcile").json()          # nothing settles twice
    assert stack.db_scalar("payment", "SELECT count(*) FROM orders WHERE order_no = :o AND status = 'paid'",
                           o=order["order_no"]) == 1
    assert again["settled"] == 0 or again["settled"] < result["settled"] + 10


def test_money_after_cancelling_counts_once_and_is_listed_as_a_mismatch(stack, province):
    api, person, app_id, order = ordered(stack, province)
    assert api.post(f"/api/v1/me/payment/orders/{order['order_no']}/cancel").status_code == 200
    pay_at_platform(stack, order["payment_notice_no"])                  # the payer paid anyway
    wait_for(lambda: api.get("/api/v1/me/payment").json()["status"] == "paid", what="the late payment")
    mismatches = province_now(stack).get("/api/v1/admin/payments/mismatches").json()["items"]
    mine = [m for m in mismatches if m["application_id"] == app_id]
    assert [(m["order_no"], m["kind"], m["amount_fen"]) for m in mine] == [(order["order_no"], "late_payment", 15000)]
    # a second payment (the same person paying a second order) is a mismatch to refund
    assert_error(api.post("/api/v1/me/payment/orders", json={"receipt_title": "河南省职业技能等级评价指导中心"}),
                 409, "already_paid")
    assert_error(api.post(f"/api/v1/me/payment/orders/{order['order_no']}/cancel"), 409, "already_paid")


def test_offline_payments_in_cities_without_online_payment(stack, province, fees):
    api, person, app_id = approved(stack, province, unit="U410300-001", city="410300", supervisor="ly_nyj")
    assert api.get("/api/v1/me/payment").json()["online"] is False
    steps = {s["key"]: s for s in api.get("/api/v1/me").json()["steps"]}
    assert steps["payment"]["visible"] is False
    assert_error(api.post("/api/v1/me/payment/orders", json={"receipt_title": "单位"}), 409, "not_online")
    assert_error(admin(stack, "zz_city").post("/api/v1/admin/payments/offline", json={"application_id": app_id}),
                 404, "not_found")                                     # another city's applicant
    r = admin(stack, "ly_city").post("/api/v1/admin/payments/offline", json={"application_id": app_id,
                                                                             "note": "现场缴费 收据0001"})
    assert r.status_code == 201 and r.json()["status"] == "offline" and r.json()["amount_fen"] == 15000
    assert_error(admin(stack, "ly_city").post("/api/v1/admin/payments/offline", json={"application_id": app_id}),
                 409, "already_paid")
    assert api.get("/api/v1/me/payment").json()["status"] == "offline"
    entry = wait_for(lambda: next((a for a in province.get("/api/v1/admin/audit", params={"page_size": 30})
                                   .json()["items"] if a["action"] == "payment.offline" and a["target"] == app_id),
                                  None), what="the audit of the offline record")
    assert entry["actor"] == "ly_city" and entry["after"]["note"] == "现场缴费 收据0001"


def test_the_payments_list_its_scope_sum_and_excel(stack, province, fees):
    api, person, app_id, order = ordered(stack, province)
    pay_at_platform(stack, order["payment_notice_no"])
    wait_for(lambda: api.get("/api/v1/me/payment").json()["status"] == "paid", what="the payment")
    province = province_now(stack)
    page = province.get("/api/v1/admin/payments", params={"status": "paid", "city_code": "410000",
                                                          "page_size": 100}).json()
    mine = [i for i in page["items"] if i["application_id"] == app_id]
    assert len(mine) == 1 and mine[0]["id_number"] == person.id_number[:6] + "********" + person.id_number[-4:]
    assert page["sum_fen"] == sum(i["amount_fen"] for i in page["items"]) and page["total"] >= len(page["items"])
    zz = admin(stack, "zz_city").get("/api/v1/admin/payments", params={"page_size": 100}).json()
    assert all(i["city_code"] == "410100" for i in zz["items"])
    assert_error(admin(stack, "zz_wsjw").get("/api/v1/admin/payments"), 403, "role_not_allowed")
    xlsx = province.get("/api/v1/admin/payments.xlsx", params={"status": "paid", "city_code": "410000"})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert xlsx.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in xlsx.headers["Content-Disposition"]
    from io import BytesIO

    from openpyxl import load_workbook

    rows = list(load_workbook(BytesIO(xlsx.content), read_only=True).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("报名编号", "姓名", "身份证号") and len(rows) - 1 == page["total"]
    assert any(r[0] == app_id and r[7] == "网上缴费" for r in rows[1:])
    # issue 14: a city administrator's Excel holds its own city's rows only
    zz_rows = list(load_workbook(BytesIO(admin(stack, "zz_city").get("/api/v1/admin/payments.xlsx").content),
                                 read_only=True).active.iter_rows(values_only=True))
    assert zz_rows[0] == rows[0] and all(r[3] == "郑州市" for r in zz_rows[1:])
    assert app_id not in {r[0] for r in zz_rows[1:]}                         # 省直's applicant
    same = province.get("/api/v1/admin/payments", headers={
        "Accept": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}, params={"status": "paid"})
    assert same.status_code == 200 and same.content[:2] == b"PK"


def test_two_payment_instances_reconciling_at_once_settle_each_order_once(stack, province):
    """Lost callbacks of several orders; a second payment instance beside the first; four
    reconciliations at once: every order settled exactly once (rows claimed with SKIP LOCKED)."""
    tap = FeePaidTap(stack)
    stack.start_service("payment", key="payment-2")
    try:
        orders = []
        for _ in range(4):
            api, person, app_id, order = ordered(stack, province)
            pay_at_platform(stack, order["payment_notice_no"], "paid_silently")
            orders.append((app_id, order))
        stack.set_clock(f"+{90000 + 601}")
        prov = province_now(stack)
        results: list[dict] = []
        barrier = threading.Barrier(4)

        def reconcile():
            barrier.wait()
            results.append(prov.post("/api/v1/admin/payments/reconcile").json())

        threads = [threading.Thread(target=reconcile) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert len(results) == 4 and all("settled" in r for r in results), results
        for app_id, order in orders:
            assert stack.db_scalar("payment", "SELECT count(*) FROM orders WHERE order_no = :o AND status = 'paid' "
                                              "AND settled_by = 'query'", o=order["order_no"]) == 1
            wait_for(lambda a=app_id: tap.of(a), what="fee_paid of each order")
        assert sum(r["settled"] for r in results) >= len(orders)
        # the marker: one more payment by callback, after which every event before it is seen
        _, _, marker_app, marker = ordered(stack, province)
        pay_at_platform(stack, marker["payment_notice_no"])
        wait_for(lambda: tap.of(marker_app), what="the marker")
        assert [len(tap.of(app_id)) for app_id, _ in orders] == [1] * len(orders)
    finally:
        stack.stop_service("payment-2")
        tap.close()
