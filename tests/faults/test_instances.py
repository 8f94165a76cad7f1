"""Two instances of every service (issue 13, API.md "Operations"): the distributed run starts
GONGKAO_SERVICE_INSTANCES processes per service; both consume the same queues (RPC and event
handlers); a process killed with SIGKILL is started again by the run while the other goes on
serving — no request fails — and one stopped with SIGTERM finishes what it was doing."""
from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from harness import ADMIN_PASSWORD, SERVICES
from helpers import Api, applicant, wait_for


def consumers(stack) -> dict[str, int]:
    out = subprocess.run(["rabbitmqctl", "-q", "list_queues", "-p", stack.vhost, "name", "consumers",
                          "--no-table-headers"], check=True, capture_output=True, text=True).stdout
    return {name: int(n) for name, n in (line.split() for line in out.splitlines() if line.strip())}


def test_every_service_runs_twice_and_both_take_work_from_the_same_queues(supervised):
    pids = supervised.service_pids()
    assert {name: len(p) for name, p in pids.items()} == dict.fromkeys(SERVICES, 2), pids
    queues = consumers(supervised)
    for name in SERVICES:
        assert queues[f"rpc-{name}"] == 2, queues
    handlers = {q: n for q, n in queues.items() if q.startswith("evt-")}
    assert handlers and set(handlers.values()) == {2}, handlers            # e.g. review's on_submitted
    assert "evt-application-application.submitted.v1--review.on_submitted" in handlers


class Load:
    """Applicants and the province reading and logging in, from four threads, until stopped;
    every answer recorded."""

    def __init__(self, stack, api: Api, person):
        self.stack, self.api, self.person = stack, api, person
        self.codes: list[int] = []
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(4)
        self._futures = [self._pool.submit(self._run, n) for n in range(4)]

    def _run(self, n: int) -> None:
        while not self._stop.is_set():
            try:
                if n == 0:
                    r = Api(self.stack.url).login(self.person.id_number, self.person.password)
                elif n == 1:
                    r = requests.post(f"{self.stack.url}/api/v1/admin/sessions",
                                      json={"username": "admin", "password": ADMIN_PASSWORD}, timeout=15)
                else:
                    r = self.api.get("/api/v1/me/application" if n == 2 else "/api/v1/me/review")
                self.codes.append(r.status_code)
            except requests.RequestException as exc:
                self.codes.append(type(exc).__name__)

    def stop(self) -> list:
        self._stop.set()
        for f in self._futures:
            f.result()
        self._pool.shutdown()
        return self.codes


def under_load(stack, signum: int, names: tuple[str, ...], which: int) -> list:
    """``signum`` to instance ``which`` of each of ``names`` while applicants and the province
    read and log in; waits until the run has them back; returns every answer of the load."""
    province = Api(stack.url).login_admin("admin", ADMIN_PASSWORD)
    api, person = applicant(stack, province)
    load = Load(stack, api, person)
    try:
        time.sleep(1)
        before = stack.service_pids()
        for name in names:
            os.kill(before[name][which], signum)
        wait_for(lambda: all(before[n][which] not in p and len(p) == 2
                             for n, p in stack.service_pids().items() if n in names),
                 timeout=40, what="the instances started again")
        time.sleep(2)
    finally:
        codes = load.stop()
    assert len(codes) > 50 and set(codes) <= {200, 201}, {c: codes.count(c) for c in set(codes)}
    return codes


def test_a_killed_instance_is_started_again_while_the_other_serves_with_no_failed_request(supervised):
    under_load(supervised, signal.SIGKILL, ("identity", "application", "review"), 0)
    log = (supervised.workdir / "run.log").read_text()          # the whole of it: the gateway logs too
    for name in ("identity", "application", "review"):
        assert f"{name}#1 exited with code -9; starting it again" in log, log[-2000:]


def test_an_instance_stopped_with_sigterm_finishes_its_work_and_nothing_fails(supervised):
    # the oldest instance (index 0 of the sorted pids: one the last test did not restart), up
    # and serving; a process still starting dies of SIGTERM before nameko can handle it
    under_load(supervised, signal.SIGTERM, ("identity", "application"), 0)
    assert "exited with code 0; starting it again" in (supervised.workdir / "run.log").read_text()
