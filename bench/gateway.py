"""Throughput and latency through the gateway on the real RabbitMQ and PostgreSQL.

    .venv/bin/python bench/gateway.py [--seconds 5] [--threads 8]

Starts the whole system the way the tests do (fresh vhost and databases, one process per
service, gunicorn gthread), drives it from this process on 127.0.0.1, prints the figures,
and stops what it started. Bounded in time; nothing leaves the machine."""
from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from harness import ADMIN_PASSWORD, Stack  # noqa: E402
from helpers import Api, new_person, register  # noqa: E402


def drive(name: str, fn, seconds: float, threads: int) -> None:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    lock = threading.Lock()
    stop_at = time.time() + seconds

    def worker():
        session = requests.Session()
        while time.time() < stop_at:
            t = time.perf_counter()
            r = fn(session)
            dt = time.perf_counter() - t
            with lock:
                latencies.append(dt)
                if r.status_code >= 300:
                    key = f"{r.status_code} {r.text[:80]}"
                    errors[key] = errors.get(key, 0) + 1

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    started = time.time()
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    elapsed = time.time() - started
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    print(f"{name:<34} {len(latencies) / elapsed:8.1f} req/s   p50 {p(0.5):6.1f} ms   p95 {p(0.95):6.1f} ms"
          f"   errors {sum(errors.values())}   ({threads} threads, {elapsed:.1f} s)")
    for key, n in errors.items():
        print(f"    {n} × {key}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--threads", type=int, default=8)
    args = ap.parse_args()
    stack = Stack(Path(tempfile.mkdtemp(prefix="gk-bench-")))
    stack.start()
    try:
        url = stack.url
        province = Api(url).login_admin("admin", ADMIN_PASSWORD)
        person = new_person(province)
        assert register(stack, Api(url), person).status_code == 201
        token = Api(url).login(person.id_number, person.password).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        print("2 cores; gateway gunicorn gthread 2×8; services: nameko 2.14.1, one process each; "
              "percentiles of per-request latency")
        drive("GET /healthz (no RPC)", lambda s: s.get(url + "/healthz"), args.seconds, args.threads)
        drive("GET /api/v1/cities (1 RPC)", lambda s: s.get(url + "/api/v1/cities"), args.seconds, args.threads)
        drive("GET /api/v1/me (3 RPCs, session)", lambda s: s.get(url + "/api/v1/me", headers=auth),
              args.seconds, args.threads)
        drive("POST /api/v1/sessions (argon2id)",
              lambda s: requests.post(url + "/api/v1/sessions", json={"id_number": person.id_number,
                                                                     "password": person.password}),
              args.seconds, max(2, args.threads // 2))
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
