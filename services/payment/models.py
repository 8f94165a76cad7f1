"""Payment's tables. The messaging tables (outbox, inbox, parked events) come first; the
payment feature adds its own."""
from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from kit.db import add_messaging_tables


class Base(DeclarativeBase):
    pass


add_messaging_tables(Base.metadata)
