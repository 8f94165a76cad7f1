"""Server-rendered pages (Jinja2). Every page uses the layout in ``templates/base.html``; forms
post to the JSON API from ``static/app.js``. Pages call the services only to show things:
every change goes through the API, which (with the service) checks it again."""
from __future__ import annotations

import html
import logging
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

import falcon
from jinja2 import Environment, FileSystemLoader, select_autoescape

from kit import clock, regions
from kit.config import settings
from kit.errors import ServiceError
from services.application.schemas import PHOTO_SPEC
from services.review.schemas import MATERIAL_KINDS

from . import auth, links

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

SYSTEM_NAME = "河南省机关事业单位工勤技能岗位等级考核网上报名系统"
DEFAULT_CENTER_PHONE = "0371-69690000"
WEEKDAYS = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
GRADES = ((5, "五级（初级工）"), (4, "四级（中级工）"), (3, "三级（高级工）"), (2, "二级（技师）"),
          (1, "一级（高级技师）"))
GRADE_SHORT = {5: "五级", 4: "四级", 3: "三级", 2: "二级", 1: "一级", 0: "未定级"}
ROLE_NAMES = {"province": "省评价中心", "city": "省辖市管理员", "county": "县区管理员",
              "supervisor": "主管单位管理员"}
WINDOW_NAMES = (("registration", "注册时间"), ("application", "报名时间"), ("review", "审核时间"),
                ("payment", "缴费时间"), ("results", "考核结果公布时间"))
SWITCH_NAMES = (("ticket_printing", "准考证打印"), ("certificate_printing", "电子证书打印"))
STEP_URLS = {"application": "/application", "review": "/review", "payment": "/payment",
             "ticket": "/ticket", "result": "/result", "certificate": "/certificate"}
AUDIT_ACTIONS = {"year.update": "修改考核年度设置", "account.password_reset": "重置密码",
                 "account.delete": "删除账号", "account.supplementary": "补报",
                 "admin.create": "创建管理员", "roster.import": "导入社保名单"}
# (path, title, roles allowed; empty = every administrator)
REVIEW_ROLES = ("supervisor", "city", "province", "county")
ADMIN_LINKS = (
    ("/admin/reviews", "报名审核", REVIEW_ROLES),
    ("/admin/accounts", "账号管理（重置密码、删除账号）", ("province", "city", "county")),
    ("/admin/roster", "社保名单导入", ("province", "city")),
    ("/admin/supplementary", "补报", ("province", "city")),
    ("/admin/admins", "管理员账号", ("province", "city")),
    ("/admin/years", "考核年度设置", ("province",)),
    ("/admin/reference", "基础数据维护", ("province",)),
    ("/admin/audit", "操作日志", ()),
    ("/admin/password", "修改密码", ()),
)
ERROR_TITLES = {400: "请求有误", 401: "请先登录", 403: "无权访问", 404: "页面不存在", 405: "请求方式有误",
                409: "操作冲突", 413: "内容过大", 415: "类型不支持", 422: "不符合条件", 423: "账号已锁定",
                429: "操作过于频繁", 500: "系统错误", 503: "系统繁忙"}
BUSY = "系统繁忙，请稍后再试"

# --- review (R-R1 … R-R4) wording ---------------------------------------------------------
STATUS_NAMES = {"not_submitted": "未提交", "in_review": "审核中", "returned": "退回", "rejected": "审核不通过",
                "approved": "审核通过"}
LEVEL_NAMES = {"applicant": "报考人员", "supervisor": "主管单位", "city": "省辖市", "province": "省评价中心"}
QUEUE_STATUSES = (("pending", "待我审核"), ("in_review", "审核中"), ("returned", "已退回"),
                  ("rejected", "审核不通过"), ("approved", "审核通过"), ("all", "全部"))
QUEUE_FILTERS = ("status", "grade", "trade", "unit_id", "submitted_from", "submitted_to")
EDUCATION_NAMES = {"primary": "小学", "junior_high": "初中", "senior_high": "高中", "secondary_vocational": "中专",
                   "technical_school": "技校", "vocational_high": "职高", "junior_college": "大学专科",
                   "bachelor": "大学本科", "master": "硕士研究生", "doctor": "博士研究生"}
ROUTE_NAMES = {"years": "按工作年限申报", "certificate": "按岗位等级证书申报"}
FILE_NAMES = {"id_card_photo": "身份证照片", "personal_photo": "个人照片", "education_proof": "学历证明材料",
              "grade_certificate": "现岗位等级证书"}
MATERIAL_NAMES = {"wage_review_form": "工资审核表", "excellence_material": "考核优秀（优秀党员）材料"}
STAMPED_KIND = "personal_photo_stamped"
REJECTED_TEXT = ("审核员认为该报考人员不符合本年度报考条件，终止该报考人员本年度申报。报考人员无法再进行修改提交，"
                 "若报考人员对该审核意见有异议，可电话咨询审核人员。若沟通后认定符合报考条件，但需要修改报考填报信息，"
                 "需联系审核员将该条申请退回给本人后，再进行修改提交。")


# --- formatting ------------------------------------------------------------------------
def _at(value) -> datetime | None:
    if not value:
        return None
    try:
        dt = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return clock.aware(dt).astimezone(clock.CST)


def cn_date(value) -> str:
    dt = _at(value)
    return dt.strftime("%Y年%m月%d日") if dt else "—"


def cn_datetime(value) -> str:
    dt = _at(value)
    return dt.strftime("%Y年%m月%d日%H时%M分%S秒") if dt else "—"


def plain_datetime(value) -> str:
    dt = _at(value)
    return dt.strftime("%Y-%m-%d %H:%M:%S") if dt else "—"


def local_input(value) -> str:
    """The value of a datetime-local input (Beijing time, seconds included)."""
    dt = _at(value)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") if dt else ""


def window_text(window: dict | None) -> str:
    """报名时间: 2026年01月08日 至 2026年12月19日11时01分31秒 (the manual's header)."""
    if not window or not window.get("start") or not window.get("end"):
        return "—"
    return f"{cn_date(window['start'])} 至 {cn_datetime(window['end'])}"


def full_window_text(window: dict | None) -> str:
    if not window or not window.get("start") or not window.get("end"):
        return "尚未公布"
    return f"{cn_datetime(window['start'])} 至 {cn_datetime(window['end'])}"


def mask_id(id_number: str | None) -> str:
    """411502********4408."""
    value = id_number or ""
    if len(value) < 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def grade_name(value) -> str:
    try:
        return GRADE_SHORT.get(int(value), "—")
    except (TypeError, ValueError):
        return "—"


def gender_name(value) -> str:
    return {"M": "男", "F": "女"}.get(value or "", "—")


def clock_text(now: datetime) -> str:
    return f"{now.strftime('%Y年%m月%d日 %H:%M:%S')} {WEEKDAYS[now.weekday()]}"


def window_open(window: dict | None, now: datetime) -> bool:
    start, end = _at((window or {}).get("start")), _at((window or {}).get("end"))
    if not start or not end:
        return False
    return start <= now.replace(microsecond=0) <= end


def scope_label(role: str | None, scope_code: str | None, rpc=None) -> str:
    if role == "province" or not scope_code:
        return "全省"
    if role == "city":
        return regions.city_name(scope_code) or scope_code
    if role == "county":
        county = regions.county(scope_code)
        if county is None:
            return scope_code
        city = regions.city_name(county.parent_code or "") or ""
        return f"{city}{county.name}"
    if role == "supervisor" and rpc is not None:
        try:
            sup = rpc.application.get_supervisor(scope_code)
        except Exception:  # noqa: BLE001 - a label only
            sup = None
        if sup:
            return sup["name"]
    return scope_code


def _center_phone() -> str:
    return getattr(settings(), "center_phone", None) or DEFAULT_CENTER_PHONE


def _asset_version() -> str:
    try:
        return str(max(int(p.stat().st_mtime) for p in STATIC.iterdir() if p.is_file()))
    except (OSError, ValueError):
        return "1"


env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(default=True),
                  trim_blocks=True, lstrip_blocks=True)
env.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False}
env.filters.update(cn_date=cn_date, cn_datetime=cn_datetime, plain_datetime=plain_datetime,
                   local_input=local_input, window_text=window_text, full_window_text=full_window_text,
                   mask_id=mask_id, grade_name=grade_name, gender_name=gender_name,
                   role_name=lambda r: ROLE_NAMES.get(r or "", r or "—"),
                   level_name=lambda v: LEVEL_NAMES.get(v or "", v or "—"))
env.globals.update(SYSTEM_NAME=SYSTEM_NAME, GRADES=GRADES, ROLE_NAMES=ROLE_NAMES, WINDOW_NAMES=WINDOW_NAMES,
                   SWITCH_NAMES=SWITCH_NAMES, STEP_URLS=STEP_URLS, STATUS_NAMES=STATUS_NAMES,
                   LEVEL_NAMES=LEVEL_NAMES, EDUCATION_NAMES=EDUCATION_NAMES, ROUTE_NAMES=ROUTE_NAMES,
                   FILE_NAMES=FILE_NAMES, MATERIAL_NAMES=MATERIAL_NAMES, MATERIAL_KINDS=MATERIAL_KINDS,
                   QUEUE_STATUSES=QUEUE_STATUSES, REJECTED_TEXT=REJECTED_TEXT)
# one spec for the photo tool and the upload check; the size limit is the configured one
env.globals["photo_spec"] = {**PHOTO_SPEC, "max_bytes": settings().upload_max_bytes}


# --- rendering -------------------------------------------------------------------------
def soft_principal(req) -> dict | None:
    """The logged-in person, or None (also when identity cannot be asked)."""
    try:
        return auth.principal(req)
    except Exception:  # noqa: BLE001 - a page header must not fail on it
        return None


def _chrome(req, who: dict | None = None, progress: dict | None = None,
            application_window: dict | None = None) -> dict:
    now = clock.local_now()
    if progress and progress.get("application_window"):
        application_window = progress["application_window"]
    admin_links = []
    if who and who.get("kind") == "admin":
        admin_links = [(path, title) for path, title, roles in ADMIN_LINKS
                       if not roles or who.get("role") in roles]
    steps = (progress or {}).get("steps") or []
    if who and who.get("must_change_password"):
        steps = [dict(step, enabled=False, reason="请先修改初始密码") for step in steps]
    return {
        "now": now, "now_ms": int(now.timestamp() * 1000), "now_text": clock_text(now),
        "who": who, "is_admin": bool(who and who.get("kind") == "admin"),
        "is_applicant": bool(who and who.get("kind") == "applicant"),
        "progress": progress, "steps": steps,
        "supervisor": (progress or {}).get("supervisor"),
        "application_window": application_window, "center_phone": _center_phone(),
        "admin_links": admin_links, "csrf": getattr(req.context, "csrf", ""),
        "path": req.path, "asset_version": _asset_version(),
    }


def render_page(req, resp, template: str, who: dict | None = None, progress: dict | None = None,
                application_window: dict | None = None, **ctx) -> None:
    page = _chrome(req, who, progress, application_window)
    page.update(ctx)
    resp.content_type = falcon.MEDIA_HTML
    resp.set_header("Cache-Control", "no-store")
    resp.text = env.get_template(template).render(**page)


def redirect(resp, location: str) -> None:
    resp.status = falcon.HTTP_303
    resp.location = location


def render_error(req, status: int, message: str) -> str:
    """The Chinese error page for browser requests (errors.py). No service is asked here:
    the error may be that a service is down."""
    if status == 503:
        message = BUSY
    title = ERROR_TITLES.get(status, "提示")
    try:
        cached = getattr(req.context, "_principal", None)
        who = cached if isinstance(cached, dict) else None
        page = _chrome(req, who)
        page.update(title=title, status=status, message=message)
        return env.get_template("error.html").render(**page)
    except Exception:  # noqa: BLE001 - the last resort must not fail
        log.exception("error page could not be rendered")
        return ("<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\">"
                f"<title>{html.escape(title)} - {SYSTEM_NAME}</title>"
                f"<body style=\"font-family:sans-serif;padding:2em\"><h1>{html.escape(title)}</h1>"
                f"<p>{html.escape(message)}</p><p><a href=\"/\">返回</a></p></body></html>")


def _applicant_context(req) -> tuple[dict, dict, dict]:
    who = auth.require_applicant(req)
    account = req.context.rpc.identity.me(who)
    progress = req.context.rpc.application.progress(account)
    return who, account, progress


def _current_year(req) -> dict | None:
    try:
        return req.context.rpc.identity.current_year()
    except Exception:  # noqa: BLE001 - shown only; the API refuses what is not allowed
        log.warning("current_year unavailable for %s", req.path)
        return None


def _app_window(cal: dict | None) -> dict | None:
    return ((cal or {}).get("windows") or {}).get("application")


# --- public and applicant pages -----------------------------------------------------------
class Root:
    def on_get(self, req, resp):
        who = soft_principal(req)
        redirect(resp, "/home" if who and who.get("kind") == "applicant" else "/login")


class Login:
    def on_get(self, req, resp):
        who = soft_principal(req)
        render_page(req, resp, "login.html", who=who, application_window=_app_window(_current_year(req)))


class Register:
    def on_get(self, req, resp):
        cal = _current_year(req)
        window = ((cal or {}).get("windows") or {}).get("registration")
        now = clock.local_now()
        is_open = window_open(window, now)
        if cal is None:
            closed_message = "本年度考核尚未开放，请关注省工考办通知"
        elif not window or not _at(window.get("start")) or not _at(window.get("end")):
            closed_message = "本年度注册时间尚未公布，请关注省工考办通知"
        elif now < _at(window["start"]):
            closed_message = "本年度注册尚未开始，请在注册时间内进行注册"
        else:
            closed_message = "本年度注册时间已结束，非注册时间段内不允许注册"
        cities = req.context.rpc.application.list_cities() if is_open else []
        render_page(req, resp, "register.html", who=soft_principal(req), application_window=_app_window(cal),
                    year=cal, registration_window=window, registration_open=is_open,
                    closed_message=closed_message, cities=cities)


class Home:
    def on_get(self, req, resp):
        who, account, progress = _applicant_context(req)
        render_page(req, resp, "home.html", who=who, progress=progress, account=account)


class ApplicationForm:
    """报名信息 (R-A1 … R-A6): the form with its data embedded; application.js keeps it live
    and saves through the API."""

    def on_get(self, req, resp):
        who, account, progress = _applicant_context(req)
        rpc = req.context.rpc
        form = links.form_for_applicant(rpc.application.get_form(who, account))
        units = rpc.application.list_units(account["city_code"])
        trades = rpc.application.list_trades()
        check = rpc.application.eligibility(who, account)
        step = next((s for s in progress.get("steps") or [] if s.get("key") == "application"), None) or {}
        render_page(req, resp, "application.html", who=who, progress=progress, account=account, form=form,
                    units=units, trades=trades, eligibility=check,
                    can_delete=not (account.get("ever_submitted") or form.get("round")),
                    closed_reason=None if step.get("enabled", True) else step.get("reason"))


class ReviewResult:
    """审核结果 (R-R3): the status, every step with masked reviewer names, every level's
    contact; the 退回 reason, the 审核不通过 text, the 终审通过 line."""

    def on_get(self, req, resp):
        who, account, progress = _applicant_context(req)
        rpc = req.context.rpc
        review = rpc.review.applicant_review(who)
        form = rpc.application.get_form(who, account)
        chain = review.get("chain") or []
        contacts = rpc.identity.review_contacts(form.get("city_code") or account.get("city_code"),
                                                form.get("supervisor_id"))
        contacts = [c for c in contacts if not chain or c["level"] in chain]
        status = review.get("status") or "not_submitted"
        step = next((s for s in progress.get("steps") or [] if s.get("key") == "payment"), None) or {}
        render_page(req, resp, "review.html", who=who, progress=progress, account=account, review=review,
                    status=status, contacts=contacts, payment_open=bool(step.get("enabled")),
                    last_return=next((st for st in reversed(review.get("steps") or [])
                                      if st.get("decision") in ("return", "reject", "reopen")), None))


class Password:
    def __init__(self, admin: bool):
        self.admin = admin

    def on_get(self, req, resp):
        if self.admin:
            who = auth.require_admin(req)
            render_page(req, resp, "password.html", who=who, admin=True,
                        must_change=bool(who.get("must_change_password")),
                        api="/api/v1/admin/me/password", next_url="/admin")
            return
        who, account, progress = _applicant_context(req)
        render_page(req, resp, "password.html", who=who, progress=progress, admin=False,
                    must_change=bool(account.get("must_change_password")),
                    api="/api/v1/me/password", next_url="/home")


class Logout:
    def __init__(self, target: str):
        self.target = target

    def on_get(self, req, resp):
        token = auth.token_of(req)
        if token:
            try:
                req.context.rpc.identity.logout(token)
            except Exception:  # noqa: BLE001 - the cookie goes anyway; the session idles out
                log.warning("logout could not reach identity")
        auth.clear_session_cookie(resp)
        redirect(resp, self.target)


class ManualPage:
    def __init__(self, template: str):
        self.template = template

    def on_get(self, req, resp):
        extra = {}
        if self.template == "manual/contacts.html":
            extra["supervisors"] = _supervisor_contacts(req)
        render_page(req, resp, self.template, who=soft_principal(req), **extra)


def _supervisor_contacts(req) -> list[dict]:
    seen: dict[str, dict] = {}
    for unit in req.context.rpc.application.list_units(None):
        sup = unit.get("supervisor") or {}
        if sup.get("id") and sup["id"] not in seen:
            seen[sup["id"]] = {"name": sup.get("name"), "admin": sup.get("admin"), "phone": sup.get("phone"),
                               "city": regions.city_name(unit.get("city_code") or "") or "—"}
    return sorted(seen.values(), key=lambda s: (s["city"] != "省直", s["city"], s["name"] or ""))


# --- administrators -----------------------------------------------------------------------
class AdminLogin:
    def on_get(self, req, resp):
        render_page(req, resp, "admin/login.html", who=soft_principal(req))


class AdminHome:
    def on_get(self, req, resp):
        who = auth.require_admin(req)
        pending = None
        if who.get("role") in REVIEW_ROLES and who.get("role") != "county" and not who.get("must_change_password"):
            try:
                pending = int(req.context.rpc.review.queue(who, {"status": "pending", "page_size": 1})["total"])
            except Exception:  # noqa: BLE001 - a count on the dashboard only
                log.warning("review queue unavailable for the dashboard")
        render_page(req, resp, "admin/index.html", who=who, pending=pending,
                    can_review=who.get("role") in REVIEW_ROLES,
                    scope=scope_label(who.get("role"), who.get("scope_code"), req.context.rpc))


class AdminAccounts:
    def on_get(self, req, resp):
        who = auth.require_admin(req, "province", "city", "county")
        render_page(req, resp, "admin/accounts.html", who=who)


class AdminRoster:
    def on_get(self, req, resp):
        who = auth.require_admin(req, "province", "city")
        render_page(req, resp, "admin/roster.html", who=who)


def _cities_for(who: dict, rpc) -> list[dict]:
    cities = rpc.application.list_cities()
    if who.get("role") == "city":
        cities = [c for c in cities if c["code"] == who.get("scope_code")]
    return cities


class AdminSupplementary:
    def on_get(self, req, resp):
        who = auth.require_admin(req, "province", "city")
        render_page(req, resp, "admin/supplementary.html", who=who, cities=_cities_for(who, req.context.rpc))


class AdminAdmins:
    def on_get(self, req, resp):
        who = auth.require_admin(req, "province", "city")
        rpc = req.context.rpc
        admins = rpc.identity.list_admins(who)
        for a in admins:
            a["scope_label"] = scope_label(a.get("role"), a.get("scope_code"))
        if who.get("role") == "province":
            roles = ["province", "city", "county", "supervisor"]
            city_codes = [c.code for c in regions.cities() if c.code != regions.PROVINCE_CODE]
        else:
            roles = ["county", "supervisor"]
            city_codes = [who.get("scope_code")]
        scopes: list[tuple[str, str, str]] = []  # (role, code, label)
        if "city" in roles:
            scopes += [("city", c.code, c.name) for c in regions.cities() if c.code != regions.PROVINCE_CODE]
        for code in city_codes:
            city = regions.city_name(code) or ""
            scopes += [("county", k.code, f"{city}{k.name}") for k in regions.counties(code)]
        supervisors: dict[str, str] = {}
        for unit in rpc.application.list_units(None):
            sup = unit.get("supervisor") or {}
            if sup.get("id") and (who.get("role") == "province" or unit.get("city_code") in city_codes):
                supervisors.setdefault(sup["id"], sup.get("name") or sup["id"])
        scopes += [("supervisor", code, f"{name}（{code}）") for code, name in sorted(supervisors.items())]
        for a in admins:
            if a.get("role") == "supervisor" and a.get("scope_code") in supervisors:
                a["scope_label"] = supervisors[a["scope_code"]]
        render_page(req, resp, "admin/admins.html", who=who, admins=admins, roles=roles, scopes=scopes,
                    created=req.get_param("created"))


class AdminYears:
    def on_get(self, req, resp):
        who = auth.require_admin(req, "province")
        cal = req.context.rpc.identity.current_year()
        render_page(req, resp, "admin/years.html", who=who, cal=cal,
                    default_year=(cal or {}).get("year") or clock.local_now().year,
                    saved=req.get_param("saved"))


class AdminAudit:
    PAGE_SIZE = 50

    def on_get(self, req, resp):
        who = auth.require_admin(req)
        page = max(1, req.get_param_as_int("page") or 1)
        data = req.context.rpc.identity.list_audit(who, page, self.PAGE_SIZE)
        for item in data["items"]:
            item["action_name"] = AUDIT_ACTIONS.get(item.get("action"), item.get("action"))
            item["scope_label"] = scope_label(item.get("role"), item.get("scope"))
        pages = max(1, -(-int(data.get("total") or 0) // self.PAGE_SIZE))
        render_page(req, resp, "admin/audit.html", who=who, items=data["items"], total=data.get("total") or 0,
                    page=page, pages=pages)


# --- reference data (R-P4 units and trades, R-P1 咨询电话, R-A4 rules, R-R1 chains) ----------
RULE_GRADES = (("5", "五级"), ("4", "四级"), ("3", "三级"), ("1", "一级"))
CITY_CHAINS = (("supervisor", "city", "province"), ("supervisor", "province"))
PROVINCIAL_CHAINS = (("supervisor", "province"),)


def chain_text(levels) -> str:
    return " → ".join(LEVEL_NAMES.get(lv, lv) for lv in levels or ()) or "—"


class AdminReference:
    """基础数据维护 (province only): units with their 主管单位, the trade catalogue, the 县区
    咨询电话, the current year's 申报条件 and each city's 审核流程. Every change goes through the
    API (reference.js); a section whose service does not answer says so and the rest still shows."""

    def on_get(self, req, resp):
        who = auth.require_admin(req, "province")
        rpc = req.context.rpc
        errors: dict[str, str] = {}

        def read(section: str, call, default):
            try:
                return call()
            except ServiceError as exc:
                if exc.status >= 500:
                    log.warning("reference page: %s unavailable (%s)", section, exc.message)
                    errors[section] = BUSY
                    return default
                raise
            except Exception:  # noqa: BLE001 - one section down must not take the page with it
                log.exception("reference page: %s unavailable", section)
                errors[section] = BUSY
                return default

        units = read("units", lambda: rpc.application.list_units(None), [])
        for u in units:
            county = regions.county(u.get("county_code") or "") if u.get("county_code") else None
            u["city_name"] = regions.city_name(u.get("city_code") or "") or u.get("city_code") or "—"
            u["county_name"] = county.name if county else "—"
        trades = read("trades", rpc.application.list_trades, [])
        names = {t["code"]: t["name"] for t in trades}
        for t in trades:
            t["new_names"] = [names.get(code, code) for code in t.get("new_trades") or []]
        contacts = read("contacts", rpc.application.contacts, {"counties": []})
        county_groups = [(c.name, [(k.code, k.name) for k in regions.counties(c.code)])
                         for c in regions.cities()]
        cal = read("rules", lambda: rpc.identity.current_year(), None)
        year = (cal or {}).get("year")
        rules = read("rules", lambda: rpc.application.get_rules(year), None) if year else None
        chains = []
        for city in regions.cities():
            levels = read("chains", lambda code=city.code: rpc.review.chain_of(code), None)
            if levels is None:
                break
            choices = PROVINCIAL_CHAINS if city.code == regions.PROVINCE_CODE else CITY_CHAINS
            chains.append({"code": city.code, "name": city.name, "levels": list(levels),
                           "text": chain_text(levels),
                           "choices": [(",".join(c), chain_text(c)) for c in choices],
                           "current": ",".join(levels)})
        render_page(req, resp, "admin/reference.html", who=who, units=units, trades=trades,
                    contacts=contacts.get("counties") or [], county_groups=[g for g in county_groups if g[1]],
                    year=year, rules=rules, rule_grades=RULE_GRADES, chains=chains, errors=errors)


# --- review: the queue and the case (R-R1 … R-R4, R-P4) -----------------------------------
def _trade_names(rpc) -> dict[str, str]:
    try:
        return {t["code"]: t["name"] for t in rpc.application.list_trades()}
    except Exception:  # noqa: BLE001 - names only; codes are shown instead
        log.warning("trades unavailable for the review pages")
        return {}


def _units_in_scope(who: dict, rpc) -> list[dict]:
    """The units an administrator's queue can contain, for the filter."""
    role, scope = who.get("role"), who.get("scope_code")
    units = rpc.application.list_units(None if role == "province" else (who.get("scope_city") or None))
    if role == "city":
        units = [u for u in units if u.get("city_code") == scope]
    elif role == "county":
        units = [u for u in units if u.get("county_code") == scope]
    elif role == "supervisor":
        units = [u for u in units if (u.get("supervisor") or {}).get("id") == scope]
    return units


def _region_text(city_code: str | None, county_code: str | None) -> str:
    city = regions.city_name(city_code or "") or ""
    county = regions.county(county_code) if county_code else None
    return (city + (county.name if county else "")) or "—"


class AdminReviews:
    """报名审核: the caller's queue with filters, paging and 批量通过."""
    PAGE_SIZE = 20

    def on_get(self, req, resp):
        who = auth.require_admin(req, *REVIEW_ROLES)
        rpc = req.context.rpc
        can_decide = who.get("role") != "county"
        filters = {k: (req.get_param(k) or "").strip() for k in QUEUE_FILTERS}
        if not filters["status"] or (filters["status"] == "pending" and not can_decide):
            filters["status"] = "pending" if can_decide else "all"
        try:
            page = max(1, int(req.get_param("page") or 1))
        except ValueError:
            page = 1
        error = None
        try:
            data = rpc.review.queue(who, {**{k: v for k, v in filters.items() if v}, "page": page,
                                          "page_size": self.PAGE_SIZE})
        except ServiceError as exc:
            if exc.status >= 500:
                raise
            error, data = exc.message, {"items": [], "total": 0}
        trades = rpc.application.list_trades()
        names = {t["code"]: t["name"] for t in trades}
        for item in data["items"]:
            item["trade_name"] = names.get(item.get("target_trade") or "", item.get("target_trade") or "—")
        total = int(data.get("total") or 0)
        pages = max(1, -(-total // self.PAGE_SIZE))
        base = {k: v for k, v in filters.items() if v}

        def page_url(n: int) -> str:
            return "/admin/reviews?" + urlencode({**base, "page": n})

        render_page(req, resp, "admin/reviews.html", who=who, items=data["items"], total=total, page=page,
                    pages=pages, page_url=page_url, filters=filters, error=error, trades=trades,
                    units=_units_in_scope(who, rpc), can_decide=can_decide,
                    statuses=[s for s in QUEUE_STATUSES if can_decide or s[0] != "pending"],
                    scope=scope_label(who.get("role"), who.get("scope_code"), rpc))


class AdminReviewCase:
    """One case: the submitted form, its files, the history and the decision panel."""

    def on_get(self, req, resp, application_id):
        who = auth.require_admin(req, *REVIEW_ROLES)
        rpc = req.context.rpc
        case = links.case_for_admin(rpc.review.get_case(who, application_id))
        snap = case.get("snapshot") or {}
        files = snap.get("files") or {}
        photos = []
        for kind in ("id_card_photo", "personal_photo"):
            photos.append((kind, FILE_NAMES[kind], files.get(kind)))
        stamped = snap.get("stamped_photo")
        if stamped:  # optional: shown only when the applicant made one
            photos.append((STAMPED_KIND, "添加身份证号的个人照片", stamped))
        documents = [(kind, FILE_NAMES[kind], files.get(kind)) for kind in ("education_proof", "grade_certificate")]
        render_page(req, resp, "admin/review_case.html", who=who, case=case, snap=snap, photos=photos,
                    documents=documents, trades=_trade_names(rpc), chain=_chain_view(case),
                    region=_region_text(snap.get("city_code"), snap.get("county_code")))


def _chain_view(case: dict) -> list[dict]:
    """The chain with each level's state: done, current, stopped (退回/不通过 there) or todo."""
    chain = case.get("chain") or []
    status = case.get("status")
    stop_level = None
    if status in ("returned", "rejected"):
        last = next((h for h in reversed(case.get("history") or [])
                     if h.get("decision") in ("return", "reject", "reopen")), None)
        stop_level = (last or {}).get("level")
    current = case.get("level") if status == "in_review" else stop_level
    out = [{"level": "applicant", "name": "报考人员提交", "state": "done"}]
    reached = False
    for level in chain:
        if status == "approved":
            state = "done"
        elif level == current:
            state, reached = ("current" if status == "in_review" else "stopped"), True
        else:
            state = "todo" if reached else "done"
        out.append({"level": level, "name": LEVEL_NAMES.get(level, level), "state": state})
    return out


def register(app: falcon.App) -> None:
    app.add_static_route("/static", str(STATIC))
    app.add_route("/", Root())
    app.add_route("/login", Login())
    app.add_route("/register", Register())
    app.add_route("/home", Home())
    app.add_route("/application", ApplicationForm())
    app.add_route("/review", ReviewResult())
    app.add_route("/password", Password(admin=False))
    app.add_route("/logout", Logout("/login"))
    app.add_route("/manual/applicant", ManualPage("manual/applicant.html"))
    app.add_route("/manual/policies", ManualPage("manual/policies.html"))
    app.add_route("/manual/contacts", ManualPage("manual/contacts.html"))
    app.add_route("/manual/admin", ManualPage("manual/admin.html"))
    app.add_route("/photo-tool", ManualPage("photo_tool.html"))

    app.add_route("/admin", AdminHome())
    app.add_route("/admin/login", AdminLogin())
    app.add_route("/admin/logout", Logout("/admin/login"))
    app.add_route("/admin/password", Password(admin=True))
    app.add_route("/admin/accounts", AdminAccounts())
    app.add_route("/admin/roster", AdminRoster())
    app.add_route("/admin/supplementary", AdminSupplementary())
    app.add_route("/admin/admins", AdminAdmins())
    app.add_route("/admin/years", AdminYears())
    app.add_route("/admin/audit", AdminAudit())
    app.add_route("/admin/reference", AdminReference())
    app.add_route("/admin/reviews", AdminReviews())
    app.add_route("/admin/reviews/{application_id}", AdminReviewCase())
