"""The kit every gongkao service shares: config, clock, database with outbox and inbox,
event envelope, error types, logging. It knows no service and no gateway."""

import sys

# kombu asks for librabbitmq (`import librabbitmq`) every time it makes a Connection for an
# amqp:// URL, and nameko makes one for every message it publishes: an RPC request, a reply, an
# event. The package is not installed and a failed import is not remembered, so each publish
# walked sys.path (about a tenth of the gateway's CPU per request). A None entry makes the
# import fail at once; kombu then uses py-amqp as before.
sys.modules.setdefault("librabbitmq", None)
