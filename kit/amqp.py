"""How nameko's RPC messages are published (issue 12): transient, and from kombu's producer
pool for a broker address found once per process.

An RPC request or reply is only worth anything to a caller who is waiting for it, so it is
sent transient (``RequestPublisher``, and kit.entrypoints' ``ReplyPublisher``): nameko sends
every message persistent, which had RabbitMQ keep each request to a service's durable queue
on disk — about a seventh of the broker's work per RPC. After a broker restart a caller has
long since timed out, and a request kept across it would only be carried out for nobody.
Events keep nameko's persistent delivery (the outbox relay).

nameko's ``Publisher.publish`` takes a producer through ``nameko.amqp.publish.get_producer``,
which builds a kombu ``Connection`` (parsing the URI) and hashes it to find that address's pool
in ``kombu.pools.producers`` — for every message: every RPC request the gateway sends, every
reply a service sends, every event. That was a twentieth of the CPU of an RPC in the gateway
and in the service. ``install()`` puts in its place the same function keeping the pool it
found, by the same arguments; everything else about publishing (headers, confirms, mandatory
delivery, retries) stays nameko's. The pools are forgotten in a forked child, as kombu's own.
"""
from __future__ import annotations

import contextlib
import os

import nameko.amqp.publish
import nameko.rpc
from kombu import Connection
from kombu.pools import producers
from nameko.amqp.publish import Publisher
from nameko.constants import DEFAULT_TRANSPORT_OPTIONS, NON_PERSISTENT

_POOLS: dict[tuple, object] = {}


@contextlib.contextmanager
def get_producer(amqp_uri, confirms=True, ssl=None, login_method=None, transport_options=None):
    """nameko's ``get_producer``: a producer from the pool for this broker address and these
    options, the pool looked up once."""
    options = dict(DEFAULT_TRANSPORT_OPTIONS if transport_options is None else transport_options)
    options["confirm_publish"] = confirms
    key = (amqp_uri, confirms, repr(ssl), login_method, repr(sorted(options.items())))
    pool = _POOLS.get(key)
    if pool is None:
        pool = _POOLS.setdefault(key, producers[Connection(amqp_uri, transport_options=options, ssl=ssl,
                                                          login_method=login_method)])
    with pool.acquire(block=True) as producer:
        yield producer


class RequestPublisher(Publisher):
    """An RPC request: transient; confirmed as nameko's (an unknown service is refused at once)."""

    delivery_mode = NON_PERSISTENT


def install() -> None:
    """nameko's publishers take their producers through ``get_producer`` above, and its RPC
    proxies send their requests with ``RequestPublisher``."""
    nameko.amqp.publish.get_producer = get_producer
    nameko.rpc.MethodProxy.publisher_cls = RequestPublisher


os.register_at_fork(after_in_child=_POOLS.clear)
