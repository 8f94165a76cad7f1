"""Documents's tables: what the tickets show (a copy from events), the exam's sites, rooms,
timetable and seats, generated PDFs (kit.files) and bulk jobs. Nobody else reads them."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kit.db import BlobColumns, JsonType, UtcDateTime, add_messaging_tables
from kit.files import add_file_tables
from kit.throttle import add_counter_table


class Base(DeclarativeBase):
    pass


add_messaging_tables(Base.metadata)
add_file_tables(Base.metadata)
source_counters = add_counter_table(Base.metadata)     # the public certificate check, per source


class Blob(BlobColumns, Base):
    """A generated document (a ticket PDF): metadata; the bytes in ``blob_chunks``."""

    __tablename__ = "blobs"


class YearCopy(Base):
    """The calendar, from identity.year_updated.v1 (the ticket printing switch)."""

    __tablename__ = "year_copies"
    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    calendar: Mapped[dict] = mapped_column(JsonType)


class OnlineCities(Base):
    """The cities that pay online in a year (payment.fees_set.v1): elsewhere 终审通过 is enough."""

    __tablename__ = "online_cities"
    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    cities: Mapped[list] = mapped_column(JsonType)
    updated_at = mapped_column(UtcDateTime, nullable=False)


class Candidate(Base):
    """An applicant as the ticket shows them (application.submitted.v1), and whether they may
    sit the exam: 终审通过 (review) and paid or in a city without online payment (payment)."""

    __tablename__ = "candidates"
    __table_args__ = (sa.Index("ix_candidates_seating", "year", "approved", "city_code", "target_grade",
                               "target_trade"),
                      # the seat list's order (documents.seats pages in SQL)
                      sa.Index("ix_candidates_list", "year", "city_code", "target_grade", "target_trade", "id_number",
                               "application_id"))
    application_id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    year: Mapped[int] = mapped_column(sa.Integer)
    id_number: Mapped[str] = mapped_column(sa.String(18), index=True)
    name: Mapped[str] = mapped_column(sa.String(40))
    gender: Mapped[str] = mapped_column(sa.String(1))
    birth_month: Mapped[str] = mapped_column(sa.String(7))
    unit_name: Mapped[str] = mapped_column(sa.String(100), default="")
    city_code: Mapped[str] = mapped_column(sa.String(6))
    target_grade: Mapped[int] = mapped_column(sa.Integer)
    target_trade: Mapped[str] = mapped_column(sa.String(20), default="")
    trade_name: Mapped[str] = mapped_column(sa.String(60), default="")
    photo_sha256: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    # what the certificate shows besides (R-D4)
    education: Mapped[str] = mapped_column(sa.String(30), default="", server_default="")
    work_start: Mapped[str] = mapped_column(sa.String(7), default="", server_default="")
    service_years: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    round: Mapped[int] = mapped_column(sa.Integer)
    approved: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    approved_round: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    paid: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    withdrawn: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    waiting: Mapped[str | None] = mapped_column(sa.String(20), nullable=True)   # why the last run left them out
    updated_at = mapped_column(UtcDateTime, nullable=False)


class Site(Base):
    """考点."""

    __tablename__ = "sites"
    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    site_code: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    address: Mapped[str] = mapped_column(sa.String(120), default="")
    city_code: Mapped[str] = mapped_column(sa.String(6))


class Room(Base):
    """考场: its seats, and a number fixed when it is first set (ticket numbers carry it)."""

    __tablename__ = "rooms"
    __table_args__ = (sa.UniqueConstraint("year", "city_code", "number", name="uq_room_number"),
                      sa.ForeignKeyConstraint(["year", "site_code"], ["sites.year", "sites.site_code"]))
    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    site_code: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    room_code: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40))
    seats: Mapped[int] = mapped_column(sa.Integer)
    city_code: Mapped[str] = mapped_column(sa.String(6))
    number: Mapped[int] = mapped_column(sa.Integer)


class Sitting(Base):
    """The timetable: one row per grade and subject (职业道德, 职业能力, 岗位技能)."""

    __tablename__ = "timetable"
    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    grade: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    subject: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    start = mapped_column(UtcDateTime, nullable=False)
    end = mapped_column(UtcDateTime, nullable=False)
    place: Mapped[str] = mapped_column(sa.String(60), default="")


class Seat(Base):
    """座号 and 准考证号 of a candidate: once given, never moved by a re-run."""

    __tablename__ = "seats"
    __table_args__ = (sa.UniqueConstraint("year", "ticket_no", name="uq_seat_ticket"),
                      sa.UniqueConstraint("year", "site_code", "room_code", "seat_no", name="uq_seat_place"))
    application_id: Mapped[str] = mapped_column(sa.ForeignKey("candidates.application_id"), primary_key=True)
    year: Mapped[int] = mapped_column(sa.Integer)
    ticket_no: Mapped[str] = mapped_column(sa.String(12))
    site_code: Mapped[str] = mapped_column(sa.String(20))
    room_code: Mapped[str] = mapped_column(sa.String(20))
    seat_no: Mapped[int] = mapped_column(sa.Integer)
    assigned_at = mapped_column(UtcDateTime, nullable=False)


class Rendered(Base):
    """A PDF made, kept while its data stays the same (the hash of what it shows)."""

    __tablename__ = "rendered"
    application_id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20), primary_key=True)        # ticket | certificate
    data_hash: Mapped[str] = mapped_column(sa.String(64))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int] = mapped_column(sa.Integer)
    rendered_at = mapped_column(UtcDateTime, nullable=False)


class Job(Base):
    """A bulk generation (all tickets of a city or of the province), done in chunks."""

    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    year: Mapped[int] = mapped_column(sa.Integer)
    city_code: Mapped[str | None] = mapped_column(sa.String(6), nullable=True)
    status: Mapped[str] = mapped_column(sa.String(10))          # queued | running | done | failed
    total: Mapped[int] = mapped_column(sa.Integer)
    done: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_by: Mapped[str] = mapped_column(sa.String(40))
    created_at = mapped_column(UtcDateTime, nullable=False)
    finished_at = mapped_column(UtcDateTime, nullable=True)


class JobChunk(Base):
    """A part of a job any documents instance may take (claimed with SKIP LOCKED; a claim
    older than a few minutes is a crashed instance's: taken again)."""

    __tablename__ = "job_chunks"
    __table_args__ = (sa.Index("ix_job_chunks_claim", "status", "claimed_at"),)
    job_id: Mapped[str] = mapped_column(sa.ForeignKey("jobs.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    application_ids: Mapped[list] = mapped_column(JsonType)
    status: Mapped[str] = mapped_column(sa.String(10), default="queued")     # queued | running | done
    claimed_at = mapped_column(UtcDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)


class PassLine(Base):
    """A year's 合格线 (R-D3): each subject's and the total's."""

    __tablename__ = "pass_lines"
    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    subjects: Mapped[dict] = mapped_column(JsonType)
    total: Mapped[int] = mapped_column(sa.Integer)
    updated_at = mapped_column(UtcDateTime, nullable=False)


class Score(Base):
    """A candidate's three scores, as imported (合格 is computed from them and the lines)."""

    __tablename__ = "scores"
    __table_args__ = (sa.Index("ix_scores_year", "year"),)
    application_id: Mapped[str] = mapped_column(sa.ForeignKey("candidates.application_id"), primary_key=True)
    year: Mapped[int] = mapped_column(sa.Integer)
    ticket_no: Mapped[str] = mapped_column(sa.String(12), unique=True)
    ethics = mapped_column(sa.Numeric(4, 1), nullable=False)        # 职业道德
    ability = mapped_column(sa.Numeric(4, 1), nullable=False)       # 职业能力
    skill = mapped_column(sa.Numeric(4, 1), nullable=False)         # 岗位技能
    revision: Mapped[int] = mapped_column(sa.Integer, default=1)     # orders results_published events
    imported_at = mapped_column(UtcDateTime, nullable=False)
    imported_by: Mapped[str] = mapped_column(sa.String(40))


class HistoryRecord(Base):
    """An earlier year's assessment of a person, imported (R-D4: 岗位等级考核记录)."""

    __tablename__ = "history_records"
    __table_args__ = (sa.UniqueConstraint("id_number", "year", "kind", "trade", "grade", name="uq_history_record"),)
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    id_number: Mapped[str] = mapped_column(sa.String(18), index=True)
    year: Mapped[int] = mapped_column(sa.Integer)
    kind: Mapped[str] = mapped_column(sa.String(30))
    trade: Mapped[str] = mapped_column(sa.String(60))
    grade: Mapped[int] = mapped_column(sa.Integer)
    obtained_at = mapped_column(sa.Date, nullable=True)
    result: Mapped[str] = mapped_column(sa.String(4))                   # pass | fail
    imported_at = mapped_column(UtcDateTime, nullable=False)


class Certificate(Base):
    """An electronic certificate: its verification code, fixed at first issue (R-D5)."""

    __tablename__ = "certificates"
    application_id: Mapped[str] = mapped_column(sa.ForeignKey("candidates.application_id"), primary_key=True)
    year: Mapped[int] = mapped_column(sa.Integer)
    code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    issued_at = mapped_column(UtcDateTime, nullable=False)
