"""The few events a gateway process listens to, to keep copies fresh without asking (issue
12): identity's principal_changed (sessions), application's reference_changed and identity's
year_updated (reference data). One daemon thread per process with its own exclusive,
auto-deleted queue bound to those routing keys. ``connected`` is set only while it consumes:
the copies are used only then, and everything kept is dropped whenever the connection is
lost (what happened meanwhile is unknown) — a change can never be missed, only re-fetched."""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

from kit import logs

log = logging.getLogger(__name__)


class EventListener:
    def __init__(self, amqp_uri: str):
        self.amqp_uri = amqp_uri
        self.connected = threading.Event()
        self._handlers: dict[str, tuple[str, list[Callable[[dict], None]]]] = {}   # event type → (exchange, fns)
        self._on_reset: list[Callable[[], None]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    def on(self, event_type: str, handler: Callable[[dict], None], on_reset: Callable[[], None]) -> None:
        """``handler(data)`` for each event of ``event_type`` (``<service>.<name>.v1``);
        ``on_reset()`` whenever the listener (re)connects or loses the broker."""
        self._handlers.setdefault(event_type, (event_type.split(".", 1)[0] + ".events", []))[1].append(handler)
        self._on_reset.append(on_reset)

    def ensure_started(self) -> None:
        """Started in the process that serves (after gunicorn's fork), once."""
        if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
                return
            self._pid = os.getpid()
            self.connected.clear()
            self._thread = threading.Thread(target=self._run, name="gateway-events", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _reset(self) -> None:
        for fn in self._on_reset:
            fn()

    def _run(self) -> None:
        import kombu

        while not self._stop.is_set():
            try:
                with kombu.Connection(self.amqp_uri, heartbeat=10, connect_timeout=5) as conn:
                    # one queue, bound once per event type (kombu keeps one Queue per name)
                    queue = kombu.Queue(
                        f"gateway-{os.getpid()}-{os.urandom(4).hex()}", exclusive=True, auto_delete=True,
                        durable=False, bindings=[kombu.binding(kombu.Exchange(exchange, type="topic", durable=True),
                                                               routing_key=event_type)
                                                 for event_type, (exchange, _) in self._handlers.items()])
                    with conn.Consumer([queue], callbacks=[self._on_message], accept=["json"]):
                        self._reset()                 # whatever happened while away is unknown
                        self.connected.set()
                        while not self._stop.is_set():
                            try:
                                conn.drain_events(timeout=1)
                            except TimeoutError:
                                conn.heartbeat_check()
            except Exception as exc:   # the broker went away: no copies until it is back
                log.warning("gateway event listener disconnected: %s", type(exc).__name__)
            finally:
                self.connected.clear()
                self._reset()
            self._stop.wait(1)

    def _on_message(self, body, message) -> None:
        entry = self._handlers.get((body or {}).get("event_type") or message.delivery_info.get("routing_key"))
        with logs.bound((body or {}).get("request_id") if isinstance(body, dict) else None, service="gateway"):
            try:
                if entry is None:
                    raise ValueError("an event nobody asked for")
                for handler in entry[1]:
                    handler((body or {}).get("data") or {})
            except Exception:
                log.exception("unreadable event: forgetting every copy")
                self._reset()
        message.ack()
