"""The development stand-in for the province's non-tax payment platform (R-F5, API.md
"Development stand-ins"): its own small web app, started beside the system by ``make run``.

- ``POST /api/orders``: the system registers an order (signed, like the real one).
- ``GET /pay/{payment_notice_no}``: the pay page (支付 / 支付失败 / 关闭); paying sends the payer
  back to the system and calls the system back.
- ``POST /api/pay/{payment_notice_no}`` with ``outcome`` = ``paid`` | ``failed`` |
  ``paid_silently`` (paid, but the callback is never sent): for scripts and tests.
- ``GET /api/orders/{payment_notice_no}``: the signed order query reconciliation uses.

Callbacks are signed anew for every delivery (fresh timestamp and nonce) and retried until
the system answers exactly ``success``: after 15 s, 15 s, 30 s, 3 min, 10 min, 20 min, 30 min,
60 min, then hourly for 24 h (``GONGKAO_NONTAX_RETRY_SCALE`` shortens it for tests). Orders
and pending deliveries are kept in SQLite, so a restart loses neither.

    python -m deploy.nontax                  # listens on 127.0.0.1:GONGKAO_NONTAX_PORT (8001)
    python -m deploy.nontax --host 0.0.0.0   # in a container of its own (k8s/overlays/dev)
"""
from __future__ import annotations

import argparse
import html
import logging
import sqlite3
import threading
import time
from datetime import datetime
from socketserver import ThreadingMixIn
from urllib.parse import parse_qsl
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import falcon
import requests

from kit import clock
from kit.config import settings
from kit.logs import setup
from services.payment.platforms import PlatformRefused
from services.payment.platforms.hmac_sha256 import signed, verify

log = logging.getLogger("nontax")
RETRIES = [15, 15, 30, 180, 600, 1200, 1800, 3600] + [3600] * 23   # then hourly: 24 h in all


class Store:
    """Orders and pending deliveries, in one SQLite file; one connection behind a lock."""

    def __init__(self, path: str):
        self.lock = threading.Lock()
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        with self.lock:
            self.db.executescript("""
                PRAGMA journal_mode=WAL;
                CREATE TABLE IF NOT EXISTS orders (
                    payment_notice_no TEXT PRIMARY KEY, order_no TEXT NOT NULL, amount_fen INTEGER NOT NULL,
                    payer_name TEXT NOT NULL, expires_at TEXT NOT NULL, return_url TEXT NOT NULL,
                    status TEXT NOT NULL DEFAULT 'UNPAID', paid_at TEXT, created_at TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS deliveries (
                    id INTEGER PRIMARY KEY, payment_notice_no TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
                    next_at REAL NOT NULL, done INTEGER NOT NULL DEFAULT 0, last_answer TEXT);
            """)

    def run(self, sql: str, *args):
        with self.lock:
            return self.db.execute(sql, args).fetchall()


def _status(row: sqlite3.Row) -> str:
    """UNPAID, PAID, or CLOSED once an unpaid order is past its expiry."""
    if row["status"] == "UNPAID" and clock.now() >= datetime.fromisoformat(row["expires_at"]):
        return "CLOSED"
    return row["status"]


class Platform:
    def __init__(self, store: Store):
        self.store = store
        self.cfg = settings()

    def order(self, notice: str) -> sqlite3.Row:
        rows = self.store.run("SELECT * FROM orders WHERE payment_notice_no = ?", notice)
        if not rows:
            raise falcon.HTTPNotFound(description="缴费通知书编号不存在")
        return rows[0]

    def pay(self, notice: str, outcome: str) -> str:
        """Settles an order as the payer chose; a paid order calls the system back."""
        row = self.order(notice)
        status = _status(row)
        if outcome == "failed" or status != "UNPAID":
            return status
        paid_at = clock.local_now().replace(microsecond=0).isoformat()
        self.store.run("UPDATE orders SET status = 'PAID', paid_at = ? WHERE payment_notice_no = ?", paid_at, notice)
        if outcome != "paid_silently":
            self.store.run("INSERT INTO deliveries (payment_notice_no, next_at) VALUES (?, ?)", notice, time.time())
        return "PAID"

    def callback_fields(self, notice: str) -> dict[str, str]:
        row = self.order(notice)
        return signed({"order_no": row["order_no"], "payment_notice_no": notice, "amount_fen": row["amount_fen"],
                       "status": "PAID", "paid_at": row["paid_at"]}, self.cfg.nontax_secret, clock.now())

    def deliver_due(self) -> int:
        """Sends every callback that is due; returns how many were sent."""
        due = self.store.run("SELECT * FROM deliveries WHERE done = 0 AND next_at <= ? ORDER BY next_at LIMIT 50",
                             time.time())
        for d in due:
            try:
                r = requests.post(self.cfg.callback_url, data=self.callback_fields(d["payment_notice_no"]), timeout=10)
                answer = f"{r.status_code} {r.text[:60]}"
                ok = r.status_code == 200 and r.text == "success"
            except requests.RequestException as exc:
                answer, ok = type(exc).__name__, False
            attempts = d["attempts"] + 1
            if ok or attempts > len(RETRIES):
                self.store.run("UPDATE deliveries SET done = 1, attempts = ?, last_answer = ? WHERE id = ?",
                               attempts, answer, d["id"])
            else:
                wait = RETRIES[attempts - 1] * self.cfg.nontax_retry_scale
                self.store.run("UPDATE deliveries SET attempts = ?, next_at = ?, last_answer = ? WHERE id = ?",
                               attempts, time.time() + wait, answer, d["id"])
            log.info("callback %s attempt %d: %s", d["payment_notice_no"][-6:], attempts, answer)
        return len(due)

    def deliver_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.deliver_due()
            except Exception:  # noqa: BLE001 - the loop must go on; the delivery stays due
                log.exception("callback delivery failed")
            stop.wait(0.2)


def _form(req: falcon.Request) -> dict[str, str]:
    raw = req.bounded_stream.read(64 * 1024).decode("utf-8", errors="replace")
    return dict(parse_qsl(raw, keep_blank_values=True))


class Orders:
    def __init__(self, platform: Platform):
        self.p = platform

    def on_post(self, req, resp):
        fields = _form(req)
        try:
            verify(fields, self.p.cfg.nontax_secret, clock.now())
            notice, amount = fields["payment_notice_no"], int(fields["amount_fen"])
        except (PlatformRefused, KeyError, ValueError) as exc:
            raise falcon.HTTPBadRequest(description=str(exc)) from None
        self.p.store.run("INSERT OR IGNORE INTO orders (payment_notice_no, order_no, amount_fen, payer_name, "
                         "expires_at, return_url, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                         notice, fields["order_no"], amount, fields.get("payer_name", ""), fields["expires_at"],
                         fields.get("return_url", ""), clock.now().isoformat())
        resp.status = falcon.HTTP_201
        resp.media = {"payment_notice_no": notice}


class Order:
    def __init__(self, platform: Platform):
        self.p = platform

    def on_get(self, req, resp, notice):
        row = self.p.order(notice)
        resp.media = signed({"order_no": row["order_no"], "payment_notice_no": notice, "amount_fen": row["amount_fen"],
                             "status": _status(row), "paid_at": row["paid_at"] or ""},
                            self.p.cfg.nontax_secret, clock.now())
        resp.media.pop("sign_type")


class ScriptedPay:
    def __init__(self, platform: Platform):
        self.p = platform

    def on_post(self, req, resp, notice):
        outcome = _form(req).get("outcome", "")
        if outcome not in ("paid", "failed", "paid_silently"):
            raise falcon.HTTPBadRequest(description="outcome: paid, failed or paid_silently")
        resp.media = {"payment_notice_no": notice, "status": self.p.pay(notice, outcome)}


PAGE = """<!doctype html><html lang="zh-CN"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>非税收入缴款（开发用模拟平台）</title>
<style>body{{font-family:sans-serif;max-width:36em;margin:2em auto;padding:0 1em;color:#222}}
h1{{font-size:1.3em;color:#a31515}}table{{border-collapse:collapse;width:100%}}td,th{{border:1px solid #ccc;
padding:.5em;text-align:left}}button{{font-size:1em;padding:.5em 1.2em;margin:.5em .5em 0 0}}
.note{{color:#555;font-size:.9em}}</style>
<h1>河南省非税收入缴款（开发用模拟平台）</h1>
<p class="note">这是开发和测试用的模拟缴费平台，不会产生真实扣款。</p>
<table><tr><th>缴费通知书编号</th><td id="notice">{notice}</td></tr>
<tr><th>缴款人</th><td>{payer}</td></tr><tr><th>金额</th><td id="amount">{amount} 元</td></tr>
<tr><th>状态</th><td id="status">{status}</td></tr></table>
{actions}</html>"""
STATUS_TEXT = {"UNPAID": "待支付", "PAID": "已支付", "CLOSED": "已关闭"}


class PayPage:
    def __init__(self, platform: Platform):
        self.p = platform

    def _render(self, resp, row, message: str = "") -> None:
        status = _status(row)
        actions = f'<p id="message">{html.escape(message)}</p>' if message else ""
        if status == "UNPAID":
            actions += ('<form method="post"><button name="action" value="paid">支付</button>'
                        '<button name="action" value="failed">支付失败</button>'
                        '<button name="action" value="close">关闭</button></form>')
        else:
            actions += f'<p><a href="{html.escape(row["return_url"])}">返回报名系统</a></p>'
        resp.content_type = falcon.MEDIA_HTML
        resp.text = PAGE.format(notice=html.escape(row["payment_notice_no"]), payer=html.escape(row["payer_name"]),
                                amount=f"{row['amount_fen'] / 100:.2f}", status=STATUS_TEXT[status], actions=actions)

    def on_get(self, req, resp, notice):
        self._render(resp, self.p.order(notice))

    def on_post(self, req, resp, notice):
        action = _form(req).get("action", "")
        row = self.p.order(notice)
        if action == "failed":
            self._render(resp, row, "支付失败，请重新支付或稍后再试。")
            return
        if action == "paid":
            self.p.pay(notice, "paid")
        raise falcon.HTTPSeeOther(row["return_url"] or "/")


def create_app(platform: Platform) -> falcon.App:
    app = falcon.App()
    app.add_route("/api/orders", Orders(platform))
    app.add_route("/api/orders/{notice}", Order(platform))
    app.add_route("/api/pay/{notice}", ScriptedPay(platform))
    app.add_route("/pay/{notice}", PayPage(platform))
    return app


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):   # the platform's access log would name every order
        pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m deploy.nontax")
    parser.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)")
    args = parser.parse_args(argv)
    setup()
    cfg = settings()
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    platform = Platform(Store(str(cfg.data_dir / "nontax.db")))
    stop = threading.Event()
    threading.Thread(target=platform.deliver_forever, args=(stop,), daemon=True).start()
    server = make_server(args.host, cfg.nontax_port, create_app(platform), server_class=_Server,
                         handler_class=_Quiet)
    log.info("non-tax stand-in on http://%s:%d, calling back %s", args.host, cfg.nontax_port, cfg.callback_url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.server_close()


if __name__ == "__main__":
    main()

