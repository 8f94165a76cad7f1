"""The gunicorn master's part in the gateway (``gunicorn.conf.py`` at the root of the
repository, read by gunicorn from the directory it starts in, names these): the workers'
shared metrics, and draining before a graceful stop.

Every worker process counts into files of its own under ``PROMETHEUS_MULTIPROC_DIR`` and a
scrape of any worker sums them all (prometheus-client's multiprocess mode). The directory is
``<GONGKAO_DATA_DIR>/metrics-gateway-<bind>`` unless the environment names one (one per
listener: two gateways of one host never empty each other's files); it is chosen when the
master starts — before any worker exists, so every worker inherits it — and emptied then, so
a restart begins at zero. A worker that exits is marked dead.

Draining (issue 13): on SIGTERM the master first marks the gateway as draining for
``GONGKAO_GATEWAY_DRAIN_SECONDS`` — ``/readyz`` answers 503 ``draining`` so a load balancer
(Kubernetes' readiness probe) stops sending, while requests are still served — then stops
gracefully as gunicorn does:
no new connections, the requests taken finish within the graceful timeout.

Each worker, once it has loaded the gateway, settles its heap (kit.heap): what it keeps for
life is left out of the cycle collector's later passes.

Connections are shared out among the workers (issue 12): a burst of new connections is
accepted by whichever worker's loop wakes first, and a kept-alive connection stays with its
worker. A proxy's pool or a load generator opening its 16 connections at once could leave
them all with one worker — one core serving while the other idles (measured with wrk: the
报名信息 page at 430–490 req/s, as one worker alone serves it, against 930 shared). A worker
holding more than one and a half times its threads in connections closes each one after its
response (``pre_request``); the client opens another, which the less busy worker is the
quicker to take. No worker ever refuses a connection.

Nothing here imports prometheus_client at import time: the mode is fixed when the library is
first imported, which must happen after the variable is set."""
from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"
DRAINING = "GONGKAO_GATEWAY_DRAINING_FILE"       # set by the master for its workers

log = logging.getLogger(__name__)


def _bind_name(server) -> str:
    binds = list(getattr(getattr(server, "cfg", None), "bind", None) or [])
    return re.sub(r"[^A-Za-z0-9.]+", "-", binds[0]).strip("-") if binds else ""


def prepare_environment(server=None) -> Path:
    """Sets ``PROMETHEUS_MULTIPROC_DIR`` unless it is set; returns it."""
    if not os.environ.get(ENV):
        from kit.config import settings

        suffix = _bind_name(server)
        name = f"metrics-gateway-{suffix}" if suffix else "metrics-gateway"
        os.environ[ENV] = str((settings().data_dir / name).resolve())
    return Path(os.environ[ENV])


def draining() -> bool:
    """In a worker: has the master begun to drain?"""
    path = os.environ.get(DRAINING)
    return bool(path) and os.path.exists(path)


def empty(path: Path) -> None:
    """Creates the directory, or removes the files an earlier run's workers left in it."""
    path.mkdir(parents=True, exist_ok=True)
    for old in path.glob("*.db"):
        old.unlink(missing_ok=True)


def on_starting(server) -> None:
    empty(prepare_environment(server))
    from kit.config import settings

    marker = (settings().data_dir / f"gateway-draining-{_bind_name(server) or os.getpid()}").resolve()
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.unlink(missing_ok=True)
    os.environ[DRAINING] = str(marker)


def when_ready(server) -> None:
    """SIGTERM drains first (see above), then gunicorn's own graceful stop."""
    from kit.config import settings

    seconds = settings().gateway_drain_seconds
    graceful = server.handle_term

    def handle_term():
        if seconds > 0:
            Path(os.environ[DRAINING]).touch()
            log.info("draining for %.1f s before stopping", seconds)
            time.sleep(seconds)
        graceful()

    server.handle_term = handle_term


def on_exit(server) -> None:
    path = os.environ.get(DRAINING)
    if path:
        Path(path).unlink(missing_ok=True)


def post_worker_init(worker) -> None:
    """A worker has loaded the gateway: what it keeps for life leaves the collector's way
    (kit.heap)."""
    from kit import heap

    heap.settle()


def pre_request(worker, req) -> None:
    """Over its share of the connections (see above): this one closes after its response."""
    threads = getattr(worker.cfg, "threads", 1) or 1
    if getattr(worker, "nr_conns", 0) > threads + threads // 2:
        req.must_close = True


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
