"""Entry point for gunicorn: ``gunicorn -k gthread gateway.wsgi:app``. The RPC pool is
built lazily, so each worker process gets its own clients after fork."""
from kit.logs import setup

from .app import create_app

setup()
app = create_app()
