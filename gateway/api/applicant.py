"""The applicant's API: SMS codes, registration, sessions, password, own account."""
from __future__ import annotations

import falcon

from kit.errors import InvalidInput
from kit.validation import parse
from services.identity.schemas import DeleteSelf, Login, PasswordChange, SmsCodeRequest
from services.identity.schemas import Unlock as UnlockBody

from .. import auth
from .. import files as file_transfer
from ..body import json_body, multipart
from ..source import source_of

REGISTRATION_FIELDS = ("city_code", "declared_grade", "id_number", "birth_month", "name", "phone",
                       "sms_code", "password", "password_confirm", "agreed")


class SmsCodes:
    def on_post(self, req, resp):
        body = parse(SmsCodeRequest, json_body(req, required=True))
        who = auth.require_applicant(req) if body.purpose == "delete_self" else None
        result = req.context.rpc.identity.request_sms_code(body.phone, body.purpose, who, source_of(req),
                                                           body.id_number)
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
        payload = {k: fields.get(k, "") for k in REGISTRATION_FIELDS}
        # the cheap checks first (fields, roster, SMS code): a refused registration stores nothing
        req.context.rpc.identity.check_registration(payload)
        ticket = req.context.rpc.application.upload_ticket(None, "registration_photo", {"source": source_of(req)})
        stored = file_transfer.send(ticket, photo)
        account = req.context.rpc.identity.register(payload, stored["sha256"])
        resp.status = falcon.HTTP_201
        resp.media = {"id_number": account["id_number"], "name": account["name"], "year": account["year"],
                      "message": "注册成功，请使用身份证号和密码登录"}


class Sessions:
    def on_post(self, req, resp):
        body = parse(Login, json_body(req, required=True))
        result = req.context.rpc.identity.login(body.id_number, body.password, source_of(req))
        auth.set_session_cookie(resp, result["token"])
        resp.status = falcon.HTTP_201
        resp.media = result


class Unlock:
    """The owner of a locked applicant account ends the lockout with an SMS code (R-I7)."""

    def on_post(self, req, resp):
        body = parse(UnlockBody, json_body(req, required=True))
        req.context.rpc.identity.unlock(body.id_number, body.sms_code)
        resp.status = falcon.HTTP_204


class CurrentSession:
    def on_delete(self, req, resp):
        token = auth.token_of(req)
        if token:
            auth.logout(req, token)
        auth.clear_session_cookie(resp)
        resp.status = falcon.HTTP_204


class Password:
    """修改密码, for applicants or administrators (chosen when the route is added)."""

    def __init__(self, admin: bool):
        self.require = auth.require_admin if admin else auth.require_applicant

    def on_put(self, req, resp):
        who = self.require(req)
        body = parse(PasswordChange, json_body(req))
        token = auth.token_of(req)
        resp.media = req.context.rpc.identity.change_password(who, body.old_password, body.new_password, token)
        if token:     # this session goes on, no longer "must change": forgotten here at once
            req.context.sessions.forget_token(token)


class Me:
    def on_get(self, req, resp):
        who = auth.require_applicant(req)
        account = auth.account(req)
        progress = req.context.rpc.application.progress(who, notices=True)     # with the 消息通知
        resp.media = {"account": account, "must_change_password": account["must_change_password"], **progress}

    def on_delete(self, req, resp):
        who = auth.require_applicant(req)
        body = parse(DeleteSelf, json_body(req))
        req.context.rpc.identity.delete_self(who, body.sms_code)
        auth.clear_session_cookie(resp)
        resp.status = falcon.HTTP_204
