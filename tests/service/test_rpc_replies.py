"""kit.entrypoints.Responder (issue 12): an RPC reply is encoded once and sent as nameko's
own responder would send it — checked on the real RabbitMQ: the reply that arrives in the
caller's queue is the answer, the refusal, or, for an answer that cannot be encoded, nameko's
UnserializableValueError (the caller is told, not left waiting)."""
from __future__ import annotations

import json
import uuid

import kombu
import pytest
from harness import AMQP_HOST, AMQP_PORT
from nameko.constants import DEFAULT_SERIALIZER

from kit import amqp, entrypoints
from kit.entrypoints import Responder, Rpc
from kit.errors import Conflict

AMQP_URI = f"amqp://guest:guest@{AMQP_HOST}:{AMQP_PORT}/"


class Request:
    """What the responder reads of the request message."""

    def __init__(self, reply_to: str, correlation_id: str):
        self.properties = {"content_type": "application/json", "reply_to": reply_to,
                           "correlation_id": correlation_id}


@pytest.fixture
def replies():
    """A reply queue on the broker, bound like a caller's, and a function that sends through
    the responder and returns what arrived: (the decoded body, the message's properties)."""
    exchange = kombu.Exchange(f"test-rpc-{uuid.uuid4().hex[:8]}", type="topic", auto_delete=True)
    key = uuid.uuid4().hex
    with kombu.Connection(AMQP_URI) as conn:
        queue = kombu.Queue(f"test-replies-{key}", exchange=exchange, routing_key=key, auto_delete=True)
        queue(conn.default_channel).declare()
        simple = conn.SimpleQueue(queue)

        def send(result, exc_info=None):
            correlation = uuid.uuid4().hex
            out = Responder(AMQP_URI, exchange, DEFAULT_SERIALIZER, Request(key, correlation)).send_response(
                result, exc_info)
            message = simple.get(timeout=5)
            message.ack()
            assert message.properties["correlation_id"] == correlation
            assert message.content_type == "application/json"
            assert message.properties["delivery_mode"] == 1                    # transient
            return out, json.loads(message.body)

        yield send
        simple.close()
        queue(conn.default_channel).delete()


def test_an_answer_arrives_as_it_was_given(replies):
    answer = {"items": [{"name": "张伟", "total": 3}], "page": 1}
    (result, exc_info), body = replies(answer)
    assert body == {"result": answer, "error": None}          # one encoding, not a string of JSON
    assert result == answer and exc_info is None


def test_a_refusal_arrives_with_its_code(replies):
    try:
        raise Conflict("该申请已被处理", code="state_conflict")
    except Conflict as exc:
        refusal = (type(exc), exc, exc.__traceback__)
    (_, exc_info), body = replies(None, refusal)
    assert exc_info is refusal and body["result"] is None
    assert body["error"]["exc_type"] == "Conflict" and "state_conflict" in json.dumps(body["error"])


def test_an_answer_that_cannot_be_encoded_is_told_to_the_caller(replies):
    (result, exc_info), body = replies({"when": object()})
    assert result is None and exc_info is not None
    assert body["result"] is None and body["error"]["exc_type"] == "UnserializableValueError"


def test_replies_reuse_the_producer_pool_found_for_the_broker(replies, monkeypatch):
    """A reply takes its producer from kombu's pool for the broker, looked up once (kit.amqp,
    installed by kit.entrypoints for every nameko publisher of a service)."""
    import nameko.amqp.publish

    assert nameko.amqp.publish.get_producer is amqp.get_producer
    replies({"n": 1})

    class Unused:
        def __getitem__(self, connection):
            pytest.fail("looked up again")

    monkeypatch.setattr(amqp, "producers", Unused())
    assert replies({"n": 2})[1] == {"result": {"n": 2}, "error": None}


class Probe:
    def method(self, principal, filters=None):
        return filters


class Container:
    service_cls = Probe


def test_a_call_is_checked_against_the_signature_read_once(monkeypatch):
    """kit.entrypoints.Rpc: the arguments nameko's own check refuses are refused
    (IncorrectSignature, which nameko answers to the caller), with the signature read once."""
    from nameko.exceptions import IncorrectSignature

    entry = Rpc()
    entry.container, entry.method_name = Container(), "method"      # as nameko binds it
    entry.check_signature(({"seal": "x"},), {})
    entry.check_signature(({"seal": "x"},), {"filters": {"page": 2}})
    monkeypatch.setattr(entrypoints.inspect, "signature", lambda fn: pytest.fail("read again"))
    for args, kwargs in (((), {}), (({}, {}, {}), {}), (({},), {"page": 2})):
        with pytest.raises(IncorrectSignature):
            entry.check_signature(args, kwargs)


def test_a_pool_per_broker_address_and_options():
    """Publishers with confirms (requests, events) and without (replies) do not share a pool;
    the same arguments find the same one."""
    with amqp.get_producer(AMQP_URI, confirms=True) as one:
        pass
    with amqp.get_producer(AMQP_URI, confirms=True) as again:
        assert again is one                                  # the producer went back to its pool
    with amqp.get_producer(AMQP_URI, confirms=False) as other:
        assert other is not one
        assert other.connection.transport_options["confirm_publish"] is False
    assert one.connection.transport_options["confirm_publish"] is True


def test_requests_are_sent_transient_and_confirmed():
    """kit.amqp: nameko's RPC proxies publish with RequestPublisher — confirmed, and transient
    (delivery mode 1: not kept on disk for a caller who will have timed out), as the message
    that reaches the service's queue shows."""
    import nameko.rpc

    assert nameko.rpc.MethodProxy.publisher_cls is amqp.RequestPublisher
    assert amqp.RequestPublisher(AMQP_URI).use_confirms is True
    exchange = kombu.Exchange(f"test-rpc-{uuid.uuid4().hex[:8]}", type="topic", auto_delete=True)
    with kombu.Connection(AMQP_URI) as conn:
        queue = kombu.Queue(f"test-requests-{uuid.uuid4().hex}", exchange=exchange, routing_key="probe.*",
                            durable=True, auto_delete=True)                 # durable, like rpc-<service>
        queue(conn.default_channel).declare()
        amqp.RequestPublisher(AMQP_URI).publish({"args": [], "kwargs": {}}, exchange=exchange,
                                                routing_key="probe.method", mandatory=True)
        with conn.SimpleQueue(queue) as simple:
            message = simple.get(timeout=5)
            message.ack()
        queue(conn.default_channel).delete()
    assert message.properties["delivery_mode"] == 1 and json.loads(message.body) == {"args": [], "kwargs": {}}
