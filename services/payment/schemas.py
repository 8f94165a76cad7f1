"""Payment's contract: labels, RPC payloads and the events it announces. The bottom layer of
the service. (Orders, the platform and reconciliation come with the payment issue; fees and
the online-payment cities are here already, because other services show the step by them.)"""
from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kit import contracts
from kit.contracts import Event, EventView
from kit.validation import Text
from kit.vocabulary import GRADE_NAMES

GRADE_KEYS = ("5", "4", "3", "2", "1")

# --- labels ------------------------------------------------------------------------------
STATUS_NAMES = {"not_due": "未到缴费时间", "unpaid": "未缴费", "pending": "待支付", "paid": "已缴费",
                "offline": "已线下缴费"}
ORDER_STATUS_NAMES = {"open": "待支付", "paid": "已支付", "cancelled": "已取消", "expired": "已过期"}
CHANNEL_NAMES = {"online": "网上缴费", "offline": "线下缴费"}
MISMATCH_NAMES = {"late_payment": "订单取消或过期后到账", "second_payment": "重复缴费（应退款）"}


def labels() -> dict:
    return {"statuses": STATUS_NAMES, "order_statuses": ORDER_STATUS_NAMES, "channels": CHANNEL_NAMES,
            "mismatches": MISMATCH_NAMES}


class FeesUpdate(BaseModel):
    """PUT /api/v1/admin/years/{year}/fees: any grade left out keeps its fee; money in 分."""

    model_config = ConfigDict(extra="forbid")
    fees_fen: dict[str, int] = Field(default_factory=dict)
    online_payment_cities: list[str] | None = Field(default=None, max_length=40)

    @field_validator("fees_fen")
    @classmethod
    def _fees(cls, value: dict[str, int]) -> dict[str, int]:
        for grade, fen in value.items():
            if grade not in GRADE_KEYS:
                raise ValueError("等级应为 5、4、3、2、1")
            if not 0 <= fen <= 10_000_000:
                raise ValueError(f"{GRADE_NAMES[int(grade)]}的考核费用应在0至100000元之间")
        return value


class Fees(BaseModel):
    year: int
    fees_fen: dict[str, int]
    online_payment_cities: list[str]
    updated_at: datetime | None


class FeesSet(Event):
    """A year's fees and the cities that pay online (R-F1): the steps and documents follow it."""

    EVENT_TYPE: ClassVar[str] = "payment.fees_set.v1"
    EXAMPLE: ClassVar[dict] = {"year": 2026, "fees_fen": {"5": 12000, "4": 15000, "3": 18000, "2": 24000,
                                                          "1": 30000},
                               "online_payment_cities": ["410100", "410000"],
                               "updated_at": "2026-01-10T08:00:00+00:00"}
    year: int
    fees_fen: dict[str, int]
    online_payment_cities: list[str]
    updated_at: datetime


class OrderOut(BaseModel):
    order_no: str
    payment_notice_no: str
    amount_fen: int
    status: Literal["open", "paid", "cancelled", "expired"]
    created_at: datetime
    expires_at: datetime
    paid_at: datetime | None
    pay_url: str = ""              # where an open order is paid (the platform's page)


class MyPayment(BaseModel):
    """GET /api/v1/me/payment (API.md)."""

    online: bool
    status: Literal["not_due", "unpaid", "pending", "paid", "offline"]
    amount_fen: int | None
    opens_at: datetime | None
    window: dict[str, str] | None
    receipt_title: str | None
    orders: list[OrderOut]
    approved: bool
    paid_at: datetime | None = None
    # until when this answer holds by the clock alone (paying opens, the window turns, an open
    # order expires): for the gateway that keeps it (issue 12), which does not pass it on
    fresh_until: datetime | None = None


class NewOrder(BaseModel):
    """POST /api/v1/me/payment/orders: 确认缴费."""

    model_config = ConfigDict(extra="forbid")
    receipt_title: str = Field(max_length=200)


class OrderCreated(BaseModel):
    order_no: str
    payment_notice_no: str
    amount_fen: int
    pay_url: str
    expires_at: datetime


class PaymentsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    status: Literal["unpaid", "paid", "offline", "all"] = "all"
    city_code: str | None = Field(default=None, max_length=6)
    grade: int | None = Field(default=None, ge=1, le=5)
    page: int = Field(default=1, ge=1, le=100000)
    page_size: int = Field(default=20, ge=1, le=100)


class PaymentItem(BaseModel):
    application_id: str
    name: str
    id_number: str     # masked
    city_code: str
    target_grade: int
    amount_fen: int | None
    status: str
    channel: str | None
    paid_at: datetime | None


class PaymentsPage(BaseModel):
    items: list[PaymentItem]
    total: int
    sum_fen: int


class OfflinePayment(BaseModel):
    """POST /api/v1/admin/payments/offline: a fee settled outside the platform (R-F1)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    application_id: str = Field(min_length=1, max_length=40)
    note: Text = Field(default="", max_length=200)


class ReconcileResult(BaseModel):
    checked: int
    settled: int
    mismatches: int


class MismatchItem(BaseModel):
    order_no: str
    application_id: str
    amount_fen: int
    paid_at: datetime | None
    kind: Literal["late_payment", "second_payment"]


class Mismatches(BaseModel):
    items: list[MismatchItem]


class ViewersChanged(contracts.ViewersChanged):
    """Applicants' 网上缴费 changed (issue 12, kit.db.track_viewers): the gateways drop what
    they kept of it."""

    EVENT_TYPE: ClassVar[str] = "payment.viewers_changed.v1"
    EXAMPLE: ClassVar[dict] = {"applicants": [[2026, "410102198503150012"]], "everyone": False}


class FeePaid(Event):
    """A fee paid online (a settled order) or recorded offline by an administrator."""

    EVENT_TYPE: ClassVar[str] = "payment.fee_paid.v1"
    EXAMPLE: ClassVar[dict] = {"application_id": "5f0c1d2e3a4b5c6d7e8f901234567890", "year": 2026,
                               "id_number": "410102198503120014", "city_code": "410100", "target_grade": 4,
                               "amount_fen": 15000, "paid_at": "2026-04-02T10:15:00+08:00", "channel": "online"}
    application_id: str
    year: int
    id_number: str
    city_code: str
    target_grade: int
    amount_fen: int
    paid_at: datetime
    channel: Literal["online", "offline"]


# --- what payment reads of others' events --------------------------------------------------
class FinallyApprovedView(EventView):
    """终审通过: the applicant's fee is due; the 24 h / 48 h delay starts at ``at`` (R-F2)."""

    EVENT_TYPE: ClassVar[str] = "review.finally_approved.v1"
    application_id: str
    year: int
    id_number: str
    name: str
    target_grade: int
    city_code: str
    at: datetime


class YearUpdatedView(contracts.YearUpdatedView):
    """Payment keeps the calendar: the payment window."""

    EVENT_TYPE: ClassVar[str] = "identity.year_updated.v1"


class ActionAudited(contracts.ActionAudited):
    EVENT_TYPE: ClassVar[str] = "payment.action_audited.v1"
    EXAMPLE: ClassVar[dict] = contracts.AUDIT_EXAMPLE
