"""CPU-heavy work (password hashing, image decoding) off the eventlet hub: in a native thread
(eventlet's tpool; Pillow and argon2 release the GIL while they work), so that one service
process keeps answering everyone else meanwhile. A bounded number at a time per process;
the rest wait their turn without blocking the hub."""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
_gates: dict[str, Any] = {}
_lock = threading.Lock()


def patched(module: str = "thread") -> bool:
    """Whether eventlet has patched this standard module here: a service's own process
    (``nameko run``), not a test's or the gateway's."""
    try:
        from eventlet import patcher
    except ImportError:  # pragma: no cover
        return False
    return patcher.is_monkey_patched(module)


def _gate(name: str, size: int):
    with _lock:
        gate = _gates.get(name)
        if gate is None:
            from eventlet.semaphore import Semaphore

            gate = _gates[name] = Semaphore(max(1, size))
        return gate


def run(fn: Callable[..., T], *args: Any, gate: str | None = None, size: int = 2) -> T:
    """``fn(*args)`` in a native thread when eventlet runs (at most ``size`` at a time for a
    named ``gate``), else right here."""
    if not patched():
        return fn(*args)
    from eventlet import tpool

    if gate is None:
        return tpool.execute(fn, *args)
    with _gate(gate, size):
        return tpool.execute(fn, *args)
