"""Make kombu's in-memory transport (``memory://``) carry nameko in one process.

The embedded run puts every service, and the gateway's standalone RPC proxy, in one
eventlet-patched process and uses ``AMQP_URI = "memory://"`` instead of RabbitMQ.
kombu's memory transport almost works for that; :func:`install` patches the few places
where it does not. Call it once at start-up, before the first connection; calling it
again is harmless. Only the memory transport is changed, never the AMQP one.

What nameko needs from a broker, and how ``memory://`` answers it (checked against
nameko 2.14.1 / kombu 5.7.0):

* RPC requests and replies, events: topic exchanges (``nameko-rpc``,
  ``<service>.events``) with per-service queues. Virtual transports route topic
  exchanges themselves, and the memory transport keeps exchanges, bindings and queues
  in process-global state, so every connection of the process sees one broker.
* ``message.properties['content_type']``: missing -- patch 1.
* Latency: an idle consumer sleeps a whole second between polls -- patch 2.
* Publish confirms (``transport_options={'confirm_publish': True}`` from nameko's
  ``Publisher``): only the py-amqp transport reads that option; a memory publish is a
  synchronous put into an in-process queue, so it is confirmed by construction.
* Queue arguments (``x-expires`` on RPC reply queues), durability, delivery mode,
  heartbeats: accepted and ignored (``heartbeat_check`` is a no-op). Ignoring
  ``x-expires`` means a reply queue outlives its proxy until the process exits; the
  gateway keeps a fixed pool of proxies, so that is a handful of empty queues (one
  more per proxy dropped after a timeout).
* Not patched, and harmless here: the broker state lives and dies with the process;
  unacked messages are not redelivered when a channel closes; a requeued message
  (``reject(requeue=True)``, which nameko does only for a message arriving while its
  container is being killed) is re-routed through its exchange, so every queue bound to
  that routing key gets it again -- kit's event handlers dedupe by ``event_id``.
"""
from __future__ import annotations

import time

from kombu.transport import memory, virtual
from kombu.transport.virtual import base as virtual_base

AMQP_URI = "memory://"

# Idle consumers poll the in-memory queues this often; kombu's default is 1 s. An RPC waits
# for two polls (request, reply): measured ~170 calls/s from one caller, ~1,400/s from
# eight concurrent callers, ~3% CPU for two idle services.
POLLING_INTERVAL = 0.005


class _Message(virtual.Message):
    """A virtual message whose ``properties`` also hold the content type and encoding.

    Patch 1. On AMQP, ``content_type`` and ``content_encoding`` are basic properties, and
    nameko relies on that: ``nameko.rpc.Responder`` answers in the request's serializer,
    looked up by ``message.properties['content_type']``. Virtual transports keep both at
    the top level of the stored payload instead, so every RPC reply died with
    ``KeyError: 'content_type'`` and the caller got ``RpcTimeout``.

    The properties are copied, not edited in place: a message routed to several queues
    (an event with several handlers) is one shared dict in the memory transport.
    """

    def __init__(self, payload, channel=None, **kwargs):
        super().__init__(payload, channel=channel, **kwargs)
        properties = dict(self.properties)
        properties.setdefault("content_type", self.content_type)
        properties.setdefault("content_encoding", self.content_encoding)
        self.properties = properties


def _sleep(seconds: float) -> None:
    # Looked up at call time, so it is eventlet's green sleep once the process is
    # monkey-patched, even when kombu was imported before the patching.
    time.sleep(seconds)


def install() -> None:
    """Patch kombu's memory transport for nameko. Idempotent."""
    # Patch 1: content_type / content_encoding in message.properties (see _Message).
    # Only the memory channel gets the new message class; other virtual transports
    # (redis, sqs, ...) keep kombu's.
    memory.Channel.Message = _Message

    # Patch 2: poll every 5 ms instead of every second. An idle virtual consumer tries
    # its queues, finds them empty and sleeps ``polling_interval`` before trying again,
    # so with the default 1 s each RPC hop (request, then reply) waited up to a second.
    # An explicit ``transport_options={'polling_interval': ...}`` still wins.
    memory.Transport.polling_interval = POLLING_INTERVAL

    # Patch 3: the poll loop's sleep must yield to other greenthreads. kombu binds
    # ``from time import sleep`` at import; if kombu was imported before
    # ``eventlet.monkey_patch()`` that is the real, blocking sleep: a consumer's drain
    # loop then never yields and starves every other greenthread (measured: 20 RPCs did
    # not finish in 120 s). Harmless for the other virtual transports: same sleep.
    virtual_base.sleep = _sleep
