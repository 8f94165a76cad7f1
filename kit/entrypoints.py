"""Entrypoint decorators every service uses."""
from __future__ import annotations

import functools
import inspect
import sys

import kombu.serialization
import nameko.rpc
from nameko.amqp.publish import Publisher
from nameko.constants import NON_PERSISTENT
from nameko.events import SERVICE_POOL, event_handler
from nameko.exceptions import IncorrectSignature, UnserializableValueError, serialize

import kit.remote  # noqa: F401 - registers the error types
from kit import amqp
from kit.contracts import EventView
from kit.errors import ServiceError


class ReplyPublisher(Publisher):
    """An RPC reply goes out without waiting for the broker's confirm: the caller waits for
    the reply itself (and times out if it never comes), so the confirm's extra round trip
    on every answer bought nothing (issue 12). Requests keep their confirms (an unknown
    service is refused at once); events keep theirs (the outbox relay publishes confirmed).
    Transient, like the request (kit.amqp)."""

    use_confirms = False
    delivery_mode = NON_PERSISTENT


class Rpc(nameko.rpc.Rpc):
    """nameko's RPC entrypoint, checking a call's arguments against the method's signature read
    once: nameko reads it anew with ``inspect.getcallargs`` for every call."""

    def check_signature(self, args, kwargs):
        signature = self.__dict__.get("_signature")
        if signature is None:
            signature = self._signature = inspect.signature(getattr(self.container.service_cls, self.method_name))
        try:
            signature.bind(None, *args, **kwargs)              # None: the unbound method's self
        except TypeError as exc:
            raise IncorrectSignature(str(exc)) from None


class Responder(nameko.rpc.Responder):
    """nameko's responder, encoding the reply once: nameko's own serialises the answer to check
    that it can, then hands the object to kombu, which serialises it again (a twentieth of a
    queue page's cost in the service). Here the checked encoding is what is sent; an answer
    that cannot be encoded is still replaced by nameko's UnserializableValueError."""

    publisher_cls = ReplyPublisher

    def send_response(self, result, exc_info):
        error = None if exc_info is None else serialize(exc_info[1])
        # encoded the same way as the request message
        serializer = kombu.serialization.registry.type_to_name[self.message.properties["content_type"]]
        try:
            content_type, encoding, body = kombu.serialization.dumps({"result": result, "error": error}, serializer)
        except Exception:
            exc_info = sys.exc_info()
            error = serialize(UnserializableValueError(result))   # guaranteed to encode
            result = None
            content_type, encoding, body = kombu.serialization.dumps({"result": None, "error": error}, serializer)
        self.publisher_cls(self.amqp_uri, ssl=self.ssl, login_method=self.login_method).publish(
            body, content_type=content_type, content_encoding=encoding, exchange=self.exchange,
            routing_key=self.message.properties["reply_to"],
            correlation_id=self.message.properties.get("correlation_id"))
        return result, exc_info


nameko.rpc.Responder = Responder      # what nameko's RpcConsumer answers with
amqp.install()                        # every publish of the service finds its producer pool once


def rpc(fn=None, *, sensitive: tuple[str, ...] = ()):
    """An RPC entrypoint whose refusals (ServiceError) are expected, not crashes."""
    deco = Rpc.decorator(expected_exceptions=ServiceError, sensitive_arguments=sensitive)
    return deco(fn) if fn is not None else deco


def handles(view: type[EventView], attempts: int = 3):
    """An idempotent event handler: ``def on_x(self, session, event)`` runs once per event,
    inside one transaction with its inbox record, with the payload parsed into ``view`` (the
    consumer's model of it, see kit.contracts); failures, a payload that does not parse
    included, are retried, then parked. The service must declare ``db = Database(...)``."""
    if not (isinstance(view, type) and issubclass(view, EventView) and view.EVENT_TYPE):
        raise TypeError("@handles takes an EventView with its EVENT_TYPE")
    event_type = view.EVENT_TYPE
    source = event_type.split(".", 1)[0]

    def deco(fn):
        @functools.wraps(fn)
        def entry(self, env):
            return self.db.apply_event(f"{fn.__name__}", env, lambda s, d: fn(self, s, d),
                                       attempts=attempts, view=view)

        entry.event_view = view  # for the contract tests
        return event_handler(source, event_type, handler_type=SERVICE_POOL,
                             reliable_delivery=True)(entry)

    return deco
