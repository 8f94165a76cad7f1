"""Application rules: pure functions. The applicant's progress through the six steps
(R-P2), the form's fields and who may see it; the eligibility rules (R-A4) are in
``eligibility``."""
from __future__ import annotations

import re
from datetime import datetime

from kit.errors import Conflict, InvalidInput
from kit.tables import csv_dicts
from kit.validation import HIDDEN_MESSAGE, check_text, has_hidden
from kit.windows import format_cn, is_older, payment_delay, require_window, window_open  # noqa: F401 - is_older re-exported

from .eligibility import FIELD_LABELS
from .schemas import NOTICE_KINDS, STEP_NAMES

STEPS = tuple(STEP_NAMES.items())


def progress(calendar: dict | None, status: str, now: datetime, online_payment: bool = False,
             facts: dict | None = None) -> list[dict]:
    """Each step (R-P2): whether it is shown, whether it can be opened now, and why not.

    A step is enabled only when it applies to this applicant, never by a switch or window
    alone. ``online_payment``: the applicant's city pays online this year (R-F1: otherwise
    网上缴费 is hidden). ``facts`` are what later steps need to know of this applicant
    (``paid``, ``ticket``, ``result``, ``certificate``), learnt from the services that own
    them; until they say so, those steps stay closed with the reason."""
    windows = (calendar or {}).get("windows") or {}
    switches = (calendar or {}).get("switches") or {}
    facts = facts or {}
    approved = status == "approved"
    reasons: dict[str, str | None] = {}
    if status == "not_submitted":
        reasons["application"] = None if window_open(windows.get("application"), now) else "当前不是报名时间"
    elif status == "returned":  # changes after a 退回 are made while the review is open
        reasons["application"] = None if window_open(windows.get("review"), now) else "当前不是审核时间"
    else:
        reasons["application"] = None  # read-only view of what was submitted
    reasons["review"] = None if status != "not_submitted" else "提交报名信息后可查看审核结果"
    reasons["payment"] = None if approved else "终审通过后方可缴费"   # the page says when paying opens
    settled = facts.get("paid") or not online_payment
    if not approved:
        reasons["ticket"] = "终审通过后方可打印准考证" if not online_payment else "终审通过并缴费后方可打印准考证"
    elif not settled:
        reasons["ticket"] = "缴费后方可打印准考证"
    elif not switches.get("ticket_printing"):
        reasons["ticket"] = "管理员开通准考证打印后方可打印"
    else:
        reasons["ticket"] = None if facts.get("ticket") else "准考证尚未生成，请关注省工考办通知"
    if not approved:
        reasons["result"] = "参加考核后方可查看考核结果"
    elif not window_open(windows.get("results"), now):
        reasons["result"] = "考核结果尚未公布"
    else:
        reasons["result"] = None if facts.get("result") else "暂无您的考核结果"
    if facts.get("result") != "pass":
        reasons["certificate"] = "考核合格后方可下载电子证书"
    elif not switches.get("certificate_printing"):
        reasons["certificate"] = "管理员开通电子证书打印后方可下载"
    else:
        reasons["certificate"] = None if facts.get("certificate") else "电子证书尚未生成"
    done = {"payment": bool(facts.get("paid"))}
    return [{"key": key, "title": title, "enabled": reasons[key] is None, "reason": reasons[key],
             "visible": key != "payment" or online_payment, "done": done.get(key, False)}
            for key, title in STEPS]


# --- the form (R-A1, R-A2) -------------------------------------------------------------
EDITABLE = ("unit_id", "education", "work_start", "service_years", "current_grade", "current_trade",
            "grade_obtained_year", "target_trade", "route", "exceptional", "frontline",
            "exceptional_reason", "prohibited", "pledge")
READ_ONLY = {"application_id": "报名编号", "year": "考核年度", "name": "姓名", "id_number": "身份证号",
             "gender": "性别", "birth_month": "出生年月", "phone": "手机号", "target_grade": "申报岗位等级",
             "city_code": "省辖市", "status": "状态", "files": "上传资料", "round": "提交次数",
             "submitted_at": "提交时间", "locked": "锁定状态", "service_years_max": "工作年限上限",
             "county_code": "县区", "supervisor_id": "主管单位", "unit": "单位信息",
             "stamped_photo": "添加身份证号的照片", "review_note": "审核意见"}
LABELS = {**FIELD_LABELS, "frontline": "一线", "exceptional_reason": "破格情况说明"}
EDITABLE_STATUSES = ("not_submitted", "returned")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def _bool(key: str, value) -> bool:
    if isinstance(value, bool):
        return value
    raise InvalidInput(f"{LABELS[key]}应为 true 或 false", field=key)


def _optional_int(key: str, value, low: int, high: int) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidInput(f"{LABELS[key]}应为整数", field=key)
    try:
        number = int(value)
    except ValueError:
        raise InvalidInput(f"{LABELS[key]}应为整数", field=key) from None
    if not low <= number <= high:
        raise InvalidInput(f"{LABELS[key]}应在{low}至{high}之间", field=key)
    return number


def _optional_text(key: str, value, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{LABELS[key]}应为文本", field=key)
    value = check_text(value.strip(), key, LABELS[key], multiline=key == "exceptional_reason")
    if len(value) > limit:
        raise InvalidInput(f"{LABELS[key]}不能超过{limit}个字", field=key)
    return value or None


DRAFT_FIELDS = ("current_grade", "current_trade", "route", "target_trade", "work_start")


def clean_draft(draft: dict, trade_codes) -> dict:
    """The choices a page has made but not saved (for ``choices``): checked like a save."""
    out: dict = {}
    for key in DRAFT_FIELDS:
        if key not in draft:
            continue
        value = draft[key]
        if value in (None, ""):
            out[key] = None
        elif key == "current_grade":
            out[key] = _optional_int(key, value, 0, 5)
        elif key == "work_start":
            if not isinstance(value, str) or not _MONTH.match(value):
                raise InvalidInput("参加工作时间格式应为 YYYY-MM", field=key)
            out[key] = value
        elif key == "route":
            if value not in ("years", "certificate"):
                raise InvalidInput("申报途径应为 years 或 certificate", field=key)
            out[key] = value
        else:
            if not isinstance(value, str) or value not in trade_codes:
                raise InvalidInput(f"未知的工种代码：{str(value)[:20]}", field=key)
            out[key] = value
    return out


def clean_changes(changes: dict, current: dict, education_levels, trade_codes, unit_ids) -> dict:
    """A save keeps left-out fields; read-only fields may be sent but not changed (400);
    every value is checked for its type and set here (the rules come at 提交)."""
    out: dict = {}
    for key, value in changes.items():
        if key in READ_ONLY:
            if value != current.get(key):
                raise InvalidInput(f"{READ_ONLY[key]}不能修改", code="read_only", field=key)
            continue
        if key not in EDITABLE:
            raise InvalidInput(f"未知字段：{key}", field=key)
        if key in ("exceptional", "frontline", "pledge"):
            out[key] = _bool(key, value)
        elif key == "prohibited":
            out[key] = None if value is None else _bool(key, value)
        elif key == "service_years":
            out[key] = _optional_int(key, value, 0, 80)
        elif key == "grade_obtained_year":
            out[key] = _optional_int(key, value, 1950, 2100)
        elif key == "current_grade":
            out[key] = _optional_int(key, value, 0, 5)
        elif key == "exceptional_reason":
            out[key] = _optional_text(key, value, 2000) or ""
        else:
            text = _optional_text(key, value, 60)
            if text is not None:
                if key == "education" and text not in education_levels:
                    raise InvalidInput("文化程度不在可选范围内", field=key)
                if key == "work_start" and not _MONTH.match(text):
                    raise InvalidInput("参加工作时间格式应为 YYYY-MM", field=key)
                if key in ("current_trade", "target_trade") and text not in trade_codes:
                    raise InvalidInput(f"{LABELS[key]}不在工种目录中", field=key)
                if key == "route" and text not in ("years", "certificate"):
                    raise InvalidInput("申报途径应为按工作年限或按岗位等级证书", field=key)
                if key == "unit_id" and text not in unit_ids:
                    raise InvalidInput("只能选择本人注册所在省辖市（省直）的单位", field=key)
            out[key] = text
    return out


def require_editable(status: str) -> None:
    if status not in EDITABLE_STATUSES:
        message = {"in_review": "报名信息已提交，正在审核中，不能修改",
                   "approved": "报名信息已审核通过，不能修改",
                   "rejected": "报名信息审核不通过，不能修改；如有异议请联系审核人员"}.get(status, "报名信息不能修改")
        raise Conflict(message, code="locked")




def require_form_window(calendar: dict | None, status: str, now: datetime) -> None:
    """R-Y2: the first submission within the application window (报名时间); after a 退回,
    changes and resubmission while the review window is open."""
    if status == "returned":
        require_window(calendar, "review", now, label="审核时间")
    else:
        require_window(calendar, "application", now, label="报名时间")


def parse_trades(data: bytes) -> tuple[list[dict], list[dict]]:
    """The trade catalogue as CSV (code,name,category,new_codes[,source]); rows refused
    with their reason and spreadsheet line number."""
    rows: list[dict] = []
    refused: list[dict] = []
    seen: set[str] = set()
    for line, rec in csv_dicts(data, {"code", "name"}, "code,name,category,new_codes"):
        code, name = rec.get("code", ""), rec.get("name", "")
        if not code and not name:
            continue
        if any(has_hidden(v) for v in rec.values()):
            refused.append({"line": line, "code": code[:20], "reason": HIDDEN_MESSAGE})
        elif not re.fullmatch(r"[A-Za-z0-9_-]{1,20}", code):
            refused.append({"line": line, "code": code, "reason": "工种代码只能由1至20位字母、数字组成"})
        elif not name or len(name) > 60:
            refused.append({"line": line, "code": code, "reason": "请填写工种名称（不超过60字）"})
        elif code in seen:
            refused.append({"line": line, "code": code, "reason": "工种代码重复"})
        else:
            seen.add(code)
            new_codes = [c.strip() for c in re.split(r"[;；]", rec.get("new_codes", "")) if c.strip()]
            rows.append({"line": line, "code": code, "name": name, "category": rec.get("category", "")[:40],
                         "new_codes": new_codes})
    return rows, refused


UNIT_COLUMNS = ("unit_id", "name", "city_code", "county_code", "supervisor_id", "supervisor_name",
                "supervisor_admin", "supervisor_phone")


def parse_units(data: bytes, city_codes: set[str], county_parent: dict[str, str]) -> tuple[list[dict], list[dict]]:
    """Units with their 主管单位 as CSV (UNIT_COLUMNS); a unit's county must lie in its city
    (省直 units have none)."""
    rows: list[dict] = []
    refused: list[dict] = []
    seen: set[str] = set()
    for line, rec in csv_dicts(data, set(UNIT_COLUMNS) - {"county_code"}, ",".join(UNIT_COLUMNS)):
        if not any(rec.values()):
            continue
        reason = None
        if any(has_hidden(v) for v in rec.values()):
            reason = HIDDEN_MESSAGE
        elif not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", rec.get("unit_id", "")):
            reason = "单位编号只能由字母、数字、下划线或连字符组成"
        elif not rec.get("name") or len(rec["name"]) > 100:
            reason = "请填写单位名称（不超过100字）"
        elif len(rec.get("supervisor_name", "")) > 100 or len(rec.get("supervisor_admin", "")) > 40 \
                or len(rec.get("supervisor_phone", "")) > 20:
            reason = "主管单位名称不超过100字，联系人不超过40字，电话不超过20字"
        elif rec.get("city_code") not in city_codes:
            reason = "省辖市代码不正确"
        elif rec.get("county_code") and county_parent.get(rec["county_code"]) != rec["city_code"]:
            reason = "县区不属于该省辖市"
        elif not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", rec.get("supervisor_id", "")) or not rec.get("supervisor_name"):
            reason = "请填写主管单位编号和名称"
        elif rec["unit_id"] in seen:
            reason = "单位编号重复"
        if reason:
            refused.append({"line": line, "unit_id": rec.get("unit_id", ""), "reason": reason})
            continue
        seen.add(rec["unit_id"])
        rows.append({**{k: rec.get(k, "") for k in UNIT_COLUMNS}, "line": line})
    return rows, refused


# --- notices to applicants (issue 14) ---------------------------------------------------------
# Each kind is sent at most once per what caused it: a decision of review (its case version,
# unique per decision, or the round for events from before versions), a ticket number, or
# once per application for the facts that happen once a year. ``notice_key`` names it; the
# notices table is unique on (application, kind, key).
ONCE = ""
REASON_MAX = 120
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[0-9Xx])(?![0-9A-Za-z])")
SIGNATURE = "【河南工考】"
SUBJECT = "工勤技能岗位等级考核"


def notice_key(kind: str, version: int | None = None, round_: int | None = None,
               ticket_no: str | None = None) -> str:
    """What makes a notice of ``kind`` a new one (see above)."""
    if kind not in NOTICE_KINDS:
        raise ValueError(f"unknown notice kind {kind!r}")
    if kind in ("returned", "rejected", "approved"):
        return f"v{version}" if version is not None else f"r{round_ or 0}"
    if kind == "ticket_ready":
        return ticket_no or ONCE
    return ONCE


def _reason(reason: str | None) -> str:
    """The reviewer's words for an SMS: on one line, shortened, and a full ID number a
    reviewer might have typed masked (a notice never carries one)."""
    text = " ".join((reason or "").split())
    text = _ID_NUMBER.sub(lambda m: f"{m.group(1)}********{m.group(2)}", text)
    return text if len(text) <= REASON_MAX else text[:REASON_MAX - 1] + "…"


def notice_text(kind: str, name: str, year: int, *, reason: str | None = None, until: datetime | None = None,
                amount_fen: int | None = None, ticket_no: str | None = None) -> str:
    """The SMS (and the 消息通知 line) of a notice, in Chinese, signed like the SMS codes."""
    hello = f"{SIGNATURE}{name}您好，您的{year}年度{SUBJECT}"
    if kind == "returned":
        because = _reason(reason) or "请登录系统查看"
        return f"{hello}报名信息已被退回，退回原因：{because}。请登录报名系统修改报名信息，并在审核时间内重新提交。"
    if kind == "rejected":
        because = _reason(reason)
        return (f"{hello}报名信息审核不通过{f'，原因：{because}' if because else ''}。"
                "如有异议，请在工作时间电话咨询审核人员。")
    if kind == "approved":
        return f"{hello}报名信息已终审通过。请登录报名系统查看后续安排，按省工考办通知办理缴费。"
    if kind == "payment_open":
        deadline = f"，缴费截止时间为{format_cn(until)}" if until else ""
        return f"{hello}网上缴费已开放{deadline}。请登录报名系统完成缴费。"
    if kind == "paid":
        amount = f"{amount_fen // 100}.{amount_fen % 100:02d}元" if amount_fen else ""
        return f"{hello}考核费用{amount}已缴纳成功。请留意准考证打印通知。"
    if kind == "ticket_ready":
        number = f"（准考证号{ticket_no}）" if ticket_no else ""
        return f"{hello}准考证已可打印{number}。请登录报名系统打印准考证，按时参加考核。"
    if kind == "results_published":
        return f"{hello}考核结果已公布，请登录报名系统查询。"
    raise ValueError(f"unknown notice kind {kind!r}")


def payment_open(status: str, online: bool, paid: bool, approved_at: datetime | None, target_grade: int,
                 window: dict | None, now: datetime) -> bool:
    """Whether the applicant's payment status is ``unpaid`` by payment's rules (R-F1, R-F2):
    finally approved, a city that pays online, not paid, inside the payment window and the
    24 h / 48 h after 终审通过 passed (kit.windows.payment_delay, payment's own rule)."""
    return (status == "approved" and online and not paid and approved_at is not None
            and window_open(window, now) and now >= approved_at + payment_delay(target_grade))


def ticket_ready(switches: dict | None, ticket_no: str | None) -> bool:
    """打印准考证 opened: printing switched on and a seat assigned (R-D2)."""
    return bool((switches or {}).get("ticket_printing")) and bool(ticket_no)


def results_published(windows: dict | None, result: str | None, now: datetime) -> bool:
    """考核结果 opened: the results window is open and the applicant's result is in (R-D3)."""
    return result is not None and window_open((windows or {}).get("results"), now)
