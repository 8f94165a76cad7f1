"""Payment's tables. The messaging tables (outbox, inbox, parked events) come first; the
payment feature adds its own."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kit.db import JsonType, UtcDateTime, add_messaging_tables


class Base(DeclarativeBase):
    pass


add_messaging_tables(Base.metadata)


class FeeSchedule(Base):
    """The fee per grade and the cities paying online, per exam year (R-Y1, R-F1)."""

    __tablename__ = "fee_schedules"
    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    fees_fen: Mapped[dict] = mapped_column(JsonType)                # {"5": 12000, …, "1": 30000}
    online_payment_cities: Mapped[list] = mapped_column(JsonType)
    updated_at = mapped_column(UtcDateTime, nullable=False)
