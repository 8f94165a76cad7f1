"""Connections shared out among the gateway's workers (issue 12, gateway.gunicorn_hooks.pre_request):
a worker holding more than one and a half times its threads in connections closes each one
after its response, so a burst of kept-alive connections taken by one worker moves on to the
others; at or under its share nothing changes. The hook as gunicorn.conf.py installs it, in a
real gunicorn gthread worker (one worker, two threads: its share is three connections)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from gateway import gunicorn_hooks

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
APP = '''
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
'''


@pytest.mark.parametrize(("held", "closes"), [(1, False), (12, False), (13, True), (40, True)])
def test_a_worker_over_its_share_closes_the_connection_after_the_response(held, closes):
    req = SimpleNamespace(must_close=False)
    gunicorn_hooks.pre_request(SimpleNamespace(cfg=SimpleNamespace(threads=8), nr_conns=held), req)
    assert req.must_close is closes


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ask(sock: socket.socket) -> str:
    """One keep-alive request; the response's Connection header."""
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data or not data.endswith(b"ok"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    headers = data.split(b"\r\n\r\n")[0].decode().lower()
    return next(line.split(":", 1)[1].strip() for line in headers.split("\r\n") if line.startswith("connection:"))


@pytest.fixture
def gunicorn(tmp_path):
    (tmp_path / "share_app.py").write_text(APP)
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}", "GONGKAO_DATA_DIR": str(tmp_path / "data")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    proc = subprocess.Popen([str(BIN / "gunicorn"), "-k", "gthread", "-w", "1", "--threads", "2", "--keep-alive", "30",
                             "-b", f"127.0.0.1:{port}", "share_app:app"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("gunicorn did not start")
    time.sleep(0.3)          # the probe's connection closed and counted out
    yield port
    os.killpg(proc.pid, 15)
    proc.wait(15)


def test_kept_alive_connections_over_a_workers_share_are_closed_and_its_share_kept(gunicorn):
    socks = [socket.create_connection(("127.0.0.1", gunicorn), timeout=10) for _ in range(3)]
    try:
        assert [_ask(s) for s in socks] == ["keep-alive"] * 3       # its share: kept
        socks.append(socket.create_connection(("127.0.0.1", gunicorn), timeout=10))
        time.sleep(0.3)                                              # accepted: four held
        answers = [_ask(s) for s in socks]
        assert "close" in answers                                    # over its share: one goes
        open_ones = [s for s, a in zip(socks, answers, strict=True) if a == "keep-alive"]
        assert len(open_ones) >= 2 and [_ask(s) for s in open_ones] == ["keep-alive"] * len(open_ones)
    finally:
        for s in socks:
            s.close()
