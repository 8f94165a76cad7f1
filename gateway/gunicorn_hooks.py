"""The gunicorn master's part in the gateway's metrics (``gunicorn.conf.py`` at the root of
the repository, read by gunicorn from the directory it starts in, names these).

Every worker process counts into files of its own under ``PROMETHEUS_MULTIPROC_DIR`` and a
scrape of any worker sums them all (prometheus-client's multiprocess mode). The directory is
``<GONGKAO_DATA_DIR>/metrics-gateway`` unless the environment names one; it is chosen when the
configuration is read — before any worker exists, so every worker inherits it — and emptied
when the master starts, so a restart begins at zero. A worker that exits is marked dead.

Nothing here imports prometheus_client at import time: the mode is fixed when the library is
first imported, which must happen after the variable is set."""
from __future__ import annotations

import os
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare_environment() -> Path:
    """Sets ``PROMETHEUS_MULTIPROC_DIR`` unless it is set; returns it."""
    if not os.environ.get(ENV):
        from kit.config import settings

        os.environ[ENV] = str((settings().data_dir / "metrics-gateway").resolve())
    return Path(os.environ[ENV])


def empty(path: Path) -> None:
    """Creates the directory, or removes the files an earlier run's workers left in it."""
    path.mkdir(parents=True, exist_ok=True)
    for old in path.glob("*.db"):
        old.unlink(missing_ok=True)


def on_starting(server) -> None:
    empty(prepare_environment())


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
