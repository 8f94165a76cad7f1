"""Payment service (R-F1 … R-F5): fees per grade and the cities paying online per year, the
applicant's fee from 终审通过 on, orders with the non-tax platform (behind ``platforms``),
callbacks that never count a payment twice nor lose one, reconciliation, offline records,
mismatches, the administrators' list and its Excel export.

Thin entrypoints: who is calling (kit.access), validate (schemas), the rules of ``domain``,
one transaction per state change under row locks, announcements through the outbox."""
from __future__ import annotations

import logging
from datetime import timedelta
from functools import lru_cache
from types import SimpleNamespace

import sqlalchemy as sa
from nameko.timer import timer
from sqlalchemy.orm import Session

from kit import access, clock, regions
from kit import files as kit_files
from kit.access import Principal
from kit.config import settings
from kit.db import Database, keep_calendar, track_everyone, track_viewers, track_viewers_through
from kit.entrypoints import handles, rpc
from kit.errors import Conflict, InvalidInput, NotFound, Unavailable
from kit.files import generates
from kit.masks import mask_id
from kit.metrics import Metrics, payment_callback
from kit.tables import xlsx_file
from kit.validation import check_year, parse
from kit.vocabulary import GRADE_NAMES

from . import domain
from .models import Base, CallbackRecord, FeeSchedule, Mismatch, Payable, PaymentOrder, YearCopy
from .platforms import OrderRequest, Payment, PlatformRefused, PlatformUnavailable, platform_from
from .schemas import (
    CHANNEL_NAMES,
    STATUS_NAMES,
    ActionAudited,
    FeePaid,
    Fees,
    FeesSet,
    FeesUpdate,
    FinallyApprovedView,
    Mismatches,
    MismatchItem,
    MyPayment,
    NewOrder,
    OfflinePayment,
    OrderCreated,
    OrderOut,
    PaymentItem,
    PaymentsPage,
    PaymentsQuery,
    ReconcileResult,
    ViewersChanged,
    YearUpdatedView,
)

log = logging.getLogger(__name__)
ADMINS = ("province", "city")
RECONCILE_BATCH = 100


@lru_cache(maxsize=4)
def _platform(name: str, url: str, secret: str):
    return platform_from(settings())


def platform():
    cfg = settings()
    return _platform(cfg.nontax_platform, cfg.nontax_url, cfg.nontax_secret)


def _fees(row: FeeSchedule | None, year: int) -> Fees:
    if row is None:
        return Fees(year=year, fees_fen={}, online_payment_cities=[], updated_at=None)
    return Fees(year=row.year, fees_fen=dict(row.fees_fen), online_payment_cities=list(row.online_payment_cities),
                updated_at=row.updated_at)


def _order_out(order: PaymentOrder, now) -> OrderOut:
    status = domain.effective_status(domain.Order(order.status, order.expires_at), now)
    return OrderOut(order_no=order.order_no, payment_notice_no=order.payment_notice_no,
                    amount_fen=order.amount_fen, status=status, created_at=order.created_at,
                    expires_at=order.expires_at, paid_at=order.paid_at, pay_url=order.pay_url or "")


# what 网上缴费 is read from (issue 12): an applicant's payable and orders; every applicant's,
# the fees, the online cities and the calendar
track_viewers(Payable, lambda p: (p.year, p.id_number))
track_viewers_through(PaymentOrder, Payable)       # (its payable: loaded by every path writing an order)
track_everyone(FeeSchedule, YearCopy)


class PaymentService(kit_files.FileEndpoints):
    name = "payment"

    db = Database(Base.metadata, viewers_event=ViewersChanged)
    metrics = Metrics()

    @rpc
    def ping(self) -> str:
        with self.db.tx() as s:
            s.execute(sa.text("SELECT 1"))
        return "pong"

    # --- fees and the cities paying online (R-Y1, R-F1) ---------------------------------------
    @rpc
    def get_fees(self, year: int) -> dict:
        year = check_year(year)
        with self.db.tx() as s:
            return _fees(s.get(FeeSchedule, year), year).model_dump(mode="json")

    @rpc
    def put_fees(self, principal: dict, year: int, body: dict) -> dict:
        """The province sets a year's fees per grade and the cities that pay online (R-Y1,
        R-Y3); every change is announced whole."""
        who = access.require(principal, "admin", roles=("province",))
        year = check_year(year)
        update = parse(FeesUpdate, body)
        unknown = sorted(set(update.online_payment_cities or []) - regions.city_codes())
        if unknown:
            raise InvalidInput(f"省辖市代码不正确：{'、'.join(unknown)}", field="online_payment_cities")
        with self.db.tx() as s:
            row = s.get(FeeSchedule, year, with_for_update=True)
            before = _fees(row, year).model_dump(mode="json", exclude={"updated_at"})
            if row is None:
                row = FeeSchedule(year=year, fees_fen={}, online_payment_cities=[], updated_at=clock.now())
                s.add(row)
            row.fees_fen = {**dict(row.fees_fen or {}), **update.fees_fen}
            if update.online_payment_cities is not None:
                row.online_payment_cities = sorted(set(update.online_payment_cities))
            row.updated_at = clock.now()
            s.flush()
            after = _fees(row, year)
            self.db.emit(s, FeesSet(year=year, fees_fen=after.fees_fen,
                                    online_payment_cities=after.online_payment_cities, updated_at=row.updated_at))
            self.db.audit(s, ActionAudited, who, "fees.update", str(year), before,
                          after.model_dump(mode="json", exclude={"updated_at"}))
            return after.model_dump(mode="json")

    # --- helpers --------------------------------------------------------------------------
    def _window(self, s: Session, year: int) -> dict | None:
        row = s.get(YearCopy, year)
        return (((row.calendar if row else None) or {}).get("windows") or {}).get("payment")

    @staticmethod
    def _fee(fees: FeeSchedule | None, grade: int) -> int | None:
        value = (fees.fees_fen or {}).get(str(grade)) if fees else None
        return int(value) if value is not None else None

    @staticmethod
    def _online(fees: FeeSchedule | None, city_code: str) -> bool:
        return bool(fees and city_code in (fees.online_payment_cities or []))

    def _payable(self, s: Session, who: Principal, lock: bool = False) -> Payable | None:
        q = sa.select(Payable).where(Payable.year == who.year, Payable.id_number == who.id_number)
        return s.scalars(q.with_for_update() if lock else q).first()

    @staticmethod
    def _mine(s: Session, who: Principal) -> tuple[SimpleNamespace, Payable | None, dict | None]:
        """The year's fees, the applicant's payable (or None) and the payment window, in one
        round trip (the page of the rush asks this; three statements were three round trips)."""
        one = sa.select(sa.literal(1).label("one")).subquery()
        row = s.execute(
            sa.select(Payable,
                      sa.select(FeeSchedule.fees_fen).where(FeeSchedule.year == who.year).scalar_subquery()
                      .label("fees_fen"),
                      sa.select(FeeSchedule.online_payment_cities).where(FeeSchedule.year == who.year)
                      .scalar_subquery().label("online_cities"),
                      sa.select(YearCopy.calendar).where(YearCopy.year == who.year).scalar_subquery()
                      .label("calendar"))
            .select_from(one)
            .outerjoin(Payable, sa.and_(Payable.year == who.year, Payable.id_number == who.id_number))).one()
        fees = SimpleNamespace(fees_fen=row.fees_fen or {}, online_payment_cities=row.online_cities or [])
        window = ((row.calendar or {}).get("windows") or {}).get("payment")
        return fees, row.Payable, window

    def _open_order(self, s: Session, payable: Payable, now) -> PaymentOrder | None:
        return s.scalars(sa.select(PaymentOrder).where(
            PaymentOrder.application_id == payable.application_id, PaymentOrder.status == "open",
            PaymentOrder.expires_at > now).order_by(PaymentOrder.created_at.desc())).first()

    # --- the applicant (R-F2, R-F3) ------------------------------------------------------------
    @rpc
    def my_payment(self, principal: dict) -> dict:
        """网上缴费 for the applicant: online or not, the status, the amount, when paying
        opens, the receipt title fixed so far, the orders."""
        who = access.require(principal, "applicant")
        now = clock.now()
        with self.db.read() as s:                      # a read of the rush: no transaction
            fees, payable, window = self._mine(s, who)
            city = payable.city_code if payable else who.city_code
            online = self._online(fees, city or "")
            if payable is None:
                return MyPayment(online=online, status="not_due", amount_fen=None, opens_at=None, window=window,
                                 receipt_title=None, orders=[], approved=False,
                                 fresh_until=domain.fresh_until(None, 0, window, [], now)).model_dump(mode="json")
            orders = list(s.scalars(sa.select(PaymentOrder).where(
                PaymentOrder.application_id == payable.application_id).order_by(PaymentOrder.created_at.desc())))
            open_order = any(domain.effective_status(domain.Order(o.status, o.expires_at), now) == "open"
                             for o in orders)
            status = domain.payable_status(payable.status == "paid", payable.status == "offline", online,
                                           payable.approved_at, payable.target_grade, window, now, open_order)
            return MyPayment(
                online=online, status=status,
                amount_fen=payable.amount_fen if payable.status != "unpaid" else self._fee(fees, payable.target_grade),
                opens_at=domain.opens_at(payable.approved_at, payable.target_grade, window), window=window,
                receipt_title=payable.receipt_title, orders=[_order_out(o, now) for o in orders], approved=True,
                paid_at=payable.paid_at,
                fresh_until=domain.fresh_until(payable.approved_at, payable.target_grade, window,
                                               [o.expires_at for o in orders if o.status == "open"], now),
            ).model_dump(mode="json")

    @rpc
    def create_order(self, principal: dict, body: dict) -> dict:
        """确认缴费 (R-F3, R-F4): an order registered with the platform; at most one open
        order; the receipt title fixed for the year by the first one."""
        who = access.require(principal, "applicant")
        title = domain.check_receipt_title(parse(NewOrder, body).receipt_title)
        now = clock.now()
        cfg = settings()
        with self.db.tx() as s:
            payable = self._payable(s, who, lock=True)
            if payable is None:
                raise Conflict("终审通过后方可缴费", code="not_open", details={"opens_at": None})
            fees = s.get(FeeSchedule, payable.year)
            if not self._online(fees, payable.city_code):
                raise Conflict("您所在的地市未开通网上缴费，请按当地通知线下缴费", code="not_online")
            if payable.status in ("paid", "offline"):
                raise Conflict("本年度考核费用已缴纳", code="already_paid")
            domain.require_can_pay(payable.approved_at, payable.target_grade, self._window(s, payable.year), now)
            amount = self._fee(fees, payable.target_grade)
            if amount is None:
                raise Conflict("本年度考核费用尚未公布，请关注省工考办通知", code="not_open", details={"opens_at": None})
            if self._open_order(s, payable, now) is not None:
                raise Conflict("您有一笔待支付的订单，请先完成支付或取消该订单", code="order_open")
            if payable.receipt_title and payable.receipt_title != title:
                raise Conflict(f"收据名称本年度已确定为“{payable.receipt_title}”，不能修改", code="receipt_title_fixed",
                               field="receipt_title", details={"receipt_title": payable.receipt_title})
            order = PaymentOrder(
                order_no=domain.new_order_no(now), payment_notice_no=domain.new_payment_notice_no(payable.year, now),
                application_id=payable.application_id, amount_fen=amount, receipt_title=title, status="open",
                pay_url="", created_at=now, expires_at=now + timedelta(seconds=cfg.order_ttl_seconds))
            s.add(order)
            request = OrderRequest(order_no=order.order_no, payment_notice_no=order.payment_notice_no,
                                   amount_fen=amount, payer_name=payable.name, expires_at=order.expires_at,
                                   return_url=f"{cfg.public_url.rstrip('/')}/payment?order={order.order_no}")
        try:   # outside the transaction: the platform may be slow; the open order keeps others out
            pay_url = platform().register(request, clock.now())
        except PlatformUnavailable as exc:
            log.warning("the non-tax platform did not take order %s: %s", request.order_no, exc)
            with self.db.tx() as s:
                order = s.get(PaymentOrder, request.order_no, with_for_update=True)
                if order is not None and order.status == "open":
                    order.status, order.closed_at = "cancelled", clock.now()
            raise Unavailable("非税缴费平台暂时无法访问，请稍后再试", code="platform_unavailable") from None
        with self.db.tx() as s:
            order = s.get(PaymentOrder, request.order_no, with_for_update=True)
            order.pay_url = pay_url
            payable = s.get(Payable, order.application_id, with_for_update=True)
            if not payable.receipt_title:
                payable.receipt_title = title
            return OrderCreated(order_no=order.order_no, payment_notice_no=order.payment_notice_no,
                                amount_fen=order.amount_fen, pay_url=pay_url,
                                expires_at=order.expires_at).model_dump(mode="json")

    @rpc
    def cancel_order(self, principal: dict, order_no: str) -> dict:
        """Abandons an open order (the title stays fixed); 409 when it is paid."""
        who = access.require(principal, "applicant")
        with self.db.tx() as s:
            order = s.get(PaymentOrder, str(order_no or ""), with_for_update=True)
            payable = s.get(Payable, order.application_id) if order else None
            if order is None or payable is None or not who.owns(payable.year, payable.id_number):
                raise NotFound("没有找到该订单")
            now = clock.now()
            new = domain.cancel(domain.Order(order.status, order.expires_at), now)
            if new != order.status:
                order.status, order.closed_at = new, now
            return _order_out(order, now).model_dump(mode="json")

    # --- the platform's word: callbacks and queries (R-F4) -----------------------------------
    def _settle(self, s: Session, order: PaymentOrder, payment: Payment, by: str) -> str:
        """A payment the platform took for ``order``, under the rows' locks: counted once, a
        repeat changes nothing, money on a closed order or a second payment is a mismatch."""
        now = clock.now()
        payable = s.get(Payable, order.application_id, with_for_update=True)
        other_paid = payable.status in ("paid", "offline") and payable.paid_order_no != order.order_no
        result = domain.settle(domain.Order(order.status, order.expires_at), other_paid, now)
        if result.outcome == "repeat":
            return "repeat"
        paid_at = payment.paid_at or now
        order.status, order.paid_at, order.settled_by = result.order_status, paid_at, by
        if result.counts:
            payable.status, payable.paid_at, payable.amount_fen = "paid", paid_at, order.amount_fen
            payable.channel, payable.paid_order_no, payable.updated_at = "online", order.order_no, now
            self.db.emit(s, FeePaid(application_id=payable.application_id, year=payable.year,
                                    id_number=payable.id_number, city_code=payable.city_code,
                                    target_grade=payable.target_grade, amount_fen=order.amount_fen, paid_at=paid_at,
                                    channel="online"))
        if result.mismatch:
            s.add(Mismatch(order_no=order.order_no, application_id=order.application_id, amount_fen=order.amount_fen,
                           paid_at=paid_at, kind=result.mismatch, recorded_at=now))
        return result.outcome

    @rpc(sensitive=("fields", "raw"))
    def callback(self, fields: dict, raw: str, source: str | None = None) -> str:
        """The platform's callback: signature, timestamp (5 min), order and amount checked,
        then the state changed under the order's row lock. A repeat is acknowledged with
        ``success`` and changes nothing; anything refused changes nothing."""
        fields = {str(k): str(v) for k, v in (fields or {}).items()}
        try:
            payment = platform().read_callback(fields, clock.now())
        except PlatformRefused as exc:
            log.warning("callback refused: %s", exc.code)
            payment_callback(exc.code)
            raise InvalidInput(exc.message, code=exc.code) from None
        with self.db.tx() as s:
            order = s.get(PaymentOrder, payment.order_no, with_for_update=True)
            if order is None or order.payment_notice_no != payment.payment_notice_no:
                log.warning("callback for an unknown order refused")
                payment_callback("unknown_order")
                raise NotFound("订单不存在", code="unknown_order")
            if payment.amount_fen != order.amount_fen:
                log.warning("callback for %s refused: the amount differs", order.order_no)
                payment_callback("wrong_amount")
                raise InvalidInput("金额与订单不符", code="wrong_amount")
            outcome = self._settle(s, order, payment, "callback")
            s.add(CallbackRecord(received_at=clock.now(), source=source, body=str(raw or "")[:4000],
                                 order_no=order.order_no, outcome=outcome))
        log.info("callback for %s: %s", payment.order_no, outcome)
        payment_callback(outcome)
        return "success"

    def _reconcile(self, limit: int = RECONCILE_BATCH) -> ReconcileResult:
        """Asks the platform about orders open longer than the configured time, and about
        those cancelled or expired in the last 24 hours; settles them as it says. Rows are
        claimed with SKIP LOCKED: any number of instances may run it at once."""
        cfg = settings()
        now = clock.now()
        after = now - timedelta(seconds=cfg.reconcile_after_seconds)
        checked = settled = mismatches = 0
        with self.db.tx() as s:
            due = sa.or_(sa.and_(PaymentOrder.status == "open", PaymentOrder.created_at <= after),
                         sa.and_(PaymentOrder.status.in_(("cancelled", "expired")),
                                 PaymentOrder.closed_at >= now - timedelta(hours=24)))
            not_lately = sa.or_(PaymentOrder.last_checked_at.is_(None), PaymentOrder.last_checked_at <= after)
            orders = list(s.scalars(sa.select(PaymentOrder).where(due, not_lately)
                                    .order_by(PaymentOrder.created_at).limit(limit)
                                    .with_for_update(skip_locked=True)))
            for order in orders:
                try:
                    answer = platform().query(order.payment_notice_no, clock.now())
                except (PlatformUnavailable, PlatformRefused) as exc:
                    log.warning("reconciliation could not ask about %s: %s", order.order_no, exc)
                    continue
                checked += 1
                order.last_checked_at = clock.now()
                if answer.status == "PAID" and answer.amount_fen == order.amount_fen:
                    outcome = self._settle(s, order, answer, "query")
                    if outcome != "repeat":
                        settled += 1
                        mismatches += outcome in ("late_paid", "second_payment")
                elif answer.status == "PAID":
                    log.error("reconciliation: %s was paid a different amount", order.order_no)
                elif order.status == "open" and (answer.status == "CLOSED" or order.expires_at <= clock.now()):
                    order.status, order.closed_at = "expired", clock.now()
        return ReconcileResult(checked=checked, settled=settled, mismatches=mismatches)

    @timer(interval=settings().reconcile_every_seconds)
    def reconcile_periodically(self) -> None:
        result = self._reconcile()
        if result.checked:
            log.info("reconciliation: %s", result.model_dump())

    @rpc
    def reconcile(self, principal: dict) -> dict:
        """对账 now (the province)."""
        who = access.require(principal, "admin", roles=("province",))
        result = self._reconcile(limit=1000)
        with self.db.tx() as s:
            self.db.audit(s, ActionAudited, who, "payment.reconcile", None, None, result.model_dump())
        return result.model_dump()

    # --- administrators ----------------------------------------------------------------------
    def _payments_query(self, who: Principal, q: PaymentsQuery, year: int):
        query = sa.select(Payable).where(Payable.year == year,
                                         access.scope_clause(who, city=Payable.city_code))
        if q.status != "all":
            query = query.where(Payable.status == q.status)
        if q.city_code:
            query = query.where(Payable.city_code == q.city_code)
        if q.grade is not None:
            query = query.where(Payable.target_grade == q.grade)
        return query

    def _current_year(self, s: Session) -> int:
        """The exam year identity marks current (from this service's copy of the calendar)."""
        for row in s.scalars(sa.select(YearCopy).order_by(YearCopy.year.desc())):
            if (row.calendar or {}).get("current"):
                return row.year
        return clock.local_now().year

    @staticmethod
    def _item(p: Payable) -> PaymentItem:
        return PaymentItem(application_id=p.application_id, name=p.name, id_number=mask_id(p.id_number),
                           city_code=p.city_code, target_grade=p.target_grade, amount_fen=p.amount_fen,
                           status=p.status, channel=p.channel, paid_at=p.paid_at)

    @rpc
    def list_payments(self, principal: dict, query: dict | None = None) -> dict:
        """Fees by status, city and grade, with the sum paid (the caller's scope), paged and
        summed in the database."""
        who = access.require(principal, "admin", roles=ADMINS)
        q = parse(PaymentsQuery, query or {})
        with self.db.tx() as s:
            base = self._payments_query(who, q, self._current_year(s))
            sub = base.subquery()
            total, paid_sum = s.execute(sa.select(
                sa.func.count(), sa.func.coalesce(sa.func.sum(sa.case(
                    (sub.c.status.in_(("paid", "offline")), sub.c.amount_fen), else_=0)), 0)).select_from(sub)).one()
            rows = s.scalars(base.order_by(Payable.city_code, Payable.approved_at, Payable.application_id)
                             .offset((q.page - 1) * q.page_size).limit(q.page_size))
            return PaymentsPage(items=[self._item(p) for p in rows], total=total,
                                sum_fen=int(paid_sum)).model_dump(mode="json")

    @rpc
    def payments_export(self, principal: dict, query: dict | None = None) -> dict:
        """The same rows as an Excel file: a ticket to the file made when it is fetched."""
        access.require(principal, "admin", roles=ADMINS)
        q = parse(PaymentsQuery, query or {})
        return self.files.generated_ticket("payments_xlsx", q.model_dump(mode="json"), principal,
                                           filename="缴费情况.xlsx",
                                           content_type="application/vnd.openxmlformats-officedocument."
                                                        "spreadsheetml.sheet")

    @generates("payments_xlsx")
    def make_payments_xlsx(self, principal: dict, args: dict):
        """Every row of the query, written row by row (openpyxl's write-only workbook) to a
        temporary file that spills to disk: no list of all rows in memory."""
        who = access.require(principal, "admin", roles=ADMINS)
        q = parse(PaymentsQuery, args)
        header = ["报名编号", "姓名", "身份证号", "省辖市", "申报等级", "金额（元）", "状态", "缴费方式", "缴费时间"]
        with self.db.tx() as s:
            rows = s.execute(self._payments_query(who, q, self._current_year(s))
                             .order_by(Payable.city_code, Payable.approved_at, Payable.application_id)
                             .execution_options(yield_per=500)).scalars()
            return xlsx_file("缴费情况", header, (
                [p.application_id, p.name, mask_id(p.id_number), regions.city_name(p.city_code) or p.city_code,
                 GRADE_NAMES.get(p.target_grade, str(p.target_grade)),
                 None if p.amount_fen is None else p.amount_fen / 100,
                 STATUS_NAMES.get(p.status, p.status), CHANNEL_NAMES.get(p.channel or "", ""),
                 p.paid_at.astimezone(clock.CST).strftime("%Y-%m-%d %H:%M:%S") if p.paid_at else ""]
                for p in rows))

    @rpc
    def record_offline(self, principal: dict, body: dict) -> dict:
        """A fee paid outside the platform, in a city without online payment (R-F1), recorded
        by an administrator in scope (audited)."""
        who = access.require(principal, "admin", roles=ADMINS)
        data = parse(OfflinePayment, body)
        now = clock.now()
        with self.db.tx() as s:
            payable = s.get(Payable, data.application_id, with_for_update=True)
            if payable is None or not who.in_scope(payable.city_code):
                raise NotFound("没有找到该终审通过的报考人员，或不在您的管理范围内")
            fees = s.get(FeeSchedule, payable.year)
            if self._online(fees, payable.city_code):
                raise Conflict("该地市已开通网上缴费，请报考人员网上缴费", code="online_city")
            if payable.status in ("paid", "offline"):
                raise Conflict("该报考人员已缴费", code="already_paid")
            amount = self._fee(fees, payable.target_grade)
            if amount is None:
                raise Conflict("本年度考核费用尚未公布", code="no_fee")
            before = self._item(payable).model_dump(mode="json")
            payable.status, payable.channel, payable.amount_fen, payable.paid_at = "offline", "offline", amount, now
            payable.offline_note, payable.offline_by, payable.updated_at = data.note, who.username, now
            self.db.emit(s, FeePaid(application_id=payable.application_id, year=payable.year,
                                    id_number=payable.id_number, city_code=payable.city_code,
                                    target_grade=payable.target_grade, amount_fen=amount, paid_at=now,
                                    channel="offline"))
            after = self._item(payable).model_dump(mode="json")
            self.db.audit(s, ActionAudited, who, "payment.offline", payable.application_id, before,
                          {**after, "note": data.note})
            return after

    @rpc
    def mismatches(self, principal: dict) -> dict:
        who = access.require(principal, "admin", roles=ADMINS)
        with self.db.tx() as s:
            rows = s.execute(sa.select(Mismatch).join(Payable, Payable.application_id == Mismatch.application_id)
                             .where(access.scope_clause(who, city=Payable.city_code))
                             .order_by(Mismatch.recorded_at.desc()).limit(1000)).scalars()
            return Mismatches(items=[MismatchItem(order_no=m.order_no, application_id=m.application_id,
                                                 amount_fen=m.amount_fen, paid_at=m.paid_at, kind=m.kind)
                                     for m in rows]).model_dump(mode="json")

    # --- events from others --------------------------------------------------------------------
    @handles(FinallyApprovedView)
    def on_finally_approved(self, s: Session, event: FinallyApprovedView) -> None:
        """终审通过: the fee is due; paying opens after the delay (R-F2)."""
        payable = s.get(Payable, event.application_id, with_for_update=True)
        if payable is None:
            s.add(Payable(application_id=event.application_id, year=event.year, id_number=event.id_number,
                          name=event.name, city_code=event.city_code, target_grade=event.target_grade,
                          approved_at=event.at, status="unpaid", updated_at=clock.now()))
        elif payable.status == "unpaid" and event.at > payable.approved_at:
            payable.approved_at, payable.updated_at = event.at, clock.now()   # approved again after a reopen

    @handles(YearUpdatedView)
    def on_year_updated(self, s: Session, event: YearUpdatedView) -> None:
        keep_calendar(s, YearCopy, event)
