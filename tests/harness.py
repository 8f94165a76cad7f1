"""Starts the real system for the tests: every service as its own `nameko run` process on
RabbitMQ (a fresh vhost) and PostgreSQL (fresh databases), the gateway under gunicorn,
seeded with the demo data. Stops only what it started, by PID."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SERVICES = ("identity", "application", "review", "payment", "documents")
AMQP_HOST, AMQP_PORT = "127.0.0.1", 5672
PG_HOST, PG_PORT = "127.0.0.1", 5432
ADMIN_PASSWORD = "Admin2026test"


def port_open(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=2):
        return True
    return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_infrastructure() -> list[str]:
    problems = []
    if not port_open(AMQP_HOST, AMQP_PORT):
        problems.append("RabbitMQ is not answering on 127.0.0.1:5672 (start it: rabbitmq-server -detached)")
    if not port_open(PG_HOST, PG_PORT):
        problems.append("PostgreSQL is not answering on 127.0.0.1:5432 (start it: pg_ctlcluster "
                        "--skip-systemctl-redirect $(ls /etc/postgresql) main start)")
    if not shutil.which("rabbitmqctl"):
        problems.append("rabbitmqctl is not on PATH: the tests need it to create their own vhost")
    return problems


def _pg(sql: str) -> None:
    import psycopg2

    conn = psycopg2.connect(host=PG_HOST, port=PG_PORT, user="postgres", dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql)
    conn.close()


@contextlib.contextmanager
def running(workdir: Path, supervised: str | None = None, **settings: str):
    """A started system (its logs printed when it fails to start), stopped afterwards;
    ``supervised``: as ``python -m deploy.run`` with that many instances per service."""
    stack = Stack(workdir, **settings)
    try:
        stack.start_supervised(supervised) if supervised else stack.start()
    except Exception:
        for key in ("run",) if supervised else ("identity", "application", "gateway"):
            print(f"--- {key} log ---\n{stack.log(key)}")
        stack.stop()
        raise
    try:
        yield stack
    finally:
        stack.stop()


class Stack:
    def __init__(self, workdir: Path, **settings: str):
        """``settings``: extra GONGKAO_* environment for every process of this stack."""
        self.tag = uuid.uuid4().hex[:8]
        self.workdir = workdir
        self.vhost = f"gk-test-{self.tag}"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.nontax_port = free_port()
        self.nontax_url = f"http://127.0.0.1:{self.nontax_port}"
        self.amqp_uri = f"amqp://guest:guest@{AMQP_HOST}:{AMQP_PORT}/{self.vhost}"
        self.dbs = {s: f"gk_test_{self.tag}_{s}" for s in SERVICES}
        self.sms_outbox = workdir / "sms-outbox.jsonl"
        self.clock_file = workdir / "clock"
        self.procs: dict[str, subprocess.Popen] = {}
        self.env = {
            **os.environ,
            "PYTHONWARNINGS": "ignore::DeprecationWarning",
            "GONGKAO_AMQP_URI": self.amqp_uri,
            "GONGKAO_DATA_DIR": str(workdir / "data"),
            "GONGKAO_SMS_OUTBOX": str(self.sms_outbox),
            "GONGKAO_TEST_CLOCK_FILE": str(self.clock_file),
            "GONGKAO_RPC_TIMEOUT": "8",
            "GONGKAO_GATEWAY_DRAIN_SECONDS": "0",       # tests/faults/test_graceful_gateway.py drains
            # each test client names its own source address (helpers.Api); the gateway
            # believes X-Forwarded-For from loopback only
            "GONGKAO_TRUSTED_PROXIES": "127.0.0.1/32",
            "GONGKAO_SOURCE_LOGIN_PER_10MIN": "1000",
            "GONGKAO_SOURCE_SMS_PER_10MIN": "1000",
            # the stand-in payment platform of this system; its retries fifty times faster
            "GONGKAO_NONTAX_PORT": str(self.nontax_port),
            "GONGKAO_NONTAX_URL": self.nontax_url,
            "GONGKAO_PUBLIC_URL": self.url,
            "GONGKAO_NONTAX_RETRY_SCALE": "0.02",
            **{f"GONGKAO_{s.upper()}_DB_URL": f"postgresql+psycopg2://postgres@{PG_HOST}:{PG_PORT}/{db}"
               for s, db in self.dbs.items()},
            **settings,
        }

    # --- lifecycle ------------------------------------------------------------------
    def start(self) -> Stack:
        subprocess.run(["rabbitmqctl", "-q", "add_vhost", self.vhost], check=True, capture_output=True)
        subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*"],
                       check=True, capture_output=True)
        for db in self.dbs.values():
            _pg(f'CREATE DATABASE "{db}"')
        subprocess.run([sys.executable, "-m", "kit.migrate"], cwd=ROOT, env=self.env, check=True,
                       capture_output=True)
        for name in SERVICES:
            self.start_service(name)
        self.start_nontax()
        self.start_gateway()
        self.wait_ready()
        self.seed()
        return self

    def start_supervised(self, instances: str = "2", timeout: float = 150) -> Stack:
        """The distributed run as an operator starts it (``python -m deploy.run``): it migrates,
        starts ``instances`` processes per service, the stand-in platform and the gateway,
        seeds, and starts again any service process that dies (issue 13)."""
        subprocess.run(["rabbitmqctl", "-q", "add_vhost", self.vhost], check=True, capture_output=True)
        subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*"],
                       check=True, capture_output=True)
        for db in self.dbs.values():
            _pg(f'CREATE DATABASE "{db}"')
        self._spawn("run", [sys.executable, "-m", "deploy.run"], {
            "GONGKAO_SERVICE_INSTANCES": instances, "GONGKAO_HOST": "127.0.0.1", "GONGKAO_PORT": str(self.port),
            "GONGKAO_ADMIN_PASSWORD": ADMIN_PASSWORD, "GONGKAO_STOP_GRACE_SECONDS": "10"})
        deadline = time.time() + timeout
        while "gongkao is running" not in self.log("run"):
            if self.procs["run"].poll() is not None or time.time() > deadline:
                raise RuntimeError(f"the distributed run did not start:\n{self.log('run')}")
            time.sleep(0.3)
        return self

    def _session_pids(self) -> list[int]:
        sid = self.procs["run"].pid
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and int(entry.name) != sid:
                with contextlib.suppress(OSError, ValueError, IndexError):
                    if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[3]) == sid:
                        pids.append(int(entry.name))
        return pids

    def service_pids(self) -> dict[str, list[int]]:
        """The service processes of the supervised run (its session), by service: their
        command lines name ``services.<name>.service`` (API.md "Operations")."""
        sid = self.procs["run"].pid
        found: dict[str, list[int]] = {name: [] for name in SERVICES}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[3]) != sid or fields[0] == "Z":      # another session, or a zombie
                continue
            for name in SERVICES:
                if f"services.{name}.service".encode() in cmdline:
                    found[name].append(int(entry.name))
        return {name: sorted(pids) for name, pids in found.items()}

    def _spawn(self, key: str, argv: list[str], extra_env: dict | None = None) -> None:
        log = open(self.workdir / f"{key}.log", "ab")  # noqa: SIM115 - lives with the process
        self.procs[key] = subprocess.Popen(argv, cwd=ROOT, env={**self.env, **(extra_env or {})}, stdout=log,
                                           stderr=subprocess.STDOUT, start_new_session=True)

    def start_service(self, name: str, key: str | None = None, **extra_env: str) -> None:
        """A service process (``key``: another instance of it, beside the first)."""
        self._spawn(key or name, [str(BIN / "nameko"), "run", f"services.{name}.service",
                                  "--config", "deploy/nameko.yaml"], extra_env)

    def stop_service(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)

    def kill_service(self, name: str) -> None:
        """As a crash: SIGKILL, no graceful stop (running workers die where they are)."""
        proc = self.procs.pop(name, None)
        if proc and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)

    def start_nontax(self) -> None:
        self._spawn("nontax", [sys.executable, "-m", "deploy.nontax"])

    def start_gateway(self) -> None:
        self._spawn("gateway", [str(BIN / "gunicorn"), "-k", "gthread", "-w", "2", "--threads", "8",
                                "-b", f"127.0.0.1:{self.port}", "--graceful-timeout", "5",
                                "gateway.wsgi:app"])

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            for key, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{key} exited early:\n{self.log(key)}")
            try:
                last = requests.get(self.url + "/readyz", timeout=5)
                if last.status_code == 200 and ("nontax" not in self.procs
                                                or port_open("127.0.0.1", self.nontax_port)):
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"system not ready: {last.text if last is not None else 'no answer'}")

    def seed(self) -> None:
        code = ("import sys; from nameko.standalone.rpc import ClusterRpcProxy; from deploy.seed import seed;\n"
                "with ClusterRpcProxy({'AMQP_URI': sys.argv[1]}, timeout=30) as rpc: seed(rpc, sys.argv[2])")
        subprocess.run([sys.executable, "-c", code, self.amqp_uri, ADMIN_PASSWORD], cwd=ROOT, env=self.env,
                       check=True, capture_output=True)

    def stop(self) -> None:
        leftovers = self._session_pids() if "run" in self.procs else []
        # every process told at once, then waited for together: a system stops in the time of
        # its slowest process, not the sum of them all
        procs = [self.procs.pop(key) for key in list(self.procs)]
        for proc in procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        for pid in leftovers:             # a supervised child its supervisor did not stop
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for db in self.dbs.values():
            with contextlib.suppress(Exception):
                _pg(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", self.vhost], capture_output=True)

    def log(self, key: str) -> str:
        path = self.workdir / f"{key}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    # --- helpers for tests ----------------------------------------------------------
    def sms_code(self, phone: str, purpose: str = "register") -> str:
        for line in reversed(self.sms_outbox.read_text(encoding="utf-8").splitlines()):
            msg = json.loads(line)
            if msg["phone"] == phone and msg["purpose"] == purpose:
                return msg["code"]
        raise AssertionError(f"no SMS for {phone}/{purpose}")

    def db_scalar(self, service: str, sql: str, **params):
        """One value read from a service's own database (tests only look; nothing else does)."""
        import sqlalchemy as sa

        engine = sa.create_engine(f"postgresql+psycopg2://postgres@{PG_HOST}:{PG_PORT}/{self.dbs[service]}")
        try:
            with engine.connect() as conn:
                return conn.execute(sa.text(sql), params).scalar()
        finally:
            engine.dispose()

    def set_clock(self, value: str | None) -> None:
        """``None``: real time; ``"+3600"``: an offset in seconds; or an ISO time (frozen)."""
        if value is None:
            self.clock_file.unlink(missing_ok=True)
        else:
            # whole or not at all: a service reading it mid-write must never see it empty
            tmp = self.clock_file.with_suffix(".tmp")
            tmp.write_text(value)
            os.replace(tmp, self.clock_file)
