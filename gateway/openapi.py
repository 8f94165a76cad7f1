"""The OpenAPI description served at /api/v1/openapi.json (R-P5). Request bodies come from
the services' own pydantic schemas, so the description cannot drift from the contract."""
from __future__ import annotations

from services.application.schemas import EDUCATION_LEVELS
from services.identity.schemas import AdminCreate, Supplementary, YearUpdate

ERROR = {"type": "object", "properties": {"error": {"type": "object", "required": ["code", "message", "field"],
         "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                        "field": {"type": ["string", "null"]}, "details": {}}}}}

# (method, path, summary, tag, auth, request schema name or None, success status)
ROUTES = [
    ("get", "/healthz", "网关存活检查", "health", None, None, "200"),
    ("get", "/readyz", "各服务就绪检查（503 时列出未响应的服务）", "health", None, None, "200"),
    ("get", "/api/v1/years/current", "本年度时间安排", "public", None, None, "200"),
    ("get", "/api/v1/cities", "省辖市、直辖区（含省直 410000）", "public", None, None, "200"),
    ("get", "/api/v1/units", "单位及其主管单位（query: city_code）", "public", None, None, "200"),
    ("get", "/api/v1/trades", "工种目录（含新旧工种对应）", "public", None, None, "200"),
    ("get", "/api/v1/contacts", "咨询电话（工考中心及各县区）", "public", None, None, "200"),
    ("get", "/api/v1/photo-spec", "2寸照片规格（照片审核工具与上传共用）", "public", None, None, "200"),
    ("post", "/api/v1/sms-codes", "获取短信验证码（purpose: register | delete_self）", "applicant", None,
     "SmsCodeRequest", "201"),
    ("post", "/api/v1/registrations", "注册（multipart，文件字段 id_card_photo）", "applicant", None,
     "RegistrationForm", "201"),
    ("post", "/api/v1/sessions", "报考人员登录", "applicant", None, "Login", "201"),
    ("delete", "/api/v1/sessions/current", "退出登录", "applicant", "session", None, "204"),
    ("get", "/api/v1/me", "本人账号及各步骤进度", "applicant", "session", None, "200"),
    ("delete", "/api/v1/me", "删除本人信息（需 delete_self 验证码）", "applicant", "session", "SmsCode", "204"),
    ("put", "/api/v1/me/password", "修改密码", "applicant", "session", "PasswordChange", "200"),
    ("get", "/api/v1/me/application", "报名信息（注册后即存在，预填注册信息）", "applicant", "session", None, "200"),
    ("put", "/api/v1/me/application", "保存报名信息（未提交的字段保持原值）", "applicant", "session", "ApplicationForm",
     "200"),
    ("get", "/api/v1/me/application/eligibility", "申报条件检查（逐条列出）", "applicant", "session", None, "200"),
    ("post", "/api/v1/me/application/submit", "提交报名信息（422 列出所有未满足的条件）", "applicant", "session", None,
     "200"),
    ("put", "/api/v1/me/application/files/{kind}", "上传资料（JPG/PNG，≤5MB）", "applicant", "session", "FileUpload",
     "200"),
    ("get", "/api/v1/me/application/files/{kind}", "查看本人上传的资料", "applicant", "session", None, "200"),
    ("post", "/api/v1/me/application/files/personal_photo/stamp", "添加身份证号", "applicant", "session", None,
     "200"),
    ("post", "/api/v1/admin/sessions", "管理员登录", "admin", None, "AdminLogin", "201"),
    ("delete", "/api/v1/admin/sessions/current", "管理员退出登录", "admin", "session", None, "204"),
    ("get", "/api/v1/admin/me", "当前管理员", "admin", "session", None, "200"),
    ("put", "/api/v1/admin/me/password", "管理员修改密码", "admin", "session", "PasswordChange", "200"),
    ("get", "/api/v1/admin/admins", "管理员列表（本人范围内）", "admin", "session", None, "200"),
    ("post", "/api/v1/admin/admins", "创建管理员", "admin", "session", "AdminCreate", "201"),
    ("put", "/api/v1/admin/roster", "导入社保人员名单（multipart CSV: id_number,name）", "admin", "session",
     "FileUpload", "200"),
    ("get", "/api/v1/admin/accounts/{id_number}", "查询本年度报考人员账号", "admin", "session", None, "200"),
    ("delete", "/api/v1/admin/accounts/{id_number}", "删除报考人员账号", "admin", "session", None, "204"),
    ("post", "/api/v1/admin/accounts/{id_number}/password-reset", "重置密码为 123", "admin", "session", None,
     "200"),
    ("post", "/api/v1/admin/supplementary-registrations", "补报", "admin", "session", "Supplementary", "201"),
    ("get", "/api/v1/admin/years/{year}", "年度时间安排", "admin", "session", None, "200"),
    ("put", "/api/v1/admin/years/{year}", "设置年度时间安排与开关（省级）", "admin", "session", "YearUpdate", "200"),
    ("get", "/api/v1/admin/audit", "操作日志", "admin", "session", None, "200"),
    ("get", "/api/v1/admin/applications/{application_id}/files/{kind}", "查看管辖范围内报考人员的资料", "admin",
     "session", None, "200"),
    ("put", "/api/v1/admin/trades", "导入或修改工种目录（CSV，省级）", "admin", "session", "FileUpload", "200"),
    ("put", "/api/v1/admin/units", "导入单位及主管单位（CSV，省级）", "admin", "session", "FileUpload", "200"),
    ("put", "/api/v1/admin/contacts", "设置各县区咨询电话（省级）", "admin", "session", "Contacts", "200"),
    ("get", "/api/v1/admin/years/{year}/eligibility-rules", "年度申报条件", "admin", "session", None, "200"),
    ("put", "/api/v1/admin/years/{year}/eligibility-rules", "设置年度申报条件（省级）", "admin", "session",
     "EligibilityRules", "200"),
]


def _obj(**props) -> dict:
    return {"type": "object", "properties": {k: {"type": v} for k, v in props.items()}}


def build() -> dict:
    schemas = {
        "Error": ERROR,
        "SmsCodeRequest": _obj(phone="string", purpose="string"),
        "Login": _obj(id_number="string", password="string"),
        "AdminLogin": _obj(username="string", password="string"),
        "PasswordChange": _obj(old_password="string", new_password="string"),
        "SmsCode": _obj(sms_code="string"),
        "FileUpload": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}},
        "RegistrationForm": {"type": "object", "properties": {
            **{k: {"type": "string"} for k in ("city_code", "declared_grade", "id_number", "birth_month", "name",
                                               "phone", "sms_code", "password", "password_confirm", "agreed")},
            "id_card_photo": {"type": "string", "format": "binary"}}},
        "AdminCreate": AdminCreate.model_json_schema(),
        "ApplicationForm": {"type": "object", "properties": {
            "unit_id": {"type": ["string", "null"]},
            "education": {"type": ["string", "null"], "enum": [*EDUCATION_LEVELS, None]},
            "work_start": {"type": ["string", "null"], "pattern": "^\\d{4}-\\d{2}$"},
            "service_years": {"type": ["integer", "null"]},
            "current_grade": {"type": ["integer", "null"], "enum": [0, 5, 4, 3, 2, 1, None]},
            "current_trade": {"type": ["string", "null"]}, "grade_obtained_year": {"type": ["integer", "null"]},
            "target_trade": {"type": ["string", "null"]},
            "route": {"type": ["string", "null"], "enum": ["years", "certificate", None]},
            "exceptional": {"type": "boolean"}, "frontline": {"type": "boolean"},
            "exceptional_reason": {"type": "string"}, "prohibited": {"type": ["boolean", "null"]},
            "pledge": {"type": "boolean"}}},
        "Contacts": {"type": "object", "properties": {"counties": {"type": "array", "items": _obj(
            county_code="string", phone="string")}}},
        "EligibilityRules": {"type": "object", "description": "min_age, max_age, min_years_before_work, "
                             "years_required {grade: years}, certificate_wait_years, grade2_* education, "
                             "exceptional_waives_rules, exceptional_reason_min_chars"},
        "Supplementary": Supplementary.model_json_schema(),
        "YearUpdate": YearUpdate.model_json_schema(ref_template="#/components/schemas/{model}"),
    }
    for name, sub in list(schemas["YearUpdate"].pop("$defs", {}).items()):
        schemas[name] = sub
    paths: dict = {}
    for method, path, summary, tag, security, body, ok in ROUTES:
        op: dict = {"summary": summary, "tags": [tag],
                    "responses": {ok: {"description": "成功"},
                                  "default": {"description": "错误",
                                              "content": {"application/json": {
                                                  "schema": {"$ref": "#/components/schemas/Error"}}}}}}
        if security:
            op["security"] = [{"bearer": []}, {"cookie": []}]
        if body:
            media = "multipart/form-data" if body in ("RegistrationForm", "FileUpload") else "application/json"
            op["requestBody"] = {"required": True, "content": {media: {"schema": {
                "$ref": f"#/components/schemas/{body}"}}}}
        params = [seg[1:-1] for seg in path.split("/") if seg.startswith("{")]
        if params:
            op["parameters"] = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                                for p in params]
        paths.setdefault(path, {})[method] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "河南省机关事业单位工勤技能岗位等级考核网上报名系统 API", "version": "1"},
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "cookie": {"type": "apiKey", "in": "cookie", "name": "gk_session"}}},
    }


class OpenApi:
    _spec: dict | None = None

    def on_get(self, req, resp):
        if OpenApi._spec is None:
            OpenApi._spec = build()
        resp.media = OpenApi._spec
