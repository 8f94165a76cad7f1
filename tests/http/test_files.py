"""Files never travel inside an RPC or an event (issue 7, DESIGN "Files, events, adapters,
jobs"): they stream from the owning service's own endpoint through the gateway, on the
distributed run (each service its own process, RabbitMQ, PostgreSQL)."""
from __future__ import annotations

import hashlib
import io
import os

import pytest
import requests
from helpers import BrokerTap, applicant, assert_error, fill_valid, upload, wait_for
from nameko.standalone.rpc import ClusterRpcProxy
from PIL import Image

import kit.remote  # noqa: F401 - remote refusals arrive as kit.errors
from kit.config import SERVICES

FEW_KB = 4096


def noise_png(side: int) -> bytes:
    """A PNG of random pixels: it does not compress, so its size is what it says."""
    buf = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buf, "PNG")
    return buf.getvalue()


class Tap(BrokerTap):
    """The size of every message on the RPC exchange (requests and replies) and on every
    service's event exchange."""

    def __init__(self, stack):
        self.sizes: list[tuple[str, int]] = []
        super().__init__(stack, ["nameko-rpc", *(f"{name}.events" for name in SERVICES)])

    def on_message(self, body, message):
        self.sizes.append((message.delivery_info.get("routing_key", ""), len(message.body)))


def test_a_5mb_upload_and_download_cross_no_rpc_message_over_a_few_kb(stack, province):
    api, _ = applicant(stack, province)
    fill_valid(api)
    big = noise_png(1270)
    assert 4_500_000 < len(big) <= 5 * 1024 * 1024
    tap = Tap(stack)
    try:
        r = upload(api, "education_proof", big, "edu.png", "image/png")
        assert r.status_code == 200, r.text[:300]
        meta = r.json()["files"]["education_proof"]
        assert meta["size"] > 4_500_000 and meta["content_type"] == "image/png"
        got = api.get(meta["url"], stream=True)
        body = got.raw.read(decode_content=True)
        assert got.status_code == 200 and got.headers["Content-Type"] == "image/png"
        assert int(got.headers["Content-Length"]) == len(body) == meta["size"]
        assert hashlib.sha256(body).hexdigest() == meta["sha256"]
        assert got.headers["Content-Disposition"].startswith("inline")
        # the marker: one more RPC after the transfers, so everything before it has been seen
        assert api.get("/api/v1/me/application").status_code == 200
        wait_for(lambda: sum(1 for key, _ in tap.sizes if key == "application.get_form") >= 1,
                 what=f"the marker; seen: {tap.sizes[:20]}")
    finally:
        tap.close()
    rpc_messages = [size for key, size in tap.sizes]
    assert len(rpc_messages) >= 6, tap.sizes          # tickets, identity.me, the marker and their replies
    assert max(rpc_messages) < FEW_KB, sorted(tap.sizes, key=lambda x: -x[1])[:3]


def test_the_service_endpoint_takes_only_its_own_fresh_tickets(stack):
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=10) as rpc:
        ticket = rpc.application.upload_ticket(None, "registration_photo", {})
    url = ticket["url"]
    base, token = url.rsplit("/", 1)
    assert base.startswith("http://127.0.0.1:")
    png = noise_png(300)
    tampered = requests.put(f"{base}/{token[:-2]}xx", data=png, timeout=10)
    assert_error(tampered, 404, "ticket_invalid")
    as_download = requests.get(url, timeout=10)                      # an upload ticket is not a download one
    assert_error(as_download, 404, "ticket_invalid")
    ok = requests.put(url, data=png, timeout=30)
    assert ok.status_code == 200 and len(ok.json()["sha256"]) == 64
    too_big = requests.put(url, data=b"\x89PNG\r\n\x1a\n" + b"0" * (5 * 1024 * 1024 + 10), timeout=30)
    assert_error(too_big, 413, "too_large")


@pytest.mark.parametrize("action", ["roster_csv", "units_csv", "material", "no_such_upload"])
def test_upload_tickets_are_refused_to_whom_the_upload_is_refused(stack, action):
    service = {"roster_csv": "identity", "units_csv": "application", "material": "review"}.get(action, "application")
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=10) as rpc:
        from kit.errors import NotFound, Unauthenticated

        expected = NotFound if action == "no_such_upload" else Unauthenticated
        with pytest.raises(expected):                         # no principal: nobody gets a ticket
            getattr(rpc, service).upload_ticket(None, action, {})
