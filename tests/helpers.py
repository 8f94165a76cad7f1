"""What tests share: a JSON client, factories for people, images and applications, one
waiting helper, error assertions. Test modules import from here, never from each other
(fixtures live in conftest.py)."""
from __future__ import annotations

import io
import random
import subprocess
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import requests
from harness import ADMIN_PASSWORD  # noqa: F401 - re-exported for the tests

from deploy.seed import DEMO_PASSWORD, with_check_digit


# --- waiting ---------------------------------------------------------------------------------
def wait_for(predicate: Callable[[], Any], timeout: float = 15.0, interval: float = 0.1, what: str = "") -> Any:
    """The first truthy value of ``predicate()``; fails after ``timeout`` seconds. The one way a
    test waits for an asynchronous effect (a "nothing happened" check waits for a later marker
    with it, never sleeps)."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate!r} (last: {last!r})")
        time.sleep(interval)


def handler_queue(source: str, event_type: str, service: str, handler: str) -> str:
    """The RabbitMQ queue of a service's event handler (nameko's SERVICE_POOL naming)."""
    return f"evt-{source}-{event_type}--{service}.{handler}"


def queue_handled(stack, queue: str) -> bool:
    """Whether every message on ``queue`` so far was handled: none ready, none unacknowledged
    (nameko acknowledges an event only after its handler finished)."""
    out = subprocess.run(["rabbitmqctl", "-q", "list_queues", "-p", stack.vhost, "name", "messages_ready",
                          "messages_unacknowledged"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        fields = line.split()
        if fields and fields[0] == queue:
            return fields[1:] == ["0", "0"]
    raise AssertionError(f"no queue {queue} in {stack.vhost}")


def wait_handled(stack, queue: str, timeout: float = 15.0) -> None:
    """Waits until ``queue`` holds nothing unhandled. With a marker: once the marker's effect
    shows and the queue is handled, so was everything delivered before it (a duplicate
    included), whatever the concurrency of the service's workers."""
    wait_for(lambda: queue_handled(stack, queue), timeout=timeout, interval=0.2, what=f"{queue} handled")


# --- HTTP ------------------------------------------------------------------------------------
def random_source() -> str:
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


class Api:
    """A small JSON client for the gateway; keeps the bearer token of whoever logged in. Each
    client is its own source address (R-I7), told to the gateway as a trusted proxy would."""

    def __init__(self, base: str, source: str | None = None):
        self.base = base
        self.http = requests.Session()
        self.token: str | None = None
        self.source = source or random_source()

    def _headers(self, headers=None):
        h = {"X-Forwarded-For": self.source, **dict(headers or {})}
        if self.token:
            h["Authorization"] = f"Bearer {self.token}"
        return h

    def request(self, method: str, path: str, **kw) -> requests.Response:
        kw["headers"] = self._headers(kw.get("headers"))
        kw.setdefault("timeout", 30)
        return self.http.request(method, self.base + path, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def login_admin(self, username: str, password: str) -> Api:
        r = self.post("/api/v1/admin/sessions", json={"username": username, "password": password})
        assert r.status_code == 201, r.text
        self.token = r.json()["token"]
        return self

    def login(self, id_number: str, password: str) -> requests.Response:
        r = self.post("/api/v1/sessions", json={"id_number": id_number, "password": password})
        if r.status_code == 201:
            self.token = r.json()["token"]
        return r


def error(r) -> dict:
    """The error object of the API's one error shape (a ``requests`` response or a Falcon
    TestClient result)."""
    body = r.json() if callable(r.json) else r.json
    assert isinstance(body, dict) and set(body) == {"error"}, body
    err = body["error"]
    assert {"code", "message", "field"} <= set(err) <= {"code", "message", "field", "details"}, err
    assert "Traceback" not in r.text, r.text[:300]
    return err


def assert_error(r, status: int, code: str, field: str | None = ...) -> dict:
    """The response is this refusal: its status and its machine code (and field, if given) —
    a 403 "must change password" is not a 403 "out of scope"."""
    assert r.status_code == status, (r.status_code, r.text[:300])
    err = error(r)
    assert err["code"] == code, err
    assert isinstance(err["message"], str) and err["message"], err
    if field is not ...:
        assert err["field"] == field, err
    return err


def admin(stack, username: str, password: str = DEMO_PASSWORD) -> Api:
    return Api(stack.url).login_admin(username, password)


# --- images ----------------------------------------------------------------------------------
def png_bytes(width: int = 600, height: int = 400, color=(200, 220, 240)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, "PNG")
    return buf.getvalue()


def jpeg_bytes(width: int = 413, height: int = 579, color=(255, 255, 255)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, "JPEG")
    return buf.getvalue()


# --- people ----------------------------------------------------------------------------------
_SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰"


def id_number(birth: str | None = None, region: str = "410102", seq: int | None = None,
              female: bool = False) -> str:
    """A valid GB 11643 ID number (check digit computed); random unless told."""
    if birth is None:
        birth = (date(1966, 1, 1) + timedelta(days=random.randrange(0, 12000))).strftime("%Y%m%d")
    seq = seq if seq is not None else random.randrange(0, 99)
    gender_digit = random.choice("02468" if female else "13579")
    return with_check_digit(f"{region}{birth}{seq:02d}{gender_digit}")


class Person:
    def __init__(self, id_number: str, name: str, phone: str, city_code: str = "410100"):
        self.id_number, self.name, self.phone, self.city_code = id_number, name, phone, city_code
        self.password = "Passw0rd2026"

    @property
    def birth_month(self) -> str:
        return f"{self.id_number[6:10]}-{self.id_number[10:12]}"

    def registration(self, code: str, **over) -> dict:
        data = {"city_code": self.city_code, "declared_grade": "4", "id_number": self.id_number,
                "birth_month": self.birth_month, "name": self.name, "phone": self.phone, "sms_code": code,
                "password": self.password, "password_confirm": self.password, "agreed": "true"}
        data.update(over)
        return data


def new_person(province: Api, city_code: str = "410100", on_roster: bool = True, **id_kw) -> Person:
    pid = id_number(**id_kw)
    name = random.choice(_SURNAMES) + "".join(random.choices(_GIVEN, k=2))
    phone = "139" + "".join(random.choices("0123456789", k=8))
    if on_roster:
        csv = f"id_number,name\n{pid},{name}\n".encode()
        r = province.put("/api/v1/admin/roster", files={"file": ("roster.csv", csv, "text/csv")})
        assert r.status_code == 200 and r.json()["refused_count"] == 0, r.text
    return Person(pid, name, phone, city_code)


def register(stack, api: Api, person: Person, **over) -> requests.Response:
    """Request a code, read it from the SMS outbox, register with an ID card photo."""
    r = api.post("/api/v1/sms-codes", json={"phone": person.phone, "purpose": "register"})
    assert r.status_code == 201, r.text
    code = stack.sms_code(person.phone)
    files = {"id_card_photo": ("id.png", png_bytes(), "image/png")}
    return api.post("/api/v1/registrations", data=person.registration(code, **over), files=files)


def registered(stack, province: Api, city_code: str = "410100", **kw) -> Person:
    p = new_person(province, city_code=city_code, **kw)
    r = register(stack, Api(stack.url), p)
    assert r.status_code == 201, r.text
    return p


def applicant(stack, province: Api, city_code: str = "410100", **kw) -> tuple[Api, Person]:
    """A registered, logged-in applicant old enough for any grade (born 1966–1985 unless told)."""
    birth = kw.pop("birth", None) or (date(1966, 1, 1) + timedelta(days=random.randrange(7300))).strftime("%Y%m%d")
    p = new_person(province, city_code=city_code, birth=birth, **kw)
    r = register(stack, Api(stack.url), p)
    assert r.status_code == 201, r.text
    api = Api(stack.url)
    assert api.login(p.id_number, p.password).status_code == 201
    return api, p


# --- the application form and its review -----------------------------------------------------
VALID_4_BY_YEARS = {"unit_id": "U410100-001", "education": "senior_high", "work_start": "2000-03",
                    "current_grade": 5, "current_trade": "T013", "target_trade": "T013", "route": "years",
                    "prohibited": False, "pledge": True, "exceptional": False, "frontline": True}


def upload(api: Api, kind: str, data: bytes, name: str = "photo.jpg", ctype: str = "image/jpeg"):
    return api.put(f"/api/v1/me/application/files/{kind}", files={"file": (name, data, ctype)})


def fill_valid(api: Api, **changes) -> dict:
    r = api.put("/api/v1/me/application", json={**VALID_4_BY_YEARS, **changes})
    assert r.status_code == 200, r.text
    assert upload(api, "personal_photo", jpeg_bytes(413, 579)).status_code == 200
    assert upload(api, "education_proof", png_bytes(800, 600), "edu.png", "image/png").status_code == 200
    return r.json()


def app_status(api: Api) -> str:
    return api.get("/api/v1/me/application").json()["status"]


def submitted(stack, province: Api, unit: str = "U410100-001", city: str = "410100", form: dict | None = None,
              **kw) -> tuple[Api, Person, str]:
    """An applicant whose eligible form was submitted and whose case review has opened."""
    api, p = applicant(stack, province, city_code=city, **kw)
    r = api.put("/api/v1/me/application", json={**VALID_4_BY_YEARS, "unit_id": unit, **(form or {})})
    assert r.status_code == 200, r.text
    assert upload(api, "personal_photo", jpeg_bytes(413, 579)).status_code == 200
    assert upload(api, "education_proof", png_bytes(), "e.png", "image/png").status_code == 200
    if (form or {}).get("route") == "certificate":
        assert upload(api, "grade_certificate", png_bytes(), "c.png", "image/png").status_code == 200
    r = api.post("/api/v1/me/application/submit")
    assert r.status_code == 200, r.text
    app_id = r.json()["application_id"]
    wait_for(lambda: province.get(f"/api/v1/admin/reviews/{app_id}").status_code == 200, what="the case")
    return api, p, app_id


def decide(api: Api, app_id: str, decision: str, reason: str | None = None, **extra) -> requests.Response:
    return api.post(f"/api/v1/admin/reviews/{app_id}/decisions", json={"decision": decision, "reason": reason,
                                                                       **extra})


# --- the broker ------------------------------------------------------------------------------
class BrokerTap:
    """Copies of the messages published to some topic exchanges of a system's vhost, taken
    by a consumer thread of the test (its own exclusive queues; the services lose nothing)."""

    def __init__(self, stack, exchanges: list[str], routing_key: str = "#"):
        import os
        import threading

        import kombu

        self.conn = kombu.Connection(stack.amqp_uri)
        tag = os.urandom(4).hex()
        self.queues = [kombu.Queue(f"tap-{tag}-{name}", kombu.Exchange(name, type="topic", durable=True),
                                   routing_key=routing_key, exclusive=True, auto_delete=True)
                       for name in exchanges]
        self.stop, self.ready = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self.ready.wait(10), "the tap did not start"

    def _run(self):
        channel = self.conn.channel()
        for queue in self.queues:
            queue.exchange(channel).declare()
        with self.conn.Consumer(self.queues, callbacks=[self._on], accept=["json"]):
            self.ready.set()
            while not self.stop.is_set():
                try:
                    self.conn.drain_events(timeout=0.2)
                except TimeoutError:
                    pass

    def _on(self, body, message):
        self.on_message(body, message)
        message.ack()

    def on_message(self, body, message) -> None:
        raise NotImplementedError

    def close(self):
        self.stop.set()
        self.thread.join(5)
        self.conn.release()


# --- payment -----------------------------------------------------------------------------------
PROVINCIAL_UNIT = ("U410000-001", "410000", "sz_rst")   # 省直: 主管单位 → 省评价中心


def approved(stack, province: Api, unit: str = PROVINCIAL_UNIT[0], city: str = PROVINCIAL_UNIT[1],
             supervisor: str = PROVINCIAL_UNIT[2], **kw) -> tuple[Api, Person, str]:
    """An applicant whose application passed every level (终审通过), known to payment."""
    api, person, app_id = submitted(stack, province, unit=unit, city=city, **kw)
    city_admin = {"410100": "zz_city", "410300": "ly_city"}.get(city)
    for reviewer in (admin(stack, supervisor), *([admin(stack, city_admin)] if city_admin else []), province):
        r = decide(reviewer, app_id, "pass")
        assert r.status_code == 200, r.text
    wait_for(lambda: api.get("/api/v1/me/payment").json().get("approved"), what="payment learning of 终审通过")
    return api, person, app_id


def relogin(stack, person) -> Api:
    """The applicant logged in again (after the clock moved, the old session idled out)."""
    api = Api(stack.url)
    assert api.login(person.id_number, person.password).status_code == 201
    return api


def pay_at_platform(stack, notice: str, outcome: str = "paid") -> dict:
    """What a payer does on the stand-in platform's page, as a script (API.md "Development
    stand-ins"): ``paid``, ``failed`` or ``paid_silently`` (the callback never comes)."""
    r = requests.post(f"{stack.nontax_url}/api/pay/{notice}", data={"outcome": outcome}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


# --- spreadsheets --------------------------------------------------------------------------------
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_bytes(rows: list[list]) -> bytes:
    """An Excel workbook whose first sheet holds ``rows`` (what an administrator uploads)."""
    import io

    import openpyxl

    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
