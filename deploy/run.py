"""The run command (``make run``).

Without ``GONGKAO_AMQP_URI``: the embedded run — every service and the gateway in one
process on kombu's in-memory broker, SQLite files under ``GONGKAO_DATA_DIR`` (``var/``),
SMS codes and notices in ``var/sms-outbox.jsonl``, demo data loaded.

With ``GONGKAO_AMQP_URI`` (and ``GONGKAO_<SERVICE>_DB_URL``): each service runs as
``GONGKAO_SERVICE_INSTANCES`` ``nameko run`` processes on RabbitMQ, the gateway under
gunicorn; this command migrates, starts them, seeds, starts again any service process that
dies (deploy.supervise), and stops them all gracefully on Ctrl-C or SIGTERM.
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
        f"  SMS codes and notices are written to {settings().sms_outbox_path}\n"
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
    from deploy.supervise import Supervisor, instances
    from kit.config import SERVICES, settings
    from kit.migrate import upgrade

    cfg = settings()
    try:
        counts = instances(cfg.service_instances, SERVICES)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in SERVICES:              # migrations first, then the processes
        upgrade(name)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    sup = Supervisor(ROOT, env)
    for name in SERVICES:              # the command line names services.<name>.service (API.md)
        for n in range(1, counts[name] + 1):
            sup.add(f"{name}#{n}", [str(BIN / "nameko"), "run", f"services.{name}.service",
                                    "--config", str(ROOT / "deploy" / "nameko.yaml")])
    sup.add("nontax", [sys.executable, "-m", "deploy.nontax"])
    # the gateway is not restarted behind its back: gunicorn supervises its own workers, and a
    # gateway that cannot start is a configuration error to show, not to retry forever
    sup.add("gateway", [str(BIN / "gunicorn"), "-k", "gthread", "-w", str(cfg.gateway_workers), "--threads", "8",
                        "--graceful-timeout", str(max(1, int(cfg.stop_grace_seconds - cfg.gateway_drain_seconds))),
                        "-b", f"{cfg.host}:{cfg.port}", "gateway.wsgi:app"], restart=False)

    def on_term(*_):
        sup.stop(cfg.stop_grace_seconds)
        sys.exit(0)

    signal.signal(signal.SIGTERM, on_term)
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
            if sup.check():
                raise SystemExit("the gateway exited during start-up; see its output above")
            time.sleep(0.5)
        else:
            raise SystemExit("the system did not become ready within 90 s")
        from deploy.seed import seed

        password = admin_password(cfg.data_dir)
        with ClusterRpcProxy({"AMQP_URI": cfg.amqp_uri}, timeout=30) as rpc:
            seed(rpc, password, demo=os.environ.get("GONGKAO_DEMO_DATA", "1") == "1")
        shown = ", ".join(f"{name}×{counts[name]}" for name in SERVICES)
        banner(url, password, f"on RabbitMQ: {shown}, each started again if it dies")
        while not sup.check():
            time.sleep(0.5)
        raise SystemExit("the gateway exited; stopping the others")
    except KeyboardInterrupt:
        pass
    finally:
        sup.stop(cfg.stop_grace_seconds)


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
