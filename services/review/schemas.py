"""Review's contract: its labels (the one source for pages, scripts and PDFs), RPC payloads
and the events it announces. The bottom layer of the service: ``domain`` imports from here."""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from kit import contracts, vocabulary
from kit.contracts import Event, EventView
from kit.validation import Text

# --- labels ------------------------------------------------------------------------------
LEVELS = ("supervisor", "city", "province")
LEVEL_NAMES = {**vocabulary.REVIEW_LEVEL_NAMES, "applicant": "报考人员"}
DECISIONS = ("pass", "return", "reject", "reopen")
DECISION_NAMES = {"submitted": "已提交", "pass": "审核通过", "return": "退回", "reject": "审核不通过",
                  "reopen": "重新退回修改", "final": "终审通过"}
CASE_STATUSES = ("in_review", "returned", "rejected", "approved", "withdrawn")
CASE_STATUS_NAMES = {"returned": "已退回", "rejected": "审核不通过", "approved": "审核通过", "withdrawn": "已撤销"}
QUEUE_STATUSES = {"pending": "待我审核", "in_review": "审核中", "returned": "已退回", "rejected": "审核不通过",
                  "approved": "审核通过", "all": "全部"}
# the queue's Excel (GET /api/v1/admin/reviews.xlsx): one row per case, ID numbers masked
QUEUE_COLUMNS = ["报名编号", "姓名", "身份证号", "省辖市", "县区", "单位", "申报等级", "申报工种", "当前审核环节", "审核状态",
                 "提交轮次", "提交时间", "终审通过时间"]
MATERIAL_KINDS = ("wage_review_form", "excellence_material")
MATERIAL_NAMES = {"wage_review_form": "工资审核表", "excellence_material": "考核优秀（优秀党员）材料"}


def waiting_name(level: str) -> str:
    """待主管单位审核: the status of a case waiting at a level."""
    return f"待{LEVEL_NAMES[level]}审核"


def labels() -> dict:
    return {"levels": LEVEL_NAMES, "decisions": DECISION_NAMES, "case_statuses": CASE_STATUS_NAMES,
            "queue_statuses": QUEUE_STATUSES, "materials": MATERIAL_NAMES}


# --- RPC payloads ------------------------------------------------------------------------
class Decision(BaseModel):
    """POST …/decisions: 通过 / 退回 / 审核不通过 / reopen (reason required but for pass)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    decision: Literal["pass", "return", "reject", "reopen"]
    reason: Text | None = Field(default=None, max_length=500)
    version: StrictInt | None = Field(default=None, ge=1)


class BatchDecision(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    application_ids: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(min_length=1, max_length=200)
    decision: Literal["pass", "return", "reject", "reopen"]
    reason: Text | None = Field(default=None, max_length=500)


class QueueQuery(BaseModel):
    """The queue's filters (GET /api/v1/admin/reviews, and reviews.xlsx with the same)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    status: Literal["pending", "in_review", "returned", "rejected", "approved", "all"] = "pending"
    grade: int | None = Field(default=None, ge=1, le=5)
    trade: str | None = Field(default=None, max_length=20)
    unit_id: str | None = Field(default=None, max_length=40)
    submitted_from: date | None = None
    submitted_to: date | None = None


class QueueFilters(QueueQuery):
    page: int = Field(default=1, ge=1, le=100000)
    page_size: int = Field(default=20, ge=1, le=100)


class QueueItem(BaseModel):
    application_id: str
    name: str
    id_number: str  # masked in lists
    unit_id: str | None
    unit_name: str | None
    target_grade: int
    target_trade: str | None
    level: str | None
    status: str
    status_name: str
    round: int
    submitted_at: datetime
    version: int
    can_decide: bool


class QueuePage(BaseModel):
    items: list[QueueItem]
    total: int
    page: int
    page_size: int


class LevelCountsQuery(BaseModel):
    """What application's statistics ask (issue 14): the cases of a year waiting at each
    level, grouped the way the statistics table is (application has no copy of the level)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    year: int = Field(ge=2000, le=2100)
    group_by: Literal["city", "county", "supervisor", "unit", "grade", "trade"] = "city"
    grade: int | None = Field(default=None, ge=1, le=5)
    trade: str | None = Field(default=None, max_length=20)
    city_code: str | None = Field(default=None, max_length=6)


class LevelCounts(BaseModel):
    key: str | None               # the group's key (a grade as text); None: cases without one
    supervisor: int = 0
    city: int = 0
    province: int = 0


class LevelCountsPage(BaseModel):
    rows: list[LevelCounts]


class ChainSet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    levels: list[Literal["supervisor", "city", "province"]] = Field(min_length=1, max_length=3)


# --- events ------------------------------------------------------------------------------
_OUTCOME_EXAMPLE = {"application_id": "5f0c1d2e3a4b5c6d7e8f901234567890", "year": 2026,
                    "id_number": "410102198503120014", "name": "张伟", "round": 1, "level": "supervisor", "decision": "return",
                    "reason": "学历证明材料不清晰，请重新上传", "target_grade": 4, "city_code": "410100",
                    "at": "2026-03-02T10:00:00+00:00", "next_level": None, "version": 2}


class ViewersChanged(contracts.ViewersChanged):
    """Applicants' 审核结果 changed (issue 12, kit.db.track_viewers): the gateways drop what
    they kept of it."""

    EVENT_TYPE: ClassVar[str] = "review.viewers_changed.v1"
    EXAMPLE: ClassVar[dict] = {"applicants": [[2026, "410102198503150012"]], "everyone": False}


class _Outcome(Event):
    """A decision on a case and what it led to (R-R2)."""

    application_id: str
    year: int
    id_number: str
    name: str
    round: int
    level: Literal["supervisor", "city", "province"]
    decision: Literal["pass", "return", "reject", "reopen"]
    reason: str
    target_grade: int
    city_code: str
    at: datetime
    next_level: str | None  # where the case waits now (step passed), else None
    version: int            # the case's version after it: later decisions have higher ones


class StepPassed(_Outcome):
    EVENT_TYPE: ClassVar[str] = "review.step_passed.v1"
    EXAMPLE: ClassVar[dict] = {**_OUTCOME_EXAMPLE, "decision": "pass", "reason": "", "next_level": "city"}


class Returned(_Outcome):
    EVENT_TYPE: ClassVar[str] = "review.returned.v1"
    EXAMPLE: ClassVar[dict] = _OUTCOME_EXAMPLE


class Rejected(_Outcome):
    EVENT_TYPE: ClassVar[str] = "review.rejected.v1"
    EXAMPLE: ClassVar[dict] = {**_OUTCOME_EXAMPLE, "decision": "reject", "reason": "不符合本年度报考条件"}


class Reopened(_Outcome):
    EVENT_TYPE: ClassVar[str] = "review.reopened.v1"
    EXAMPLE: ClassVar[dict] = {**_OUTCOME_EXAMPLE, "decision": "reopen", "reason": "经沟通符合条件，退回修改"}


class FinallyApproved(_Outcome):
    """终审通过: payment's 24 h / 48 h clock starts at ``at`` (R-F2)."""

    EVENT_TYPE: ClassVar[str] = "review.finally_approved.v1"
    EXAMPLE: ClassVar[dict] = {**_OUTCOME_EXAMPLE, "level": "province", "decision": "pass", "reason": ""}


EVENT_OF: dict[str, type[_Outcome]] = {
    "step_passed": StepPassed, "returned": Returned, "rejected": Rejected, "reopened": Reopened,
    "finally_approved": FinallyApproved}


class ActionAudited(contracts.ActionAudited):
    EVENT_TYPE: ClassVar[str] = "review.action_audited.v1"
    EXAMPLE: ClassVar[dict] = contracts.AUDIT_EXAMPLE


# --- what review reads of others' events ----------------------------------------------------
class SubmittedView(EventView):
    """What the chain needs (R-R1) and the snapshot the reviewers see (kept as sent)."""

    EVENT_TYPE: ClassVar[str] = "application.submitted.v1"
    application_id: str
    year: int
    id_number: str
    name: str
    gender: str
    target_grade: int
    route: str | None
    target_trade: str | None
    unit_id: str | None
    supervisor_id: str | None
    county_code: str | None
    city_code: str
    round: int
    submitted_at: datetime
    form: dict[str, Any]
    target_trade_name: str | None = None     # the catalogue's name at 提交 (the queue's Excel shows it)


class DeletedView(EventView):
    EVENT_TYPE: ClassVar[str] = "application.deleted.v1"
    application_id: str


class YearUpdatedView(contracts.YearUpdatedView):
    """Review keeps the calendar: reviewers decide inside the review window."""

    EVENT_TYPE: ClassVar[str] = "identity.year_updated.v1"
