"""Application's contract: its labels (the one source pages, scripts and PDFs take them
from), RPC payloads and event payloads. The bottom layer of the service: it imports nothing
of the service, and the rules (``domain``, ``eligibility``) import their labels from here."""
from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from kit import contracts, vocabulary
from kit.contracts import Event, EventView
from kit.validation import Line

# --- labels ------------------------------------------------------------------------------
EDUCATION_LEVELS, EDUCATION_NAMES = vocabulary.EDUCATION_LEVELS, vocabulary.EDUCATION_NAMES
# 中专/技校/职高 count as 高中 (manual, 学历要求).
EDUCATION_RANK = {
    "primary": 1, "junior_high": 2, "senior_high": 3, "secondary_vocational": 3, "technical_school": 3,
    "vocational_high": 3, "junior_college": 4, "bachelor": 5, "master": 6, "doctor": 7,
}
# Grades are integers (API.md): 5 五级 … 1 一级; 0 未定级 (current grade only).
GRADE_NAMES = {0: "未定级", **vocabulary.GRADE_NAMES}
GRADE_TITLES = {5: "五级（初级工）", 4: "四级（中级工）", 3: "三级（高级工）", 2: "二级（技师）", 1: "一级（高级技师）"}
FILE_KINDS = ("id_card_photo", "personal_photo", "education_proof", "grade_certificate")
STAMPED_PHOTO = "personal_photo_stamped"  # 添加身份证号: a derived copy of the 2-inch photo
FILE_NAMES = {"id_card_photo": "身份证照片", "personal_photo": "个人照片",
              "education_proof": "学历证明材料", "grade_certificate": "现岗位等级证书",
              STAMPED_PHOTO: "添加身份证号的个人照片"}
ROUTES = ("years", "certificate")
ROUTE_NAMES = {"years": "按工作年限申报", "certificate": "按岗位等级证书申报"}
GRADE_ROUTES = {5: ("years",), 4: ("years", "certificate"), 3: ("years", "certificate"),
                2: ("certificate",), 1: ("certificate",)}
STATUSES = ("not_submitted", "in_review", "returned", "rejected", "approved")
STATUS_NAMES = {"not_submitted": "未提交", "in_review": "审核中", "returned": "退回", "rejected": "审核不通过",
                "approved": "审核通过"}
GENDER_NAMES = {"M": "男", "F": "女"}
# Notices to applicants (issue 14; API.md "Administrators' overview"): SMS and the 消息通知 list
NOTICE_KINDS = ("returned", "rejected", "approved", "payment_open", "paid", "ticket_ready", "results_published")
NOTICE_NAMES = {"returned": "报名信息退回", "rejected": "审核不通过", "approved": "终审通过", "payment_open": "缴费开放",
                "paid": "缴费成功", "ticket_ready": "准考证可打印", "results_published": "考核结果公布"}
STEP_NAMES = {"application": "报名信息", "review": "审核结果", "payment": "网上缴费", "ticket": "打印准考证",
              "result": "考核结果", "certificate": "打印电子证书"}

# 统计 (issue 14): the groupings and the counts, in the order the table shows them.
STAT_GROUPS = ("city", "county", "supervisor", "unit", "grade", "trade")
STAT_GROUP_NAMES = {"city": "省辖市", "county": "县区", "supervisor": "主管单位", "unit": "单位", "grade": "申报等级",
                    "trade": "申报工种"}
# what a row without a key stands for: no unit chosen yet (county, 主管单位, unit), a unit
# without a 县区 (省直 and 市直 units), no target trade yet
STAT_NO_KEY = {"county": "未选择单位或无县区", "supervisor": "未选择单位", "unit": "未选择单位", "trade": "未填写工种"}
STAT_COUNTS = ("registered", "submitted", "in_review", "returned", "rejected", "approved", "paid", "seated", "passed")
STAT_COUNT_NAMES = {"registered": "注册人数", "submitted": "提交人数", "in_review": "审核中", "returned": "退回",
                    "rejected": "审核不通过", "approved": "审核通过", "paid": "已缴费", "seated": "已安排考场",
                    "passed": "考核合格"}
# 审核中 by the level the case waits at (review counts them)
STAT_LEVELS = tuple(vocabulary.REVIEW_LEVEL_NAMES)
STAT_LEVEL_NAMES = {k: f"待{v}审核" for k, v in vocabulary.REVIEW_LEVEL_NAMES.items()}
RESULT_NAMES = vocabulary.RESULT_NAMES
TREND_YEARS = 10             # the trend reaches back so many exam years (the chosen one included)


def stat_columns() -> list[tuple[str, str]]:
    """The counts' columns of the statistics table, on the page and in its Excel alike, in
    order: 审核中 followed by its split by level (``in_review.<level>``)."""
    out = []
    for c in STAT_COUNTS:
        out.append((c, STAT_COUNT_NAMES[c]))
        if c == "in_review":
            out += [(f"in_review.{lv}", STAT_LEVEL_NAMES[lv]) for lv in STAT_LEVELS]
    return out


def stat_cells(counts: dict) -> list[int]:
    """One row's numbers in ``stat_columns()``'s order (a row, the totals, as JSON)."""
    levels = counts.get("in_review_levels") or {}
    return [int(levels.get(key.split(".", 1)[1]) or 0) if "." in key else int(counts.get(key) or 0)
            for key, _ in stat_columns()]

def labels() -> dict:
    """Every label of this service as JSON-ready data (pages hand it to their scripts)."""
    return {"education": EDUCATION_NAMES, "grades": {str(k): v for k, v in GRADE_NAMES.items()},
            "grade_titles": {str(k): v for k, v in GRADE_TITLES.items()}, "files": FILE_NAMES,
            "routes": ROUTE_NAMES, "statuses": STATUS_NAMES, "genders": GENDER_NAMES, "steps": STEP_NAMES,
            "notices": NOTICE_NAMES}



# --- RPC payloads ------------------------------------------------------------------------
class SupervisorOut(BaseModel):
    id: str
    name: str
    admin: str  # the contact person's display name (e.g. 孔老师), never a login name
    phone: str


class UnitOut(BaseModel):
    unit_id: str
    name: str
    city_code: str
    county_code: str | None
    supervisor: SupervisorOut


class CityOut(BaseModel):
    code: str
    name: str


class TradeOut(BaseModel):
    code: str
    name: str
    category: str
    new_trades: list[str]


class CountyContactOut(BaseModel):
    county_code: str
    name: str
    city_name: str
    phone: str


class ContactsOut(BaseModel):
    center_phone: str
    counties: list[CountyContactOut]


class CountyPhone(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    county_code: str = Field(max_length=6)
    phone: Line = Field(default="", max_length=40)


class ContactsUpdate(BaseModel):
    """PUT /api/v1/admin/contacts: an empty phone removes the county."""

    model_config = ConfigDict(extra="forbid")
    center_phone: str | None = Field(default=None, max_length=40)  # shown from configuration
    counties: list[CountyPhone] = Field(max_length=400)


class SupervisorIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    id: Line = Field(min_length=1, max_length=40)
    name: Line = Field(min_length=1, max_length=100)
    city_code: str = Field(min_length=6, max_length=6)
    admin: Line = Field(default="", max_length=40)
    phone: Line = Field(default="", max_length=20)


class UnitIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    id: Line = Field(min_length=1, max_length=40)
    name: Line = Field(min_length=1, max_length=100)
    city_code: str = Field(min_length=6, max_length=6)
    county_code: str | None = Field(default=None, max_length=6)
    supervisor_id: str = Field(min_length=1, max_length=40)


class ImportReport(BaseModel):
    imported: int
    refused: list[dict[str, Any]]
    supervisors: int | None = None


class StatisticsQuery(BaseModel):
    """统计 (issue 14): one exam year (the current one unless given), grouped by one key, with
    the same filters for the table, its Excel and the trend."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    year: int | None = Field(default=None, ge=2000, le=2100, title="考核年度")
    group_by: Literal["city", "county", "supervisor", "unit", "grade", "trade"] = Field(default="city",
                                                                                       title="统计方式")
    grade: int | None = Field(default=None, ge=1, le=5, title="申报等级")
    trade: str | None = Field(default=None, max_length=20, title="申报工种")
    city_code: str | None = Field(default=None, max_length=6, title="省辖市")


class StatCounts(BaseModel):
    registered: int = 0     # accounts (one application per account and year)
    submitted: int = 0      # submitted at least once this year, whatever the status now
    in_review: int = 0      # by the current status
    returned: int = 0
    rejected: int = 0
    approved: int = 0
    paid: int = 0           # cumulative: the fee paid (online or recorded offline)
    seated: int = 0         # cumulative: a seat and a ticket number
    passed: int = 0         # cumulative: 考核合格
    # 审核中 by the level the case waits at ({supervisor, city, province}); None when review
    # did not say
    in_review_levels: dict[str, int] | None = None


class StatRow(StatCounts):
    key: str | None         # the city / county code, 主管单位 / unit id, grade ("4"), trade code
    name: str


class StatYear(StatCounts):
    year: int


class Statistics(BaseModel):
    year: int
    group_by: str
    filters: dict[str, Any]
    rows: list[StatRow]
    totals: StatCounts
    trend: list[StatYear]   # the same scope and filters, year by year (the trend chart)


class ApplicationsQuery(BaseModel):
    """报名信息导出 (issue 14): the caller's scope, one exam year, these filters."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    year: int | None = Field(default=None, ge=2000, le=2100, title="考核年度")
    status: Literal["not_submitted", "in_review", "returned", "rejected", "approved", "all"] = Field(
        default="all", title="状态")
    grade: int | None = Field(default=None, ge=1, le=5, title="申报等级")
    trade: str | None = Field(default=None, max_length=20, title="申报工种")
    unit_id: str | None = Field(default=None, max_length=40, title="单位")
    city_code: str | None = Field(default=None, max_length=6, title="省辖市")


class FileMeta(BaseModel):
    """A file of the form: a reference, never bytes, never a URL."""

    sha256: str
    content_type: str
    size: int
    width: int | None = None
    height: int | None = None
    uploaded_at: str


class Choices(BaseModel):
    routes: list[str]
    target_trades: list[str] | None
    target_trade_note: str | None
    service_years_max: int | None
    required_files: list[str]
    current_trade_required: bool
    grade_obtained_year_required: bool


class Step(BaseModel):
    key: str
    title: str
    enabled: bool
    reason: str | None
    visible: bool
    done: bool = False          # 网上缴费: the fee is paid (the page need not ask payment)


class NoticeOut(BaseModel):
    """A notice the applicant was sent (消息通知): what the SMS said, and when it was made."""

    kind: str
    text: str
    at: datetime


class Progress(BaseModel):
    status: str
    steps: list[Step]
    application_window: dict[str, str] | None
    supervisor: SupervisorOut | None
    # the latest notices, newest first, when asked for (the home and 审核结果 pages, /me)
    notices: list[NoticeOut] | None = None
    # until when the steps stay as they are by the clock (the next window to open or close):
    # how long a gateway may keep them (issue 12); the gateway does not pass it on
    fresh_until: datetime | None = None


class FormSnapshot(BaseModel):
    """The 报名信息 as submitted: data only (what reviewers see and the documents print)."""

    application_id: str
    year: int
    status: str
    round: int
    submitted_at: str | None
    name: str
    id_number: str
    gender: Literal["M", "F"]
    birth_month: str
    phone: str
    city_code: str
    county_code: str | None
    supervisor_id: str | None
    target_grade: int
    unit_id: str | None
    unit: UnitOut | None
    education: str | None
    work_start: str | None
    service_years: int | None
    current_grade: int | None
    current_trade: str | None
    grade_obtained_year: int | None
    target_trade: str | None
    route: str | None
    exceptional: bool
    frontline: bool
    exceptional_reason: str
    prohibited: bool | None
    pledge: bool
    files: dict[str, FileMeta]


class FormOut(FormSnapshot):
    """The form as its owner sees it."""

    locked: bool
    service_years_max: int | None
    review_note: str | None


# --- events ------------------------------------------------------------------------------
_FILE_EXAMPLE = {"sha256": "0" * 64, "content_type": "image/jpeg", "size": 48213, "width": 413, "height": 579,
                 "uploaded_at": "2026-03-01T09:00:00+00:00"}
_SNAPSHOT_EXAMPLE = {
    "application_id": "5f0c1d2e3a4b5c6d7e8f901234567890", "year": 2026, "status": "in_review", "round": 1,
    "submitted_at": "2026-03-01T09:30:00+00:00", "name": "张伟", "id_number": "410102198503120014",
    "gender": "M", "birth_month": "1985-03", "phone": "13800000001", "city_code": "410100",
    "county_code": "410102", "supervisor_id": "S410100-01", "target_grade": 4, "unit_id": "U410100-001",
    "unit": {"unit_id": "U410100-001", "name": "郑州市第一人民医院", "city_code": "410100", "county_code": "410102",
             "supervisor": {"id": "S410100-01", "name": "郑州市卫生健康委员会", "admin": "孔老师",
                            "phone": "0371-67180001"}},
    "education": "senior_high", "work_start": "2005-07", "service_years": 22, "current_grade": 5,
    "current_trade": "T0101", "grade_obtained_year": 2018, "target_trade": "T0101", "route": "certificate",
    "exceptional": False, "frontline": True, "exceptional_reason": "", "prohibited": False, "pledge": True,
    "files": {"id_card_photo": _FILE_EXAMPLE, "personal_photo": _FILE_EXAMPLE, "education_proof": _FILE_EXAMPLE,
              "grade_certificate": _FILE_EXAMPLE, STAMPED_PHOTO: _FILE_EXAMPLE}}


class Submitted(Event):
    """提交: what the review chain needs (R-R1) and the snapshot the reviewers see."""

    EVENT_TYPE: ClassVar[str] = "application.submitted.v1"
    EXAMPLE: ClassVar[dict] = {
        "application_id": _SNAPSHOT_EXAMPLE["application_id"], "year": 2026, "id_number": "410102198503120014",
        "name": "张伟", "gender": "M", "target_grade": 4, "route": "certificate", "target_trade": "T0101",
        "target_trade_name": "护理员",
        "unit_id": "U410100-001", "supervisor_id": "S410100-01", "county_code": "410102", "city_code": "410100",
        "round": 1, "submitted_at": "2026-03-01T09:30:00+00:00", "form": _SNAPSHOT_EXAMPLE}
    application_id: str
    year: int
    id_number: str
    name: str
    gender: Literal["M", "F"]
    target_grade: int
    route: str | None
    target_trade: str | None
    target_trade_name: str | None = None   # the catalogue's name of it, as it stood at 提交
    unit_id: str | None
    supervisor_id: str | None
    county_code: str | None
    city_code: str
    round: int
    submitted_at: datetime
    form: FormSnapshot


class ViewersChanged(contracts.ViewersChanged):
    """Applicants' steps, forms, checks or 消息通知 changed (issue 12, kit.db.track_viewers):
    the gateways drop what they kept of them."""

    EVENT_TYPE: ClassVar[str] = "application.viewers_changed.v1"
    EXAMPLE: ClassVar[dict] = {"applicants": [[2026, "410102198503150012"]], "forms": [[2026, "410102198503120014"]],
                               "everyone": False}


class ReferenceChanged(Event):
    """Reference data changed (units with their 主管单位, the trade catalogue, 咨询电话): the
    gateways that keep a copy fetch it again (issue 12)."""

    EVENT_TYPE: ClassVar[str] = "application.reference_changed.v1"
    EXAMPLE: ClassVar[dict] = {"what": ["units"], "at": "2026-02-20T08:00:00+00:00"}
    what: list[Literal["units", "trades", "contacts"]]
    at: datetime


class UnitChosen(Event):
    """The chosen unit fixes the applicant's county and 主管单位 (identity: who manages the account)."""

    EVENT_TYPE: ClassVar[str] = "application.unit_chosen.v1"
    EXAMPLE: ClassVar[dict] = {"year": 2026, "id_number": "410102198503120014", "unit_id": "U410100-001",
                               "county_code": "410102", "supervisor_id": "S410100-01",
                               "at": "2026-02-20T08:00:00+00:00"}
    year: int
    id_number: str
    unit_id: str | None
    county_code: str | None
    supervisor_id: str | None
    at: datetime


class Deleted(Event):
    EVENT_TYPE: ClassVar[str] = "application.deleted.v1"
    EXAMPLE: ClassVar[dict] = {"application_id": "5f0c1d2e3a4b5c6d7e8f901234567890", "year": 2026,
                               "id_number": "410102198503120014", "was_submitted": False}
    application_id: str
    year: int
    id_number: str
    was_submitted: bool


class ActionAudited(contracts.ActionAudited):
    EVENT_TYPE: ClassVar[str] = "application.action_audited.v1"
    EXAMPLE: ClassVar[dict] = contracts.AUDIT_EXAMPLE




# --- what application reads of others' events ----------------------------------------------
class YearUpdatedView(contracts.YearUpdatedView):
    EVENT_TYPE: ClassVar[str] = "identity.year_updated.v1"


class AccountRegisteredView(EventView):
    EVENT_TYPE: ClassVar[str] = "identity.account_registered.v1"
    year: int
    id_number: str
    name: str
    gender: Literal["M", "F"]
    birth_month: str
    phone: str
    city_code: str
    declared_grade: int
    id_card_photo: str | None


class AccountDeletedView(EventView):
    EVENT_TYPE: ClassVar[str] = "identity.account_deleted.v1"
    year: int
    id_number: str


class _ReviewOutcomeView(EventView):
    application_id: str
    round: int
    reason: str | None = None
    version: int | None = None   # the case's version: events of one case may arrive out of order
    at: datetime | None = None   # when it was decided: 终审通过 starts the 24 h / 48 h before paying (R-F2)


class ReturnedView(_ReviewOutcomeView):
    EVENT_TYPE: ClassVar[str] = "review.returned.v1"


class ReopenedView(_ReviewOutcomeView):
    EVENT_TYPE: ClassVar[str] = "review.reopened.v1"


class RejectedView(_ReviewOutcomeView):
    EVENT_TYPE: ClassVar[str] = "review.rejected.v1"


class FinallyApprovedView(_ReviewOutcomeView):
    EVENT_TYPE: ClassVar[str] = "review.finally_approved.v1"


class FeePaidView(EventView):
    """The fee is paid (online or recorded offline): 打印准考证 comes next (R-P2)."""

    EVENT_TYPE: ClassVar[str] = "payment.fee_paid.v1"
    application_id: str
    paid_at: datetime
    amount_fen: int | None = None


class TicketIssuedView(EventView):
    """A seat and a ticket number: 打印准考证 can open (R-D2)."""

    EVENT_TYPE: ClassVar[str] = "documents.ticket_issued.v1"
    application_id: str
    ticket_no: str


class ResultsPublishedView(EventView):
    """考核结果 as documents now states it: 考核结果 and 打印电子证书 open for this applicant."""

    EVENT_TYPE: ClassVar[str] = "documents.results_published.v1"
    application_id: str
    result: Literal["pass", "fail"]
    revision: int


class FeesSetView(EventView):
    """Which cities pay online this year (R-F1: 网上缴费 is hidden elsewhere)."""

    EVENT_TYPE: ClassVar[str] = "payment.fees_set.v1"
    year: int
    online_payment_cities: list[str]
    updated_at: datetime


# The 2-inch photo (R-A5, R-P3): one definition for the server's check and the photo tool.
PHOTO_SPEC = {
    "width": 413,            # stored size: 35×49 mm at 300 dpi
    "height": 579,
    "min_width": 295,        # smallest accepted source
    "min_height": 413,
    "ratio": 5 / 7,          # width / height
    "tolerance": 0.03,       # ±3 %
    "dpi": 300,
    "max_bytes": 5 * 1024 * 1024,
    "content_types": ["image/jpeg", "image/png"],
}
