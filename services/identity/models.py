"""Identity's tables. Nobody else reads them."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kit.db import JsonType, UtcDateTime, add_messaging_tables


class Base(DeclarativeBase):
    pass


add_messaging_tables(Base.metadata)


class ExamYear(Base):
    __tablename__ = "exam_years"
    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    is_current: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    # {"windows": {name: {start, end}}, "switches": {ticket_printing, certificate_printing}}
    calendar: Mapped[dict] = mapped_column(JsonType)
    updated_at = mapped_column(UtcDateTime, nullable=False)
    version: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")   # counts every change


class Account(Base):
    """An applicant's account for one exam year (R-Y4)."""

    __tablename__ = "accounts"
    __table_args__ = (sa.UniqueConstraint("year", "id_number", name="uq_account_year_id"),)
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    year: Mapped[int] = mapped_column(sa.Integer, index=True)
    id_number: Mapped[str] = mapped_column(sa.String(18), index=True)
    name: Mapped[str] = mapped_column(sa.String(40))
    gender: Mapped[str] = mapped_column(sa.String(1))
    birth_month: Mapped[str] = mapped_column(sa.String(7))
    phone: Mapped[str] = mapped_column(sa.String(11))
    city_code: Mapped[str] = mapped_column(sa.String(6), index=True)
    county_code: Mapped[str | None] = mapped_column(sa.String(6), nullable=True)
    unit_id: Mapped[str | None] = mapped_column(sa.String(40), nullable=True)
    unit_chosen_at = mapped_column(UtcDateTime, nullable=True)  # orders application.unit_chosen.v1
    declared_grade: Mapped[int] = mapped_column(sa.Integer)
    id_card_photo: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    must_change_password: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    supplementary: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    ever_submitted: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at = mapped_column(UtcDateTime, nullable=False)
    updated_at = mapped_column(UtcDateTime, nullable=False)


class Admin(Base):
    __tablename__ = "admins"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(40))
    phone: Mapped[str] = mapped_column(sa.String(20))
    role: Mapped[str] = mapped_column(sa.String(20))
    scope_code: Mapped[str | None] = mapped_column(sa.String(40), nullable=True)
    scope_city: Mapped[str | None] = mapped_column(sa.String(6), nullable=True)
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    must_change_password: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_by: Mapped[str | None] = mapped_column(sa.String(40), nullable=True)
    created_at = mapped_column(UtcDateTime, nullable=False)


class RosterEntry(Base):
    """The social-security roster (社保) admins import: who may register."""

    __tablename__ = "roster"
    id_number: Mapped[str] = mapped_column(sa.String(18), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40))
    imported_by: Mapped[str] = mapped_column(sa.String(40))
    imported_at = mapped_column(UtcDateTime, nullable=False)


class SmsCode(Base):
    __tablename__ = "sms_codes"
    __table_args__ = (sa.Index("ix_sms_phone_purpose", "phone", "purpose", "sent_at"),)
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(11))
    purpose: Mapped[str] = mapped_column(sa.String(20))
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    sent_at = mapped_column(UtcDateTime, nullable=False)
    expires_at = mapped_column(UtcDateTime, nullable=False)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    used_at = mapped_column(UtcDateTime, nullable=True)


class LoginLock(Base):
    """Consecutive failed logins to one account from one source address, and the lock they
    led to (R-I7): the lock keeps that source out of the account, not its owner elsewhere."""

    __tablename__ = "login_locks"
    kind: Mapped[str] = mapped_column(sa.String(10), primary_key=True)          # applicant | admin
    principal_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    source: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(sa.Integer, default=0)
    locked_until = mapped_column(UtcDateTime, nullable=True)
    updated_at = mapped_column(UtcDateTime, nullable=False, index=True)


class SourceCounter(Base):
    """Requests per source address and action in fixed ten-minute windows (R-I7: login, admin
    login and SMS are throttled per source)."""

    __tablename__ = "source_counters"
    source: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    action: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    window_start = mapped_column(UtcDateTime, primary_key=True, index=True)
    count: Mapped[int] = mapped_column(sa.Integer, default=0)


class UserSession(Base):
    __tablename__ = "sessions"
    token_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(10))  # applicant | admin
    principal_id: Mapped[int] = mapped_column(sa.Integer, index=True)
    created_at = mapped_column(UtcDateTime, nullable=False)
    last_seen_at = mapped_column(UtcDateTime, nullable=False)


class AuditEntry(Base):
    """Every administrator action: who, what, when, before/after (R-I11). The 操作日志 page
    filters by who, what, when and the actor's city, newest first, paged in SQL: an index
    for each filter ends with the list's order (at, id), so a page is read in index order."""

    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_actor", "actor", "at", "id"),
                      sa.Index("ix_audit_log_action", "action", "at", "id"),
                      sa.Index("ix_audit_log_actor_city", "actor_city", "at", "id"))
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    at = mapped_column(UtcDateTime, nullable=False, index=True)
    actor: Mapped[str] = mapped_column(sa.String(40))
    actor_role: Mapped[str] = mapped_column(sa.String(20))
    actor_scope: Mapped[str | None] = mapped_column(sa.String(40), nullable=True)
    # the city the actor's scope lies in (the administrator's scope_city; none: the province)
    actor_city: Mapped[str | None] = mapped_column(sa.String(6), nullable=True)
    action: Mapped[str] = mapped_column(sa.String(60))
    target: Mapped[str | None] = mapped_column(sa.String(60), nullable=True)
    before: Mapped[dict | None] = mapped_column(JsonType, nullable=True)
    after: Mapped[dict | None] = mapped_column(JsonType, nullable=True)
