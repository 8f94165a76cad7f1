"""Windows of the exam year (R-Y1, R-Y2): their names and pure functions shared by every
service that checks one (identity owns the calendar; every service keeps a copy). A window is open from its start to its end, both included, to the second."""
from __future__ import annotations

from datetime import datetime, timedelta

from kit.clock import CST
from kit.errors import RuleNotMet

WINDOW_NAMES = {
    "registration": "注册时间",
    "application": "报名时间",
    "review": "审核时间",
    "payment": "缴费时间",
    "results": "考核结果查询时间",
}
# The calendar's switches (R-Y1): one source for every service and page.
SWITCH_NAMES = {"ticket_printing": "准考证打印", "certificate_printing": "电子证书打印"}
# R-F2: paying opens this long after 终审通过 (一级 48 h, 二到五级 24 h), inside the payment
# window. Payment applies it to orders; application to tell the applicant that paying opened
# (issue 14): one source for both.
PAYMENT_DELAY_HOURS = {1: 48}
DEFAULT_PAYMENT_DELAY_HOURS = 24


def payment_delay(target_grade: int) -> timedelta:
    return timedelta(hours=PAYMENT_DELAY_HOURS.get(target_grade, DEFAULT_PAYMENT_DELAY_HOURS))


def at(value) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def window_open(window: dict | None, now: datetime) -> bool:
    if not window or not window.get("start") or not window.get("end"):
        return False
    moment = now.replace(microsecond=0)
    return at(window["start"]) <= moment <= at(window["end"])


def next_change(calendar: dict | None, now: datetime) -> datetime | None:
    """The first moment after ``now`` at which a window of ``calendar`` opens or closes
    (``window_open`` turns at a start, and one second after an end): what is read from the
    calendar alone stays true until then (issue 12: how long a gateway may keep it)."""
    moments = []
    for window in ((calendar or {}).get("windows") or {}).values():
        if isinstance(window, dict) and window.get("start") and window.get("end"):
            moments += [at(window["start"]), at(window["end"]) + timedelta(seconds=1)]
    return min((m for m in moments if m > now), default=None)


def format_cn(dt: datetime) -> str:
    return dt.astimezone(CST).strftime("%Y年%m月%d日%H时%M分%S秒")


def require_window(calendar: dict | None, name: str, now: datetime, label: str | None = None) -> None:
    """Outside the window the action is refused with a clear message naming it."""
    window = ((calendar or {}).get("windows") or {}).get(name)
    if window_open(window, now):
        return
    label = label or WINDOW_NAMES[name]
    if window and window.get("start") and window.get("end"):
        span = f"{format_cn(at(window['start']))} 至 {format_cn(at(window['end']))}"
        when = "尚未开始" if now < at(window["start"]) else "已结束"
        message = f"当前不是{label}，{label}{when}（{span}）"
    else:
        message = f"当前不是{label}，本年度{label}尚未公布"
    raise RuleNotMet(message, code=f"outside_{name}_window")


def is_older(incoming, kept: dict | None) -> bool:
    """Whether an incoming calendar (``identity.year_updated.v1``) is older than the copy
    kept: a late, older event changes nothing. Identity numbers every change of a year
    (``version``), so the order holds whatever the clocks say (a moved test clock, two
    identity hosts a little apart); copies from before versions are ordered by
    ``updated_at``."""
    kept = kept or {}
    new_version, old_version = getattr(incoming, "version", 0) or 0, kept.get("version") or 0
    if new_version and old_version:
        return new_version < old_version
    new_at, old_at = getattr(incoming, "updated_at", None), kept.get("updated_at")
    if not new_at or not old_at:
        return False
    return at(new_at) < at(old_at)
