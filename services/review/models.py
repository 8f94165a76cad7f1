"""Review's tables: cases, their steps (the history), chains, reviewers' materials."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kit.db import BlobColumns, JsonType, UtcDateTime, add_messaging_tables
from kit.files import add_file_tables


class Base(DeclarativeBase):
    pass


add_messaging_tables(Base.metadata)
add_file_tables(Base.metadata)


class ChainConfig(Base):
    """A city's review chain when it differs from the default (R-R1)."""

    __tablename__ = "chains"
    city_code: Mapped[str] = mapped_column(sa.String(6), primary_key=True)
    levels: Mapped[list] = mapped_column(JsonType)


class Case(Base):
    """One application under review; its rounds share the case, its steps keep the history."""

    __tablename__ = "cases"
    __table_args__ = (
        # the queue: a level's pending cases in its scope, oldest first, paged in SQL
        # (ending with the queue's order, submitted_at then application_id: a page is read in
        # index order, never sorted)
        sa.Index("ix_cases_queue_city", "city_code", "status", "current_level", "submitted_at", "application_id"),
        sa.Index("ix_cases_queue_supervisor", "supervisor_id", "status", "current_level", "submitted_at",
                 "application_id"),
        sa.Index("ix_cases_queue_county", "county_code", "status", "submitted_at", "application_id"),
        sa.Index("ix_cases_queue_province", "status", "current_level", "submitted_at", "application_id"),
        sa.Index("ix_cases_queue_all", "submitted_at", "application_id"),
    )
    application_id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    year: Mapped[int] = mapped_column(sa.Integer, index=True)
    id_number: Mapped[str] = mapped_column(sa.String(18), index=True)
    name: Mapped[str] = mapped_column(sa.String(40))
    gender: Mapped[str] = mapped_column(sa.String(1))
    target_grade: Mapped[int] = mapped_column(sa.Integer, index=True)
    target_trade: Mapped[str | None] = mapped_column(sa.String(20), nullable=True, index=True)
    route: Mapped[str | None] = mapped_column(sa.String(20), nullable=True)
    unit_id: Mapped[str | None] = mapped_column(sa.String(40), nullable=True, index=True)
    unit_name: Mapped[str | None] = mapped_column(sa.String(100), nullable=True)
    supervisor_id: Mapped[str | None] = mapped_column(sa.String(40), nullable=True, index=True)
    county_code: Mapped[str | None] = mapped_column(sa.String(6), nullable=True, index=True)
    city_code: Mapped[str] = mapped_column(sa.String(6), index=True)
    chain: Mapped[list] = mapped_column(JsonType)
    level_index: Mapped[int] = mapped_column(sa.Integer, default=0)
    # chain[level_index] while in review, else None: the level the case waits for (indexed)
    current_level: Mapped[str | None] = mapped_column(sa.String(20), nullable=True)
    status: Mapped[str] = mapped_column(sa.String(20), index=True)
    rejected_index: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    round: Mapped[int] = mapped_column(sa.Integer)
    snapshot: Mapped[dict] = mapped_column(JsonType)
    materials: Mapped[dict] = mapped_column(JsonType, default=dict)
    submitted_at = mapped_column(UtcDateTime, nullable=False, index=True)
    finally_approved_at = mapped_column(UtcDateTime, nullable=True)
    updated_at = mapped_column(UtcDateTime, nullable=False)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)


class Step(Base):
    """The history: each submission and each decision, with who, scope, reason and time.
    It is also the audit of every reviewer's decision."""

    __tablename__ = "steps"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    application_id: Mapped[str] = mapped_column(sa.ForeignKey("cases.application_id"), index=True)
    round: Mapped[int] = mapped_column(sa.Integer)
    level: Mapped[str] = mapped_column(sa.String(20))        # applicant | supervisor | city | province
    decision: Mapped[str] = mapped_column(sa.String(20))     # submitted | pass | return | reject | reopen
    actor: Mapped[str] = mapped_column(sa.String(40))        # user name (the applicant: masked ID)
    actor_name: Mapped[str] = mapped_column(sa.String(40))
    actor_role: Mapped[str | None] = mapped_column(sa.String(20), nullable=True)
    actor_scope: Mapped[str | None] = mapped_column(sa.String(40), nullable=True)
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    at = mapped_column(UtcDateTime, nullable=False)


class Blob(BlobColumns, Base):
    """A reviewer's uploaded material: its metadata; the bytes in ``blob_chunks`` (kit.files)."""

    __tablename__ = "blobs"


class YearCopy(Base):
    """This service's copy of identity's calendar (identity.year_updated.v1): reviewers
    decide inside the review window."""

    __tablename__ = "year_copies"
    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    calendar: Mapped[dict] = mapped_column(JsonType)
