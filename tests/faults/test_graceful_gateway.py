"""Graceful stop of the gateway (issue 13): on SIGTERM gunicorn stops accepting, lets the
requests it took finish and exits. A second gateway on the test system, under load from
eight clients (logins: argon2 makes them last), is sent SIGTERM: every request it accepted
gets its answer (2xx, or a clean 503 from a service), the others are refused at connect —
none is cut off midway."""
from __future__ import annotations

import errno
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from harness import ADMIN_PASSWORD, BIN, free_port, port_open
from helpers import Api, applicant, wait_for


def refused(exc: requests.RequestException) -> bool:
    """Refused at connect: the listener was closed (nothing was sent)."""
    seen = exc
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError) or getattr(seen, "errno", None) == errno.ECONNREFUSED:
            return True
        seen = seen.__cause__ or seen.__context__ or (seen.args[0] if seen.args and
                                                      isinstance(seen.args[0], BaseException) else None)
    return False


def test_sigterm_lets_the_accepted_requests_finish_and_refuses_the_rest(stack, province):
    api, person = applicant(stack, province)
    port = free_port()
    stack._spawn("gateway-graceful", [str(BIN / "gunicorn"), "-k", "gthread", "-w", "2", "--threads", "8",
                                      "-b", f"127.0.0.1:{port}", "--graceful-timeout", "10", "gateway.wsgi:app"])
    proc = stack.procs["gateway-graceful"]
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: port_open("127.0.0.1", port) and requests.get(url + "/healthz", timeout=5).ok, timeout=30,
             what="the second gateway")
    outcomes: list = []
    stop = threading.Event()
    terminated_at: list[float] = []

    def client(n: int) -> None:
        while not stop.is_set():
            headers = {"Connection": "close", "X-Forwarded-For": f"10.77.0.{n + 1}"}
            try:
                if n % 2:
                    r = requests.post(url + "/api/v1/sessions", json={"id_number": person.id_number,
                                                                     "password": person.password},
                                      headers=headers, timeout=30)
                else:
                    r = requests.get(url + "/api/v1/me/application", timeout=30,
                                     headers={**headers, "Authorization": f"Bearer {api.token}"})
                outcomes.append(r.status_code)
            except requests.RequestException as exc:
                outcomes.append("refused" if refused(exc) and terminated_at else repr(exc)[:200])
                if refused(exc):
                    return

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(client, n) for n in range(8)]
        time.sleep(2)
        terminated_at.append(time.monotonic())
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
        stop.set()
        for f in futures:
            f.result()
    stack.procs.pop("gateway-graceful", None)
    answered = [o for o in outcomes if isinstance(o, int)]
    assert proc.returncode == 0
    assert len(answered) > 20 and set(answered) <= {200, 201, 503}, {o: outcomes.count(o) for o in set(outcomes)}
    assert set(outcomes) - set(answered) <= {"refused"}, [o for o in outcomes if o not in answered][:5]
    assert Api(stack.url).login_admin("admin", ADMIN_PASSWORD).token     # the test system's own gateway goes on
