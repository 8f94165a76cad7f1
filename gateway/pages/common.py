"""What every page shares: the Jinja environment with its filters and labels, the page chrome
(header, steps, admin menu), ``render_page`` and ``render_error``, and the headers every HTML
page carries. Labels come from the services' ``schemas`` modules, never from here."""
from __future__ import annotations

import functools
import html
import logging
import time
from datetime import datetime
from pathlib import Path

import falcon
import markupsafe
from jinja2 import Environment, FileSystemLoader, select_autoescape

from kit import clock, regions
from kit.config import settings
from kit.masks import mask_id, mask_phone  # noqa: F401 - the one masking rule, for the templates
from services.application import schemas as application_schemas
from services.identity import schemas as identity_schemas
from services.review import schemas as review_schemas

from .. import auth

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent.parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

SYSTEM_NAME = "河南省机关事业单位工勤技能岗位等级考核网上报名系统"
WEEKDAYS = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
ERROR_TITLES = {400: "请求有误", 401: "请先登录", 403: "无权访问", 404: "页面不存在", 405: "请求方式有误",
                409: "操作冲突", 413: "内容过大", 415: "类型不支持", 422: "不符合条件", 423: "账号已锁定",
                429: "操作过于频繁", 500: "系统错误", 503: "系统繁忙"}
BUSY = "系统繁忙，请稍后再试"

# Every HTML page: scripts and styles only from our own files (no inline code, no style
# attributes; JSON data blocks are not scripts), pictures also from blob:/data: (previews).
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
                           "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")

# The applicant's steps (R-P2) that have a page: one place. A step without a page here is
# never a link.
STEP_PAGES = {"application": "/application", "review": "/review", "payment": "/payment", "ticket": "/ticket",
              "result": "/result", "certificate": "/certificate"}

# The administrators' menu: (path, title, roles allowed; empty = every administrator).
REVIEW_ROLES = ("supervisor", "city", "province", "county")
ADMIN_LINKS = (
    ("/admin/reviews", "报名审核", REVIEW_ROLES),
    ("/admin/accounts", "账号管理（重置密码、删除账号）", ("province", "city", "county")),
    ("/admin/roster", "社保名单导入", ("province", "city")),
    ("/admin/supplementary", "补报", ("province", "city")),
    ("/admin/admins", "管理员账号", ("province", "city")),
    ("/admin/payments", "缴费管理", ("province", "city")),
    ("/admin/exam", "考场安排", ("province", "city")),
    ("/admin/results", "考核结果管理", ("province", "city")),
    ("/admin/statistics", "报名统计", ()),
    ("/admin/years", "考核年度设置", ("province",)),
    ("/admin/fees", "考核费用设置", ("province",)),
    ("/admin/reference", "基础数据维护", ("province",)),
    ("/admin/audit", "操作日志", ()),
    ("/admin/password", "修改密码", ()),
)

# --- labels: each from the service that owns it ----------------------------------------------
GRADE_NAMES = application_schemas.GRADE_NAMES
GRADE_TITLES = application_schemas.GRADE_TITLES
GENDER_NAMES = application_schemas.GENDER_NAMES
ROLE_NAMES = identity_schemas.ROLE_NAMES
LEVEL_NAMES = review_schemas.LEVEL_NAMES
# 操作日志 lists every service's administrator actions, named in the kit's one table
AUDIT_ACTIONS = identity_schemas.AUDIT_ACTIONS


# --- formatting ------------------------------------------------------------------------------
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


def yuan(fen) -> str:
    """Money in 分 as 元 with two decimals (150.00); "—" when there is none. Integer arithmetic:
    no float ever touches an amount."""
    if fen is None or fen == "" or isinstance(fen, bool):
        return "—"
    try:
        fen = int(fen)
    except (TypeError, ValueError):
        return "—"
    sign, fen = ("-", -fen) if fen < 0 else ("", fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def grade_name(value) -> str:
    try:
        return GRADE_NAMES.get(int(value), "—")
    except (TypeError, ValueError):
        return "—"


def grade_title(value) -> str:
    try:
        value = int(value)
    except (TypeError, ValueError):
        return "—"
    return GRADE_TITLES.get(value) or GRADE_NAMES.get(value, "—")


def gender_name(value) -> str:
    return GENDER_NAMES.get(value or "", "—")


def clock_text(now: datetime) -> str:
    return f"{now.strftime('%Y年%m月%d日 %H:%M:%S')} {WEEKDAYS[now.weekday()]}"


def window_open(window: dict | None, now: datetime) -> bool:
    start, end = _at((window or {}).get("start")), _at((window or {}).get("end"))
    if not start or not end:
        return False
    return start <= now.replace(microsecond=0) <= end


def region_text(city_code: str | None, county_code: str | None = None) -> str:
    city = regions.city_name(city_code or "") or ""
    county = regions.county(county_code) if county_code else None
    return (city + (county.name if county else "")) or "—"


def scope_label(role: str | None, scope_code: str | None, supervisor_name: str | None = None) -> str:
    """全省, 郑州市, 郑州市中原区, or the 主管单位's name when the caller knows it."""
    if role == "province" or not scope_code:
        return "全省"
    if role == "city":
        return regions.city_name(scope_code) or scope_code
    if role == "county":
        county = regions.county(scope_code)
        if county is None:
            return scope_code
        return f"{regions.city_name(county.parent_code or '') or ''}{county.name}"
    return supervisor_name or scope_code


def center_phone() -> str:
    return settings().center_phone


_asset_stamp: list = [0.0, "1"]      # (checked at, version): the static files' newest mtime


def _asset_version() -> str:
    """The static files' version in their URLs (a new one after a deploy or an edit), looked
    up at most once a second, not on every page."""
    now = time.monotonic()
    if now - _asset_stamp[0] >= 1.0:
        try:
            version = str(max(int(p.stat().st_mtime) for p in STATIC.iterdir() if p.is_file()))
        except (OSError, ValueError):
            version = "1"
        _asset_stamp[:] = [now, version]
    return _asset_stamp[1]


@functools.lru_cache(maxsize=512)
def _escaped(pairs: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    return tuple((str(markupsafe.escape(v)), str(markupsafe.escape(label))) for v, label in pairs)


def options(items, selected=None, value: str = "code", label: str = "name", allowed=None,
            unavailable: str = "（不可选）") -> markupsafe.Markup:
    """A select's ``<option>``s (after its placeholder), the selected one marked: the long
    lists of the 报名信息 page (units, trades, years) rendered in one step, not an escaped
    template loop per option. ``items``: dicts (``value``/``label`` keys) or (value, label)
    pairs. ``allowed``: the only values that may be chosen (None: all); the selected value
    stays listed even when not allowed, marked ``unavailable``."""
    pairs = tuple((str(i[value]), str(i[label])) if isinstance(i, dict) else (str(i[0]), str(i[1]))
                  for i in items)
    chosen = "" if selected is None else str(selected)
    allowed = None if allowed is None else {str(a) for a in allowed}
    out = []
    for (raw, _), (v, text) in zip(pairs, _escaped(pairs), strict=True):
        if allowed is not None and raw not in allowed:
            if raw != chosen:
                continue
            text += markupsafe.escape(unavailable)
        out.append(f'<option value="{v}"{" selected" if chosen and raw == chosen else ""}>{text}</option>')
    return markupsafe.Markup("".join(out))    # noqa: S704 - every value and label escaped above (_escaped)


@functools.lru_cache(maxsize=256)
def year_choices(newest: int, oldest: int) -> tuple[tuple[int, str], ...]:
    """The years of a year select, newest first: (2026, "2026年") …"""
    return tuple((y, f"{y}年") for y in range(newest, oldest - 1, -1))


MONTH_CHOICES = tuple((f"{m:02d}", f"{m:02d}月") for m in range(1, 13))


class PageEnvironment(Environment):
    """Jinja2's environment, ``x.name`` on a plain dict read as its item first. The pages are
    rendered from the services' answers, plain dicts, and Jinja2 tries an attribute first: a
    raised and caught AttributeError per lookup, a few hundred per 报名信息 page (0.6 µs each,
    against 0.07 for the item). A dict's own methods (``NAMES.items()``, ``.get(…)``) are
    still found when no key has their name, as before; no template reads a dict with such a key."""

    def getattr(self, obj, attribute):
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


env = PageEnvironment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True)
env.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False}
env.filters.update(cn_date=cn_date, cn_datetime=cn_datetime, plain_datetime=plain_datetime,
                   local_input=local_input, window_text=window_text, full_window_text=full_window_text,
                   mask_id=mask_id, mask_phone=mask_phone, grade_name=grade_name, grade_title=grade_title,
                   gender_name=gender_name, yuan=yuan,
                   role_name=lambda r: ROLE_NAMES.get(r or "", r or "—"),
                   level_name=lambda v: LEVEL_NAMES.get(v or "", v or "—"))
env.globals.update(
    SYSTEM_NAME=SYSTEM_NAME, STEP_PAGES=STEP_PAGES,
    GRADE_NAMES=GRADE_NAMES, GRADE_TITLES=GRADE_TITLES, GENDER_NAMES=GENDER_NAMES,
    EDUCATION_NAMES=application_schemas.EDUCATION_NAMES, FILE_NAMES=application_schemas.FILE_NAMES,
    STAMPED_PHOTO=application_schemas.STAMPED_PHOTO, ROUTE_NAMES=application_schemas.ROUTE_NAMES,
    STATUS_NAMES=application_schemas.STATUS_NAMES, STEP_NAMES=application_schemas.STEP_NAMES,
    LEVEL_NAMES=LEVEL_NAMES, DECISION_NAMES=review_schemas.DECISION_NAMES,
    CASE_STATUS_NAMES=review_schemas.CASE_STATUS_NAMES, QUEUE_STATUSES=review_schemas.QUEUE_STATUSES,
    MATERIAL_KINDS=review_schemas.MATERIAL_KINDS, MATERIAL_NAMES=review_schemas.MATERIAL_NAMES,
    ROLE_NAMES=ROLE_NAMES, WINDOW_NAMES=identity_schemas.WINDOW_NAMES, SWITCH_NAMES=identity_schemas.SWITCH_NAMES,
    options=options, year_choices=year_choices, MONTH_CHOICES=MONTH_CHOICES,
)
# one spec for the photo tool and the upload check; the size limit is the configured one
env.globals["photo_spec"] = {**application_schemas.PHOTO_SPEC, "max_bytes": settings().upload_max_bytes}


# --- the chrome -------------------------------------------------------------------------------
def soft_principal(req) -> dict | None:
    """The logged-in person, or None (also when identity cannot be asked)."""
    try:
        return auth.principal(req)
    except Exception:  # noqa: BLE001 - a page header must not fail on it
        return None


def step_view(steps: list[dict] | None, locked_reason: str | None = None) -> list[dict]:
    """The steps an applicant sees (R-P2): only the visible ones, numbered in order; a step is a
    link only when it is open and its page exists (STEP_PAGES)."""
    out = []
    for step in steps or []:
        if not step.get("visible", True):
            continue
        enabled = bool(step.get("enabled")) and locked_reason is None
        reason = locked_reason or step.get("reason") or (None if enabled else "暂不可用")
        href = STEP_PAGES.get(step["key"]) if enabled else None
        out.append({"key": step["key"], "title": step.get("title") or application_schemas.STEP_NAMES.get(step["key"]),
                    "enabled": enabled, "reason": None if enabled else reason, "href": href,
                    "done": bool(step.get("done")), "num": len(out) + 1})
    return out


def _chrome(req, who: dict | None = None, progress: dict | None = None,
            application_window: dict | None = None) -> dict:
    now = clock.local_now()
    if progress and progress.get("application_window"):
        application_window = progress["application_window"]
    is_admin = bool(who and who.get("kind") == "admin")
    admin_links = []
    if is_admin:
        admin_links = [(path, title) for path, title, roles in ADMIN_LINKS if not roles or who.get("role") in roles]
    locked = "请先修改初始密码" if who and who.get("must_change_password") else None
    return {
        "now": now, "now_ms": int(now.timestamp() * 1000), "now_text": clock_text(now),
        "who": who, "is_admin": is_admin,
        "is_applicant": bool(who and who.get("kind") == "applicant"),
        "progress": progress, "steps": step_view((progress or {}).get("steps"), locked),
        "supervisor": (progress or {}).get("supervisor"),
        "application_window": application_window, "center_phone": center_phone(),
        "admin_links": admin_links, "csrf": getattr(req.context, "csrf", ""),
        "path": req.path, "asset_version": _asset_version(),
    }


def secure_page(resp) -> None:
    """The headers of every HTML page."""
    resp.set_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    resp.set_header("Cache-Control", "no-store")


def render_page(req, resp, template: str, who: dict | None = None, progress: dict | None = None,
                application_window: dict | None = None, **ctx) -> None:
    page = _chrome(req, who, progress, application_window)
    page.update(ctx)
    resp.content_type = falcon.MEDIA_HTML
    secure_page(resp)
    resp.text = env.get_template(template).render(**page)


def redirect(resp, location: str) -> None:
    resp.status = falcon.HTTP_303
    resp.location = location


def render_error(req, status: int, message: str) -> str:
    """The Chinese error page for browser requests (errors.py). No service is asked here:
    the error may be that a service is down. (Its headers: ``PageHeaders``.)"""
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
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                f"<title>{html.escape(title)} - {SYSTEM_NAME}</title>"
                f"<body><h1>{html.escape(title)}</h1>"
                f"<p>{html.escape(message)}</p><p><a href=\"/\">返回</a></p></body></html>")


class PageHeaders:
    """Middleware: an HTML response that did not come from ``render_page`` (the error pages
    errors.py renders) gets the same headers."""

    def process_response(self, req, resp, resource, req_succeeded) -> None:
        if (resp.content_type or "").startswith("text/html") and not resp.get_header("Content-Security-Policy"):
            secure_page(resp)


# --- small readers shared by the areas ----------------------------------------------------------
def current_year(req) -> dict | None:
    try:
        return req.context.reference.current_year()
    except Exception:  # noqa: BLE001 - shown only; the API refuses what is not allowed
        log.warning("current_year unavailable for %s", req.path)
        return None


def app_window(cal: dict | None) -> dict | None:
    return ((cal or {}).get("windows") or {}).get("application")


def cities() -> list[dict]:
    """省辖市、直辖区 and 省直: reference data the kit holds (no service to ask)."""
    return [{"code": c.code, "name": c.name} for c in regions.cities()]


def plain_form(req) -> dict:
    """A urlencoded form's fields, the last value of each (the CSRF middleware read the form
    already; Falcon keeps what it parsed). Anything else is an empty form."""
    if not (req.content_type or "").startswith(falcon.MEDIA_URLENCODED):
        return {}
    try:
        data = req.get_media()
    except falcon.HTTPError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: (v[-1] if isinstance(v, list) else v) for k, v in data.items()}


def page_number(req) -> int:
    """The ``page`` a list page asks for: 1 when it is missing or not a whole number."""
    try:
        return max(1, int(req.get_param("page") or 1))
    except ValueError:
        return 1


def form_year(text) -> int | None:
    """An exam year typed in a form, or None (the page says so)."""
    try:
        value = int(str(text or "").strip())
    except ValueError:
        return None
    return value if 2000 <= value <= 2100 else None
