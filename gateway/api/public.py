"""Public endpoints: health, readiness, the exam year, reference data."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import falcon

from kit.config import SERVICES


class Health:
    auth = False

    def on_get(self, req, resp):
        resp.media = {"status": "ok"}


class Ready:
    """200 only when every service answers an RPC ping; 503 names the ones that did not."""

    def __init__(self, ping_rpc):
        self.ping_rpc = ping_rpc

    def on_get(self, req, resp):
        from gateway.gunicorn_hooks import draining

        if draining():            # stopping: a load balancer sends no more (the answers go on)
            resp.media = {"status": "draining", "services": {}, "down": []}
            resp.status = falcon.HTTP_503
            return

        def ping(name):
            try:
                return name, self.ping_rpc.pool.call(name, "ping") == "pong"
            except Exception:  # noqa: BLE001 - any failure (ServiceUnavailable included) = not ready
                return name, False

        with ThreadPoolExecutor(max_workers=len(SERVICES)) as ex:
            results = dict(ex.map(ping, SERVICES))
        down = sorted(name for name, ok in results.items() if not ok)
        resp.media = {"status": "ok" if not down else "unavailable", "services": results, "down": down}
        if down:
            resp.status = falcon.HTTP_503


class CurrentYear:
    def on_get(self, req, resp):
        cal = req.context.reference.current_year()
        if cal is None:
            raise falcon.HTTPNotFound(description="本年度考核尚未开放")
        resp.media = {k: cal[k] for k in ("year", "windows", "switches")}


class Cities:
    def on_get(self, req, resp):
        resp.media = req.context.reference.cities()


class Units:
    def on_get(self, req, resp):
        resp.media = req.context.reference.units(req.get_param("city_code") or None)
