"""Health probes for containers: Kubernetes exec probes and the image's HEALTHCHECK.

A service process has no HTTP port for probes; it has the broker and its own file endpoint
(``GONGKAO_FILES_LISTEN``, which nameko starts together with the service's RPC consumer):

    python -m deploy.probe <service>          ready: this process's file endpoint answers, and
                                              the service answers ``ping`` over the broker
                                              (which also runs ``SELECT 1`` on its database)
    python -m deploy.probe <service> --live   live: this process's file endpoint answers
    python -m deploy.probe gateway [--live]   the gateway's /readyz (/healthz) on GONGKAO_PORT

Liveness looks at this process only: during a broker or database outage the pods turn
unready, and restarting them would not help. Readiness asks over the broker, where any
instance of the service may answer; the file endpoint ties it to this process too.
Exit status 0: healthy; 1: not, with the reason on stderr.
"""
from __future__ import annotations

import argparse
import http.client
import math
import signal
import sys

from kit.config import SERVICES, Settings

WILDCARDS = {"", "0.0.0.0", "::", "*"}  # noqa: S104 - addresses to map to loopback, not to bind


class Unhealthy(Exception):
    pass


def local_address(listen: str) -> tuple[str, int]:
    """Where to reach, from inside the container, an endpoint listening on ``listen``
    (``host:port``; a wildcard host means loopback)."""
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit():
        raise Unhealthy(f"cannot read the address {listen!r}")
    host = host.strip("[]")
    if int(port) == 0:
        raise Unhealthy(f"{listen!r} names no fixed port: set GONGKAO_FILES_LISTEN to host:port")
    if host in WILDCARDS:
        host = "::1" if ":" in host else "127.0.0.1"
    return host, int(port)


def http_status(host: str, port: int, path: str, timeout: float) -> int:
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    except OSError as exc:
        raise Unhealthy(f"http://{host}:{port}{path}: {exc}") from exc
    finally:
        conn.close()


def ping(amqp_uri: str, service: str, timeout: float) -> bool:
    from nameko.standalone.rpc import ClusterRpcProxy

    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=timeout) as rpc:
        return getattr(rpc, service).ping() == "pong"


def check(target: str, live: bool, cfg: Settings, timeout: float) -> str:
    """Returns what was found healthy; raises Unhealthy."""
    if target == "gateway":
        path = "/healthz" if live else "/readyz"
        status = http_status("127.0.0.1", cfg.port, path, timeout)
        if status != 200:
            raise Unhealthy(f"gateway {path}: HTTP {status}")
        return f"gateway {path}: 200"
    host, port = local_address(cfg.files_listen)
    # any HTTP answer (the probe's path is no file: 404) shows this process's event loop serving
    http_status(host, port, "/", timeout)
    if live:
        return f"{target}: this process answers on {host}:{port}"
    if not cfg.amqp_uri:
        raise Unhealthy("GONGKAO_AMQP_URI is not set")
    try:
        answered = ping(cfg.amqp_uri, target, timeout)
    except Exception as exc:  # noqa: BLE001 - a timeout, the broker away, a remote error: not ready
        raise Unhealthy(f"{target}.ping: {type(exc).__name__}: {exc}") from exc
    if not answered:
        raise Unhealthy(f"{target}.ping did not answer pong")
    return f"{target}: this process answers, and {target}.ping answered over the broker"


def _expired(signum, frame):
    raise Unhealthy("no answer in time")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.probe", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target", choices=[*SERVICES, "gateway"])
    parser.add_argument("--live", action="store_true", help="liveness: this process only")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds (default 5)")
    args = parser.parse_args(argv)
    # a hard stop as well: connecting to an unreachable broker can take longer than the RPC timeout
    previous = signal.signal(signal.SIGALRM, _expired)
    signal.alarm(math.ceil(args.timeout) + 2)
    try:
        print(check(args.target, args.live, Settings(), args.timeout))
        return 0
    except Unhealthy as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


if __name__ == "__main__":
    sys.exit(main())
