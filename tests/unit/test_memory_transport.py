"""kit.memory_transport: nameko RPC and events over kombu's ``memory://`` in one process.

Each check runs in a fresh child interpreter: the nameko scenario must be eventlet
monkey-patched, which this test process is not (pytest runs with ``-p no:pytest_nameko``),
and the patch it installs into kombu stays out of the test process.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# argv: <repo root> <order>; order "patch-first" is the embedded run's order
# (monkey_patch, then everything else), "import-first" imports and installs the transport
# patch before monkey-patching.
SCENARIO = r'''
import sys
sys.path.insert(0, sys.argv[1])
ORDER = sys.argv[2]
if ORDER == "import-first":
    from kit import memory_transport
    memory_transport.install()
import eventlet
eventlet.monkey_patch()
import json
import time

from kit import memory_transport
memory_transport.install()
memory_transport.install()  # twice: harmless

from nameko.amqp.publish import Publisher
from nameko.events import EventDispatcher, event_handler, get_event_exchange
from nameko.exceptions import RemoteError, RpcTimeout, deserialize_to_instance
from nameko.rpc import RpcProxy, rpc
from nameko.runners import ServiceRunner
from nameko.standalone.rpc import ClusterRpcProxy

CONFIG = {"AMQP_URI": memory_transport.AMQP_URI}


@deserialize_to_instance
class Refused(Exception):
    pass


class Alpha:
    name = "alpha"
    dispatch = EventDispatcher()

    @rpc
    def echo(self, value):
        return value

    @rpc
    def ping(self, payload):
        self.dispatch("pinged", payload)

    @rpc
    def fail(self):
        raise ValueError("坏了")

    @rpc(expected_exceptions=Refused)
    def refuse(self):
        raise Refused("不行")

    @rpc
    def slow(self):
        eventlet.sleep(1)


SEEN = []


class Beta:
    name = "beta"
    alpha = RpcProxy("alpha")  # service-to-service RPC: nameko's own reply listener

    @event_handler("alpha", "pinged")
    def on_pinged(self, payload):
        SEEN.append(payload)

    @rpc
    def seen(self):
        return list(SEEN)

    @rpc
    def relay(self, value):
        return self.alpha.echo(value)


def wait_seen(rpc_proxy, count):
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        seen = rpc_proxy.beta.seen()
        if len(seen) >= count:
            return seen
        eventlet.sleep(0.01)
    return rpc_proxy.beta.seen()


out = {}
runner = ServiceRunner(config=CONFIG)
runner.add_service(Alpha)
runner.add_service(Beta)
runner.start()
try:
    with eventlet.Timeout(40), ClusterRpcProxy(CONFIG, timeout=5) as p:
        nested = {"名字": "张三", "list": [1, 2.5, None, True, {"深": ["层", {"k": "值"}]}]}
        out["echo_str"] = p.alpha.echo("河南省工勤技能岗位")
        out["echo_nested"] = p.alpha.echo(nested)
        out["nested_ok"] = out["echo_nested"] == nested
        out["relay"] = p.beta.relay("转发")

        # An event from nameko's EventDispatcher (confirmed publish), delivered once.
        p.alpha.ping({"n": 1, "s": "事件"})
        out["seen_after_dispatch"] = wait_seen(p, 1)

        # The way kit.db's outbox relay publishes: a Publisher declaring the exchange.
        exchange = get_event_exchange("alpha", CONFIG)
        Publisher(CONFIG["AMQP_URI"], declare=[exchange]).publish(
            {"n": 2}, exchange=exchange, routing_key="pinged")
        out["seen_after_publish"] = wait_seen(p, 2)

        # A marker on the same queue, for the same handler (which appends without yielding, so in
        # delivery order): a duplicate of either event would arrive before it, not after.
        p.alpha.ping({"n": "marker"})
        out["seen_after_marker"] = wait_seen(p, 3)

        try:
            p.alpha.fail()
        except RemoteError as exc:
            out["remote_error"] = [exc.exc_type, exc.value]
        try:
            p.alpha.refuse()
        except Refused as exc:
            out["registered_error"] = str(exc)

        n = 200
        start = time.perf_counter()
        for i in range(n):
            assert p.alpha.echo(i) == i
        out["rate_sequential"] = n / (time.perf_counter() - start)

    with eventlet.Timeout(40):
        proxies = [ClusterRpcProxy(CONFIG, timeout=5) for _ in range(8)]
        try:
            started = [proxy.start() for proxy in proxies]
            pool = eventlet.GreenPool()
            start = time.perf_counter()
            for client in started:
                pool.spawn(lambda c: [c.alpha.echo(i) for i in range(50)], client)
            pool.waitall()
            out["rate_8_clients"] = 8 * 50 / (time.perf_counter() - start)
        finally:
            for proxy in proxies:
                proxy.stop()

        # A reply that does not come in time is an RpcTimeout, not a hang.
        with ClusterRpcProxy(CONFIG, timeout=0.3) as short:
            start = time.perf_counter()
            try:
                short.alpha.slow()
            except RpcTimeout:
                out["timeout_after"] = time.perf_counter() - start
finally:
    runner.stop()
print("RESULT " + json.dumps(out, ensure_ascii=False), flush=True)
'''


def run_child(script: str, *args: str) -> dict:
    """Run ``script`` in a fresh interpreter; it prints one ``RESULT <json>`` line."""
    proc = subprocess.run([sys.executable, "-c", script, str(ROOT), *args],
                          capture_output=True, text=True, encoding="utf-8", timeout=60, cwd=ROOT)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, (
        f"child failed (rc={proc.returncode})\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr[-6000:]}")
    return json.loads(lines[-1][len("RESULT "):])


@pytest.mark.parametrize("order", ["patch-first", "import-first"])
def test_nameko_rpc_and_events_over_memory(order):
    out = run_child(SCENARIO, order)
    print(f"[{order}] memory:// RPC: {out.get('rate_sequential', 0):.0f} req/s sequential, "
          f"{out.get('rate_8_clients', 0):.0f} req/s with 8 clients")

    assert out["echo_str"] == "河南省工勤技能岗位"
    assert out["nested_ok"], out["echo_nested"]
    assert out["relay"] == "转发"
    assert out["seen_after_dispatch"] == [{"n": 1, "s": "事件"}]
    assert out["seen_after_publish"] == [{"n": 1, "s": "事件"}, {"n": 2}]
    assert out["seen_after_marker"] == [{"n": 1, "s": "事件"}, {"n": 2}, {"n": "marker"}]
    assert out["remote_error"] == ["ValueError", "坏了"]
    assert out["registered_error"] == "不行"
    assert 0.25 < out["timeout_after"] < 3
    # kombu's default 1 s polling gives ~1 req/s; 5 ms polling gives ~170 sequential.
    assert out["rate_sequential"] > 50
    assert out["rate_8_clients"] > 100


# Not monkey-patched: install twice, then one plain kombu round trip on memory://.
IDEMPOTENT = r'''
import json
import sys
sys.path.insert(0, sys.argv[1])

from kombu import Connection, Exchange, Queue
from kombu.transport import memory
from kombu.transport.virtual import base as virtual_base

from kit import memory_transport

memory_transport.install()
memory_transport.install()
out = {
    "message_class": memory.Channel.Message is memory_transport._Message,
    "class_polling_interval": memory.Transport.polling_interval,
    "sleep_patched": virtual_base.sleep is memory_transport._sleep,
    "uri": memory_transport.AMQP_URI,
}
exchange = Exchange("mt-x", type="topic")
queue = Queue("mt-q", exchange=exchange, routing_key="a.*")
with Connection(memory_transport.AMQP_URI) as conn:
    out["polling_interval"] = conn.transport.polling_interval
    conn.Producer(serializer="json").publish({"k": "值"}, exchange=exchange, routing_key="a.b",
                                             declare=[queue], reply_to="r", correlation_id="c")
    message = queue(conn.default_channel).get(no_ack=True)
    out["payload"] = message.payload
    out["properties"] = {k: message.properties.get(k) for k in
                         ("content_type", "content_encoding", "reply_to", "correlation_id")}
with Connection(memory_transport.AMQP_URI, transport_options={"polling_interval": 0.2}) as conn:
    out["explicit_polling_interval"] = conn.transport.polling_interval
print("RESULT " + json.dumps(out, ensure_ascii=False), flush=True)
'''


def test_install_is_idempotent_and_fixes_properties():
    out = run_child(IDEMPOTENT)
    assert out["message_class"] and out["sleep_patched"]
    assert out["class_polling_interval"] == out["polling_interval"] == 0.005
    assert out["uri"] == "memory://"
    assert out["payload"] == {"k": "值"}
    assert out["properties"] == {"content_type": "application/json", "content_encoding": "utf-8",
                                 "reply_to": "r", "correlation_id": "c"}
    # An explicit transport option still wins over the patched default.
    assert out["explicit_polling_interval"] == 0.2
