"""Shared fixtures. The whole system runs once per test session on the real RabbitMQ and
PostgreSQL (see harness.py); a missing broker or database fails the run, never skips it."""
from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).parent))

from harness import ADMIN_PASSWORD, Stack, check_infrastructure  # noqa: E402


def pytest_collection_modifyitems(session, config, items):
    """Tests that run the system need RabbitMQ and PostgreSQL: fail at once, clearly, when
    they are not there (never skip)."""
    if any("stack" in getattr(item, "fixturenames", ()) for item in items):
        problems = check_infrastructure()
        if problems:
            pytest.exit("Cannot run the tests:\n  - " + "\n  - ".join(problems), returncode=3)


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Stack:
    s = Stack(tmp_path_factory.mktemp("stack"))
    try:
        s.start()
    except Exception:
        for key in ("identity", "application", "gateway"):
            print(f"--- {key} log ---\n{s.log(key)}")
        s.stop()
        raise
    yield s
    s.stop()


@pytest.fixture(autouse=True)
def _real_clock(request):
    """Every test starts and ends on the real clock."""
    if "stack" not in request.fixturenames:
        yield
        return
    s = request.getfixturevalue("stack")
    s.set_clock(None)
    yield
    s.set_clock(None)


class Api:
    """A small JSON client for the gateway; keeps the bearer token of whoever logged in."""

    def __init__(self, base: str):
        self.base = base
        self.http = requests.Session()
        self.token: str | None = None

    def _headers(self, headers=None):
        h = dict(headers or {})
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


@pytest.fixture
def api(stack) -> Api:
    return Api(stack.url)


@pytest.fixture
def province(stack) -> Api:
    return Api(stack.url).login_admin("admin", ADMIN_PASSWORD)


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


_SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰"


def id_number(birth: str | None = None, region: str = "410102", seq: int | None = None,
              female: bool = False) -> str:
    """A valid GB 11643 ID number (check digit computed); random unless told."""
    import random
    from datetime import date, timedelta

    from deploy.seed import with_check_digit

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
    import random

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


# --- pages: one headless Debian Chromium for every browser test ----------------------------
# Nothing is downloaded: playwright drives /usr/bin/chromium, which `make test` installs.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--lang=zh-CN"]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
