"""Identity's contract: RPC inputs and outputs, event payloads. The gateway imports this."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kit.windows import SWITCH_NAMES, WINDOW_NAMES  # noqa: F401 - the calendar's labels, shared by all

WindowName = Literal["registration", "application", "review", "payment", "results"]
WINDOWS: tuple[str, ...] = ("registration", "application", "review", "payment", "results")
SWITCHES: tuple[str, ...] = ("ticket_printing", "certificate_printing")
Role = Literal["province", "city", "county", "supervisor"]

# --- labels ------------------------------------------------------------------------------
ROLE_NAMES = {"province": "省评价中心", "city": "省辖市管理员", "county": "县区管理员",
              "supervisor": "主管单位管理员"}
AUDIT_ACTIONS = {"year.update": "修改考核年度设置", "account.password_reset": "重置密码",
                 "account.delete": "删除账号", "account.supplementary": "补报",
                 "admin.create": "创建管理员", "roster.import": "导入社保名单"}


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


class Calendar(BaseModel):
    year: int
    windows: dict[str, dict[str, str] | None]
    switches: dict[str, bool]


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
    name: str = Field(default="", max_length=40)
    phone: str = Field(default="", max_length=20)
    role: str = ""
    scope_code: str | None = None


class Principal(BaseModel):
    """Who is calling, as resolved from a session by identity; passed by the gateway to
    every service, which checks it against the record asked for."""

    kind: Literal["applicant", "admin"]
    id: int
    name: str
    must_change_password: bool = False
    # applicants
    year: int | None = None
    id_number: str | None = None
    city_code: str | None = None
    # administrators
    username: str | None = None
    role: Role | None = None
    scope_code: str | None = None
    scope_city: str | None = None


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


# --- events ---------------------------------------------------------------------------
YEAR_UPDATED = "identity.year_updated.v1"  # data: Calendar (+ is_current)
ACCOUNT_REGISTERED = "identity.account_registered.v1"
ACCOUNT_DELETED = "identity.account_deleted.v1"
PASSWORD_RESET = "identity.password_reset.v1"


class AccountRegistered(BaseModel):
    year: int
    id_number: str
    name: str
    gender: str
    birth_month: str
    phone: str
    city_code: str
    declared_grade: int
    id_card_photo: str | None
    supplementary: bool


class AccountDeleted(BaseModel):
    year: int
    id_number: str
    by: Literal["self", "admin"]
