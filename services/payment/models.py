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


class YearCopy(Base):
    """This service's copy of identity's calendar (identity.year_updated.v1): the payment window."""

    __tablename__ = "year_copies"
    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    calendar: Mapped[dict] = mapped_column(JsonType)


class Payable(Base):
    """An applicant's fee for a year, from 终审通过 on (review.finally_approved.v1)."""

    __tablename__ = "payables"
    __table_args__ = (
        sa.UniqueConstraint("year", "id_number", name="uq_payable_year_id"),
        sa.Index("ix_payables_list", "year", "status", "city_code", "target_grade"),
    )
    application_id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    year: Mapped[int] = mapped_column(sa.Integer)
    id_number: Mapped[str] = mapped_column(sa.String(18))
    name: Mapped[str] = mapped_column(sa.String(40))
    city_code: Mapped[str] = mapped_column(sa.String(6))
    target_grade: Mapped[int] = mapped_column(sa.Integer)
    approved_at = mapped_column(UtcDateTime, nullable=False)
    status: Mapped[str] = mapped_column(sa.String(10), default="unpaid")   # unpaid | paid | offline
    receipt_title: Mapped[str | None] = mapped_column(sa.String(60), nullable=True)  # fixed by the first order
    amount_fen: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    channel: Mapped[str | None] = mapped_column(sa.String(10), nullable=True)  # online | offline
    paid_order_no: Mapped[str | None] = mapped_column(sa.String(40), nullable=True)
    paid_at = mapped_column(UtcDateTime, nullable=True)
    offline_note: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    offline_by: Mapped[str | None] = mapped_column(sa.String(40), nullable=True)
    updated_at = mapped_column(UtcDateTime, nullable=False)


class PaymentOrder(Base):
    """One 确认缴费: an order registered with the platform (R-F4)."""

    __tablename__ = "orders"
    __table_args__ = (sa.Index("ix_orders_reconcile", "status", "created_at"),)
    order_no: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    payment_notice_no: Mapped[str] = mapped_column(sa.String(20), unique=True)
    application_id: Mapped[str] = mapped_column(sa.ForeignKey("payables.application_id"), index=True)
    amount_fen: Mapped[int] = mapped_column(sa.Integer)
    receipt_title: Mapped[str] = mapped_column(sa.String(60))
    status: Mapped[str] = mapped_column(sa.String(10), default="open")   # open | paid | cancelled | expired
    pay_url: Mapped[str] = mapped_column(sa.String(300))
    created_at = mapped_column(UtcDateTime, nullable=False)
    expires_at = mapped_column(UtcDateTime, nullable=False)
    closed_at = mapped_column(UtcDateTime, nullable=True)     # cancelled or expired
    paid_at = mapped_column(UtcDateTime, nullable=True)       # as the platform says
    settled_by: Mapped[str | None] = mapped_column(sa.String(12), nullable=True)   # callback | query
    last_checked_at = mapped_column(UtcDateTime, nullable=True)


class CallbackRecord(Base):
    """Every callback received, raw, with what became of it (the platform's word is evidence)."""

    __tablename__ = "callbacks"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    received_at = mapped_column(UtcDateTime, nullable=False, index=True)
    source: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    body: Mapped[str] = mapped_column(sa.Text)
    order_no: Mapped[str | None] = mapped_column(sa.String(40), nullable=True, index=True)
    outcome: Mapped[str] = mapped_column(sa.String(30))   # paid | late_paid | second_payment | repeat | refused:…


class Mismatch(Base):
    """Money the platform took that does not match one open order (R-F4): a late payment of a
    cancelled or expired order, or a second payment (to refund)."""

    __tablename__ = "mismatches"
    __table_args__ = (sa.UniqueConstraint("order_no", name="uq_mismatch_order"),)
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    order_no: Mapped[str] = mapped_column(sa.ForeignKey("orders.order_no"))
    application_id: Mapped[str] = mapped_column(sa.String(32), index=True)
    amount_fen: Mapped[int] = mapped_column(sa.Integer)
    paid_at = mapped_column(UtcDateTime, nullable=True)
    kind: Mapped[str] = mapped_column(sa.String(20))        # late_payment | second_payment
    recorded_at = mapped_column(UtcDateTime, nullable=False)
