"""The one-command local run: in-memory broker, SQLite, demo data (issue #2). Started
exactly as `make run` starts it, used as a new user would, stopped by its PID."""
from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from harness import ROOT, free_port
from helpers import jpeg_bytes, png_bytes, wait_for

from deploy.seed import DEMO_PASSWORD, ROSTER, SUPERVISORS, trades_csv
from kit import regions

SHIPPED_TRADES = len(list(csv.DictReader(io.StringIO(trades_csv().decode("utf-8-sig")))))

pytestmark = pytest.mark.smoke


def start(tmp_path: Path, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGKAO_")}
    nontax = free_port()
    env.update(GONGKAO_DATA_DIR=str(tmp_path / "var"), GONGKAO_PORT=str(port), PYTHONWARNINGS="ignore",
               GONGKAO_NONTAX_PORT=str(nontax), GONGKAO_NONTAX_URL=f"http://127.0.0.1:{nontax}")
    log = open(tmp_path / "run.log", "ab")  # noqa: SIM115
    return subprocess.Popen([sys.executable, "-m", "deploy.run"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)


def wait_ready(proc, url: str, tmp_path: Path) -> None:
    def ready() -> bool:
        assert proc.poll() is None, (tmp_path / "run.log").read_text()[-3000:]
        try:
            return requests.get(url + "/readyz", timeout=3).status_code == 200 \
                and "gongkao is running" in (tmp_path / "run.log").read_text()
        except requests.RequestException:
            return False

    wait_for(ready, timeout=120, interval=0.5, what="the embedded run to be ready")


def stop(proc) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def test_embedded_run_registers_and_logs_in(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start(tmp_path, port)
    try:
        wait_ready(proc, url, tmp_path)
        log = (tmp_path / "run.log").read_text()
        assert f"http://127.0.0.1:{port}" in log and "user: admin" in log
        password = (tmp_path / "var" / "admin-password").read_text().strip()
        assert f"password: {password}" in log
        assert {c["code"] for c in requests.get(url + "/api/v1/cities").json()} == regions.city_codes()
        zz_units = requests.get(url + "/api/v1/units", params={"city_code": "410100"}).json()
        assert {u["supervisor"]["id"] for u in zz_units} == {i for i, _, c, _, _ in SUPERVISORS if c == "410100"}
        provincial = requests.get(url + "/api/v1/units", params={"city_code": "410000"}).json()
        assert {u["unit_id"] for u in provincial} == {"U410000-001", "U410000-002", "U410000-003"}

        person = ROSTER[0]
        r = requests.post(url + "/api/v1/sms-codes", json={"phone": person.phone, "purpose": "register"})
        assert r.status_code == 201, r.text
        outbox = tmp_path / "var" / "sms-outbox.jsonl"
        code = json.loads(outbox.read_text().splitlines()[-1])["code"]
        form = {"city_code": person.city_code, "declared_grade": "4", "id_number": person.id_number,
                "birth_month": f"{person.id_number[6:10]}-{person.id_number[10:12]}", "name": person.name,
                "phone": person.phone, "sms_code": code, "password": "Smoke2026pass",
                "password_confirm": "Smoke2026pass", "agreed": "true"}
        r = requests.post(url + "/api/v1/registrations", data=form,
                          files={"id_card_photo": ("id.png", png_bytes(), "image/png")})
        assert r.status_code == 201, r.text
        r = requests.post(url + "/api/v1/sessions", json={"id_number": person.id_number, "password": "Smoke2026pass"})
        assert r.status_code == 201
        # events cross the in-memory broker: submit, and the 主管单位 finds the case in its queue
        me = {"Authorization": f"Bearer {r.json()['token']}"}
        form = {"unit_id": "U410100-001", "education": "senior_high", "work_start": "2000-03", "current_grade": 5,
                "current_trade": "T013", "target_trade": "T013", "route": "years", "prohibited": False,
                "pledge": True}
        assert requests.put(url + "/api/v1/me/application", json=form, headers=me).status_code == 200
        for kind, data, ctype in (("personal_photo", jpeg_bytes(413, 579), "image/jpeg"),
                                  ("education_proof", png_bytes(), "image/png")):
            r = requests.put(url + f"/api/v1/me/application/files/{kind}", headers=me,
                             files={"file": ("f", data, ctype)})
            assert r.status_code == 200, r.text
        r = requests.post(url + "/api/v1/me/application/submit", headers=me)
        assert r.status_code == 200, r.text
        app_id = r.json()["application_id"]
        sup = requests.post(url + "/api/v1/admin/sessions", json={"username": "zz_wsjw", "password": DEMO_PASSWORD})
        sup_auth = {"Authorization": f"Bearer {sup.json()['token']}"}
        queue = wait_for(lambda: (q := requests.get(url + "/api/v1/admin/reviews", headers=sup_auth).json())
                         ["total"] == 1 and q, what="the submitted event at the review service")
        assert [i["application_id"] for i in queue["items"]] == [app_id]   # a fresh run: the only case
        r = requests.post(url + "/api/v1/admin/sessions", json={"username": "zz_city", "password": DEMO_PASSWORD})
        assert r.status_code == 201 and r.json()["role"] == "city"
        r = requests.post(url + "/api/v1/admin/sessions", json={"username": "admin", "password": password})
        assert r.status_code == 201 and r.json()["role"] == "province"
    finally:
        stop(proc)
    assert proc.returncode is not None
    # the data (SQLite databases, the SMS outbox with its codes, the password file) is the
    # operator's alone: nothing under var/ is readable by other users
    exposed = [(str(p.relative_to(tmp_path)), oct(p.stat().st_mode & 0o777)) for p in (tmp_path / "var").rglob("*")
               if p.stat().st_mode & 0o077]
    assert exposed == []

    # a second start keeps the data (SQLite under var/) and seeds nothing twice
    proc = start(tmp_path, port)
    try:
        wait_ready(proc, url, tmp_path)
        r = requests.post(url + "/api/v1/sessions", json={"id_number": ROSTER[0].id_number,
                                                          "password": "Smoke2026pass"})
        assert r.status_code == 201, r.text
    finally:
        stop(proc)


def test_distributed_run_on_rabbitmq_and_postgresql(tmp_path):
    """With GONGKAO_AMQP_URI and the database URLs set, the same command runs each service as
    its own process on RabbitMQ and PostgreSQL."""
    import uuid

    from harness import SERVICES, _pg, check_infrastructure

    assert not check_infrastructure()
    tag = uuid.uuid4().hex[:8]
    vhost = f"gk-run-{tag}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True, capture_output=True)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
                   check=True, capture_output=True)
    dbs = {s: f"gk_run_{tag}_{s}" for s in SERVICES}
    for db in dbs.values():
        _pg(f'CREATE DATABASE "{db}"')
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGKAO_")}
    nontax = free_port()
    env.update(GONGKAO_DATA_DIR=str(tmp_path / "var"), GONGKAO_PORT=str(port), PYTHONWARNINGS="ignore",
               GONGKAO_NONTAX_PORT=str(nontax), GONGKAO_NONTAX_URL=f"http://127.0.0.1:{nontax}",
               GONGKAO_AMQP_URI=f"amqp://guest:guest@127.0.0.1:5672/{vhost}", GONGKAO_ADMIN_PASSWORD="Dist2026pass",
               **{f"GONGKAO_{s.upper()}_DB_URL": f"postgresql+psycopg2://postgres@127.0.0.1:5432/{db}"
                  for s, db in dbs.items()})
    log = open(tmp_path / "run.log", "ab")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "deploy.run"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(proc, url, tmp_path)
        # its session (each service process has a process group of its own: deploy.supervise)
        children = subprocess.run(["pgrep", "-s", str(proc.pid), "-f", "nameko run"], capture_output=True,
                                  text=True).stdout.split()
        assert len(children) == len(SERVICES)
        r = requests.post(url + "/api/v1/admin/sessions", json={"username": "admin", "password": "Dist2026pass"})
        assert r.status_code == 201 and r.json()["role"] == "province"
        # a password the operator gave is never echoed: container logs keep what is printed
        banner = (tmp_path / "run.log").read_text()
        assert "Dist2026pass" not in banner and "password: (GONGKAO_ADMIN_PASSWORD)" in banner
        assert len(requests.get(url + "/api/v1/trades").json()) == SHIPPED_TRADES
    finally:
        stop(proc)
        for db in dbs.values():
            _pg(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True)
