"""The payment API (R-F1 … R-F4): the applicant's 网上缴费, the platform's callback, the
administrators' list, export, offline records, reconciliation and mismatches. Every call is
checked again by the payment service."""
from __future__ import annotations

from urllib.parse import parse_qsl

import falcon

from kit.errors import InvalidInput, TooLarge
from services.payment import schemas as payment

from .. import auth, files
from ..body import model_body, require_storable
from ..source import source_of

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CALLBACK_MAX_BYTES = 16 * 1024
QUERY = ("status", "city_code", "grade", "page", "page_size")


class MyPayment:
    def on_get(self, req, resp):
        resp.media = req.context.rpc.payment.my_payment(auth.require_applicant(req))


class Orders:
    """确认缴费: an order with the platform; the answer carries the URL to pay at."""

    def on_post(self, req, resp):
        who = auth.require_applicant(req)
        resp.media = req.context.rpc.payment.create_order(who, model_body(req, payment.NewOrder))
        resp.status = falcon.HTTP_201


class CancelOrder:
    def on_post(self, req, resp, order_no):
        resp.media = req.context.rpc.payment.cancel_order(auth.require_applicant(req), order_no)


class NontaxCallback:
    """The platform calls back here (form-encoded, signed). The answer is exactly ``success``
    once the callback is recorded, a repeat included; anything else makes it retry."""

    def on_post(self, req, resp):
        if (req.content_length or 0) > CALLBACK_MAX_BYTES:
            raise TooLarge("回调内容过大")
        raw = req.bounded_stream.read(CALLBACK_MAX_BYTES + 1)
        if len(raw) > CALLBACK_MAX_BYTES:
            raise TooLarge("回调内容过大")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("回调内容不是有效的 UTF-8 文本") from None
        fields = dict(parse_qsl(text, keep_blank_values=True))
        require_storable(fields)
        req.context.rpc.payment.callback(fields, text, source_of(req))
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = "success"


def _query(req) -> dict:
    return {k: req.get_param(k) for k in QUERY if req.get_param(k) not in (None, "")}


class Payments:
    """缴费情况 (province and cities): JSON, or the same rows as Excel when asked for."""

    def on_get(self, req, resp):
        who = auth.require_admin(req, "province", "city")
        if XLSX in (req.get_header("Accept") or ""):
            files.pass_on(resp, req.context.rpc.payment.payments_export(who, _query(req)))
            return
        resp.media = req.context.rpc.payment.list_payments(who, _query(req))


class PaymentsExport:
    def on_get(self, req, resp):
        who = auth.require_admin(req, "province", "city")
        files.pass_on(resp, req.context.rpc.payment.payments_export(who, _query(req)))


class OfflinePayments:
    def on_post(self, req, resp):
        who = auth.require_admin(req, "province", "city")
        resp.media = req.context.rpc.payment.record_offline(who, model_body(req, payment.OfflinePayment))
        resp.status = falcon.HTTP_201


class Reconcile:
    def on_post(self, req, resp):
        resp.media = req.context.rpc.payment.reconcile(auth.require_admin(req, "province"))


class Mismatches:
    def on_get(self, req, resp):
        resp.media = req.context.rpc.payment.mismatches(auth.require_admin(req, "province", "city"))
