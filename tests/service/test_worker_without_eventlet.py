"""The service tests run on nameko's ``worker_factory`` without its pytest plugin: nothing in
this process is eventlet monkey-patched (the HTTP tests in the same session must not be)."""
from __future__ import annotations

import socket
import threading

import eventlet.patcher
from nameko.testing.services import worker_factory

from services.review.service import ReviewService


def test_a_worker_is_built_without_monkey_patching():
    worker = worker_factory(ReviewService)
    assert type(worker) is ReviewService and worker.name == "review"
    for module in ("socket", "thread", "time", "select", "os"):
        assert not eventlet.patcher.is_monkey_patched(module), module
    assert socket.socket.__module__ == "socket" and threading.current_thread().__class__.__module__ == "threading"
