"""Entry point for gunicorn: ``gunicorn -k gthread gateway.wsgi:app``. The RPC pool is
built lazily, so each worker process gets its own clients after fork. Started from the
repository root, gunicorn reads ``gunicorn.conf.py`` there: the workers' metrics are summed
(gateway.gunicorn_hooks)."""
from kit.logs import setup

from .app import create_app

setup(service="gateway")
app = create_app()
