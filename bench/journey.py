"""The registration rush on this machine (issue 12): one command that starts the distributed
run (RabbitMQ, PostgreSQL, one process per service, gunicorn gthread 2×8), fills it with
synthetic applicants (deploy.synth), and loads it with Debian's ``wrk`` (not Python threads
sharing the 2 cores), printing from one run:

- the no-RPC ceiling (``GET /healthz``) and the one-RPC ceiling (``GET /api/v1/cities`` on a
  gateway of the same run that keeps no copies, so that it is one RPC as the issue measured
  it; the serving gateway keeps cities, sessions and applicants' views: gateway.views);
- an applicant journey mix (weights below) and every applicant page on its own;
- the administrators' review queue at that size: the first page, a filtered page, page 500 (at
  16 connections, and again at ``--admin-connections``);
- login (argon2id: deliberately slow);

each with req/s, p50/p95/p99 and errors, and the ratios journey ÷ one-RPC ceiling and page ÷
one-RPC ceiling.

    .venv/bin/python bench/journey.py [--applications 100000] [--seconds 10] [--connections 16]
"""
from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from harness import ADMIN_PASSWORD, BIN, Stack, free_port  # noqa: E402
from helpers import Api  # noqa: E402

from deploy import synth  # noqa: E402

# the journey: what an applicant does in the rush, and how often (weights)
JOURNEY = [("GET", "/home", 3), ("GET", "/api/v1/me", 3), ("GET", "/api/v1/me/application", 3),
           ("GET", "/api/v1/me/review", 2), ("GET", "/api/v1/me/application/eligibility", 2),
           ("PUT", "/api/v1/me/application", 1), ("GET", "/review", 1)]
PAGES = ["/home", "/application", "/review", "/payment", "/ticket", "/result", "/certificate"]

LUA = r"""
local reqs = {}
for line in io.lines(os.getenv("GK_REQS")) do
  local method, path, token, source, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
  local headers = {["Authorization"] = token ~= "" and ("Bearer " .. token) or nil, ["X-Forwarded-For"] = source}
  if body ~= "" then headers["Content-Type"] = "application/json" end
  reqs[#reqs + 1] = wrk.format(method, path, headers, body ~= "" and body or nil)
end
local i = 0
request = function()
  i = i + 1
  return reqs[(i - 1) % #reqs + 1]
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %.1f %.2f %.2f %.2f %d\n", summary.requests,
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, e.connect + e.read + e.write + e.timeout + e.status))
end
"""


def run_wrk(url: str, lines: list[str], workdir: Path, seconds: int, connections: int) -> dict:
    reqs = workdir / "reqs.tsv"
    reqs.write_text("\n".join(lines) + "\n", encoding="utf-8")
    script = workdir / "mix.lua"
    script.write_text(LUA)
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", str(script), url],
                         env={"GK_REQS": str(reqs), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
                         check=True).stdout
    n, rate, p50, p95, p99, errors = re.search(r"^RESULT (\S+) (\S+) (\S+) (\S+) (\S+) (\S+)$", out, re.M).groups()
    return {"requests": int(n), "rate": float(rate), "p50": float(p50), "p95": float(p95), "p99": float(p99),
            "errors": int(errors)}


def wait_until_up(url: str, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if requests.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up")


def line(method: str, path: str, token: str = "", source: str = "10.9.0.1", body: str = "") -> str:
    return "\t".join((method, path, token, source, body))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--applications", type=int, default=100_000)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--applicants", type=int, default=200, help="distinct applicants logged in for the journey")
    ap.add_argument("--admin-connections", type=int, default=4, help="the admin queue measured again at this")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed (Debian: apt-get install wrk)")
    workdir = Path(tempfile.mkdtemp(prefix="gk-bench-"))
    stack = Stack(workdir)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))   # stopped: still stop the system
    stack.start()
    finished = False
    try:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "deploy.synth", "--applications", str(args.applications)], cwd=ROOT,
                       env=stack.env, check=True)
        synth_seconds = time.perf_counter() - started
        year = Api(stack.url).get("/api/v1/years/current").json()["year"]
        # applicants whose form is still editable (未提交): the journey saves too
        people = [synth.person(i, year) for i in range(args.applications) if i % 20 < 4][:args.applicants]
        tokens = []
        for n, p in enumerate(people):
            api = Api(stack.url, source=f"10.8.{n // 250}.{n % 250 + 1}")
            r = api.login(p["id_number"], synth.PASSWORD)
            assert r.status_code == 201, r.text
            tokens.append(api.token)
        province = Api(stack.url).login_admin("admin", ADMIN_PASSWORD)
        # the same gateway keeping no copies (every session and reference lookup an RPC), on a
        # port of its own: the one-RPC ceiling as the issue measured it, and the journey before
        bare_port = free_port()
        stack._spawn("gateway-bare", [str(BIN / "gunicorn"), "-k", "gthread", "-w", "2", "--threads", "8",
                                      "-b", f"127.0.0.1:{bare_port}", "gateway.wsgi:app"],
                     {"GONGKAO_SESSION_CACHE_SECONDS": "0", "GONGKAO_REFERENCE_CACHE_SECONDS": "0",
                      "GONGKAO_VIEW_CACHE_SECONDS": "0"})
        bare = f"http://127.0.0.1:{bare_port}"
        wait_until_up(bare)
        res = {}

        def measure(name: str, lines: list[str], url: str = stack.url, connections: int | None = None) -> dict:
            # warm (copies, connections): every line at least once, as in a rush under way
            connections = connections or args.connections
            run_wrk(url, lines, workdir, max(2, len(lines) // 400), connections)
            res[name] = run_wrk(url, lines, workdir, args.seconds, connections)
            return res[name]

        measure("GET /healthz (no RPC)", [line("GET", "/healthz")])
        measure("GET /api/v1/cities (one RPC)", [line("GET", "/api/v1/cities")], bare)
        measure("GET /api/v1/cities (kept copy)", [line("GET", "/api/v1/cities")])
        measure("GET /api/v1/me (session, steps kept)", [line("GET", "/api/v1/me", t) for t in tokens])
        journey = []
        for k, t in enumerate(tokens):
            for method, path, weight in JOURNEY:
                body = json.dumps({"service_years": 10 + k % 5}) if method == "PUT" else ""
                journey += [line(method, path, t, body=body)] * weight
        # the rush is many applicants at once, each a request now and then: their requests
        # interleaved (in the order written, wrk's 16 connections would send one applicant's
        # fifteen at the same moment, which nobody does)
        random.Random(12).shuffle(journey)
        measure("applicant journey mix, no copies kept", journey, bare)
        measure("applicant journey mix", journey)
        for page in PAGES:
            measure(f"page {page}", [line("GET", page, t) for t in tokens])
        p = province.token
        queues = {"first page": "status=all&page=1", "filtered": "status=in_review&grade=4&page=2",
                  "page 500": "status=all&page=500"}
        for name, query in queues.items():
            measure(f"admin queue, {name}", [line("GET", f"/api/v1/admin/reviews?{query}", p)])
        # the same pages with as many administrators at once as open their queue together in
        # practice: the pages' own latency, not queueing behind 16 at once in one process
        for name, query in queues.items():
            measure(f"admin queue, {name} ({args.admin_connections} at once)",
                    [line("GET", f"/api/v1/admin/reviews?{query}", p)], connections=args.admin_connections)
        logins = [line("POST", "/api/v1/sessions", "", f"10.7.{n // 250}.{n % 250 + 1}",
                       json.dumps({"id_number": q["id_number"], "password": synth.PASSWORD}))
                  for n, q in enumerate(people)]
        measure("login (argon2id)", logins)

        ceiling = res["GET /api/v1/cities (one RPC)"]["rate"]
        print(f"2 cores; RabbitMQ, PostgreSQL, one process per service, gateway gunicorn gthread 2×8; "
              f"wrk -t2 -c{args.connections} -d{args.seconds}s")
        print(f"{args.applications} synthetic applicants written in {synth_seconds:.0f} s; "
              f"{len(tokens)} of them in the journey")
        print(f"{'request':48} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7} {'÷ 1-RPC':>8}")
        for name, r in res.items():
            print(f"{name:48} {r['rate']:8.0f} {r['p50']:8.1f} {r['p95']:8.1f} {r['p99']:8.1f} {r['errors']:7d} "
                  f"{r['rate'] / ceiling:8.2f}")
        finished = True
    finally:
        stack.stop()
        if finished:
            shutil.rmtree(workdir, ignore_errors=True)     # its logs: tens of megabytes a run
        else:
            print(f"the run's logs are kept in {workdir}", file=sys.stderr)


if __name__ == "__main__":
    main()
