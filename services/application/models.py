"""Application's tables. Nobody else reads them."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kit.db import JsonType, UtcDateTime, add_messaging_tables


class Base(DeclarativeBase):
    pass


add_messaging_tables(Base.metadata)


class Supervisor(Base):
    """A 主管单位: its administrator's user name and office phone are shown to applicants."""

    __tablename__ = "supervisors"
    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    city_code: Mapped[str] = mapped_column(sa.String(6), index=True)
    admin: Mapped[str] = mapped_column(sa.String(40), default="")
    phone: Mapped[str] = mapped_column(sa.String(20), default="")


class Unit(Base):
    __tablename__ = "units"
    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    city_code: Mapped[str] = mapped_column(sa.String(6), index=True)
    county_code: Mapped[str | None] = mapped_column(sa.String(6), nullable=True)
    supervisor_id: Mapped[str] = mapped_column(sa.ForeignKey("supervisors.id"))


class Blob(Base):
    """An uploaded file, stored under the data directory by the hash of its content."""

    __tablename__ = "blobs"
    sha256: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    content_type: Mapped[str] = mapped_column(sa.String(40))
    size: Mapped[int] = mapped_column(sa.Integer)
    width: Mapped[int] = mapped_column(sa.Integer)
    height: Mapped[int] = mapped_column(sa.Integer)
    created_at = mapped_column(UtcDateTime, nullable=False)


class YearCopy(Base):
    """This service's copy of identity's calendar (from identity.year_updated.v1)."""

    __tablename__ = "year_copies"
    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    is_current: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    calendar: Mapped[dict] = mapped_column(JsonType)
