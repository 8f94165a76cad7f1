"""Documents service. Its feature is built in a later issue; it already runs, answers the
readiness ping and owns its database and outbox."""
from __future__ import annotations

import sqlalchemy as sa

from kit.db import Database
from kit.entrypoints import rpc

from .models import Base


class DocumentsService:
    name = "documents"

    db = Database(Base.metadata)

    @rpc
    def ping(self) -> str:
        with self.db.tx() as s:
            s.execute(sa.text("SELECT 1"))
        return "pong"
