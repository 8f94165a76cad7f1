"""Graceful stop of the gateway (issue 13): on SIGTERM it drains — /readyz answers 503
``draining`` for GONGKAO_GATEWAY_DRAIN_SECONDS while every request is still served — then
stops accepting, lets the requests it took finish and exits 0.
A second gateway on the test system is loaded by eight clients (logins: argon2 makes them
last) behind a "load balancer" that polls /readyz as Kubernetes does and stops sending once
it says draining. Every request gets its answer; none is refused or cut off midway."""
from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from harness import ADMIN_PASSWORD, BIN, free_port, port_open
from helpers import Api, applicant, wait_for


def test_sigterm_drains_then_finishes_what_it_took_and_nothing_fails(stack, province):
    api, person = applicant(stack, province)
    port = free_port()
    stack._spawn("gateway-graceful", [str(BIN / "gunicorn"), "-k", "gthread", "-w", "2", "--threads", "8",
                                      "-b", f"127.0.0.1:{port}", "--graceful-timeout", "10", "gateway.wsgi:app"],
                 {"GONGKAO_GATEWAY_DRAIN_SECONDS": "2"})
    proc = stack.procs["gateway-graceful"]
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: port_open("127.0.0.1", port) and requests.get(url + "/readyz", timeout=10).ok, timeout=30,
             what="the second gateway")
    outcomes: list = []
    routed = threading.Event()
    routed.set()                                   # the balancer sends to this gateway
    readiness: list = []

    give_up = time.monotonic() + 60

    def balancer() -> None:
        while routed.is_set() and time.monotonic() < give_up:
            try:
                r = requests.get(url + "/readyz", timeout=10)
                readiness.append(r.status_code)
                if r.status_code == 503 and r.json()["status"] == "draining":
                    routed.clear()
            except requests.RequestException as exc:
                readiness.append(type(exc).__name__)
            time.sleep(0.1)

    def client(n: int) -> None:
        while routed.is_set() and time.monotonic() < give_up:
            try:
                if n % 2:
                    r = requests.post(url + "/api/v1/sessions", json={"id_number": person.id_number,
                                                                     "password": person.password},
                                      headers={"X-Forwarded-For": f"10.77.0.{n + 1}"}, timeout=30)
                else:
                    r = requests.get(url + "/api/v1/me/application", timeout=30,
                                     headers={"Authorization": f"Bearer {api.token}",
                                              "X-Forwarded-For": f"10.77.0.{n + 1}"})
                outcomes.append(r.status_code)
            except requests.RequestException as exc:
                outcomes.append(repr(exc)[:200])
                time.sleep(0.2)

    with ThreadPoolExecutor(9) as pool:
        futures = [pool.submit(client, n) for n in range(8)] + [pool.submit(balancer)]
        time.sleep(2)
        served_before = len(outcomes)
        os.kill(proc.pid, signal.SIGTERM)             # to the master, as Kubernetes does
        terminated = time.monotonic()
        for f in futures:
            f.result(60)
        routed_away_after = time.monotonic() - terminated
        proc.wait(30)
    stack.procs.pop("gateway-graceful", None)
    assert proc.returncode == 0
    assert served_before > 10 and set(outcomes) <= {200, 201}, {o: outcomes.count(o) for o in set(outcomes)}
    assert readiness[-1] == 503 and routed_away_after < 2.5, (readiness, routed_away_after)
    assert not port_open("127.0.0.1", port)                               # stopped accepting, then exited
    assert Api(stack.url).login_admin("admin", ADMIN_PASSWORD).token     # the test system's own gateway goes on
