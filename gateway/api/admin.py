"""The administrators' API (identity part): sessions, administrators, roster, accounts,
补报, the exam year, audit. Every call is checked again by the service."""
from __future__ import annotations

import falcon

from kit.validation import parse
from services.identity import schemas as identity
from services.payment import schemas as payment

from .. import auth, files
from ..body import json_body, model_body, upload
from ..source import source_of


class AdminSessions:
    def on_post(self, req, resp):
        body = parse(identity.AdminLogin, json_body(req, required=True))
        result = req.context.rpc.identity.admin_login(body.username, body.password, source_of(req))
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
        resp.media = req.context.rpc.identity.create_admin(who, model_body(req, identity.AdminCreate))
        req.context.reference.changed("review_contacts")
        resp.status = falcon.HTTP_201


class Roster:
    def on_put(self, req, resp):
        who = auth.require_admin(req, "province", "city")
        resp.media = upload(req, "identity", "roster_csv", who)


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
        resp.media = req.context.rpc.identity.supplementary_register(who, model_body(req, identity.Supplementary))
        resp.status = falcon.HTTP_201


class Year:
    def on_get(self, req, resp, year):
        auth.require_admin(req)
        resp.media = req.context.rpc.identity.get_year(year)

    def on_put(self, req, resp, year):
        who = auth.require_admin(req, "province")
        resp.media = req.context.rpc.identity.put_year(who, year, model_body(req, identity.YearUpdate))
        req.context.reference.changed("current_year")


AUDIT_FILTERS = ("actor", "action", "date_from", "date_to", "scope")


def audit_filters(req) -> dict:
    """操作日志's filters from the query (identity checks them)."""
    return {k: req.get_param(k) for k in AUDIT_FILTERS if req.get_param(k) not in (None, "")}


class Audit:
    def on_get(self, req, resp):
        who = auth.require_admin(req)
        resp.media = req.context.rpc.identity.list_audit(who, req.get_param_as_int("page") or 1,
                                                         req.get_param_as_int("page_size") or 50, audit_filters(req))


class AuditExport:
    """The audit log with the page's filters as Excel (the province; streamed)."""

    def on_get(self, req, resp):
        who = auth.require_admin(req, "province")
        files.pass_on(resp, req.context.rpc.identity.audit_export(who, audit_filters(req)))


class Fees:
    """考核费用 per grade and the cities paying online (R-F1), per year (province)."""

    def on_get(self, req, resp, year):
        auth.require_admin(req)
        resp.media = req.context.rpc.payment.get_fees(year)

    def on_put(self, req, resp, year):
        who = auth.require_admin(req, "province")
        resp.media = req.context.rpc.payment.put_fees(who, year, model_body(req, payment.FeesUpdate))
