"""The process's heap after start-up, out of the cycle collector's way (issue 12).

A gateway worker or a service process imports and builds a hundred thousand objects it keeps
for its whole life (modules, SQLAlchemy's mappers, pydantic's models, the routes). CPython's
full collection walks every one of them each time it runs: measured under the bench's load,
a gateway worker stopped every thread for 100–240 ms at a time, and the review process for
15–75 ms, which is the slowest hundredth of the admin queue's answers. ``gc.freeze()`` (the
standard library's means for exactly this: "move all objects tracked by the garbage collector
to a permanent generation") leaves them out of every later collection; what requests create
is collected as before.
"""
from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)


def settle() -> int:
    """Collects once, then freezes what survives; returns how many objects were frozen. Call
    it once the process has built what it keeps, before it serves."""
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.info("heap settled: %d objects left out of later collections", frozen)
    return frozen
