"""Payment rules (R-F1 … R-F4): pure functions and the order state machine. No nameko, no
SQLAlchemy, no I/O (checked by import-linter); the platform's wire format lives in
``platforms``, never here.

An applicant's payment for a year is a *payable* (unpaid → paid, or offline); each 确认缴费
makes an *order* (open → paid | cancelled | expired). Money the platform took is never
dropped: a payment arriving for a cancelled or expired order still counts when the
applicant has no other paid order, and is listed as a mismatch either way; a second
payment is a mismatch to refund."""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from kit.errors import Conflict, InvalidInput
from kit.validation import check_text
from kit.windows import format_cn, next_change, payment_delay, window_open

RECEIPT_TITLE_MAX = 60
ORDER_STATUSES = ("open", "paid", "cancelled", "expired")


def delay(target_grade: int) -> timedelta:
    """After 终审通过, how long until paying opens (kit.windows: application tells the
    applicant by the same rule)."""
    return payment_delay(target_grade)


def opens_at(approved_at: datetime, target_grade: int, window: dict | None) -> datetime | None:
    """When paying opens: the delay after 终审通过, not before the payment window starts
    (None: the year has no payment window yet)."""
    if not window or not window.get("start") or not window.get("end"):
        return None
    return max(approved_at + delay(target_grade), datetime.fromisoformat(window["start"]))


def can_pay(approved_at: datetime, target_grade: int, window: dict | None, now: datetime) -> bool:
    at = opens_at(approved_at, target_grade, window)
    return at is not None and now >= at and window_open(window, now)


def require_can_pay(approved_at: datetime, target_grade: int, window: dict | None, now: datetime) -> None:
    """409 ``not_open`` with the time paying opens (API.md), or that the window is over."""
    at = opens_at(approved_at, target_grade, window)
    if at is None:
        raise Conflict("本年度缴费时间尚未公布，请关注省工考办通知", code="not_open")
    if now < at:
        hours = int(delay(target_grade).total_seconds() // 3600)
        raise Conflict(f"终审通过{hours}小时后且在缴费时间内方可缴费，将于{format_cn(at)}开放缴费", code="not_open",
                       details={"opens_at": at.isoformat()})
    if not window_open(window, now):
        raise Conflict(f"本年度缴费时间已结束（{format_cn(datetime.fromisoformat(window['end']))}）", code="not_open",
                       details={"opens_at": None})


def check_receipt_title(title) -> str:
    """收据名称: the name on the receipt, fixed for the year once confirmed (R-F3)."""
    if not isinstance(title, str) or not title.strip():
        raise InvalidInput("请填写收据名称", field="receipt_title")
    value = re.sub(r"\s+", " ", title.strip())
    check_text(value, "receipt_title", "收据名称")
    if len(value) > RECEIPT_TITLE_MAX:
        raise InvalidInput(f"收据名称不能超过{RECEIPT_TITLE_MAX}个字", field="receipt_title")
    return value


def new_payment_notice_no(year: int, now: datetime) -> str:
    """缴费通知书编号: 20 digits — the year, the day of year, the seconds of the day and eight
    random digits (unique per order: two orders in the same second collide once in 10⁸ pairs,
    and the table's unique key catches that)."""
    day = now.timetuple().tm_yday
    seconds = now.hour * 3600 + now.minute * 60 + now.second
    return f"{year:04d}{day:03d}{seconds:05d}{secrets.randbelow(10 ** 8):08d}"


def new_order_no(now: datetime) -> str:
    return f"GK{now.strftime('%Y%m%d%H%M%S')}{secrets.token_hex(6).upper()}"


# --- the order state machine ---------------------------------------------------------------
@dataclass(frozen=True)
class Order:
    status: str                 # open | paid | cancelled | expired
    expires_at: datetime


def effective_status(order: Order, now: datetime) -> str:
    """An open order past its expiry is expired, whether or not a timer has noted it yet."""
    if order.status == "open" and now >= order.expires_at:
        return "expired"
    return order.status


@dataclass(frozen=True)
class Settlement:
    """What a payment the platform reports for an order does (``outcome``) and to what."""

    outcome: str                # paid | late_paid | second_payment | repeat
    order_status: str           # the order's new status
    counts: bool                # the applicant's fee is paid by it (payable → paid)
    mismatch: str | None        # the kind of mismatch to list for an administrator


def settle(order: Order, payable_paid_by_other: bool, now: datetime) -> Settlement:
    """A payment the platform took for ``order`` (by callback or by query). Guarded by the
    state: a payment already recorded is a repeat and changes nothing."""
    status = order.status
    if status == "paid":
        return Settlement("repeat", "paid", False, None)
    late = effective_status(order, now) in ("cancelled", "expired")
    if payable_paid_by_other:
        return Settlement("second_payment", "paid", False, "second_payment")
    if late:
        return Settlement("late_paid", "paid", True, "late_payment")
    return Settlement("paid", "paid", True, None)


def cancel(order: Order, now: datetime) -> str:
    """取消: an open order is abandoned; a paid one cannot be (409)."""
    status = effective_status(order, now)
    if status == "paid":
        raise Conflict("该订单已缴费，不能取消", code="already_paid")
    if status == "open":
        return "cancelled"
    return status   # cancelled or expired already: nothing to do


def payable_status(paid: bool, offline: bool, online: bool, approved_at: datetime | None, target_grade: int,
                   window: dict | None, now: datetime, open_order: bool) -> str:
    """The applicant's payment status (API.md): not_due, unpaid, pending, paid, offline."""
    if offline:
        return "offline"
    if paid:
        return "paid"
    if approved_at is None or not online or not can_pay(approved_at, target_grade, window, now):
        return "not_due"
    return "pending" if open_order else "unpaid"


def fresh_until(approved_at: datetime | None, target_grade: int, window: dict | None, open_expiries: list[datetime],
                now: datetime) -> datetime | None:
    """The first moment after ``now`` at which the applicant's 网上缴费 changes by the clock
    alone: paying opens, the payment window opens or closes, an open order expires (issue 12:
    how long a gateway may keep it). None: nothing ahead."""
    moments = list(open_expiries)
    if approved_at is not None:
        at = opens_at(approved_at, target_grade, window)
        if at is not None:
            moments.append(at)
    turn = next_change({"windows": {"payment": window}} if window else None, now)
    if turn is not None:
        moments.append(turn)
    return min((m for m in moments if m > now), default=None)
