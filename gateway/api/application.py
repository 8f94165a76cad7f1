"""The application API: reference data, the 报名信息 form, uploads, eligibility, submit."""
from __future__ import annotations

import base64

import falcon

from kit.config import settings
from services.application.schemas import FILE_KINDS, PHOTO_SPEC

from .. import auth, links
from ..body import json_body, upload_b64

READABLE_KINDS = (*FILE_KINDS, "personal_photo_stamped")
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png"}


def applicant(req) -> tuple[dict, dict]:
    who = auth.require_applicant(req)
    return who, req.context.rpc.identity.me(who)


def send_file(resp, result: dict, name: str) -> None:
    """Uploaded files are data: served with their image type, never as HTML."""
    resp.content_type = result["content_type"]
    resp.data = base64.b64decode(result["data_b64"])
    resp.set_header("Content-Disposition", f'inline; filename="{name}.{EXTENSIONS.get(result["content_type"], "bin")}"')
    resp.set_header("Content-Security-Policy", "default-src 'none'; sandbox")
    resp.set_header("Cache-Control", "private, no-store")
    resp.set_header("ETag", f'"{result["sha256"]}"')


class Trades:
    def on_get(self, req, resp):
        resp.media = req.context.rpc.application.list_trades()


class Contacts:
    def on_get(self, req, resp):
        resp.media = req.context.rpc.application.contacts()


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
        resp.media = links.form_for_applicant(
            req.context.rpc.application.upload_file(who, account, kind, upload_b64(req, "图片")))

    def on_get(self, req, resp, kind):
        if kind not in READABLE_KINDS:
            raise falcon.HTTPNotFound()
        who, account = applicant(req)
        send_file(resp, req.context.rpc.application.read_file(who, kind, account=account), kind)


class Stamp:
    def on_post(self, req, resp):
        who, account = applicant(req)
        resp.media = links.form_for_applicant(req.context.rpc.application.stamp_photo(who, account))


class AdminFile:
    def on_get(self, req, resp, application_id, kind):
        if kind not in READABLE_KINDS:
            raise falcon.HTTPNotFound()
        who = auth.require_admin(req)
        send_file(resp, req.context.rpc.application.read_file(who, kind, application_id=application_id), kind)


class AdminTrades:
    def on_put(self, req, resp):
        who = auth.require_admin(req, "province")
        resp.media = req.context.rpc.application.import_trades(who, upload_b64(req))


class AdminUnits:
    def on_put(self, req, resp):
        who = auth.require_admin(req, "province")
        resp.media = req.context.rpc.application.import_units(who, upload_b64(req))


class AdminContacts:
    def on_put(self, req, resp):
        who = auth.require_admin(req, "province")
        body = json_body(req)
        resp.media = req.context.rpc.application.put_contacts(who, body.get("counties") or [])


class AdminRules:
    def on_get(self, req, resp, year):
        auth.require_admin(req)
        resp.media = req.context.rpc.application.get_rules(year)

    def on_put(self, req, resp, year):
        who = auth.require_admin(req, "province")
        resp.media = req.context.rpc.application.put_rules(who, year, json_body(req))
