"""Each service's Alembic history builds exactly the tables its models declare, on SQLite
(the local run) and PostgreSQL (deployment)."""
from __future__ import annotations

import importlib
import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from kit.config import SERVICES
from kit.migrate import upgrade


def drift(url: str, service: str) -> list:
    models = importlib.import_module(f"services.{service}.models")
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), models.Base.metadata)
    engine.dispose()
    return diff


@pytest.mark.parametrize("service", SERVICES)
def test_sqlite_schema_matches_models(service, tmp_path):
    url = f"sqlite:///{tmp_path / f'{service}.db'}"
    upgrade(service, url)
    upgrade(service, url)  # again: nothing to do
    assert drift(url, service) == []


@pytest.mark.parametrize("service", SERVICES)
def test_postgresql_schema_matches_models(service):
    import psycopg2

    db = f"gk_mig_{uuid.uuid4().hex[:8]}_{service}"
    admin = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{db}"')
    try:
        url = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{db}"
        upgrade(service, url)
        assert drift(url, service) == []
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        admin.close()
