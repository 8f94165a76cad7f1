"""Payment's contract: labels, RPC payloads and the events it announces. The bottom layer of
the service. (Orders, the platform and reconciliation come with the payment issue; fees and
the online-payment cities are here already, because other services show the step by them.)"""
from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kit import contracts
from kit.contracts import Event

GRADE_KEYS = ("5", "4", "3", "2", "1")
AUDIT_ACTIONS = {"fees.update": "设置考核费用及网上缴费地市"}


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
                raise ValueError("费用应为 0 至 10000000 分之间的整数")
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


class ActionAudited(contracts.ActionAudited):
    EVENT_TYPE: ClassVar[str] = "payment.action_audited.v1"
    EXAMPLE: ClassVar[dict] = contracts.AUDIT_EXAMPLE
