"""Demo data for the local run and the tests. Administrators are created the operator's way
(services.identity.bootstrap, on identity's database: never an RPC); everything else goes
through the services' own entrypoints as the province administrator, so it obeys the same
rules and leaves the same audit trail.

Idempotent: running it again changes nothing but the province administrator's password
(when another one is given) and the exam year's windows (kept open around today)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import requests

from kit import clock
from services.identity.bootstrap import ensure_admin

PROVINCE_ADMIN = "admin"
DEMO_PASSWORD = "Demo2026pass"  # reviewers and city/county admins of the demo data only

SUPERVISORS = [
    # id, name, city, the contact person's display name shown to applicants (never a login
    # name), office phone
    ("S410100-01", "郑州市卫生健康委员会", "410100", "孔老师", "0371-67180001"),
    ("S410100-02", "郑州市教育局", "410100", "孙老师", "0371-67180002"),
    ("S410300-01", "洛阳市农业农村局", "410300", "周老师", "0379-63910001"),
    ("S410000-01", "河南省人力资源和社会保障厅", "410000", "邱老师", "0371-69690001"),
    ("S410000-02", "河南省交通运输厅", "410000", "马老师", "0371-69690002"),
]
UNITS = [
    # id, name, city, county, supervisor
    ("U410100-001", "郑州市第一人民医院", "410100", "410102", "S410100-01"),
    ("U410100-002", "郑州市疾病预防控制中心", "410100", "410105", "S410100-01"),
    ("U410100-003", "郑州市第二中学", "410100", "410103", "S410100-02"),
    ("U410100-004", "中牟县第一高级中学", "410100", "410122", "S410100-02"),
    ("U410300-001", "洛阳市动物疫病预防控制中心", "410300", "410311", "S410300-01"),
    ("U410300-002", "偃师区农业技术推广站", "410300", "410307", "S410300-01"),
    ("U410000-001", "河南省职业技能等级评价指导中心", "410000", None, "S410000-01"),
    ("U410000-002", "河南省人才交流中心", "410000", None, "S410000-01"),
    ("U410000-003", "河南省公路事业发展中心", "410000", None, "S410000-02"),
]
ADMINS = [
    # username, name, phone, role, scope
    ("zz_city", "王建国", "0371-67180000", "city", "410100"),
    ("ly_city", "李红梅", "0379-63910000", "city", "410300"),
    ("zz_zhongyuan", "赵志强", "0371-67180100", "county", "410102"),
    ("zz_wsjw", "孔德明", "0371-67180001", "supervisor", "S410100-01"),
    ("zz_jyj", "孙丽", "0371-67180002", "supervisor", "S410100-02"),
    ("ly_nyj", "周海涛", "0379-63910001", "supervisor", "S410300-01"),
    ("sz_rst", "邱战", "0371-69690001", "supervisor", "S410000-01"),
    ("sz_jtt", "马晓东", "0371-69690002", "supervisor", "S410000-02"),
]


def with_check_digit(first17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights, strict=True)) % 11]


@dataclass(frozen=True)
class Person:
    id_number: str
    name: str
    phone: str
    city_code: str


ROSTER = [
    Person(with_check_digit("41010219850312001"), "张伟", "13800000001", "410100"),
    Person(with_check_digit("41010519900704002"), "王芳", "13800000002", "410100"),
    Person(with_check_digit("41030319780815003"), "李强", "13800000003", "410300"),
    Person(with_check_digit("41150219960728440"), "渺小同", "13800000004", "410000"),
    Person(with_check_digit("41010319880229004"), "刘洋", "13800000005", "410100"),
    Person(with_check_digit("41030219720101005"), "陈静", "13800000006", "410300"),
]


def demo_calendar(now=None) -> dict:
    now = (now or clock.now()).astimezone(clock.CST).replace(microsecond=0)
    day = now.replace(hour=0, minute=0, second=0)

    def w(start_days: int, end_days: int) -> dict:
        return {"start": (day + timedelta(days=start_days)).isoformat(),
                "end": (day + timedelta(days=end_days, hours=23, minutes=59, seconds=59)).isoformat()}

    return {"windows": {"registration": w(-30, 60), "application": w(-30, 75), "review": w(-30, 90),
                        "payment": w(-30, 100), "results": w(120, 150)},
            "switches": {"ticket_printing": False, "certificate_printing": False}}


COUNTY_PHONES = [
    ("410102", "0371-67180102"), ("410103", "0371-67180103"), ("410105", "0371-67180105"),
    ("410122", "0371-62180122"), ("410303", "0379-63910303"), ("410307", "0379-67710307"),
    ("410311", "0379-63910311"),
]


def trades_csv() -> bytes:
    """The catalogue shipped with the application service (see its data/README.md)."""
    from importlib import resources

    return resources.files("services.application").joinpath("data/trades.csv").read_bytes()


def roster_csv() -> bytes:
    lines = ["id_number,name"] + [f"{p.id_number},{p.name}" for p in ROSTER]
    return ("\n".join(lines) + "\n").encode()


def upload(rpc_service, principal: dict, action: str, data: bytes) -> dict:
    """An upload the way the gateway sends one (kit.files): a ticket by RPC, bytes over HTTP."""
    ticket = rpc_service.upload_ticket(principal, action, {})
    answer = requests.put(ticket["url"], data=data, timeout=60, headers={"Content-Type": "text/csv"})
    if answer.status_code != 200:
        raise RuntimeError(f"{action}: {answer.status_code} {answer.text[:200]}")
    return answer.json()


def seed(rpc, admin_password: str, year: int | None = None, demo: bool = True) -> dict:
    """``rpc`` is a started nameko ClusterRpcProxy (or anything with the same shape)."""
    ensure_admin(PROVINCE_ADMIN, admin_password, "周明远", "0371-69690000", "province", None, None)
    token = rpc.identity.admin_login(PROVINCE_ADMIN, admin_password)["token"]
    province = rpc.identity.resolve_session(token)
    year = year or clock.local_now().year
    if rpc.identity.current_year() is None or demo:
        rpc.identity.put_year(province, year, {**demo_calendar(), "current": True})
    if demo:
        rpc.application.upsert_reference(
            province, [dict(id=i, name=n, city_code=c, admin=a, phone=p) for i, n, c, a, p in SUPERVISORS],
            [dict(id=i, name=n, city_code=c, county_code=k, supervisor_id=s) for i, n, c, k, s in UNITS])
        for username, name, phone, role, scope in ADMINS:
            city = scope if role == "city" else None
            if role == "county":
                city = scope[:4] + "00"
            if role == "supervisor":
                city = next(c for i, _, c, _, _ in SUPERVISORS if i == scope)
            ensure_admin(username, DEMO_PASSWORD, name, phone, role, scope, city)
        upload(rpc.identity, province, "roster_csv", roster_csv())
        upload(rpc.application, province, "trades_csv", trades_csv())
        rpc.application.put_contacts(province, {"counties": [{"county_code": c, "phone": p}
                                                             for c, p in COUNTY_PHONES]})
    rpc.identity.logout(token)
    return {"year": year}
