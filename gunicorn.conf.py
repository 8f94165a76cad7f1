"""Read by gunicorn from the directory it starts in (the repository root for ``make run`` and
the tests, /app in the image): the gateway's workers share their metrics, and SIGTERM drains
before the graceful stop, and each worker's heap is settled once it has loaded the gateway
(gateway.gunicorn_hooks); a worker holding more than its share of the connections closes
them after their responses, so that both workers serve.
"""
from gateway.gunicorn_hooks import child_exit, on_exit, on_starting, post_worker_init, pre_request, when_ready

__all__ = ["child_exit", "limit_request_line", "on_exit", "on_starting", "post_worker_init", "pre_request",
           "when_ready"]

# The longest request line gunicorn reads (its maximum; the default is 4094). Past it gunicorn
# answers 414 with its own HTML page before the gateway sees the request: an administrator's
# list with many filters in its URL should reach the gateway, which answers in JSON.
limit_request_line = 8190
