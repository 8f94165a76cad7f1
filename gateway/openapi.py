"""The OpenAPI description served at /api/v1/openapi.json (R-P5). Request bodies come from
the services' own pydantic schemas, so the description cannot drift from the contract."""
from __future__ import annotations

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
    ("post", "/api/v1/sms-codes", "获取短信验证码（purpose: register | delete_self）", "applicant", None,
     "SmsCodeRequest", "201"),
    ("post", "/api/v1/registrations", "注册（multipart，文件字段 id_card_photo）", "applicant", None,
     "RegistrationForm", "201"),
    ("post", "/api/v1/sessions", "报考人员登录", "applicant", None, "Login", "201"),
    ("delete", "/api/v1/sessions/current", "退出登录", "applicant", "session", None, "204"),
    ("get", "/api/v1/me", "本人账号及各步骤进度", "applicant", "session", None, "200"),
    ("delete", "/api/v1/me", "删除本人信息（需 delete_self 验证码）", "applicant", "session", "SmsCode", "204"),
    ("put", "/api/v1/me/password", "修改密码", "applicant", "session", "PasswordChange", "200"),
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
