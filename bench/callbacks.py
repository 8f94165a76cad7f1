"""A callback storm against the real payment path (issue 9): N open orders, and for each of
them the platform's signed callback sent again and again — ten copies of every callback at
least, many at the same time — by Debian's ``wrk`` (not Python threads sharing the 2 cores).

    .venv/bin/python bench/callbacks.py [--orders 200] [--seconds 15] [--connections 16]

Starts the whole system the way the tests do (fresh vhost and databases, one process per
service, gunicorn gthread), puts N approved applicants with an open order straight into the
payment database (the approvals are not what is measured), then prints callbacks/s, the
latency wrk saw, the answers, and the payments recorded — which must equal the number of
distinct orders. Stops what it started."""
from __future__ import annotations

import argparse
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from harness import Stack  # noqa: E402

from kit import clock  # noqa: E402
from kit.config import settings  # noqa: E402
from services.payment.platforms.hmac_sha256 import signed  # noqa: E402

LUA = """
local bodies = {}
for line in io.lines(os.getenv("GK_BODIES")) do bodies[#bodies + 1] = line end
local i = 0
local answers = {}
request = function()
  i = i + 1
  local body = bodies[(i - 1) % #bodies + 1]
  return wrk.format("POST", "/api/v1/callbacks/nontax",
                    {["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end
response = function(status, headers, body)
  local key = status .. " " .. body
  answers[key] = (answers[key] or 0) + 1
end
done = function(summary, latency, requests)
  io.write(string.format("requests %d\\n", summary.requests))
  io.write(string.format("p50 %.1f ms  p99 %.1f ms\\n", latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


def seed_orders(engine: sa.Engine, n: int) -> list[dict]:
    now = clock.now()
    orders = []
    with engine.begin() as conn:
        for i in range(n):
            app_id = uuid.uuid4().hex
            conn.execute(sa.text(
                "INSERT INTO payables (application_id, year, id_number, name, city_code, target_grade, approved_at, "
                "status, updated_at) VALUES (:a, 2026, :id, '压测', '410000', 4, :t, 'unpaid', :t)"),
                {"a": app_id, "id": f"41010219800101{i:04d}"[:18], "t": now - timedelta(days=2)})
            order = {"order_no": f"GKBENCH{i:08d}{uuid.uuid4().hex[:6]}", "payment_notice_no": f"{9 * 10**19 + i}",
                     "amount_fen": 15000}
            conn.execute(sa.text(
                "INSERT INTO orders (order_no, payment_notice_no, application_id, amount_fen, receipt_title, status, "
                "pay_url, created_at, expires_at) VALUES (:o, :p, :a, 15000, '压测单位', 'open', '', :t, :e)"),
                {"o": order["order_no"], "p": order["payment_notice_no"], "a": app_id, "t": now,
                 "e": now + timedelta(minutes=30)})
            orders.append(order)
    return orders


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=200)
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--connections", type=int, default=16)
    args = ap.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed (Debian: apt-get install wrk)")
    workdir = Path(tempfile.mkdtemp(prefix="gk-bench-"))
    stack = Stack(workdir)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))   # stopped: still stop the system
    stack.start()
    try:
        engine = sa.create_engine(stack.env["GONGKAO_PAYMENT_DB_URL"])
        orders = seed_orders(engine, args.orders)
        secret = settings().nontax_secret
        bodies = workdir / "bodies.txt"
        with bodies.open("w") as fh:
            for _ in range(10):   # every callback ten times, each delivery signed anew
                for order in orders:
                    fields = signed({**order, "status": "PAID", "paid_at": clock.local_now().isoformat()}, secret,
                                    clock.now())
                    fh.write(urlencode(fields) + "\n")
        script = workdir / "storm.lua"
        script.write_text(LUA)
        out = subprocess.run(["wrk", "-t2", f"-c{args.connections}", f"-d{args.seconds}s", "-s", str(script),
                              stack.url], env={"GK_BODIES": str(bodies), "PATH": "/usr/bin:/bin"},
                             capture_output=True, text=True, check=True).stdout
        rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        sent = int(re.search(r"^requests (\d+)", out, re.M).group(1))
        latency = re.search(r"^p50 .*$", out, re.M).group(0)
        with engine.connect() as conn:
            paid = conn.execute(sa.text("SELECT count(*) FROM payables WHERE status = 'paid'")).scalar()
            recorded = conn.execute(sa.text("SELECT count(*) FROM callbacks")).scalar()
            firsts = conn.execute(sa.text("SELECT count(*) FROM callbacks WHERE outcome = 'paid'")).scalar()
            announced = conn.execute(sa.text(
                "SELECT count(*) FROM outbox WHERE event_type = 'payment.fee_paid.v1'")).scalar()
        print("2 cores; gateway gunicorn gthread 2×8; payment: one nameko process; PostgreSQL; wrk "
              f"-t2 -c{args.connections} -d{args.seconds}s")
        print(f"callbacks sent:        {sent} ({sent / len(orders):.1f} per order; {len(orders)} distinct orders)")
        print(f"callbacks/s:           {rate:.1f}   ({latency})")
        print(f"callbacks recorded:    {recorded} (first payment {firsts}, the rest repeats)")
        print(f"payments recorded:     {paid}   fee_paid events: {announced}   "
              f"{'OK: one per distinct order' if paid == announced == len(orders) else 'MISMATCH'}")
        if not paid == announced == len(orders):
            raise SystemExit(1)
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
