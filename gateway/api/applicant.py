"""The applicant's API: SMS codes, registration, sessions, password, own account."""
from __future__ import annotations

import base64

import falcon

from kit.errors import InvalidInput

from .. import auth
from ..body import json_body, multipart

REGISTRATION_FIELDS = ("city_code", "declared_grade", "id_number", "birth_month", "name", "phone",
                       "sms_code", "password", "password_confirm", "agreed")


class SmsCodes:
    def on_post(self, req, resp):
        body = json_body(req)
        purpose = body.get("purpose") or ""
        who = auth.require_applicant(req) if purpose == "delete_self" else None
        result = req.context.rpc.identity.request_sms_code(str(body.get("phone") or ""), purpose, who)
        resp.status = falcon.HTTP_201
        resp.media = result


class Registrations:
    def on_post(self, req, resp):
        fields, files = multipart(req, ("id_card_photo",))
        unknown = set(fields) - set(REGISTRATION_FIELDS) - {"csrf_token"}
        if unknown:
            raise InvalidInput(f"未知字段：{', '.join(sorted(unknown))}", field=sorted(unknown)[0])
        photo = files.get("id_card_photo")
        if not photo:
            raise InvalidInput("请选择身份证照片，上传后，方可进行注册", field="id_card_photo")
        stored = req.context.rpc.application.store_registration_photo(base64.b64encode(photo).decode())
        payload = {k: fields.get(k, "") for k in REGISTRATION_FIELDS}
        account = req.context.rpc.identity.register(payload, stored["sha256"])
        resp.status = falcon.HTTP_201
        resp.media = {"id_number": account["id_number"], "name": account["name"], "year": account["year"],
                      "message": "注册成功，请使用身份证号和密码登录"}


class Sessions:
    def on_post(self, req, resp):
        body = json_body(req)
        result = req.context.rpc.identity.login(str(body.get("id_number") or ""), str(body.get("password") or ""))
        auth.set_session_cookie(resp, result["token"])
        resp.status = falcon.HTTP_201
        resp.media = result


class CurrentSession:
    def on_delete(self, req, resp):
        token = auth.token_of(req)
        if token:
            req.context.rpc.identity.logout(token)
        auth.clear_session_cookie(resp)
        resp.status = falcon.HTTP_204


class Password:
    def on_put(self, req, resp):
        who = auth.require_applicant(req) if req.path == "/api/v1/me/password" else auth.require_admin(req)
        body = json_body(req)
        resp.media = req.context.rpc.identity.change_password(
            who, str(body.get("old_password") or ""), str(body.get("new_password") or ""), auth.token_of(req))


class Me:
    def on_get(self, req, resp):
        who = auth.require_applicant(req)
        account = req.context.rpc.identity.me(who)
        progress = req.context.rpc.application.progress(account)
        resp.media = {"account": account, "must_change_password": account["must_change_password"], **progress}

    def on_delete(self, req, resp):
        who = auth.require_applicant(req)
        body = json_body(req)
        req.context.rpc.identity.delete_self(who, str(body.get("sms_code") or ""))
        auth.clear_session_cookie(resp)
        resp.status = falcon.HTTP_204
