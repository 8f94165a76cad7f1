"""Documents's contract: its labels (subjects, the 应考人员须知), RPC payloads, the events it
announces and its views of the events it reads. The bottom layer of the service."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kit import contracts
from kit.contracts import Event, EventView
from kit.validation import Line
from kit.vocabulary import EDUCATION_NAMES, GRADE_NAMES, RESULT_NAMES  # noqa: F401 - re-exported

# --- labels ------------------------------------------------------------------------------
SUBJECTS = ("职业道德", "职业能力", "岗位技能")
GENDER_NAMES = {"M": "男", "F": "女"}
TICKET_TITLE = "河南省机关事业单位工勤技能岗位等级考核"
# The manual's 应考人员须知, word for word.
TICKET_NOTICE = (
    "领取准考证后，应认真核对个人信息，发现姓名、身份证号、申报工种、申报等级等信息错误的，务必在考前与发证机关联系。",
    "提前了解前往考点的乘车路线和交通状况，考试当天须提前到达考试地点；考试开始30分钟后，迟到人员不得入场。",
    "考试开始前30分钟，凭准考证和身份证进入考场，两证不齐者不得入场；对号入座后将准考证和身份证放在桌子指定位置，以备核对。",
    "应试时只准携带蓝色字迹钢笔（签字笔、圆珠笔）等规定物品，手机等通讯设备必须关机，并不得将通讯设备、书籍、资料（含电子文档）等规定以外物品带至座位。",
    "答题前应认真核对姓名、身份证号、申报工种、申报等级等信息，如有疑问应举手向监考人员示意报告。",
    "考试期间应严格遵守考场纪律，服从考场现场组织管理，不准吸烟，不准交头接耳、喧哗吵闹，不准代考，不得抄袭或配合他人作弊等，违者按有关规定处理。",
    "考试开始30分钟后，应试人员可交卷离场，交卷后不能继续答题。",
    "考评结果查询网站：河南省技能人才评价工作网（http://ha.nva.net.cn）。",
)
WAITING_REASONS = {"no_room": "本市考场座位已满，请增加考场", "no_timetable": "该等级尚未安排考试时间",
                   "no_site": "本市尚未设置考点"}
JOB_STATUSES = {"queued": "排队中", "running": "生成中", "done": "已完成", "failed": "失败"}
# The seat list's states (GET …/seat-assignments ``state``), as 考场安排 shows them.
SEAT_STATES = {"seated": "已安排", "waiting": "待安排", "not_eligible": "暂不能安排"}
# The proctors' seat list as Excel (GET …/seat-lists.xlsx): a sheet per room, these columns
SEAT_LIST_COLUMNS = ["座号", "准考证号", "姓名", "身份证号", "申报等级", "申报工种", "工作单位", "备注"]
SEAT_WITHDRAWN = "报名已撤销"
# the results list as Excel (GET …/scores.xlsx): one row per candidate with scores
SCORE_LIST_COLUMNS = ["准考证号", "姓名", "身份证号", "省辖市", "工作单位", "申报等级", "申报工种", "职业道德", "职业能力",
                      "岗位技能", "总分", "考核结果"]
SEAT_LIST_PDF_MAX_ROOMS = 300      # one PDF of more rooms takes too long to make: a ZIP per 考点 instead
ASSESSMENT_KIND = "岗位等级考核"
DEFAULT_SUBJECT_LINE = 35
CERTIFICATE_TITLE = "河南省机关事业单位工勤技能岗位等级考核电子证书"
ISSUER = "河南省职业技能等级评价指导中心"


def labels() -> dict:
    return {"subjects": list(SUBJECTS), "waiting": WAITING_REASONS, "jobs": JOB_STATUSES, "results": RESULT_NAMES,
            "seats": SEAT_STATES}


# --- RPC payloads --------------------------------------------------------------------------
class RoomIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    room_code: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,20}$")]
    name: Line = Field(min_length=1, max_length=40)
    seats: int = Field(ge=1, le=500)


class SiteIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    site_code: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,20}$")]
    name: Line = Field(min_length=1, max_length=60)
    address: Line = Field(default="", max_length=120)
    city_code: str = Field(pattern=r"^\d{6}$")
    rooms: list[RoomIn] = Field(max_length=300)

    @model_validator(mode="after")
    def _unique_rooms(self):
        codes = [r.room_code for r in self.rooms]
        if len(codes) != len(set(codes)):
            raise ValueError("同一考点的考场编号不能重复")
        return self


class ExamSites(BaseModel):
    """PUT …/exam-sites: every site of the year (rooms already seated cannot go)."""

    sites: list[SiteIn] = Field(max_length=500)

    @model_validator(mode="after")
    def _unique_sites(self):
        codes = [s.site_code for s in self.sites]
        if len(codes) != len(set(codes)):
            raise ValueError("考点编号不能重复")
        return self


class Sitting(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    subject: Literal["职业道德", "职业能力", "岗位技能"]
    start: datetime
    end: datetime
    place: Line = Field(default="", max_length=60)

    @model_validator(mode="after")
    def _ordered(self):
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("时间须带时区，例如 2026-06-13T08:00:00+08:00")
        if self.end <= self.start:
            raise ValueError("结束时间须晚于开始时间")
        return self


class Timetable(BaseModel):
    """PUT …/timetable: per grade ("5" … "1"), one row for each of the three subjects."""

    grades: dict[Literal["5", "4", "3", "2", "1"], list[Sitting]]

    @field_validator("grades")
    @classmethod
    def _three_subjects(cls, value):
        for grade, rows in value.items():
            if sorted(r.subject for r in rows) != sorted(SUBJECTS):
                raise ValueError(f"{GRADE_NAMES[int(grade)]}须各有一行职业道德、职业能力、岗位技能")
        return value


class SeatAssignment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    city_code: str | None = Field(default=None, pattern=r"^\d{6}$")


class AssignmentResult(BaseModel):
    assigned: int
    already: int
    waiting: int


class SeatsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    status: Literal["seated", "waiting", "not_eligible", "all"] = "seated"
    city_code: str | None = Field(default=None, max_length=6)
    grade: int | None = Field(default=None, ge=1, le=5)
    page: int = Field(default=1, ge=1, le=100000)
    page_size: int = Field(default=50, ge=1, le=200)


class SeatListQuery(BaseModel):
    """GET …/seat-lists.xlsx|pdf: the proctors' lists of a city or one 考点 (default: every
    room in the caller's scope)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    city_code: str | None = Field(default=None, pattern=r"^\d{6}$")
    site_code: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,20}$")


class SubjectRow(BaseModel):
    subject: str
    site: str
    room: str
    start: datetime
    end: datetime
    place: str
    seat: int


class Ticket(BaseModel):
    """GET /api/v1/me/ticket (API.md)."""

    available: bool
    reason: str | None
    ticket_no: str | None = None
    name: str | None = None
    gender: str | None = None
    age: int | None = None
    id_number: str | None = None
    unit: str | None = None
    trade: str | None = None
    grade: str | None = None
    subjects: list[SubjectRow] = []
    # until when this answer holds by the clock alone (the last subject ends: 考试时间已过): for
    # the gateway that keeps it (issue 12), which does not pass it on
    fresh_until: datetime | None = None


class TicketCheck(BaseModel):
    """GET /api/v1/admin/ticket-checks/{code}: a proctor checks a ticket's QR code."""

    valid: bool
    ticket_no: str | None = None
    name: str | None = None
    id_number: str | None = None      # masked
    year: int | None = None
    grade: str | None = None
    trade: str | None = None
    site: str | None = None
    room: str | None = None
    seat: int | None = None
    withdrawn: bool = False


class NewJob(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["tickets", "certificates"]
    year: int = Field(ge=2000, le=2100)
    city_code: str | None = Field(default=None, pattern=r"^\d{6}$")


class JobOut(BaseModel):
    job_id: str
    kind: str
    status: Literal["queued", "running", "done", "failed"]
    done: int
    total: int
    year: int
    city_code: str | None
    created_at: datetime


class PassLines(BaseModel):
    """合格线 of a year (R-D3): each subject's (35 by default) and the total's."""

    model_config = ConfigDict(extra="forbid")
    subjects: dict[Literal["职业道德", "职业能力", "岗位技能"], int] = Field(
        default_factory=lambda: dict.fromkeys(SUBJECTS, DEFAULT_SUBJECT_LINE))
    total: int = Field(default=DEFAULT_SUBJECT_LINE * 3, ge=0, le=300)

    @field_validator("subjects")
    @classmethod
    def _lines(cls, value):
        if set(value) != set(SUBJECTS):
            raise ValueError("须设置职业道德、职业能力、岗位技能三科的合格线")
        if any(not 0 <= v <= 100 for v in value.values()):
            raise ValueError("单科合格线须在0–100之间")
        return {s: value[s] for s in SUBJECTS}


class ScoreLine(BaseModel):
    line: int
    ticket_no: str
    reason: str


class ScoreChange(BaseModel):
    line: int
    ticket_no: str
    before: dict[str, float]
    after: dict[str, float]


class ScoreImportReport(BaseModel):
    """PUT /api/v1/admin/scores: what was imported, what a re-import changed, what was refused."""

    imported: int
    replaced: list[ScoreChange] = []
    unchanged: int = 0
    refused: list[ScoreLine] = []


class HistoryImportReport(BaseModel):
    imported: int
    refused: list[dict] = []


class ScoreRow(BaseModel):
    subject: str
    score: float
    pass_line: float


class Result(BaseModel):
    """GET /api/v1/me/result (API.md): only inside the results window."""

    available: bool
    reason: str | None = None
    result: Literal["pass", "fail"] | None = None
    result_name: str | None = None
    name: str | None = None
    id_number: str | None = None
    ticket_no: str | None = None
    scores: list[ScoreRow] = []
    total: float | None = None
    total_line: float | None = None
    # until when this answer holds by the clock alone (the results window opens or closes): for
    # the gateway that keeps it (issue 12), which does not pass it on
    fresh_until: datetime | None = None


class Record(BaseModel):
    """One year's assessment of a person (岗位等级考核记录)."""

    year: int
    kind: str
    trade: str
    grade: int
    grade_name: str
    obtained_at: str | None        # YYYY-MM-DD; none for a failed one
    result: Literal["pass", "fail"]
    result_name: str


class CertificateBasic(BaseModel):
    name: str
    gender: str
    education: str
    id_number: str
    work_start: str
    service_years: int | None
    unit: str


class CertificateOut(BaseModel):
    """GET /api/v1/me/certificate (API.md)."""

    verification_code: str
    verify_url: str
    issued_at: datetime
    basic: CertificateBasic
    records: list[Record]


class CertificateCheck(BaseModel):
    """GET /api/v1/certificates/{code}: what confirms a certificate, masked."""

    valid: bool
    name: str
    id_number: str
    grade: str
    trade: str
    year: int
    issued_at: datetime


class ResultsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by: Literal["city", "grade", "trade"] = "city"


class ScoresQuery(BaseModel):
    """GET …/scores.xlsx: the results list, one row per candidate with scores (the caller's
    scope; or one city, one grade, 合格 or 不合格 only)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    city_code: str | None = Field(default=None, pattern=r"^\d{6}$", title="省辖市")
    grade: int | None = Field(default=None, ge=1, le=5, title="申报等级")
    result: Literal["pass", "fail"] | None = Field(default=None, title="考核结果")


class ResultsStats(BaseModel):
    """考核结果统计: who sat (has scores), who passed, the rate — by city, grade or trade."""

    year: int
    by: str
    rows: list[dict]
    total: dict


# --- the ticket's layout: data, not code (pretix keeps ticket layouts as JSON) ---------------
class TextItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["text"]
    x: float
    y: float
    size: float = Field(gt=0, le=48)
    content: str                     # a literal, or {field} placeholders of the ticket's data
    align: Literal["left", "center", "right"] = "left"


class BoxItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["photo", "qr"]
    x: float
    y: float
    width: float = Field(gt=0)
    height: float = Field(gt=0)


class TableItem(BaseModel):
    """A table of the rows under ``source`` in the data: one column per (header, width, key)."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["table"]
    source: str
    x: float
    y: float
    size: float = Field(gt=0, le=24)
    row_height: float = Field(gt=0)
    columns: list[tuple[str, float, str]]


class ParagraphsItem(BaseModel):
    """The list of texts under ``source``, numbered, wrapped to ``width``."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["paragraphs"]
    source: str
    x: float
    y: float
    width: float
    size: float = Field(gt=0, le=24)
    leading: float = Field(gt=0)


class Layout(BaseModel):
    """A page: its size in points and what stands where (y from the bottom, as PDF counts)."""

    model_config = ConfigDict(extra="forbid")
    name: str
    width: float
    height: float
    items: list[Annotated[TextItem | BoxItem | TableItem | ParagraphsItem, Field(discriminator="type")]]


class SeatListLayout(BaseModel):
    """The proctors' seat list (layouts/seat_list.json): a page per room (a long room goes on),
    its header lines, a table of (header, width, key) columns, the proctors' signature line."""

    model_config = ConfigDict(extra="forbid")
    name: str
    width: float
    height: float
    margin: float = Field(gt=0)
    title: str                        # {year} is the exam year
    title_size: float = Field(gt=0, le=36)
    size: float = Field(gt=0, le=24)
    row_height: float = Field(gt=0)
    columns: list[tuple[str, float, str]]    # key "" is a column left empty (to sign in)
    signature: str

    @model_validator(mode="after")
    def _fits(self):
        if sum(w for _, w, _ in self.columns) > self.width - 2 * self.margin + 0.01:
            raise ValueError("the columns are wider than the page")
        return self


# --- events ------------------------------------------------------------------------------
class ViewersChanged(contracts.ViewersChanged):
    """Applicants' 准考证, 考核结果 or 电子证书 changed (issue 12, kit.db.track_viewers): the
    gateways drop what they kept of them."""

    EVENT_TYPE: ClassVar[str] = "documents.viewers_changed.v1"
    EXAMPLE: ClassVar[dict] = {"applicants": [[2026, "410102198503150012"]], "everyone": False}


class TicketIssued(Event):
    """A seat and a ticket number (准考证号) for an applicant (R-D1)."""

    EVENT_TYPE: ClassVar[str] = "documents.ticket_issued.v1"
    EXAMPLE: ClassVar[dict] = {"application_id": "5f0c1d2e3a4b5c6d7e8f901234567890", "year": 2026,
                               "id_number": "410102198503120014", "ticket_no": "260101041001",
                               "issued_at": "2026-05-20T09:00:00+08:00"}
    application_id: str
    year: int
    id_number: str
    ticket_no: str
    issued_at: datetime


class ResultsPublished(Event):
    """An applicant's result as it now stands (合格 computed from the scores and the year's
    lines): after a score import, a correction, or new pass lines. ``revision`` orders them."""

    EVENT_TYPE: ClassVar[str] = "documents.results_published.v1"
    EXAMPLE: ClassVar[dict] = {"application_id": "5f0c1d2e3a4b5c6d7e8f901234567890", "year": 2026,
                               "id_number": "410102198503120014", "result": "pass", "revision": 1}
    application_id: str
    year: int
    id_number: str
    result: Literal["pass", "fail"]
    revision: int


class CertificateIssued(Event):
    """An electronic certificate exists, with its verification code (R-D5)."""

    EVENT_TYPE: ClassVar[str] = "documents.certificate_issued.v1"
    EXAMPLE: ClassVar[dict] = {"application_id": "5f0c1d2e3a4b5c6d7e8f901234567890", "year": 2026,
                               "id_number": "410102198503120014", "verification_code": "K7Q2M9X4T8P3W6R5",
                               "issued_at": "2026-08-01T09:00:00+08:00"}
    application_id: str
    year: int
    id_number: str
    verification_code: str
    issued_at: datetime


class ActionAudited(contracts.ActionAudited):
    EVENT_TYPE: ClassVar[str] = "documents.action_audited.v1"
    EXAMPLE: ClassVar[dict] = contracts.AUDIT_EXAMPLE


# --- what documents reads of others' events ------------------------------------------------
class SubmittedView(EventView):
    """What the ticket shows of the applicant, as submitted (the 2-inch photo by reference)."""

    EVENT_TYPE: ClassVar[str] = "application.submitted.v1"
    application_id: str
    year: int
    id_number: str
    name: str
    gender: str
    target_grade: int
    target_trade: str | None
    target_trade_name: str | None = None
    city_code: str
    round: int
    form: dict[str, Any]


class FinallyApprovedView(EventView):
    EVENT_TYPE: ClassVar[str] = "review.finally_approved.v1"
    application_id: str
    round: int
    at: datetime


class FeePaidView(EventView):
    EVENT_TYPE: ClassVar[str] = "payment.fee_paid.v1"
    application_id: str
    paid_at: datetime


class FeesSetView(EventView):
    EVENT_TYPE: ClassVar[str] = "payment.fees_set.v1"
    year: int
    online_payment_cities: list[str]
    updated_at: datetime


class DeletedView(EventView):
    EVENT_TYPE: ClassVar[str] = "application.deleted.v1"
    application_id: str


class YearUpdatedView(contracts.YearUpdatedView):
    """Documents keeps the calendar: the ticket printing switch."""

    EVENT_TYPE: ClassVar[str] = "identity.year_updated.v1"
