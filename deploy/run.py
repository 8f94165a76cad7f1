"""The run command (``make run``).

Without ``GONGKAO_AMQP_URI``: the embedded run — every service and the gateway in one
process on kombu's in-memory broker, SQLite files under ``GONGKAO_DATA_DIR`` (``var/``),
SMS codes in ``var/sms-outbox.jsonl``, demo data loaded.

With ``GONGKAO_AMQP_URI`` (and ``GONGKAO_<SERVICE>_DB_URL``): each service runs as its own
``nameko run`` process on RabbitMQ, the gateway under gunicorn; this command migrates,
starts them, seeds, and stops them all on Ctrl-C.
"""
from __future__ import annotations

import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def admin_password(data_dir: Path) -> str:
    """GONGKAO_ADMIN_PASSWORD, else one generated on the first run and kept (0600)."""
    given = os.environ.get("GONGKAO_ADMIN_PASSWORD")
    if given:
        return given
    path = data_dir / "admin-password"
    if path.exists():
        return path.read_text().strip()
    password = "Gk" + secrets.token_urlsafe(9).replace("-", "x").replace("_", "y") + "7"
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(password + "\n")
    return password


def banner(url: str, password: str, mode: str) -> None:
    from deploy.seed import DEMO_PASSWORD
    from kit.config import settings

    # a password the operator gave is theirs: never echoed (logs of a container keep it)
    shown = "(GONGKAO_ADMIN_PASSWORD)" if os.environ.get("GONGKAO_ADMIN_PASSWORD") else password
    print(
        f"\n  gongkao is running ({mode})\n"
        f"  applicants:      {url}/\n"
        f"  administrators:  {url}/admin/login   user: admin   password: {shown}\n"
        f"  demo reviewers and city/county admins: see README (password {DEMO_PASSWORD})\n"
        f"  SMS codes are written to {settings().sms_outbox_path}\n"
        f"  the stand-in non-tax payment platform: {settings().nontax_url}\n"
        "  stop with Ctrl-C\n",
        flush=True,
    )


def start_nontax() -> subprocess.Popen:
    """The development stand-in of the non-tax payment platform (R-F5), beside the system."""
    return subprocess.Popen([sys.executable, "-m", "deploy.nontax"], cwd=ROOT,
                            env={**os.environ, "PYTHONWARNINGS": "ignore"})


def embedded() -> None:
    import eventlet

    eventlet.monkey_patch()

    from eventlet import wsgi
    from nameko.runners import ServiceRunner
    from nameko.standalone.rpc import ClusterRpcProxy

    from kit import memory_transport
    from kit.config import SERVICES, settings
    from kit.logs import setup
    from kit.migrate import upgrade

    memory_transport.install()
    setup(os.environ.get("GONGKAO_LOG_LEVEL", "INFO"))
    logging.getLogger("kombu.connection").setLevel(logging.ERROR)  # "no hostname": memory:// has none
    cfg = settings()
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    for name in SERVICES:
        upgrade(name)

    import importlib

    runner = ServiceRunner({"AMQP_URI": memory_transport.AMQP_URI, "max_workers": 20})
    for name in SERVICES:
        module = importlib.import_module(f"services.{name}.service")
        runner.add_service(next(obj for obj in vars(module).values()
                                if isinstance(obj, type) and getattr(obj, "name", None) == name
                                and obj.__module__ == module.__name__))
    runner.start()

    from deploy.seed import seed
    from gateway.app import create_app

    nontax = start_nontax()
    password = admin_password(cfg.data_dir)
    with ClusterRpcProxy({"AMQP_URI": memory_transport.AMQP_URI}, timeout=30) as rpc:
        seed(rpc, password)
    app = create_app(memory_transport.AMQP_URI)
    url = f"http://{cfg.host}:{cfg.port}"
    sock = eventlet.listen((cfg.host, cfg.port))
    banner(url, password, "embedded: one process, in-memory broker, SQLite")

    def stop(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        wsgi.server(sock, app, log_output=False, max_size=200)
    except KeyboardInterrupt:
        pass
    finally:
        nontax.terminate()
        runner.stop()


def distributed() -> None:
    from kit.config import SERVICES, settings
    from kit.migrate import upgrade

    cfg = settings()
    for name in SERVICES:
        upgrade(name)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    procs: list[subprocess.Popen] = []
    for name in SERVICES:
        procs.append(subprocess.Popen([str(BIN / "nameko"), "run", f"services.{name}.service",
                                       "--config", str(ROOT / "deploy" / "nameko.yaml")], cwd=ROOT, env=env))
    procs.append(start_nontax())
    procs.append(subprocess.Popen([str(BIN / "gunicorn"), "-k", "gthread", "-w",
                                   os.environ.get("GONGKAO_GATEWAY_WORKERS", "2"), "--threads", "8",
                                   "-b", f"{cfg.host}:{cfg.port}", "gateway.wsgi:app"], cwd=ROOT, env=env))

    def stop(*_):
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()

    signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
    try:
        import requests
        from nameko.standalone.rpc import ClusterRpcProxy

        url = f"http://{cfg.host}:{cfg.port}"
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                if requests.get(url + "/readyz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if any(p.poll() is not None for p in procs):
                raise SystemExit("a process exited during start-up; see its output above")
            time.sleep(0.5)
        else:
            raise SystemExit("the system did not become ready within 90 s")
        from deploy.seed import seed

        password = admin_password(cfg.data_dir)
        with ClusterRpcProxy({"AMQP_URI": cfg.amqp_uri}, timeout=30) as rpc:
            seed(rpc, password, demo=os.environ.get("GONGKAO_DEMO_DATA", "1") == "1")
        banner(url, password, "one process per service on RabbitMQ")
        while all(p.poll() is None for p in procs):
            time.sleep(1)
        raise SystemExit("a process exited; stopping the others")
    except KeyboardInterrupt:
        pass
    finally:
        stop()


def main() -> None:
    os.chdir(ROOT)
    # where the payment platform sends the payer back and calls back: this gateway
    os.environ.setdefault("GONGKAO_PUBLIC_URL", f"http://{os.environ.get('GONGKAO_HOST', '127.0.0.1')}:"
                                                f"{os.environ.get('GONGKAO_PORT', '8000')}")
    os.umask(0o077)  # data files (SQLite databases, the SMS outbox, the password file) are the operator's only
    if os.environ.get("GONGKAO_AMQP_URI"):
        distributed()
    else:
        embedded()


if __name__ == "__main__":
    main()
