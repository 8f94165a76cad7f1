"""The distributed run's process supervisor (issue 13): ``GONGKAO_SERVICE_INSTANCES`` processes
per service, each started again when it dies — as a container orchestrator would — and all
stopped gracefully on SIGTERM.

- ``instances("2")`` → every service twice; ``instances("identity=2,application=3")`` → those
  counts, the others once. A bad value is refused at start with a clear message.
- A process that dies is logged with its exit code and started again; one that keeps dying
  within seconds of its start waits longer each time (1 s doubling up to 30 s), so a broken
  release does not spin.
- ``stop()`` sends SIGTERM to every process (nameko finishes its running workers and stops
  consuming, gunicorn stops accepting and drains) and SIGKILL only to what is still running
  after the grace period.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("gongkao.supervise")

MAX_INSTANCES = 16


def instances(spec: str | None, services: Iterable[str]) -> dict[str, int]:
    """How many processes of each service ``spec`` asks for (default 1 each)."""
    services = list(services)
    counts = dict.fromkeys(services, 1)
    spec = (spec or "").strip()
    if not spec:
        return counts
    if spec.isdigit():
        n = int(spec)
        if not 1 <= n <= MAX_INSTANCES:
            raise ValueError(f"GONGKAO_SERVICE_INSTANCES: {n} is not between 1 and {MAX_INSTANCES}")
        return dict.fromkeys(services, n)
    for part in spec.split(","):
        name, sep, value = part.strip().partition("=")
        name, value = name.strip(), value.strip()
        if not sep or name not in counts or not value.isdigit() or not 1 <= int(value) <= MAX_INSTANCES:
            raise ValueError(f"GONGKAO_SERVICE_INSTANCES: {part.strip()!r} is not <service>=<1..{MAX_INSTANCES}> "
                             f"with a service among {', '.join(services)}")
        counts[name] = int(value)
    return counts


@dataclass
class Child:
    key: str                      # "identity#2", "gateway"
    argv: list[str]
    restart: bool = True
    proc: subprocess.Popen | None = None
    started_at: float = 0.0
    quick_deaths: int = 0         # deaths soon after a start, in a row
    next_start: float = 0.0
    restarts: int = 0
    extra_env: dict = field(default_factory=dict)


class Supervisor:
    QUICK = 5.0                   # a death this soon after the start counts as "keeps dying"

    def __init__(self, cwd: Path, env: dict[str, str], log_dir: Path | None = None):
        self.cwd, self.env, self.log_dir = cwd, env, log_dir
        self.children: list[Child] = []
        self._stopping = threading.Event()
        self._lock = threading.Lock()

    def add(self, key: str, argv: list[str], restart: bool = True, **extra_env: str) -> Child:
        child = Child(key, argv, restart, extra_env=extra_env)
        self.children.append(child)
        self._start(child)
        return child

    def _start(self, child: Child) -> None:
        out = None
        if self.log_dir is not None:
            out = open(self.log_dir / f"{child.key.replace('#', '-')}.log", "ab")  # noqa: SIM115 - the child's
        # its own process group: a terminal's Ctrl-C or a signal to the run's group reaches the
        # supervisor alone, which stops each child once (nameko stopped twice hangs)
        child.proc = subprocess.Popen(child.argv, cwd=self.cwd, env={**self.env, **child.extra_env},
                                      stdout=out, stderr=subprocess.STDOUT if out else None, process_group=0)
        if out is not None:
            out.close()           # the child has its own descriptor
        child.started_at = time.monotonic()
        log.info("started %s (pid %d)", child.key, child.proc.pid)

    def check(self) -> list[str]:
        """One round of supervision: every child that died is started again (now or after its
        back-off). Returns the keys of children that died and will not be restarted."""
        gone = []
        now = time.monotonic()
        with self._lock:
            if self._stopping.is_set():
                return gone
            for child in self.children:
                proc = child.proc
                if proc is not None and proc.poll() is not None:
                    code = proc.returncode
                    child.proc = None
                    if not child.restart:
                        log.error("%s exited with code %s", child.key, code)
                        gone.append(child.key)
                        continue
                    quick = now - child.started_at < self.QUICK
                    child.quick_deaths = child.quick_deaths + 1 if quick else 0
                    delay = min(2 ** (child.quick_deaths - 1), 30) if child.quick_deaths else 0
                    child.next_start = now + delay
                    log.warning("%s exited with code %s; starting it again%s", child.key, code,
                                f" in {delay} s" if delay else "")
                if child.proc is None and child.restart and now >= child.next_start:
                    child.restarts += 1
                    self._start(child)
        return gone

    def pids(self, prefix: str = "") -> dict[str, int]:
        with self._lock:
            return {c.key: c.proc.pid for c in self.children
                    if c.proc is not None and c.proc.poll() is None and c.key.startswith(prefix)}

    def stop(self, grace: float = 20.0) -> None:
        """SIGTERM to all, SIGKILL to whatever still runs after ``grace`` seconds."""
        with self._lock:
            self._stopping.set()
            procs = [c.proc for c in self.children if c.proc is not None and c.proc.poll() is None]
        for proc in procs:
            try:
                proc.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        for proc in procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("pid %d did not stop within %.0f s: killed", proc.pid, grace)
                proc.kill()
                proc.wait(5)

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()


def grace_seconds() -> float:
    return float(os.environ.get("GONGKAO_STOP_GRACE_SECONDS", "20"))
