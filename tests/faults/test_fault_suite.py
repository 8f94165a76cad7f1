"""The fault suite (issue 13): nothing is lost, nothing happens twice, when service processes
die and the broker drops every connection in the middle of the registration rush.

The distributed run with two processes per service (``python -m deploy.run``), loaded through
the gateway by people doing what people do — registering, filling in and submitting the
form, reviewers passing cases at each level, applicants paying on the stand-in platform whose
callbacks come back — while a chaos thread kills a random service process with SIGKILL 20
times (the run starts it again) and closes every broker connection of the system 3 times.
The load behaves like a person: after a failure it did not cause (no answer, 502–504) it
tries again, and it accepts "already done" when the earlier try had in fact gone through.

Afterwards, within a bounded wait: every submitted application has exactly one review case;
every decision reached the applicant's view (the application's status is the case's);
every payment the platform settled gave exactly one paid order and the application knows it;
every outbox is empty; no event is parked (or those parked are listed, replayed, and the
checks hold after). The counts are printed.
"""
from __future__ import annotations

import random
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import date, timedelta

import requests
from harness import ADMIN_PASSWORD, ROOT, SERVICES
from helpers import Api, Person, id_number, jpeg_bytes, png_bytes

from deploy.seed import DEMO_PASSWORD

UNIT, CITY, SUPERVISOR_ADMIN = "U410000-001", "410000", "sz_rst"     # 省直: 主管单位 → 省评价中心
KILLS, DROPS = 20, 3
APPLICANTS = 24                       # submitted under chaos, at least
TRANSIENT = {502, 503, 504}
FORM = {"unit_id": UNIT, "education": "senior_high", "work_start": "2000-03", "current_grade": 5,
        "current_trade": "T013", "target_trade": "T013", "route": "years", "prohibited": False,
        "pledge": True, "exceptional": False, "frontline": True}


class Tally:
    """Every answer the load got, by outcome."""

    def __init__(self):
        self.counts: Counter = Counter()
        self._lock = threading.Lock()

    def add(self, outcome) -> None:
        with self._lock:
            self.counts[outcome] += 1


class Gave(Exception):
    pass


def persist(tally: Tally, send, done=lambda r: r.status_code < 300, settled=lambda r: False,
            tries: int = 60, what: str = ""):
    """``send()`` again after a failure the person did not cause, as a person would press
    again, until ``done(r)``; ``settled(r)``: the refusal says an earlier try went through."""
    last = None
    for _ in range(tries):
        try:
            r = send()
        except requests.RequestException as exc:
            tally.add(type(exc).__name__)
            last = exc
            time.sleep(0.3)
            continue
        tally.add(r.status_code)
        if done(r) or settled(r):
            return r
        if r.status_code not in TRANSIENT:
            raise Gave(f"{what}: {r.status_code} {r.text[:300]}")
        last = r
        time.sleep(0.3)
    raise Gave(f"{what}: gave up after {tries} tries ({last})")


def code_of(r) -> str | None:
    try:
        return r.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


class Chaos(threading.Thread):
    """``kills`` SIGKILLs of a random service process and ``drops`` closings of every broker
    connection of this system's vhost, spread over ``seconds``."""

    def __init__(self, stack, kills: int, drops: int, seconds: float):
        super().__init__(daemon=True)
        self.stack, self.kills, self.drops, self.seconds = stack, kills, drops, seconds
        self.killed: list[str] = []
        self.dropped = 0

    def run(self) -> None:
        events = ["kill"] * self.kills + ["drop"] * self.drops
        random.shuffle(events)
        pause = self.seconds / len(events)
        for event in events:
            time.sleep(pause)
            if event == "kill":
                pids = [(name, pid) for name, ps in self.stack.service_pids().items() for pid in ps]
                name, pid = random.choice(pids)
                subprocess.run(["kill", "-9", str(pid)], check=False)
                self.killed.append(name)
            else:
                subprocess.run(["rabbitmqctl", "-q", "close_all_connections", "--vhost", self.stack.vhost,
                                "fault suite"], check=False, capture_output=True)
                self.dropped += 1


class Applicants:
    """Threads that each register, fill in and submit, one person after another."""

    def __init__(self, stack, people: list[Person], tally: Tally, threads: int = 3):
        self.stack, self.people, self.tally = stack, list(people), tally
        self.submitted: dict[str, tuple[Person, str]] = {}       # application_id → (person, token)
        self.failures: list[str] = []
        self.new_codes = 0                # registrations that had to ask for a second code
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]
        for t in self._threads:
            t.start()

    def _next(self) -> Person | None:
        with self._lock:
            return self.people.pop() if self.people and not self._stop.is_set() else None

    def _run(self) -> None:
        while (person := self._next()) is not None:
            try:
                self._journey(person)
            except Gave as exc:
                self.failures.append(str(exc))

    def _journey(self, p: Person) -> None:
        t, stack = self.tally, self.stack
        api = Api(stack.url)
        files = {"id_card_photo": ("id.png", png_bytes(), "image/png")}
        for _ in range(5):
            persist(t, lambda: api.post("/api/v1/sms-codes", json={"phone": p.phone, "purpose": "register"}),
                    settled=lambda r: r.status_code == 429 and self._code(p) is not None, what="sms code")
            r = persist(t, lambda: api.post("/api/v1/registrations", data=p.registration(self._code(p)),
                                            files=files),
                        settled=lambda r: r.status_code == 409 or code_of(r) == "sms_code_invalid",
                        what="registration")
            if code_of(r) != "sms_code_invalid":
                break
            # the code is gone (used or never kept): as a person would, ask for a new one
            self.new_codes += 1
            time.sleep(2)                                # GONGKAO_SMS_RESEND_SECONDS of this run
        else:
            raise Gave("registration: no code would do")
        persist(t, lambda: api.login(p.id_number, p.password), what="login")
        persist(t, lambda: api.put("/api/v1/me/application", json=FORM), what="form")
        persist(t, lambda: api.put("/api/v1/me/application/files/personal_photo",
                                   files={"file": ("p.jpg", jpeg_bytes(413, 579), "image/jpeg")}), what="photo")
        persist(t, lambda: api.put("/api/v1/me/application/files/education_proof",
                                   files={"file": ("e.png", png_bytes(), "image/png")}), what="education")
        persist(t, lambda: api.post("/api/v1/me/application/submit"),
                settled=lambda r: r.status_code == 409 and api.get("/api/v1/me/application").json()
                .get("status") != "not_submitted", what="submit")
        app_id = persist(t, lambda: api.get("/api/v1/me/application"), what="form after submit").json()
        with self._lock:
            self.submitted[app_id["application_id"]] = (p, api.token)

    def _code(self, p: Person) -> str | None:
        try:
            return self.stack.sms_code(p.phone)
        except AssertionError:
            return None

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(300)


class Reviewers(threading.Thread):
    """The 主管单位 and the province pass every case waiting for them, until stopped."""

    def __init__(self, stack, tally: Tally):
        super().__init__(daemon=True)
        self.stack, self.tally = stack, tally
        self.decisions = 0
        self._halt = threading.Event()

    def run(self) -> None:
        who = [(SUPERVISOR_ADMIN, DEMO_PASSWORD), ("admin", ADMIN_PASSWORD)]
        reviewers = [self._login(*w) for w in who]
        while not self._halt.is_set():
            for n, api in enumerate(reviewers):
                try:
                    page = api.get("/api/v1/admin/reviews?status=pending&page_size=50")
                    self.tally.add(page.status_code)
                    if page.status_code == 401:       # idled out when the clock moved: log in again
                        reviewers[n] = self._login(*who[n])
                        continue
                    items = page.json()["items"] if page.status_code == 200 else []
                    for item in items:
                        r = api.post(f"/api/v1/admin/reviews/{item['application_id']}/decisions",
                                     json={"decision": "pass", "reason": None})
                        self.tally.add(r.status_code)
                        self.decisions += r.status_code == 200
                except requests.RequestException as exc:
                    self.tally.add(type(exc).__name__)
            self._halt.wait(0.3)

    def _login(self, username: str, password: str) -> Api:
        api = Api(self.stack.url)
        r = persist(self.tally, lambda: api.post("/api/v1/admin/sessions",
                                                 json={"username": username, "password": password}),
                    what=f"login {username}")
        api.token = r.json()["token"]
        return api

    def stop(self) -> None:
        self._halt.set()
        self.join(60)


def wait_until(predicate, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.5)


def rows(stack, service: str, sql: str) -> list[tuple]:
    import sqlalchemy as sa

    engine = sa.create_engine(f"postgresql+psycopg2://postgres@127.0.0.1:5432/{stack.dbs[service]}")
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()


def parked(stack, service: str) -> list[dict]:
    from kit.parked import list_parked

    return list_parked(service, f"postgresql+psycopg2://postgres@127.0.0.1:5432/{stack.dbs[service]}")


def test_nothing_is_lost_or_doubled_when_processes_die_and_the_broker_drops(supervised):
    stack, tally = supervised, Tally()
    province = Api(stack.url).login_admin("admin", ADMIN_PASSWORD)
    year = province.get("/api/v1/years/current").json()["year"]
    r = province.put(f"/api/v1/admin/years/{year}/fees", json={"fees_fen": {"5": 12000, "4": 15000, "3": 18000,
                                                                            "2": 24000, "1": 30000},
                                                               "online_payment_cities": [CITY]})
    assert r.status_code == 200, r.text
    people = []
    for _ in range(APPLICANTS * 3):          # on the roster up front (one import), more than will be used
        birth = (date(1966, 1, 1) + timedelta(days=random.randrange(7300))).strftime("%Y%m%d")
        people.append(Person(id_number(birth=birth), "测试" + random.choice("甲乙丙丁戊己庚辛"),
                             "139" + "".join(random.choices("0123456789", k=8)), CITY))
    csv = "id_number,name\n" + "".join(f"{p.id_number},{p.name}\n" for p in people)
    r = province.put("/api/v1/admin/roster", files={"file": ("roster.csv", csv.encode(), "text/csv")})
    assert r.status_code == 200 and r.json()["refused_count"] == 0, r.text

    # --- registrations, submissions and decisions under chaos ---------------------------------
    started = time.monotonic()
    chaos = Chaos(stack, kills=14, drops=2, seconds=45)
    applicants = Applicants(stack, people, tally)
    reviewers = Reviewers(stack, tally)
    chaos.start()
    reviewers.start()
    chaos.join()
    wait_until(lambda: len(applicants.submitted) >= APPLICANTS, 120, "applicants")
    applicants.stop()
    submitted = dict(applicants.submitted)
    assert len(submitted) >= APPLICANTS and not applicants.failures, applicants.failures[:5]

    def all_approved() -> bool:
        found = rows(stack, "review", "SELECT status, count(*) FROM cases GROUP BY status")
        return dict(found).get("approved", 0) >= len(submitted)

    assert wait_until(all_approved, 90, "approvals"), rows(stack, "review", "SELECT status, count(*) FROM cases "
                                                                            "GROUP BY status")

    # --- payments under chaos: paying opens 24 h after 终审通过 ----------------------------------
    stack.set_clock("+90000")
    chaos_b = Chaos(stack, kills=KILLS - 14, drops=DROPS - 2, seconds=20)
    chaos_b.start()
    notices: dict[str, str] = {}
    for app_id, (person, _) in list(submitted.items())[:12]:
        api = Api(stack.url)
        persist(tally, lambda: api.login(person.id_number, person.password), what="login to pay")

        def order_or_open(api=api):
            return api.post("/api/v1/me/payment/orders", json={"receipt_title": "河南省职业技能等级评价指导中心"})

        r = persist(tally, order_or_open, settled=lambda r: r.status_code == 409, what="order")
        if r.status_code == 409:              # the earlier try made it: the open order is on the page
            mine = persist(tally, lambda api=api: api.get("/api/v1/me/payment"), what="payment page").json()
            order = next(o for o in mine["orders"] if o["status"] == "open")
        else:
            order = r.json()
        r = requests.post(f"{stack.nontax_url}/api/pay/{order['payment_notice_no']}", data={"outcome": "paid"},
                          timeout=30)
        assert r.status_code == 200, r.text
        notices[app_id] = order["payment_notice_no"]
    chaos_b.join()
    reviewers.stop()

    # --- afterwards, within a bounded wait --------------------------------------------------
    def paid_everywhere() -> bool:
        paid = {a for (a,) in rows(stack, "payment", "SELECT application_id FROM payables WHERE status = 'paid'")}
        known = {a for (a,) in rows(stack, "application", "SELECT id FROM applications WHERE paid_at IS NOT NULL")}
        return set(notices) <= paid and set(notices) <= known

    def outboxes_empty() -> bool:
        return all(rows(stack, s, "SELECT count(*) FROM outbox WHERE published_at IS NULL")[0][0] == 0
                   for s in SERVICES)

    settled = wait_until(lambda: paid_everywhere() and outboxes_empty(), 120, "settled")
    parked_events = {s: parked(stack, s) for s in SERVICES}
    replayed = 0
    for service, events in parked_events.items():
        for event in events:
            print(f"parked in {service}: {event}")
            subprocess.run([sys.executable, "-m", "kit.parked", service, "--replay", str(event["id"])], cwd=ROOT,
                           env=stack.env, check=True, capture_output=True)
            replayed += 1
    if replayed:
        settled = wait_until(lambda: paid_everywhere() and outboxes_empty(), 60, "settled after replay")

    apps = dict(rows(stack, "application", "SELECT id, status FROM applications WHERE status <> 'not_submitted'"))
    cases = dict(rows(stack, "review", "SELECT application_id, status FROM cases"))
    doubled_steps = rows(stack, "review", "SELECT application_id, round, level, decision, count(*) FROM steps "
                                          "GROUP BY 1, 2, 3, 4 HAVING count(*) > 1")
    paid_orders = Counter(a for (a,) in rows(stack, "payment", "SELECT application_id FROM orders "
                                                               "WHERE status = 'paid'"))
    payables = dict(rows(stack, "payment", "SELECT application_id, status FROM payables"))
    lost = ([a for a in submitted if a not in apps] + [a for a in apps if a not in cases]
            + [a for a in apps if cases.get(a) != apps[a]]
            + [a for a in notices if payables.get(a) != "paid" or paid_orders[a] == 0])
    duplicated = doubled_steps + [a for a, n in paid_orders.items() if n > 1]
    requests_total = sum(tally.counts.values())
    print(f"\nfault suite: {len(chaos.killed) + len(chaos_b.killed)} kills "
          f"({dict(Counter(chaos.killed + chaos_b.killed))}), {chaos.dropped + chaos_b.dropped} connection drops, "
          f"{requests_total} requests ({dict(tally.counts)}), {len(submitted)} submitted, {len(cases)} cases, "
          f"{sum(1 for s in cases.values() if s == 'approved')} approved, {reviewers.decisions} decisions, "
          f"{len(notices)} paid at the platform, {sum(paid_orders.values())} paid orders, "
          f"{applicants.new_codes} second SMS codes, {replayed} parked and replayed, lost = {len(lost)}, duplicated = {len(duplicated)}, "
          f"{time.monotonic() - started:.0f} s")
    assert len(chaos.killed) + len(chaos_b.killed) == KILLS and chaos.dropped + chaos_b.dropped == DROPS
    assert settled, "outboxes not empty or payments not known everywhere in time"
    assert lost == [] and duplicated == [], (lost, duplicated)
    assert set(apps) == set(cases) and set(submitted) <= set(apps)
    stack.set_clock(None)
