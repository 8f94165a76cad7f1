"""One Alembic history per service, driven from code (``python -m kit.migrate``)."""
from __future__ import annotations

import importlib.util
import logging
import sys
from pathlib import Path

from alembic import command, context
from alembic.config import Config

from kit.config import SERVICES, settings

log = logging.getLogger(__name__)


def _config(service: str, url: str) -> Config:
    spec = importlib.util.find_spec(f"services.{service}")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"unknown service {service}")
    location = Path(list(spec.submodule_search_locations)[0]) / "migrations"
    cfg = Config()
    cfg.set_main_option("script_location", str(location))
    cfg.set_main_option("sqlalchemy.url", url)
    cfg.attributes["configure_logger"] = False
    return cfg


def upgrade(service: str, url: str | None = None) -> None:
    url = url or settings().db_url(service)
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(_config(service, url), "head")


def revision(service: str, message: str, url: str) -> None:
    command.revision(_config(service, url), message=message, autogenerate=True)


def run_env(metadata) -> None:
    """Body of every service's migrations/env.py."""
    from kit.db import make_engine

    url = context.config.get_main_option("sqlalchemy.url")
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata,
                          render_as_batch=url.startswith("sqlite"), compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if __name__ == "__main__":
    names = sys.argv[1:] or list(SERVICES)
    for name in names:
        upgrade(name)
        print(f"migrated {name}")
