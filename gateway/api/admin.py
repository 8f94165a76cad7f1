"""The administrators' API (identity part): sessions, administrators, roster, accounts,
补报, the exam year, audit. Every call is checked again by the service."""
from __future__ import annotations

import falcon

from .. import auth
from ..body import json_body, upload_b64


class AdminSessions:
    def on_post(self, req, resp):
        body = json_body(req)
        result = req.context.rpc.identity.admin_login(str(body.get("username") or ""),
                                                      str(body.get("password") or ""))
        auth.set_session_cookie(resp, result["token"])
        resp.status = falcon.HTTP_201
        resp.media = result


class AdminMe:
    def on_get(self, req, resp):
        resp.media = auth.require_admin(req)


class Admins:
    def on_get(self, req, resp):
        resp.media = req.context.rpc.identity.list_admins(auth.require_admin(req, "province", "city"))

    def on_post(self, req, resp):
        who = auth.require_admin(req, "province", "city")
        resp.media = req.context.rpc.identity.create_admin(who, json_body(req))
        resp.status = falcon.HTTP_201


class Roster:
    def on_put(self, req, resp):
        who = auth.require_admin(req, "province", "city")
        resp.media = req.context.rpc.identity.import_roster(who, upload_b64(req))


class Account:
    def on_get(self, req, resp, id_number):
        who = auth.require_admin(req, "province", "city", "county")
        resp.media = req.context.rpc.identity.admin_find_account(who, id_number)

    def on_delete(self, req, resp, id_number):
        who = auth.require_admin(req, "province", "city", "county")
        req.context.rpc.identity.admin_delete_account(who, id_number)
        resp.status = falcon.HTTP_204


class PasswordReset:
    def on_post(self, req, resp, id_number):
        who = auth.require_admin(req, "province", "city", "county")
        resp.media = req.context.rpc.identity.admin_reset_password(who, id_number)


class Supplementary:
    def on_post(self, req, resp):
        who = auth.require_admin(req, "province", "city")
        resp.media = req.context.rpc.identity.supplementary_register(who, json_body(req))
        resp.status = falcon.HTTP_201


class Year:
    def on_get(self, req, resp, year):
        auth.require_admin(req)
        resp.media = req.context.rpc.identity.get_year(year)

    def on_put(self, req, resp, year):
        who = auth.require_admin(req, "province")
        resp.media = req.context.rpc.identity.put_year(who, year, json_body(req))


class Audit:
    def on_get(self, req, resp):
        who = auth.require_admin(req)
        resp.media = req.context.rpc.identity.list_audit(who, req.get_param_as_int("page") or 1,
                                                         req.get_param_as_int("page_size") or 50)
