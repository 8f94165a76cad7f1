"""Application rules: pure functions. The applicant's progress through the six steps
(R-P2); the form's eligibility rules arrive with issue 3."""
from __future__ import annotations

from datetime import datetime

STEPS = (
    ("application", "报名信息"),
    ("review", "审核结果"),
    ("payment", "网上缴费"),
    ("ticket", "打印准考证"),
    ("result", "考核结果"),
    ("certificate", "打印电子证书"),
)


def _window_open(window: dict | None, now: datetime) -> bool:
    if not window:
        return False
    moment = now.replace(microsecond=0)
    return datetime.fromisoformat(window["start"]) <= moment <= datetime.fromisoformat(window["end"])


def progress(calendar: dict | None, status: str, now: datetime) -> list[dict]:
    """Each step, whether it can be opened now, and why not when it cannot."""
    windows = (calendar or {}).get("windows") or {}
    switches = (calendar or {}).get("switches") or {}
    reasons: dict[str, str | None] = {}
    if status in ("not_submitted", "returned"):
        reasons["application"] = None if _window_open(windows.get("application"), now) else "当前不是报名时间"
    else:
        reasons["application"] = None  # read-only view of what was submitted
    reasons["review"] = None if status != "not_submitted" else "提交报名信息后可查看审核结果"
    reasons["payment"] = "终审通过后方可缴费" if status != "approved" else None
    reasons["ticket"] = None if switches.get("ticket_printing") and status == "approved" \
        else "管理员开通准考证打印后方可打印"
    reasons["result"] = None if _window_open(windows.get("results"), now) else "考核结果尚未公布"
    reasons["certificate"] = None if switches.get("certificate_printing") \
        else "管理员开通电子证书打印后方可下载"
    return [{"key": key, "title": title, "enabled": reasons[key] is None, "reason": reasons[key]}
            for key, title in STEPS]


def is_older(incoming: str | None, kept: str | None) -> bool:
    """Whether an incoming copy (by its ``updated_at``) is older than the one kept."""
    if not incoming or not kept:
        return False
    return datetime.fromisoformat(incoming) < datetime.fromisoformat(kept)
