"""One table from refusals to HTTP: the JSON error shape of API.md for the API, a Chinese
page for the browser. Never a stack trace."""
from __future__ import annotations

import logging

import falcon
from nameko.exceptions import RemoteError

from kit.errors import ServiceError

from .rpc import ServiceUnavailable

log = logging.getLogger(__name__)

STATUS = {
    400: falcon.HTTP_400, 401: falcon.HTTP_401, 403: falcon.HTTP_403, 404: falcon.HTTP_404,
    405: falcon.HTTP_405, 409: falcon.HTTP_409, 413: falcon.HTTP_413, 415: falcon.HTTP_415,
    422: falcon.HTTP_422, 423: falcon.HTTP_423, 429: falcon.HTTP_429, 500: falcon.HTTP_500,
    503: falcon.HTTP_503,
}
BUSY = "系统繁忙，请稍后再试"
FALCON_MESSAGES = {
    400: ("invalid", "请求格式不正确"),
    401: ("unauthenticated", "请先登录"),
    403: ("forbidden", "无权进行此操作"),
    404: ("not_found", "页面或资源不存在"),
    405: ("method_not_allowed", "不支持该请求方式"),
    413: ("too_large", "上传内容过大"),
    415: ("unsupported_media_type", "不支持的内容类型"),
}


def is_api(req: falcon.Request) -> bool:
    return req.path.startswith("/api/") or req.path in ("/healthz", "/readyz", "/metrics")


def respond(req, resp, status: int, code: str, message: str, field=None, details=None, headers=None):
    resp.status = STATUS.get(status, falcon.code_to_http_status(status))
    for key, value in (headers or {}).items():
        resp.set_header(key, value)
    if is_api(req):
        body = {"code": code, "message": message, "field": field}
        if details is not None:
            body["details"] = details
        resp.media = {"error": body}
        return
    if status == 401:
        resp.status = falcon.HTTP_303
        target = "/admin/login" if req.path.startswith("/admin") else "/login"
        resp.set_header("Location", target)
        return
    if status == 403 and code == "must_change_password":
        resp.status = falcon.HTTP_303
        resp.set_header("Location", "/admin/password" if req.path.startswith("/admin") else "/password")
        return
    from .pages import render_error  # late: pages import this module

    resp.content_type = falcon.MEDIA_HTML
    resp.text = render_error(req, status, message)


def install(app: falcon.App) -> None:
    def service_error(req, resp, ex: ServiceError, params):
        headers = {}
        if ex.status == 429 and isinstance(ex.details, dict) and ex.details.get("retry_after"):
            headers["Retry-After"] = str(ex.details["retry_after"])
        respond(req, resp, ex.status, ex.code, ex.message, ex.field, ex.details, headers)

    def unavailable(req, resp, ex, params):
        log.warning("service unavailable on %s %s: %s", req.method, req.path, ex)
        respond(req, resp, 503, "service_unavailable", BUSY)

    def remote_crash(req, resp, ex: RemoteError, params):
        log.error("remote error on %s %s: %s", req.method, req.path, ex.exc_type)
        respond(req, resp, 500, "internal_error", "系统内部错误，请稍后再试或联系管理员")

    def http_error(req, resp, ex: falcon.HTTPError, params):
        status = ex.status_code
        code, message = FALCON_MESSAGES.get(status, ("error", ex.title or "请求有误"))
        if ex.description and any("\u4e00" <= ch <= "\u9fff" for ch in ex.description):
            message = ex.description
        respond(req, resp, status, code, message, headers=dict(ex.headers or {}))

    def crash(req, resp, ex: Exception, params):
        log.exception("unhandled error on %s %s", req.method, req.path)
        respond(req, resp, 500, "internal_error", "系统内部错误，请稍后再试或联系管理员")

    app.add_error_handler(Exception, crash)
    app.add_error_handler(falcon.HTTPError, http_error)
    app.add_error_handler(RemoteError, remote_crash)
    app.add_error_handler(ServiceUnavailable, unavailable)
    app.add_error_handler(ServiceError, service_error)
