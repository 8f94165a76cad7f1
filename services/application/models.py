"""Application's tables. Nobody else reads them."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kit.db import BlobColumns, JsonType, UtcDateTime, add_messaging_tables
from kit.files import add_file_tables


class Base(DeclarativeBase):
    pass


add_messaging_tables(Base.metadata)
add_file_tables(Base.metadata)


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


class Blob(BlobColumns, Base):
    """An uploaded file: its metadata; the bytes are in ``blob_chunks`` (kit.files)."""

    __tablename__ = "blobs"


class OnlinePaymentCopy(Base):
    """This service's copy of the cities that pay online in a year (payment.fees_set.v1)."""

    __tablename__ = "online_payment_copies"
    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    cities: Mapped[list] = mapped_column(JsonType, default=list)
    updated_at = mapped_column(UtcDateTime, nullable=False)


class YearCopy(Base):
    """This service's copy of identity's calendar (from identity.year_updated.v1)."""

    __tablename__ = "year_copies"
    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    is_current: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    calendar: Mapped[dict] = mapped_column(JsonType)


class Trade(Base):
    """The trade catalogue (工种) with its old→new mapping (R-A4 rule 8)."""

    __tablename__ = "trades"
    code: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    category: Mapped[str] = mapped_column(sa.String(40), default="")
    new_codes: Mapped[list] = mapped_column(JsonType, default=list)


class CountyContact(Base):
    """咨询电话: a phone per 县区 (R-P1), edited by the province."""

    __tablename__ = "county_contacts"
    county_code: Mapped[str] = mapped_column(sa.String(6), primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(40))


class RuleSetRow(Base):
    """The eligibility figures of an exam year (R-A4), data not code."""

    __tablename__ = "rule_sets"
    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    rules: Mapped[dict] = mapped_column(JsonType)


class Application(Base):
    """One applicant's 报名信息 for one exam year, and their progress through the steps."""

    __tablename__ = "applications"
    __table_args__ = (sa.UniqueConstraint("year", "id_number", name="uq_application_year_id"),)
    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    year: Mapped[int] = mapped_column(sa.Integer, index=True)
    # from registration, read-only
    id_number: Mapped[str] = mapped_column(sa.String(18))
    name: Mapped[str] = mapped_column(sa.String(40))
    gender: Mapped[str] = mapped_column(sa.String(1))
    birth_month: Mapped[str] = mapped_column(sa.String(7))
    phone: Mapped[str] = mapped_column(sa.String(11))
    city_code: Mapped[str] = mapped_column(sa.String(6), index=True)
    target_grade: Mapped[int] = mapped_column(sa.Integer)
    # the form
    unit_id: Mapped[str | None] = mapped_column(sa.String(40), nullable=True)
    county_code: Mapped[str | None] = mapped_column(sa.String(6), nullable=True, index=True)
    supervisor_id: Mapped[str | None] = mapped_column(sa.String(40), nullable=True, index=True)
    education: Mapped[str | None] = mapped_column(sa.String(30), nullable=True)
    work_start: Mapped[str | None] = mapped_column(sa.String(7), nullable=True)
    service_years: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    current_grade: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    current_trade: Mapped[str | None] = mapped_column(sa.String(20), nullable=True)
    grade_obtained_year: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    target_trade: Mapped[str | None] = mapped_column(sa.String(20), nullable=True)
    route: Mapped[str | None] = mapped_column(sa.String(20), nullable=True)
    exceptional: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    frontline: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    exceptional_reason: Mapped[str] = mapped_column(sa.Text, default="")
    prohibited: Mapped[bool | None] = mapped_column(sa.Boolean, nullable=True)
    pledge: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    # {kind: {sha256, content_type, size, uploaded_at}}; "personal_photo_stamped" is derived
    files: Mapped[dict] = mapped_column(JsonType, default=dict)
    # the files as last submitted: what the reviewers of that round see
    submitted_files: Mapped[dict | None] = mapped_column(JsonType, nullable=True)
    # progress
    status: Mapped[str] = mapped_column(sa.String(20), default="not_submitted", index=True)
    round: Mapped[int] = mapped_column(sa.Integer, default=0)
    submitted_at = mapped_column(UtcDateTime, nullable=True)
    review_note: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    # the fee, as payment announced it (payment.fee_paid.v1)
    paid_at = mapped_column(UtcDateTime, nullable=True)
    ticket_no: Mapped[str | None] = mapped_column(sa.String(12), nullable=True)   # documents.ticket_issued.v1
    # 考核结果 as documents last published it (pass | fail), and the revision it carried
    result: Mapped[str | None] = mapped_column(sa.String(4), nullable=True)
    result_revision: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    # the version of review's case behind ``status``: an older outcome arriving late is ignored
    review_version: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    created_at = mapped_column(UtcDateTime, nullable=False)
    updated_at = mapped_column(UtcDateTime, nullable=False)
    # 终审通过 (review.finally_approved.v1 ``at``): paying opens 24 h / 48 h later (R-F2)
    approved_at = mapped_column(UtcDateTime, nullable=True)


class Notice(Base):
    """A notice to the applicant (issue 14): made in the transaction of what caused it, sent
    by SMS after commit (``sent_at``), listed on the home and 审核结果 pages. At most one per
    (application, kind, key): a redelivered event, a sweep run twice or by two instances
    makes no second one (domain.notice_key)."""

    __tablename__ = "notices"
    __table_args__ = (sa.UniqueConstraint("application_id", "kind", "key", name="uq_notice_once"),
                      sa.Index("ix_notices_unsent", "sent_at", "id"))
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    # no foreign key: the sweep's inserts must not wait for the applications' row locks the
    # handlers hold (a key-share lock each); a deleted application's notices go with it
    # (on_account_deleted), and the unique key leads with the application
    application_id: Mapped[str] = mapped_column(sa.String(32))
    kind: Mapped[str] = mapped_column(sa.String(20))
    key: Mapped[str] = mapped_column(sa.String(40))
    phone: Mapped[str] = mapped_column(sa.String(11))
    text: Mapped[str] = mapped_column(sa.Text)
    created_at = mapped_column(UtcDateTime, nullable=False)
    sent_at = mapped_column(UtcDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
