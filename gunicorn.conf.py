"""Read by gunicorn from the directory it starts in (the repository root for ``make run`` and
the tests, /app in the image): the gateway's workers share their metrics, and SIGTERM drains
before the graceful stop (gateway.gunicorn_hooks)."""
from gateway.gunicorn_hooks import child_exit, on_exit, on_starting, when_ready

__all__ = ["child_exit", "on_exit", "on_starting", "when_ready"]
