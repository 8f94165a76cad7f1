"""deploy.probe: what the Kubernetes exec probes and the image's HEALTHCHECK run. The HTTP
checks against a small local server; the RPC ping for real, over kombu's in-memory transport
in a child interpreter (no broker needed)."""
from __future__ import annotations

import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from deploy import probe

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def server():
    """A local HTTP server answering ``statuses[path]`` (404 for anything else)."""
    statuses: dict[str, int] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(statuses.get(self.path, 404))
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    httpd.statuses = statuses
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def env(monkeypatch):
    for name in ("GONGKAO_AMQP_URI", "GONGKAO_FILES_LISTEN", "GONGKAO_PORT"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("listen, expected", [
    ("0.0.0.0:8080", ("127.0.0.1", 8080)),
    (":8080", ("127.0.0.1", 8080)),
    ("[::]:8080", ("::1", 8080)),
    ("10.1.2.3:9000", ("10.1.2.3", 9000)),
])
def test_the_file_endpoint_is_reached_on_loopback_when_it_listens_everywhere(listen, expected):
    assert probe.local_address(listen) == expected


@pytest.mark.parametrize("listen", ["127.0.0.1:0", "8080", "host:port"])
def test_an_address_without_a_fixed_port_cannot_be_probed(listen):
    with pytest.raises(probe.Unhealthy):
        probe.local_address(listen)


def test_a_service_is_live_when_its_own_endpoint_answers_anything(server, env, capsys):
    env.setenv("GONGKAO_FILES_LISTEN", f"0.0.0.0:{server.server_port}")   # answers 404: alive
    assert probe.main(["identity", "--live"]) == 0
    env.setenv("GONGKAO_FILES_LISTEN", f"127.0.0.1:{free_port()}")
    assert probe.main(["identity", "--live"]) == 1
    assert "unhealthy" in capsys.readouterr().err


def test_a_service_is_ready_when_its_endpoint_and_its_ping_answer(server, env, capsys):
    calls, replies = [], []

    def ping(uri, service, timeout):
        calls.append((uri, service))
        reply = replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply

    env.setattr(probe, "ping", ping)
    env.setenv("GONGKAO_FILES_LISTEN", f"127.0.0.1:{server.server_port}")
    assert probe.main(["review"]) == 1, "no broker configured"
    assert calls == []

    env.setenv("GONGKAO_AMQP_URI", "amqp://broker/")
    replies += [True, TimeoutError("no reply"), False]
    assert probe.main(["review"]) == 0
    assert calls == [("amqp://broker/", "review")]
    assert probe.main(["review"]) == 1
    assert "review.ping: TimeoutError: no reply" in capsys.readouterr().err
    assert probe.main(["review"]) == 1

    env.setenv("GONGKAO_FILES_LISTEN", f"127.0.0.1:{free_port()}")
    replies.append(True)
    assert probe.main(["review"]) == 1, "another instance answering is not enough"


def test_the_gateway_is_live_on_healthz_and_ready_on_readyz(server, env):
    env.setenv("GONGKAO_PORT", str(server.server_port))
    server.statuses.update({"/healthz": 200, "/readyz": 503})
    assert probe.main(["gateway", "--live"]) == 0
    assert probe.main(["gateway"]) == 1
    server.statuses["/readyz"] = 200
    assert probe.main(["gateway"]) == 0


PING = r'''
import sys, time
sys.path.insert(0, sys.argv[1])
import eventlet
eventlet.monkey_patch()
from kit import memory_transport
memory_transport.install()
from nameko.rpc import rpc
from nameko.runners import ServiceRunner
from deploy import probe

class Identity:
    name = "identity"

    @rpc
    def ping(self):
        return "pong"

runner = ServiceRunner({"AMQP_URI": memory_transport.AMQP_URI})
runner.add_service(Identity)
runner.start()
print(probe.ping(memory_transport.AMQP_URI, "identity", 5))
started = time.monotonic()
try:
    probe.ping(memory_transport.AMQP_URI, "review", 1)
    print("review answered")
except Exception as exc:
    print(type(exc).__name__, round(time.monotonic() - started))
runner.stop()
'''


def test_ping_asks_the_service_over_the_broker():
    run = subprocess.run([sys.executable, "-c", PING, str(ROOT)], capture_output=True, text=True,
                         timeout=60, env={"PATH": "/usr/bin:/bin", "PYTHONWARNINGS": "ignore"})
    assert run.returncode == 0, run.stderr
    answered, missing = run.stdout.split("\n")[:2]
    assert answered == "True"
    assert missing.split()[0] != "review" and int(missing.split()[-1]) <= 2, missing


def test_the_probe_runs_as_a_module():
    started = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "deploy.probe", "payment", "--live", "--timeout", "1"],
                         cwd=ROOT, capture_output=True, text=True, timeout=30,
                         env={"PATH": "/usr/bin:/bin", "GONGKAO_FILES_LISTEN": f"127.0.0.1:{free_port()}"})
    assert run.returncode == 1 and "unhealthy" in run.stderr
    assert time.monotonic() - started < 10
