"""The review API: queues, cases, decisions (single and batch), 一级 materials, and the
applicant's 审核结果."""
from __future__ import annotations

import falcon

from services.review.schemas import MATERIAL_KINDS, BatchDecision, ChainSet, Decision

from .. import auth, files, links
from ..body import model_body, upload

QUEUE_FILTERS = ("status", "grade", "trade", "unit_id", "submitted_from", "submitted_to")
QUEUE_PARAMS = (*QUEUE_FILTERS, "page", "page_size")


class MyReview:
    def on_get(self, req, resp):
        who = auth.require_applicant(req)
        review = req.context.rpc.review.applicant_review(who)
        contacts = req.context.reference.review_contacts(review.pop("city_code"), review.pop("supervisor_id"))
        chain = review.get("chain") or []
        resp.media = {**review, "contacts": [c for c in contacts if not chain or c["level"] in chain]}


def _filters(req, names=QUEUE_PARAMS) -> dict:
    return {k: req.get_param(k) for k in names if req.get_param(k) not in (None, "")}


class Queue:
    def on_get(self, req, resp):
        who = auth.require_admin(req)
        resp.media = req.context.rpc.review.queue(who, _filters(req))


class QueueExport:
    """The queue with the page's filters as Excel (every matching case, streamed)."""

    def on_get(self, req, resp):
        who = auth.require_admin(req)
        files.pass_on(resp, req.context.rpc.review.queue_export(who, _filters(req, QUEUE_FILTERS)))


class CaseResource:
    def on_get(self, req, resp, application_id):
        who = auth.require_admin(req)
        resp.media = links.case_for_admin(req.context.rpc.review.get_case(who, application_id))


class Decisions:
    def on_post(self, req, resp, application_id):
        who = auth.require_admin(req)
        body = model_body(req, Decision)
        resp.media = links.case_for_admin(req.context.rpc.review.decide(who, application_id, body))


class BatchDecisions:
    def on_post(self, req, resp):
        who = auth.require_admin(req)
        resp.media = req.context.rpc.review.decide_batch(who, model_body(req, BatchDecision))


class Material:
    def on_put(self, req, resp, application_id, kind):
        if kind not in MATERIAL_KINDS:
            raise falcon.HTTPNotFound()
        who = auth.require_admin(req)
        resp.media = links.case_for_admin(upload(
            req, "review", "material", who, {"application_id": application_id, "kind": kind}, what="图片"))

    def on_get(self, req, resp, application_id, kind):
        if kind not in MATERIAL_KINDS:
            raise falcon.HTTPNotFound()
        who = auth.require_admin(req)
        files.pass_on(resp, req.context.rpc.review.material_ticket(who, application_id, kind))


class Chains:
    def on_put(self, req, resp, city_code):
        who = auth.require_admin(req, "province")
        resp.media = req.context.rpc.review.set_chain(who, city_code, model_body(req, ChainSet))

    def on_get(self, req, resp, city_code):
        auth.require_admin(req)
        resp.media = {"city_code": city_code, "levels": req.context.rpc.review.chain_of(city_code)}
