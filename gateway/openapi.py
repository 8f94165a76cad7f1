"""The OpenAPI description served at /api/v1/openapi.json (R-P5). Request bodies, queries and
answers come from the services' own pydantic contracts, so the description cannot drift from
what the services check; a test holds the served routes against it."""
from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel

from services.application import schemas as application
from services.documents import schemas as documents
from services.identity import schemas as identity
from services.payment import schemas as payment
from services.review import schemas as review

ERROR = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["code", "message", "field"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                   "field": {"type": ["string", "null"]}, "details": {}}}}}
REGISTRATION_FIELDS = ("city_code", "declared_grade", "id_number", "birth_month", "name", "phone", "sms_code",
                       "password", "password_confirm", "agreed")
FILE_UPLOAD = {"type": "object", "required": ["file"],
               "properties": {"file": {"type": "string", "format": "binary"}}}
REGISTRATION_FORM = {"type": "object", "required": [*REGISTRATION_FIELDS, "id_card_photo"], "properties": {
    **{k: {"type": "string"} for k in REGISTRATION_FIELDS}, "id_card_photo": {"type": "string", "format": "binary"}}}
APPLICATION_FORM = {"type": "object", "additionalProperties": False, "properties": {
    "unit_id": {"type": ["string", "null"]},
    "education": {"type": ["string", "null"], "enum": [*application.EDUCATION_LEVELS, None]},
    "work_start": {"type": ["string", "null"], "pattern": "^\\d{4}-(0[1-9]|1[0-2])$"},
    "service_years": {"type": ["integer", "null"], "minimum": 0, "maximum": 80},
    "current_grade": {"type": ["integer", "null"], "enum": [0, 5, 4, 3, 2, 1, None]},
    "current_trade": {"type": ["string", "null"]},
    "grade_obtained_year": {"type": ["integer", "null"], "minimum": 1950, "maximum": 2100},
    "target_trade": {"type": ["string", "null"]},
    "route": {"type": ["string", "null"], "enum": [*application.ROUTES, None]},
    "exceptional": {"type": "boolean"}, "frontline": {"type": "boolean"},
    "exceptional_reason": {"type": "string", "maxLength": 2000}, "prohibited": {"type": ["boolean", "null"]},
    "pledge": {"type": "boolean"}}}
ELIGIBILITY_RULES = {"type": "object", "description": "min_age, max_age, min_years_before_work, years_required "
                     "{grade: years}, certificate_wait_years, grade2_* education, exceptional_waives_rules, "
                     "exceptional_reason_min_chars; what is left out keeps its value"}
CHOICES_QUERY = {"current_grade": {"type": "integer", "enum": [0, 5, 4, 3, 2, 1]}, "current_trade": {"type": "string"},
                 "route": {"type": "string", "enum": list(application.ROUTES)}, "target_trade": {"type": "string"},
                 "work_start": {"type": "string", "pattern": "^\\d{4}-(0[1-9]|1[0-2])$"}}
EXAM_SITES = {"type": "array", "maxItems": 500, "items": {"$ref": "#/components/schemas/SiteIn"}}
TIMETABLE = {"type": "object", "description": "per grade \"5\" … \"1\": one row for each of 职业道德、职业能力、岗位技能",
             "propertyNames": {"enum": ["5", "4", "3", "2", "1"]},
             "additionalProperties": {"type": "array", "items": {"$ref": "#/components/schemas/Sitting"}}}
PATH_PARAMS = {"year": {"type": "integer", "minimum": 2000, "maximum": 2100},
               "kind": {"type": "string"}, "application_id": {"type": "string"}, "id_number": {"type": "string"},
               "city_code": {"type": "string", "pattern": "^\\d{6}$"}, "order_no": {"type": "string"},
               "job_id": {"type": "string"}, "code": {"type": "string", "maxLength": 64}}

Body = type[BaseModel] | dict | None


@dataclass(frozen=True)
class Op:
    method: str
    path: str
    summary: str
    tag: str
    auth: bool = False
    body: Body = None
    multipart: bool = False
    query: type[BaseModel] | dict | None = None
    ok: str = "200"
    answer: Body = None
    form: bool = False                 # a form-encoded body (the platform's callback)
    sheet_too: bool = False            # the same may come as an Excel/CSV file (multipart)
    roles: tuple[str, ...] = ()        # administrators: the roles allowed (empty: every role)
    extra: dict = field(default_factory=dict)

    @property
    def access(self) -> dict:
        """Who may call it (``x-access``): anyone, a logged-in applicant, or administrators of
        these roles. Services check again, and check the scope of the record."""
        if not self.auth:
            return {"who": "anyone"}
        if self.tag == A:
            return {"who": "applicant"}
        return {"who": "admin", "roles": list(self.roles or ALL_ROLES)}


A, ADMIN = "applicant", "admin"
ALL_ROLES = ("province", "city", "county", "supervisor")
PROVINCE, PROVINCE_CITY, ACCOUNTS = ("province",), ("province", "city"), ("province", "city", "county")
OPERATIONS: tuple[Op, ...] = (
    Op("get", "/healthz", "网关存活检查", "health"),
    Op("get", "/readyz", "各服务就绪检查（503 时列出未响应的服务）", "health"),
    Op("get", "/api/v1/openapi.json", "本接口说明（OpenAPI）", "health"),
    Op("get", "/api/v1/years/current", "本年度时间安排", "public"),
    Op("get", "/api/v1/cities", "省辖市、直辖区（含省直 410000）", "public", answer={
        "type": "array", "items": {"$ref": "#/components/schemas/CityOut"}}),
    Op("get", "/api/v1/units", "单位及其主管单位", "public", query={"city_code": {"type": "string"}},
       answer={"type": "array", "items": {"$ref": "#/components/schemas/UnitOut"}}),
    Op("get", "/api/v1/trades", "工种目录（含新旧工种对应）", "public", answer={
        "type": "array", "items": {"$ref": "#/components/schemas/TradeOut"}}),
    Op("get", "/api/v1/contacts", "咨询电话（工考中心及各县区）", "public", answer=application.ContactsOut),
    Op("get", "/api/v1/photo-spec", "2寸照片规格（照片审核工具与上传共用）", "public"),
    Op("post", "/api/v1/sms-codes", "获取短信验证码（注册、删除本人信息、解除登录锁定）", A, body=identity.SmsCodeRequest, ok="201",
       answer=identity.SmsSent),
    Op("post", "/api/v1/registrations", "注册（multipart，文件字段 id_card_photo）", A, body=REGISTRATION_FORM,
       multipart=True, ok="201"),
    Op("post", "/api/v1/sessions", "报考人员登录", A, body=identity.Login, ok="201", answer=identity.SessionOut),
    Op("delete", "/api/v1/sessions/current", "退出登录（结束本会话）", A, ok="204"),
    Op("post", "/api/v1/sessions/unlock", "凭注册手机短信验证码解除账号登录锁定", A, body=identity.Unlock, ok="204"),
    Op("get", "/api/v1/me", "本人账号、各步骤进度及消息通知（notices：最近的通知短信，新的在前）", A, auth=True),
    Op("delete", "/api/v1/me", "删除本人信息（需 delete_self 验证码）", A, auth=True, body=identity.DeleteSelf,
       ok="204"),
    Op("put", "/api/v1/me/password", "修改密码", A, auth=True, body=identity.PasswordChange),
    Op("get", "/api/v1/me/application", "报名信息（注册后即存在，预填注册信息）", A, auth=True),
    Op("put", "/api/v1/me/application", "保存报名信息（未提交的字段保持原值）", A, auth=True, body=APPLICATION_FORM),
    Op("get", "/api/v1/me/application/eligibility", "申报条件检查（逐条列出）", A, auth=True),
    Op("get", "/api/v1/me/application/choices", "当前选择下可选的申报途径、申报岗位工种、工作年限上限和须上传的资料", A,
       auth=True, query=CHOICES_QUERY, answer=application.Choices),
    Op("post", "/api/v1/me/application/submit", "提交报名信息（422 列出所有未满足的条件）", A, auth=True),
    Op("put", "/api/v1/me/application/files/{kind}", "上传资料（JPG/PNG，≤5MB）", A, auth=True, body=FILE_UPLOAD,
       multipart=True),
    Op("get", "/api/v1/me/application/files/{kind}", "查看本人上传的资料（图片流）", A, auth=True),
    Op("post", "/api/v1/me/application/files/personal_photo/stamp", "添加身份证号", A, auth=True),
    Op("get", "/api/v1/me/review", "审核结果：状态、各级审核步骤、联系电话", A, auth=True),
    Op("get", "/api/v1/me/payment", "网上缴费：是否开通、状态、金额、开放时间、收据名称、订单", A, auth=True,
       answer=payment.MyPayment),
    Op("post", "/api/v1/me/payment/orders", "确认缴费：生成缴费订单，返回支付地址", A, auth=True, body=payment.NewOrder,
       ok="201", answer=payment.OrderCreated),
    Op("post", "/api/v1/me/payment/orders/{order_no}/cancel", "取消待支付的订单", A, auth=True,
       answer=payment.OrderOut),
    Op("post", "/api/v1/callbacks/nontax", "非税平台支付结果回调（表单，签名校验；应答 success）", "platform",
       body={"type": "object", "properties": {k: {"type": "string"} for k in (
           "order_no", "payment_notice_no", "amount_fen", "status", "paid_at", "nonce", "timestamp", "sign_type",
           "sign")}}, form=True),
    Op("post", "/api/v1/admin/sessions", "管理员登录", ADMIN, body=identity.AdminLogin, ok="201",
       answer=identity.SessionOut),
    Op("delete", "/api/v1/admin/sessions/current", "管理员退出登录（结束本会话）", ADMIN, ok="204"),
    Op("get", "/api/v1/admin/me", "当前管理员", ADMIN, auth=True),
    Op("put", "/api/v1/admin/me/password", "管理员修改密码", ADMIN, auth=True, body=identity.PasswordChange),
    Op("get", "/api/v1/admin/admins", "管理员列表（本人范围内）", ADMIN, auth=True, roles=PROVINCE_CITY),
    Op("post", "/api/v1/admin/admins", "创建管理员", ADMIN, auth=True, body=identity.AdminCreate, ok="201", roles=PROVINCE_CITY),
    Op("put", "/api/v1/admin/roster", "导入社保人员名单（CSV: id_number,name）", ADMIN, auth=True, body=FILE_UPLOAD,
       multipart=True, roles=PROVINCE_CITY),
    Op("get", "/api/v1/admin/accounts/{id_number}", "查询本年度报考人员账号", ADMIN, auth=True, roles=ACCOUNTS),
    Op("delete", "/api/v1/admin/accounts/{id_number}", "删除报考人员账号", ADMIN, auth=True, ok="204", roles=ACCOUNTS),
    Op("post", "/api/v1/admin/accounts/{id_number}/password-reset", "重置密码为 123", ADMIN, auth=True, roles=ACCOUNTS),
    Op("post", "/api/v1/admin/supplementary-registrations", "补报", ADMIN, auth=True, body=identity.Supplementary,
       ok="201", roles=PROVINCE_CITY),
    Op("get", "/api/v1/admin/years/{year}", "年度时间安排", ADMIN, auth=True),
    Op("put", "/api/v1/admin/years/{year}", "设置年度时间安排与开关（省级）", ADMIN, auth=True, body=identity.YearUpdate, roles=PROVINCE),
    Op("get", "/api/v1/admin/years/{year}/fees", "年度考核费用及网上缴费地市", ADMIN, auth=True, answer=payment.Fees),
    Op("put", "/api/v1/admin/years/{year}/fees", "设置考核费用及网上缴费地市（省级）", ADMIN, auth=True,
       body=payment.FeesUpdate, answer=payment.Fees, roles=PROVINCE),
    Op("get", "/api/v1/admin/years/{year}/eligibility-rules", "年度申报条件", ADMIN, auth=True),
    Op("put", "/api/v1/admin/years/{year}/eligibility-rules", "设置年度申报条件（省级）", ADMIN, auth=True,
       body=ELIGIBILITY_RULES, roles=PROVINCE),
    Op("get", "/api/v1/admin/audit", "操作日志（按操作人、操作、日期、省辖市筛选；省级看全部，其他管理员看本人的）", ADMIN,
       auth=True, query=identity.AuditFilters, answer=identity.AuditPage),
    Op("get", "/api/v1/admin/audit.xlsx", "操作日志导出（Excel，与列表相同的筛选；省级）", ADMIN, auth=True,
       query=identity.AuditQuery, roles=PROVINCE),
    Op("get", "/api/v1/admin/applications/{application_id}/files/{kind}", "查看已提交至本级的报考人员资料（图片流）",
       ADMIN, auth=True),
    Op("put", "/api/v1/admin/trades", "导入或修改工种目录（CSV，省级）", ADMIN, auth=True, body=FILE_UPLOAD,
       multipart=True, answer=application.ImportReport, roles=PROVINCE),
    Op("put", "/api/v1/admin/units", "导入单位及主管单位（CSV，省级）", ADMIN, auth=True, body=FILE_UPLOAD,
       multipart=True, answer=application.ImportReport, roles=PROVINCE),
    Op("put", "/api/v1/admin/contacts", "设置各县区咨询电话（省级；电话为空即删除）", ADMIN, auth=True,
       body=application.ContactsUpdate, answer=application.ContactsOut, roles=PROVINCE),
    Op("get", "/api/v1/admin/reviews", "本级审核队列（筛选、分页在数据库中完成）", ADMIN, auth=True,
       query=review.QueueFilters, answer=review.QueuePage),
    Op("get", "/api/v1/admin/reviews.xlsx", "本级审核队列导出（Excel，与列表相同的筛选，全部符合条件的记录）", ADMIN, auth=True,
       query=review.QueueQuery),
    Op("post", "/api/v1/admin/reviews/decisions", "批量审核（逐条处理）", ADMIN, auth=True, body=review.BatchDecision),
    Op("get", "/api/v1/admin/reviews/{application_id}", "审核详情：提交的报名信息、资料、审核历史", ADMIN, auth=True),
    Op("post", "/api/v1/admin/reviews/{application_id}/decisions", "审核：通过、退回、审核不通过、重新退回", ADMIN,
       auth=True, body=review.Decision),
    Op("put", "/api/v1/admin/reviews/{application_id}/files/{kind}", "上传一级审核材料（工资审核表、考核优秀材料）", ADMIN,
       auth=True, body=FILE_UPLOAD, multipart=True),
    Op("get", "/api/v1/admin/reviews/{application_id}/files/{kind}", "查看一级审核材料（图片流）", ADMIN, auth=True),
    Op("get", "/api/v1/admin/payments", "缴费情况（按状态、地市、等级筛选，含合计）；Accept 为 xlsx 时导出", ADMIN,
       auth=True, roles=PROVINCE_CITY, query=payment.PaymentsQuery, answer=payment.PaymentsPage),
    Op("get", "/api/v1/admin/payments.xlsx", "缴费情况导出（Excel）", ADMIN, auth=True, roles=PROVINCE_CITY,
       query=payment.PaymentsQuery),
    Op("post", "/api/v1/admin/payments/offline", "登记线下缴费（未开通网上缴费的地市）", ADMIN, auth=True,
       roles=PROVINCE_CITY, body=payment.OfflinePayment, ok="201", answer=payment.PaymentItem),
    Op("post", "/api/v1/admin/payments/reconcile", "立即对账（省级）", ADMIN, auth=True, roles=PROVINCE,
       answer=payment.ReconcileResult),
    Op("get", "/api/v1/admin/payments/mismatches", "差错款项：取消或过期后到账、重复缴费", ADMIN, auth=True,
       roles=PROVINCE_CITY, answer=payment.Mismatches),
    Op("get", "/api/v1/me/ticket", "准考证（是否可打印及原因、考场、考试时间）", A, auth=True, answer=documents.Ticket),
    Op("get", "/api/v1/me/ticket.pdf", "下载准考证（PDF；未开通或未安排考场 409 not_open，考试结束后 409 exam_over）", A,
       auth=True),
    Op("get", "/api/v1/me/result", "考核结果（仅在考核结果查询时间内；不合格时含各科成绩与合格线）", A, auth=True,
       answer=documents.Result),
    Op("get", "/api/v1/me/certificate", "电子证书（考核合格且已开通电子证书打印；否则 409 not_open）", A, auth=True,
       answer=documents.CertificateOut),
    Op("get", "/api/v1/me/certificate.pdf", "下载电子证书（PDF；否则 409 not_open）", A, auth=True),
    Op("get", "/api/v1/certificates/{code}", "公开核验电子证书（信息已遮挡；未知验证码 404；按来源限流）", "public",
       answer=documents.CertificateCheck),
    Op("get", "/api/v1/admin/years/{year}/pass-lines", "年度合格线（各科及总成绩）", ADMIN, auth=True,
       answer=documents.PassLines),
    Op("put", "/api/v1/admin/years/{year}/pass-lines", "设置年度合格线（省级）", ADMIN, auth=True, body=documents.PassLines,
       answer=documents.PassLines, roles=PROVINCE),
    Op("put", "/api/v1/admin/scores", "导入成绩（CSV 或 Excel：ticket_no、职业道德、职业能力、岗位技能；省级）", ADMIN,
       auth=True, body=FILE_UPLOAD, multipart=True, answer=documents.ScoreImportReport, roles=PROVINCE),
    Op("put", "/api/v1/admin/assessment-history", "导入历年考核记录（CSV 或 Excel；省级）", ADMIN, auth=True,
       body=FILE_UPLOAD, multipart=True, answer=documents.HistoryImportReport, roles=PROVINCE),
    Op("get", "/api/v1/admin/years/{year}/results", "考核结果统计（按省辖市、等级或工种；Accept 为 xlsx 时导出）", ADMIN,
       auth=True, roles=PROVINCE_CITY, query=documents.ResultsQuery, answer=documents.ResultsStats),
    Op("get", "/api/v1/admin/years/{year}/results.xlsx", "考核结果统计导出（Excel）", ADMIN, auth=True,
       roles=PROVINCE_CITY, query=documents.ResultsQuery),
    Op("get", "/api/v1/admin/years/{year}/scores.xlsx", "考核成绩名单导出（Excel，每名考生一行，含各科成绩与是否合格；本人范围内）",
       ADMIN, auth=True, roles=PROVINCE_CITY, query=documents.ScoresQuery),
    Op("get", "/api/v1/admin/years/{year}/exam-sites", "考点与考场（含已安排人数）", ADMIN, auth=True),
    Op("put", "/api/v1/admin/years/{year}/exam-sites", "设置考点与考场（整体替换；也可上传 Excel/CSV，每行一个考场；省级）",
       ADMIN, auth=True, body=EXAM_SITES, sheet_too=True, roles=PROVINCE),
    Op("get", "/api/v1/admin/years/{year}/timetable", "各等级考试时间", ADMIN, auth=True),
    Op("put", "/api/v1/admin/years/{year}/timetable", "设置各等级考试时间（也可上传 Excel/CSV；省级）", ADMIN, auth=True,
       body=TIMETABLE, sheet_too=True, roles=PROVINCE),
    Op("get", "/api/v1/admin/years/{year}/seat-assignments", "考场安排：已安排、待安排（及原因）、不符合条件", ADMIN,
       auth=True, roles=PROVINCE_CITY, query=documents.SeatsQuery),
    Op("post", "/api/v1/admin/years/{year}/seat-assignments", "安排考场座位（不移动已安排人员；省级）", ADMIN, auth=True,
       body=documents.SeatAssignment, answer=documents.AssignmentResult, roles=PROVINCE),
    Op("get", "/api/v1/admin/years/{year}/seat-lists.xlsx", "考场座次表导出（Excel，每个考场一个工作表；本人范围内）", ADMIN,
       auth=True, roles=PROVINCE_CITY, query=documents.SeatListQuery),
    Op("get", "/api/v1/admin/years/{year}/seat-lists.pdf", "打印考场座次表（PDF，每个考场一页，含监考签名栏；"
       f"超过{documents.SEAT_LIST_PDF_MAX_ROOMS}个考场时 409 too_many_rooms）", ADMIN, auth=True, roles=PROVINCE_CITY,
       query=documents.SeatListQuery),
    Op("get", "/api/v1/admin/years/{year}/seat-lists.zip", "考场座次表压缩包（每个考点一个 PDF，边生成边下载）", ADMIN,
       auth=True, roles=PROVINCE_CITY, query=documents.SeatListQuery),
    Op("get", "/api/v1/admin/ticket-checks/{code}", "核验准考证二维码", ADMIN, auth=True, answer=documents.TicketCheck),
    Op("post", "/api/v1/admin/document-jobs", "批量生成准考证（后台任务；省级）", ADMIN, auth=True, body=documents.NewJob,
       ok="202", answer=documents.JobOut, roles=PROVINCE),
    Op("get", "/api/v1/admin/document-jobs/{job_id}", "批量任务进度", ADMIN, auth=True, answer=documents.JobOut,
       roles=PROVINCE),
    Op("get", "/api/v1/admin/document-jobs/{job_id}/archive.zip", "下载批量任务结果（ZIP）", ADMIN, auth=True,
       roles=PROVINCE),
    Op("get", "/api/v1/admin/statistics", "报名统计（本人管理范围；按省辖市、县区、主管单位、单位、等级或工种；含历年趋势）",
       ADMIN, auth=True, query=application.StatisticsQuery, answer=application.Statistics),
    Op("get", "/api/v1/admin/statistics.xlsx", "报名统计导出（Excel，与页面数字一致）", ADMIN, auth=True,
       query=application.StatisticsQuery),
    Op("get", "/api/v1/admin/applications.xlsx", "报名信息导出（Excel，本人管理范围，每人一行；身份证号、手机号已遮挡）",
       ADMIN, auth=True, query=application.ApplicationsQuery),
    Op("get", "/api/v1/admin/review-chains/{city_code}", "省辖市的审核流程", ADMIN, auth=True),
    Op("put", "/api/v1/admin/review-chains/{city_code}", "设置省辖市的审核流程（省级）", ADMIN, auth=True,
       body=review.ChainSet, roles=PROVINCE),
)


class _Components:
    """Schemas of the contracts, each once under components, referenced by name."""

    def __init__(self):
        self.schemas: dict[str, dict] = {"Error": ERROR}

    def model(self, model: type[BaseModel]) -> dict:
        if model.__name__ not in self.schemas:
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, sub in schema.pop("$defs", {}).items():
                self.schemas.setdefault(name, sub)
            self.schemas[model.__name__] = schema
        return {"$ref": f"#/components/schemas/{model.__name__}"}

    def any(self, value: Body) -> dict:
        if isinstance(value, type) and issubclass(value, BaseModel):
            return self.model(value)
        return value or {}


def _query_params(query, components: _Components) -> list[dict]:
    if query is None:
        return []
    if isinstance(query, type) and issubclass(query, BaseModel):
        schema = query.model_json_schema(ref_template="#/components/schemas/{model}")
        props, required = schema.get("properties", {}), set(schema.get("required", ()))
    else:
        props, required = query, set()
    return [{"name": name, "in": "query", "required": name in required, "schema": sub}
            for name, sub in props.items()]


def build() -> dict:
    components = _Components()
    for model in (application.CityOut, application.UnitOut, application.TradeOut, documents.SiteIn,
                  documents.Sitting):
        components.model(model)
    paths: dict = {}
    for op in OPERATIONS:
        ok: dict = {"description": "成功"}
        if op.answer is not None:
            ok["content"] = {"application/json": {"schema": components.any(op.answer)}}
        operation: dict = {"summary": op.summary, "tags": [op.tag], "operationId": f"{op.method}:{op.path}",
                           "responses": {op.ok: ok, "default": {"description": "错误（统一的错误格式）", "content": {
                               "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}}
        operation["x-access"] = op.access
        if op.auth:
            operation["security"] = [{"bearer": []}, {"cookie": []}]
        if op.body is not None:
            media = "multipart/form-data" if op.multipart else (
                "application/x-www-form-urlencoded" if op.form else "application/json")
            operation["requestBody"] = {"required": True, "content": {media: {"schema": components.any(op.body)}}}
            if op.sheet_too:
                operation["requestBody"]["content"]["multipart/form-data"] = {"schema": FILE_UPLOAD}
        params = [{"name": seg[1:-1], "in": "path", "required": True, "schema": PATH_PARAMS[seg[1:-1]]}
                  for seg in op.path.split("/") if seg.startswith("{")]
        params += _query_params(op.query, components)
        if params:
            operation["parameters"] = params
        paths.setdefault(op.path, {})[op.method] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "河南省机关事业单位工勤技能岗位等级考核网上报名系统 API", "version": "1"},
        "paths": paths,
        "components": {"schemas": components.schemas, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "cookie": {"type": "apiKey", "in": "cookie", "name": "gk_session"}}},
    }


class OpenApi:
    _spec: dict | None = None

    def on_get(self, req, resp):
        if OpenApi._spec is None:
            OpenApi._spec = build()
        resp.media = OpenApi._spec
