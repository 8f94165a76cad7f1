"""Identity's contract: RPC inputs and outputs, event payloads. The gateway imports this."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kit.contracts import ActionAuditedView, Event, EventView
from kit.validation import Line
from kit.vocabulary import AUDIT_ACTIONS
from kit.windows import SWITCH_NAMES, WINDOW_NAMES  # noqa: F401 - the calendar's labels, shared by all

WindowName = Literal["registration", "application", "review", "payment", "results"]
WINDOWS: tuple[str, ...] = ("registration", "application", "review", "payment", "results")
SWITCHES: tuple[str, ...] = ("ticket_printing", "certificate_printing")
Role = Literal["province", "city", "county", "supervisor"]

# --- labels ------------------------------------------------------------------------------
ROLE_NAMES = {"province": "省评价中心", "city": "省辖市管理员", "county": "县区管理员",
              "supervisor": "主管单位管理员"}


def labels() -> dict:
    return {"roles": ROLE_NAMES, "windows": WINDOW_NAMES, "switches": SWITCH_NAMES, "audit_actions": AUDIT_ACTIONS}


class Window(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: datetime
    end: datetime

    @model_validator(mode="after")
    def _ordered(self):
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("时间须带时区，例如 2026-01-08T00:00:00+08:00")
        if self.end <= self.start:
            raise ValueError("结束时间须晚于开始时间")
        return self


class YearUpdate(BaseModel):
    """PUT /api/v1/admin/years/{year}: any part may be left out."""

    model_config = ConfigDict(extra="forbid")
    windows: dict[WindowName, Window] = Field(default_factory=dict)
    switches: dict[Literal["ticket_printing", "certificate_printing"], bool] = Field(default_factory=dict)
    current: bool | None = None


class Registration(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    city_code: str = ""
    declared_grade: int | str = 0
    id_number: str = ""
    birth_month: str = ""
    name: str = ""
    phone: str = ""
    sms_code: str = ""
    password: str = ""
    password_confirm: str = ""
    agreed: bool | str = False


class Supplementary(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    city_code: str = ""
    declared_grade: int | str = 0
    id_number: str = ""
    name: str = ""
    phone: str = ""


class AdminCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    username: str = Field(default="", max_length=40)
    password: str = ""
    name: Line = Field(default="", max_length=40)
    phone: Line = Field(default="", max_length=20)
    role: str = ""
    scope_code: str | None = None


class AccountOut(BaseModel):
    year: int
    id_number: str
    name: str
    gender: str
    birth_month: str
    phone: str
    city_code: str
    city_name: str | None = None
    county_code: str | None = None
    unit_id: str | None = None
    declared_grade: int
    id_card_photo: str | None = None
    supplementary: bool
    must_change_password: bool
    ever_submitted: bool
    created_at: datetime


class AdminOut(BaseModel):
    id: int
    username: str
    name: str
    phone: str
    role: str
    scope_code: str | None
    scope_city: str | None
    created_by: str | None
    created_at: datetime


# --- RPC inputs --------------------------------------------------------------------------
class Login(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id_number: str = Field(default="", max_length=40)
    password: str = Field(default="", max_length=200)


class AdminLogin(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(default="", max_length=80)
    password: str = Field(default="", max_length=200)


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    old_password: str = Field(default="", max_length=200)
    new_password: str = Field(default="", max_length=200)


class SmsCodeRequest(BaseModel):
    """POST /api/v1/sms-codes: ``phone`` for register; the logged-in applicant's phone for
    delete_self; for unlock the ``id_number`` whose registered phone gets the code (R-I7)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    purpose: Literal["register", "delete_self", "unlock"]
    phone: str = Field(default="", max_length=20)
    id_number: str = Field(default="", max_length=20)


class Unlock(BaseModel):
    """POST /api/v1/sessions/unlock: ends the lockout of the account (R-I7)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    id_number: str = Field(max_length=20)
    sms_code: str = Field(max_length=20)


class DeleteSelf(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    sms_code: str = Field(default="", max_length=20)


# --- RPC outputs -------------------------------------------------------------------------
class WindowOut(BaseModel):
    start: str
    end: str


class YearCalendar(BaseModel):
    """The year's calendar as identity hands it out and announces it."""

    year: int
    current: bool
    windows: dict[str, WindowOut | None]
    switches: dict[str, bool]
    updated_at: str | None = None
    version: int = 0                  # every change of the year counts one up


class SessionOut(BaseModel):
    token: str
    must_change_password: bool
    role: str | None = None
    scope_code: str | None = None


class SmsSent(BaseModel):
    phone: str  # masked
    resend_after: int
    expires_in: int


class ReviewContact(BaseModel):
    level: Literal["supervisor", "city", "province"]
    name: str
    phone: str


class AuditItem(BaseModel):
    at: datetime
    actor: str
    role: str | None
    scope: str | None
    action: str
    target: str | None
    before: Any = None
    after: Any = None


class AuditPage(BaseModel):
    items: list[AuditItem]
    total: int


class AuditQuery(BaseModel):
    """操作日志's filters (GET /api/v1/admin/audit, and audit.xlsx with the same): who (the
    actor's user name), what (the action), when (Beijing dates, whole days), scope (the
    actors of a city — their scope lies in it — or ``province``, the province's own)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    actor: str | None = Field(default=None, max_length=40, title="操作人")
    action: str | None = Field(default=None, max_length=60, title="操作")
    date_from: date | None = Field(default=None, title="开始日期")
    date_to: date | None = Field(default=None, title="结束日期")
    scope: str | None = Field(default=None, pattern=r"^(province|\d{6})$", title="管理范围")


class AuditFilters(AuditQuery):
    page: int = Field(default=1, ge=1, le=100000)
    page_size: int = Field(default=50, ge=1, le=200)


# the audit log's Excel (GET /api/v1/admin/audit.xlsx, the province)
AUDIT_COLUMNS = ["时间", "操作人", "角色", "管理范围", "所属省辖市", "操作", "操作代码", "对象", "变更前", "变更后"]


# --- events ------------------------------------------------------------------------------
_CALENDAR_EXAMPLE = {
    "year": 2026, "current": True,
    "windows": {"registration": {"start": "2026-01-08T00:00:00+08:00", "end": "2026-03-31T23:59:59+08:00"},
                "application": {"start": "2026-01-08T00:00:00+08:00", "end": "2026-04-15T23:59:59+08:00"},
                "review": {"start": "2026-01-08T00:00:00+08:00", "end": "2026-04-30T23:59:59+08:00"},
                "payment": {"start": "2026-02-01T00:00:00+08:00", "end": "2026-05-10T23:59:59+08:00"},
                "results": None},
    "switches": {"ticket_printing": False, "certificate_printing": False},
    "updated_at": "2026-01-05T10:00:00+00:00", "version": 3}


class YearUpdated(Event):
    """The whole calendar of a year, after every change (R-Y3): every service keeps a copy."""

    EVENT_TYPE: ClassVar[str] = "identity.year_updated.v1"
    EXAMPLE: ClassVar[dict] = _CALENDAR_EXAMPLE
    year: int
    current: bool
    windows: dict[str, WindowOut | None]
    switches: dict[str, bool]
    updated_at: str
    version: int = 0


class AccountRegistered(Event):
    EVENT_TYPE: ClassVar[str] = "identity.account_registered.v1"
    EXAMPLE: ClassVar[dict] = {
        "year": 2026, "id_number": "410102198503120014", "name": "张伟", "gender": "M", "birth_month": "1985-03",
        "phone": "13800000001", "city_code": "410100", "declared_grade": 4,
        "id_card_photo": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "supplementary": False}
    year: int
    id_number: str
    name: str
    gender: Literal["M", "F"]
    birth_month: str
    phone: str
    city_code: str
    declared_grade: int
    id_card_photo: str | None  # the hash of the photo application stored before registering
    supplementary: bool


class AccountDeleted(Event):
    EVENT_TYPE: ClassVar[str] = "identity.account_deleted.v1"
    EXAMPLE: ClassVar[dict] = {"year": 2026, "id_number": "410102198503120014", "by": "admin"}
    year: int
    id_number: str
    by: Literal["self", "admin"]


class PrincipalChanged(Event):
    """What a session stands for changed or ended (logout, a password change or reset, a
    deletion): every gateway process forgets the principals it keeps for these sessions at
    once (issue 12: revocation within a second). ``token_hash`` names one session (logout);
    without it, every session of the account."""

    EVENT_TYPE: ClassVar[str] = "identity.principal_changed.v1"
    EXAMPLE: ClassVar[dict] = {"kind": "applicant", "principal_id": 42, "token_hash": None,
                               "reason": "password_changed", "at": "2026-03-01T09:30:00+00:00"}
    kind: Literal["applicant", "admin"]
    principal_id: int
    token_hash: str | None = None
    reason: Literal["logout", "password_changed", "password_reset", "deleted", "changed"]
    at: datetime


class AdminsChanged(Event):
    """An administrator was created or changed: the contacts the applicants' pages show
    (审核结果) may differ; gateways fetch them again."""

    EVENT_TYPE: ClassVar[str] = "identity.admins_changed.v1"
    EXAMPLE: ClassVar[dict] = {"at": "2026-03-01T09:30:00+00:00"}
    at: datetime


class PasswordReset(Event):
    EVENT_TYPE: ClassVar[str] = "identity.password_reset.v1"
    EXAMPLE: ClassVar[dict] = {"year": 2026, "id_number": "410102198503120014", "by": "zz_city"}
    year: int
    id_number: str
    by: str


# --- what identity reads of others' events ----------------------------------------------------
class SubmittedView(EventView):
    EVENT_TYPE: ClassVar[str] = "application.submitted.v1"
    year: int
    id_number: str


class UnitChosenView(EventView):
    EVENT_TYPE: ClassVar[str] = "application.unit_chosen.v1"
    year: int
    id_number: str
    unit_id: str | None
    county_code: str | None
    at: datetime


class ApplicationAuditedView(ActionAuditedView):
    EVENT_TYPE: ClassVar[str] = "application.action_audited.v1"


class ReviewAuditedView(ActionAuditedView):
    EVENT_TYPE: ClassVar[str] = "review.action_audited.v1"


class PaymentAuditedView(ActionAuditedView):
    EVENT_TYPE: ClassVar[str] = "payment.action_audited.v1"


class DocumentsAuditedView(ActionAuditedView):
    EVENT_TYPE: ClassVar[str] = "documents.action_audited.v1"
