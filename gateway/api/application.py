"""The application API: reference data, the 报名信息 form, uploads, eligibility, submit."""
from __future__ import annotations

import falcon

from kit.config import settings
from services.application.schemas import FILE_KINDS, PHOTO_SPEC, STAMPED_PHOTO, ContactsUpdate

from .. import auth, files, links
from ..body import json_body, model_body, upload

READABLE_KINDS = (*FILE_KINDS, STAMPED_PHOTO)


def applicant(req) -> tuple[dict, dict]:
    """The applicant and their account, both kept with the session (no RPC)."""
    return auth.require_applicant(req), auth.account(req)


class Trades:
    def on_get(self, req, resp):
        resp.media = req.context.reference.trades()


class Contacts:
    def on_get(self, req, resp):
        resp.media = req.context.reference.contacts()


class PhotoSpec:
    def on_get(self, req, resp):
        resp.media = {**PHOTO_SPEC, "max_bytes": settings().upload_max_bytes}


class Form:
    def on_get(self, req, resp):
        who, account = applicant(req)
        resp.media = links.form_for_applicant(req.context.rpc.application.get_form(who, account))

    def on_put(self, req, resp):
        who, account = applicant(req)
        resp.media = links.form_for_applicant(req.context.rpc.application.save_form(who, account, json_body(req)))


class Eligibility:
    def on_get(self, req, resp):
        who, account = applicant(req)
        resp.media = req.context.rpc.application.eligibility(who, account)


class Choices:
    """What the form offers for the choices on the page (query: current_grade, current_trade,
    route, target_trade, work_start; left out: the saved value)."""

    def on_get(self, req, resp):
        who, account = applicant(req)
        draft = {k: req.get_param(k) for k in ("current_grade", "current_trade", "route", "target_trade",
                                                "work_start") if req.get_param(k) is not None}
        resp.media = req.context.rpc.application.choices(who, account, draft)


class Submit:
    def on_post(self, req, resp):
        who, account = applicant(req)
        resp.media = links.form_for_applicant(req.context.rpc.application.submit(who, account))


class File:
    def on_put(self, req, resp, kind):
        if kind not in FILE_KINDS:
            raise falcon.HTTPNotFound()
        who, account = applicant(req)
        resp.media = links.form_for_applicant(upload(
            req, "application", "application_file", who, {"account": account, "kind": kind}, what="图片"))

    def on_get(self, req, resp, kind):
        if kind not in READABLE_KINDS:
            raise falcon.HTTPNotFound()
        who, account = applicant(req)
        files.pass_on(resp, req.context.rpc.application.file_ticket(who, kind, account=account))


class Stamp:
    def on_post(self, req, resp):
        who, account = applicant(req)
        resp.media = links.form_for_applicant(req.context.rpc.application.stamp_photo(who, account))


class AdminFile:
    def on_get(self, req, resp, application_id, kind):
        if kind not in READABLE_KINDS:
            raise falcon.HTTPNotFound()
        who = auth.require_admin(req)
        files.pass_on(resp, req.context.rpc.application.file_ticket(who, kind, application_id=application_id))


class AdminTrades:
    def on_put(self, req, resp):
        who = auth.require_admin(req, "province")
        resp.media = upload(req, "application", "trades_csv", who)
        req.context.reference.changed("trades")


class AdminUnits:
    def on_put(self, req, resp):
        who = auth.require_admin(req, "province")
        resp.media = upload(req, "application", "units_csv", who)
        req.context.reference.changed("units")


class AdminContacts:
    def on_put(self, req, resp):
        who = auth.require_admin(req, "province")
        resp.media = req.context.rpc.application.put_contacts(who, model_body(req, ContactsUpdate))
        req.context.reference.changed("contacts")


class AdminRules:
    def on_get(self, req, resp, year):
        auth.require_admin(req)
        resp.media = req.context.rpc.application.get_rules(year)

    def on_put(self, req, resp, year):
        who = auth.require_admin(req, "province")
        resp.media = req.context.rpc.application.put_rules(who, year, json_body(req, required=True))
