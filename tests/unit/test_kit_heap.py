"""kit.heap (issue 12): what exists when a process settles is left out of later collections;
what is made afterwards is collected as before."""
from __future__ import annotations

import gc
import weakref

from kit import heap


class Node:
    def __init__(self):
        self.me = self            # a cycle: only the cycle collector frees it


def test_what_exists_is_frozen_and_what_comes_later_is_still_collected():
    kept = Node()
    try:
        frozen = heap.settle()
        assert frozen == gc.get_freeze_count() > 0
        assert not any(o is kept for generation in range(3) for o in gc.get_objects(generation))
        later = weakref.ref(Node())            # garbage in a cycle, made after settling
        gc.collect()
        assert later() is None
    finally:
        gc.unfreeze()                          # this test process goes on as it was
