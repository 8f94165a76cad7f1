"""网上缴费 (R-F1 … R-F4, R-P2): the applicant's payment page, and the administrators' 缴费管理
(the list with its sum, export, offline records, mismatches, 对账) and 考核费用设置 (fees per
grade and the cities paying online, per year).

The pages show; every change goes through the JSON API from ``static/payment.js`` and
``static/payment-admin.js``, and the payment service checks it again. Labels come from
``services.payment.schemas`` (handed to the scripts as JSON in the page)."""
from __future__ import annotations

import logging
from urllib.parse import urlencode

from kit import access, clock, regions
from kit.errors import InvalidInput
from services.application import schemas as application_schemas
from services.payment import schemas as payment_schemas

from .. import auth
from .applicant import applicant_progress
from .common import GRADE_TITLES, _at, current_year, page_number, render_page, scope_label, step_view

log = logging.getLogger(__name__)

# The manual's words (报考人员手册 二、3. 缴费), shown as they are written there.
DELAY_RULE = "2-5级终审通过24小时后才可以缴费，1级终审通过48小时后，才可以缴费，且须在缴费时间内"
RECEIPT_WARNING = "收据信息一旦提交，本年度无法修改，如需报销，请先与报销单位确认收据名称后，再进行缴费。"
CHECK_NOTE = ("缴费时，应仔细核对人员名称和身份证号，如信息正确无误，在倒计时结束后，点击【确认缴费】，系统将自动跳转至非税平台，"
              "报考人员核对缴费金额无误后，需及时进行缴费；")
CHANGE_NOTE = "若需修改收据信息，点击【取消缴费】，重新录入收据名称即可。若信息不正确，点击【退出系统】，重新登录系统后，再进行缴费。"
CONFIRM_SECONDS = 5       # the confirmation view's countdown before 确认缴费 can be clicked (R-F3)


def payment_view(mine: dict, now) -> dict:
    """What the 网上缴费 page shows, from the payment service's answer: ``state`` is one of
    ``offline`` / ``paid`` (settled), ``offline_city`` (R-F1: this city pays offline),
    ``not_approved``, ``not_due`` (with ``why``: ``later``, ``ended``, ``unpublished``),
    ``no_fee``, ``unpaid`` (the receipt title form) or ``pending`` (an open order)."""
    status = mine.get("status")
    out: dict = {"state": status, "why": None, "open_order": None}
    if status in ("offline", "paid"):
        return out
    if not mine.get("online"):
        out["state"] = "offline_city"
    elif not mine.get("approved"):
        out["state"] = "not_approved"
    elif status == "not_due":
        opens = _at(mine.get("opens_at"))
        if opens is None:
            out["why"] = "unpublished"
        elif now < opens:
            out["why"] = "later"
        else:
            out["why"] = "ended"
    elif status == "unpaid" and mine.get("amount_fen") is None:
        out["state"] = "no_fee"
    elif status == "pending":
        out["open_order"] = next((o for o in mine.get("orders") or [] if o.get("status") == "open"), None)
    return out


class PaymentPage:
    """网上缴费, the applicant's step 3 (R-F1 … R-F3). Three RPCs: the session, the steps
    (application.progress) and the payment (payment.my_payment); name and ID number for the
    confirmation come with the session."""

    def on_get(self, req, resp):
        who, progress = applicant_progress(req)
        mine = req.context.rpc.payment.my_payment(who)
        now = clock.now()
        view = payment_view(mine, now)
        steps = step_view(progress.get("steps"))
        ticket = next((s for s in steps if s["key"] == "ticket"), None)
        orders = mine.get("orders") or []
        returned_no = (req.get_param("order") or "").strip()
        returned = next((o for o in orders if o["order_no"] == returned_no), None) if returned_no else None
        open_order = view["open_order"]
        render_page(req, resp, "payment.html", who=who, progress=progress, mine=mine, view=view, orders=orders,
                    open_order=open_order, open_pay_url=open_order["pay_url"] if open_order else None,
                    returned=returned, ticket=ticket,
                    app_status_name=application_schemas.STATUS_NAMES.get(progress.get("status") or "", "—"),
                    status_name=payment_schemas.STATUS_NAMES.get(mine.get("status") or "", "—"),
                    order_status_names=payment_schemas.ORDER_STATUS_NAMES,
                    labels=payment_schemas.labels(), confirm_seconds=CONFIRM_SECONDS,
                    delay_rule=DELAY_RULE, receipt_warning=RECEIPT_WARNING, check_note=CHECK_NOTE,
                    change_note=CHANGE_NOTE)


# --- administrators ---------------------------------------------------------------------------
PAYMENT_FILTERS = ("status", "city_code", "grade")
LIST_STATUSES = ("unpaid", "paid", "offline")      # a payable's statuses (PaymentsQuery.status)


def _cities_in_scope(who: dict) -> list[dict]:
    principal = access.require(who, "admin")
    return [{"code": c.code, "name": c.name} for c in regions.cities() if principal.in_scope(c.code)]


def _online_cities(req, rpc) -> tuple[int | None, list[str] | None]:
    """The current exam year and its online-payment cities (None when they cannot be told:
    the page then offers 登记线下缴费 on every unpaid row and the service decides)."""
    year = (current_year(req) or {}).get("year")
    if not year:
        return None, None
    return year, list(rpc.payment.get_fees(year).get("online_payment_cities") or [])


class AdminPayments:
    """缴费管理 (R-F1, R-F4, R-P4): the list in the caller's scope with filters, paging, the sum
    paid and the Excel export; 登记线下缴费 for cities without online payment; the mismatches;
    立即对账 for the province. Five RPCs: the session, the list, the mismatches, the year and
    its fees (which cities pay online)."""

    PAGE_SIZE = 20

    def on_get(self, req, resp):
        who = auth.require_admin(req, "province", "city")
        rpc = req.context.rpc
        filters = {k: (req.get_param(k) or "").strip() for k in PAYMENT_FILTERS}
        if filters["status"] not in LIST_STATUSES:
            filters["status"] = ""
        page = page_number(req)
        query = {k: v for k, v in filters.items() if v}
        error = None
        try:
            data = rpc.payment.list_payments(who, {**query, "page": page, "page_size": self.PAGE_SIZE})
        except InvalidInput as exc:         # a filter the service refuses (typed into the URL)
            error, data = exc.message, {"items": [], "total": 0, "sum_fen": 0}
        mismatches = rpc.payment.mismatches(who).get("items") or []
        year, online = _online_cities(req, rpc)
        cities = _cities_in_scope(who)
        city_names = {c.code: c.name for c in regions.cities()}
        for item in data["items"]:
            item["city_name"] = city_names.get(item.get("city_code"), item.get("city_code"))
            item["offline_allowed"] = item.get("status") == "unpaid" and (online is None
                                                                          or item.get("city_code") not in online)
        total = int(data.get("total") or 0)
        pages = max(1, -(-total // self.PAGE_SIZE))

        def page_url(n: int) -> str:
            return "/admin/payments?" + urlencode({**query, "page": n})

        export_url = "/api/v1/admin/payments.xlsx" + (("?" + urlencode(query)) if query else "")
        render_page(req, resp, "admin/payments.html", who=who, items=data["items"], total=total,
                    sum_fen=data.get("sum_fen") or 0, page=page, pages=pages, page_url=page_url, filters=filters,
                    error=error, cities=cities, city_names=city_names, export_url=export_url,
                    mismatches=mismatches, year=year,
                    online_names=[city_names.get(c, c) for c in online] if online is not None else None,
                    statuses=[(k, payment_schemas.STATUS_NAMES[k]) for k in LIST_STATUSES],
                    status_names=payment_schemas.STATUS_NAMES, channel_names=payment_schemas.CHANNEL_NAMES,
                    mismatch_names=payment_schemas.MISMATCH_NAMES, grade_titles=GRADE_TITLES,
                    can_reconcile=who.get("role") == "province",
                    scope=scope_label(who.get("role"), who.get("scope_code")))


class AdminFees:
    """考核费用设置 (R-Y1, R-F1): the fee of each grade (entered in 元, kept in 分) and the cities
    paying online, for one exam year (the current one unless ``?year=``). Three RPCs: the
    session, the current year, the fees."""

    def on_get(self, req, resp):
        who = auth.require_admin(req, "province")
        rpc = req.context.rpc
        cal = current_year(req)
        current = (cal or {}).get("year") or clock.local_now().year
        try:
            year = int(req.get_param("year") or current)
        except ValueError:
            year = current
        if not 2000 <= year <= 2100:
            year = current
        fees = rpc.payment.get_fees(year)
        render_page(req, resp, "admin/fees.html", who=who, year=year, current=current, fees=fees,
                    fees_fen=fees.get("fees_fen") or {}, online=set(fees.get("online_payment_cities") or []),
                    grades=[(g, GRADE_TITLES[int(g)]) for g in payment_schemas.GRADE_KEYS],
                    cities=[{"code": c.code, "name": c.name} for c in regions.cities()],
                    saved=req.get_param("saved"))
