"""Notices to applicants (issue 14): 退回 (with the reason), 审核不通过, 终审通过, paying opened,
paid, 准考证 printable, 考核结果 published — by SMS through kit.sms and as the 消息通知 list of
the home and 审核结果 pages. Mixed into ``ApplicationService`` (service.py), whose ``db`` it
uses; the texts and conditions are in domain.py.

- A notice is a row of ``notices``, made in the transaction of what caused it: an event's
  handler, only when its effect applies (the same guards), or the sweep for what opens by
  the clock alone (paying 24 h / 48 h after 终审通过, the results window) and by a change of
  the calendar or the online-payment cities. The table is unique on (application, kind,
  key): a redelivered event, a sweep run again or by two instances at once makes no second
  notice (INSERT … ON CONFLICT DO NOTHING, on PostgreSQL and SQLite alike).
- Sending happens after commit, never inside the transaction that made the notice: a timer
  claims unsent rows (``FOR UPDATE SKIP LOCKED``, so two instances never take the same one),
  hands each to the SMS gateway and records ``sent_at`` in that same transaction. A process
  that dies between the gateway's answer and its commit sends that notice again on the next
  run (as the event relay publishes again): never twice otherwise, never lost.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime

import sqlalchemy as sa
from nameko.timer import timer
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kit import clock, sms
from kit.config import settings
from kit.db import viewers_changed
from kit.windows import at

from . import domain
from .models import Application, Notice, OnlinePaymentCopy, YearCopy

log = logging.getLogger(__name__)

SWEEP_BATCH = 1000      # notices one sweep transaction makes at most
SWEEP_ROUNDS = 20       # transactions one timer run makes at most (the next run goes on)
SEND_BATCH = 50         # notices claimed by one sending transaction
SEND_ROUNDS = 20
SEND_ATTEMPTS = 5       # a notice the gateway refused this often is left (and logged)
LIST_MAX = 10           # notices a page shows, newest first
GRADES = (1, 2, 3, 4, 5)


def insert_new(s: Session, rows: list[dict]) -> int:
    """Inserts the notices that do not exist yet; returns how many were new."""
    if not rows:
        return 0
    dialect = s.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(Notice.__table__).values(rows).on_conflict_do_nothing(
        index_elements=["application_id", "kind", "key"])
    return s.execute(stmt).rowcount or 0


def notice_row(app, kind: str, now: datetime, *, version: int | None = None, round_: int | None = None,
               **text) -> dict:
    """The row of a notice to ``app`` (an Application or a row with its id, name, phone, year
    and ticket number)."""
    ticket_no = text.get("ticket_no")
    return {"application_id": app.id, "kind": kind, "phone": app.phone, "created_at": now,
            "key": domain.notice_key(kind, version=version, round_=round_, ticket_no=ticket_no),
            "text": domain.notice_text(kind, app.name, app.year, **text)}


class NoticeEntrypoints:
    """The notices' part of ``ApplicationService``."""

    def _notify(self, s: Session, app: Application, kind: str, **kw) -> bool:
        """A notice to the applicant, unless this one was made before."""
        made = insert_new(s, [notice_row(app, kind, clock.now(), **kw)]) == 1
        if made:                         # their 消息通知 changed (issue 12)
            viewers_changed(s, (app.year, app.id_number))
        return made

    def _notify_if_due(self, s: Session, app: Application) -> None:
        """After a handler changed ``app``: the notices its new state makes due now (paying
        opened, 准考证 printable, 考核结果 published), by the conditions of domain.py."""
        year = s.get(YearCopy, app.year)
        calendar = (year.calendar if year else None) or {}
        windows, switches = calendar.get("windows") or {}, calendar.get("switches") or {}
        now = clock.now()
        online = s.get(OnlinePaymentCopy, app.year)
        if domain.payment_open(app.status, app.city_code in ((online.cities if online else None) or []),
                               app.paid_at is not None, app.approved_at, app.target_grade,
                               windows.get("payment"), now):
            self._notify(s, app, "payment_open", until=at(windows["payment"]["end"]))
        if domain.ticket_ready(switches, app.ticket_no):
            self._notify(s, app, "ticket_ready", ticket_no=app.ticket_no)
        if domain.results_published(windows, app.result, now):
            self._notify(s, app, "results_published")

    # --- what opens by the clock or by a calendar change: the sweep ---------------------
    @staticmethod
    def _due(calendar: dict | None, online: list[str], now: datetime) -> Iterator[tuple[str, list, sa.ColumnElement, dict]]:
        """Per kind the year's due notices as SQL (conditions, key, text arguments): the
        conditions of domain.payment_open, ticket_ready and results_published, for a year
        whose window or switch is open now (checked here, once per year)."""
        windows, switches = (calendar or {}).get("windows") or {}, (calendar or {}).get("switches") or {}
        once = sa.literal(domain.ONCE)
        if online and domain.window_open(windows.get("payment"), now):
            waited = sa.or_(*(sa.and_(Application.target_grade == g,
                                      Application.approved_at <= now - domain.payment_delay(g)) for g in GRADES))
            yield ("payment_open", [Application.status == "approved", Application.city_code.in_(online),
                                    Application.paid_at.is_(None), Application.approved_at.is_not(None), waited],
                   once, {"until": at(windows["payment"]["end"])})
        if switches.get("ticket_printing"):
            yield "ticket_ready", [Application.ticket_no.is_not(None)], Application.ticket_no, {}
        if domain.window_open(windows.get("results"), now):
            yield "results_published", [Application.result.is_not(None)], once, {}

    def _sweep(self, s: Session, now: datetime, limit: int = SWEEP_BATCH) -> int:
        """Makes at most ``limit`` due notices that do not exist yet; returns how many
        candidates it found (fewer than ``limit``: nothing is left)."""
        online = dict(s.execute(sa.select(OnlinePaymentCopy.year, OnlinePaymentCopy.cities)).all())
        found = 0
        for year, calendar in s.execute(sa.select(YearCopy.year, YearCopy.calendar)).all():
            for kind, conditions, key, text in self._due(calendar, list(online.get(year) or []), now):
                if found >= limit:
                    return found
                made = sa.exists().where(Notice.application_id == Application.id, Notice.kind == kind,
                                         Notice.key == key)
                rows = s.execute(sa.select(Application.id, Application.name, Application.phone, Application.year,
                                           Application.id_number, Application.ticket_no)
                                 .where(Application.year == year, *conditions, ~made)
                                 .limit(limit - found)).all()
                found += len(rows)
                insert_new(s, [notice_row(r, kind, now, **text, **({"ticket_no": r.ticket_no}
                                                                   if kind == "ticket_ready" else {}))
                               for r in rows])
                viewers_changed(s, *((r.year, r.id_number) for r in rows))
        return found

    @timer(interval=settings().notice_sweep_seconds)
    def sweep_notices(self) -> int:
        """Notices no event announces: paying opens when the 24 h / 48 h after 终审通过 have
        passed, the results window opens by the clock. Safe with many instances (the
        unique key); bounded per transaction, the next run goes on."""
        found = 0
        for _ in range(SWEEP_ROUNDS):
            with self.db.tx() as s:
                batch = self._sweep(s, clock.now())
            found += batch
            if batch < SWEEP_BATCH:
                break
        return found

    # --- sending ------------------------------------------------------------------------
    @timer(interval=settings().notice_send_seconds)
    def send_notices(self) -> int:
        """Sends the unsent notices through the SMS gateway, after the transactions that
        made them; each claimed by one instance (SKIP LOCKED). The phone is never logged."""
        gateway = sms.gateway_from(settings())
        sent, failed = 0, False
        for _ in range(SEND_ROUNDS):
            with self.db.tx() as s:
                rows = s.scalars(sa.select(Notice).where(Notice.sent_at.is_(None), Notice.attempts < SEND_ATTEMPTS)
                                 .order_by(Notice.id).limit(SEND_BATCH).with_for_update(skip_locked=True)).all()
                for notice in rows:
                    try:
                        gateway.send_notice(notice.phone, notice.kind, notice.text, clock.now())
                    except Exception as exc:  # noqa: BLE001 - the gateway failed: try again next time
                        notice.attempts, failed = notice.attempts + 1, True
                        log.warning("notice %s (%s) not sent, attempt %d: %s", notice.id, notice.kind,
                                    notice.attempts, type(exc).__name__)
                        continue
                    notice.sent_at = clock.now()
                    sent += 1
            if len(rows) < SEND_BATCH or failed:     # all sent, or the gateway is away: next run
                break
        if sent:
            log.info("%d notices sent", sent)
        return sent

    def _notices(self, s: Session, application_id: str) -> list[dict]:
        """The applicant's latest notices, newest first (消息通知)."""
        rows = s.execute(sa.select(Notice.kind, Notice.text, Notice.created_at)
                         .where(Notice.application_id == application_id)
                         .order_by(Notice.created_at.desc(), Notice.id.desc()).limit(LIST_MAX)).all()
        return [{"kind": r.kind, "text": r.text, "at": r.created_at} for r in rows]
