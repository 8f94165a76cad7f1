"""Sessions (HttpOnly cookie or Bearer token) and CSRF protection.

The principal comes from identity, kept for a minute per process (gateway.sessions) and
forgotten the moment identity says it changed; services still check it against what it
touches.
CSRF: a request that authenticates with the session cookie and changes something must
carry the double-submit token (header ``X-CSRF-Token`` or form field ``csrf_token``)."""
from __future__ import annotations

import hmac
import secrets

import falcon

from kit import access
from kit.config import settings
from kit.errors import Forbidden

SESSION_COOKIE = "gk_session"
CSRF_COOKIE = "gk_csrf"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# What an account that must change its password may still do (R-I8).
MUST_CHANGE_ALLOWED = {
    ("PUT", "/api/v1/me/password"), ("PUT", "/api/v1/admin/me/password"),
    ("DELETE", "/api/v1/sessions/current"), ("DELETE", "/api/v1/admin/sessions/current"),
    ("GET", "/api/v1/me"), ("GET", "/api/v1/admin/me"),
    ("GET", "/password"), ("GET", "/admin/password"), ("GET", "/logout"), ("GET", "/admin/logout"),
}
CSRF_EXEMPT = {"/api/v1/callbacks/nontax"}
FORM_MAX_BYTES = 64 * 1024


def bearer(req: falcon.Request) -> str | None:
    header = req.get_header("Authorization") or ""
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return None


def token_of(req: falcon.Request) -> str | None:
    return bearer(req) or req.get_cookie_values(SESSION_COOKIE) and req.get_cookie_values(SESSION_COOKIE)[0]


def set_session_cookie(resp: falcon.Response, token: str) -> None:
    resp.set_cookie(SESSION_COOKIE, token, http_only=True, secure=settings().cookie_secure,
                    same_site="Lax", path="/")


def clear_session_cookie(resp: falcon.Response) -> None:
    resp.unset_cookie(SESSION_COOKIE, path="/")


def csrf_token(req: falcon.Request) -> str:
    return req.context.csrf


def _form_token(req: falcon.Request) -> str:
    """The token of a plain HTML form (``csrf_token``), for a page that works without script
    (退出, 考场安排). Only urlencoded forms are read here, up to ``FORM_MAX_BYTES`` (a 考点 with
    its rooms); Falcon keeps what it parsed for the resource."""
    if not (req.content_type or "").startswith(falcon.MEDIA_URLENCODED) or (req.content_length or 0) > FORM_MAX_BYTES:
        return ""
    try:
        form = req.get_media()
    except falcon.HTTPError:
        return ""
    value = form.get("csrf_token") if isinstance(form, dict) else None
    return value if isinstance(value, str) else ""


class AuthMiddleware:
    def __init__(self, sessions):
        self.sessions = sessions

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.sessions = self.sessions
        cookie = req.get_cookie_values(CSRF_COOKIE)
        req.context.csrf = cookie[0] if cookie else secrets.token_urlsafe(24)
        req.context.new_csrf = not cookie
        req.context._principal = ...  # resolved lazily
        if req.method in UNSAFE and req.path not in CSRF_EXEMPT and not bearer(req) \
                and req.get_cookie_values(SESSION_COOKIE):
            sent = req.get_header("X-CSRF-Token") or _form_token(req)
            if not cookie or not hmac.compare_digest(sent.encode(), cookie[0].encode()):
                raise Forbidden("页面已过期，请刷新页面后重试", code="csrf_failed")

    def process_response(self, req, resp, resource, req_succeeded) -> None:
        if getattr(req.context, "new_csrf", False):
            resp.set_cookie(CSRF_COOKIE, req.context.csrf, http_only=False, secure=settings().cookie_secure,
                            same_site="Strict", path="/")


def principal(req: falcon.Request) -> dict | None:
    cached = getattr(req.context, "_principal", ...)
    if cached is not ...:
        return cached
    token = token_of(req)
    view = req.context.sessions.view(token) if token else None
    req.context._principal = view["principal"] if view else None
    req.context._account = view["account"] if view else None
    return req.context._principal


def account(req: falcon.Request) -> dict:
    """The logged-in applicant's account, as identity gave it with the session (no RPC of
    its own); identity.me only if the session came without one."""
    who = require_applicant(req)
    kept = getattr(req.context, "_account", None)
    return kept if kept is not None else req.context.rpc.identity.me(who)


def logout(req: falcon.Request, token: str) -> None:
    """Ends the session at identity and forgets it in this process at once (the others
    forget it when identity's event arrives)."""
    req.context.sessions.forget_token(token)
    req.context.rpc.identity.logout(token)


def _gate(req: falcon.Request, who: dict) -> dict:
    if who.get("must_change_password") and (req.method, req.path) not in MUST_CHANGE_ALLOWED:
        raise Forbidden("请先修改初始密码后再进行其他操作", code="must_change_password")
    return who


def require_applicant(req: falcon.Request) -> dict:
    """The logged-in applicant (sealed principal, checked by kit.access like every service
    does), or 401/403."""
    who = principal(req)
    access.require(who, "applicant", allow_must_change=True)
    return _gate(req, who)


def require_admin(req: falcon.Request, *roles: str) -> dict:
    who = principal(req)
    access.require(who, "admin", allow_must_change=True)
    _gate(req, who)
    access.require(who, "admin", roles=roles, allow_must_change=True)
    return who
