"""报名审核 for administrators (R-R1 … R-R4, R-P4): the queue with its filters and 批量通过,
and one case with its decision panel."""
from __future__ import annotations

import logging
from urllib.parse import urlencode

from kit import access
from kit.errors import ServiceError
from services.application.schemas import FILE_NAMES, STAMPED_PHOTO
from services.review import schemas as review_schemas

from .. import auth, links
from ..rpc import ServiceUnavailable
from .common import LEVEL_NAMES, REVIEW_ROLES, page_number, region_text, render_page, scope_label

log = logging.getLogger(__name__)

QUEUE_FILTERS = ("status", "grade", "trade", "unit_id", "submitted_from", "submitted_to")


def _units_in_scope(who: dict, units: list[dict]) -> list[dict]:
    """The units an administrator's queue can contain, for the filter (kit.access's scope)."""
    principal = access.require(who, "admin")
    return [u for u in units if principal.in_scope(u.get("city_code"), u.get("county_code"),
                                                   (u.get("supervisor") or {}).get("id"))]


class AdminReviews:
    """报名审核: the caller's queue with filters, paging and 批量通过."""
    PAGE_SIZE = 20

    def on_get(self, req, resp):
        who = auth.require_admin(req, *REVIEW_ROLES)
        rpc = req.context.rpc
        can_decide = access.decides_reviews(access.require(who, "admin"))
        filters = {k: (req.get_param(k) or "").strip() for k in QUEUE_FILTERS}
        if not filters["status"] or (filters["status"] == "pending" and not can_decide):
            filters["status"] = "pending" if can_decide else "all"
        page = page_number(req)
        error = None
        try:
            data = rpc.review.queue(who, {**{k: v for k, v in filters.items() if v}, "page": page,
                                          "page_size": self.PAGE_SIZE})
        except ServiceError as exc:
            if exc.status >= 500:
                raise
            error, data = exc.message, {"items": [], "total": 0}
        trades = req.context.reference.trades()
        names = {t["code"]: t["name"] for t in trades}
        for item in data["items"]:
            item["trade_name"] = names.get(item.get("target_trade") or "", item.get("target_trade") or "—")
        role = who.get("role")
        units = _units_in_scope(who, req.context.reference.units(None if role == "province"
                                                                else (who.get("scope_city") or None)))
        supervisor_name = next((u["supervisor"]["name"] for u in units if u.get("supervisor")), None)
        total = int(data.get("total") or 0)
        pages = max(1, -(-total // self.PAGE_SIZE))
        base = {k: v for k, v in filters.items() if v}

        def page_url(n: int) -> str:
            return "/admin/reviews?" + urlencode({**base, "page": n})

        render_page(req, resp, "admin/reviews.html", who=who, items=data["items"], total=total, page=page,
                    pages=pages, page_url=page_url, filters=filters, error=error, trades=trades, units=units,
                    export_url="/api/v1/admin/reviews.xlsx?" + urlencode(base),
                    can_decide=can_decide,
                    statuses=[(k, v) for k, v in review_schemas.QUEUE_STATUSES.items() if can_decide or k != "pending"],
                    scope=scope_label(role, who.get("scope_code"), supervisor_name))


def _chain_view(case: dict) -> list[dict]:
    """The chain with each level's state: done, current, stopped (退回/不通过 there) or todo."""
    chain = case.get("chain") or []
    status = case.get("status")
    stop_level = None
    if status in ("returned", "rejected"):
        last = next((h for h in reversed(case.get("history") or [])
                     if h.get("decision") in ("return", "reject", "reopen")), None)
        stop_level = (last or {}).get("level")
    current = case.get("level") if status == "in_review" else stop_level
    out = [{"level": "applicant", "name": "报考人员提交", "state": "done"}]
    reached = False
    for level in chain:
        if status == "approved":
            state = "done"
        elif level == current:
            state, reached = ("current" if status == "in_review" else "stopped"), True
        else:
            state = "todo" if reached else "done"
        out.append({"level": level, "name": LEVEL_NAMES.get(level, level), "state": state})
    return out


class AdminReviewCase:
    """One case: the submitted form, its files, the history and the decision panel."""

    def on_get(self, req, resp, application_id):
        who = auth.require_admin(req, *REVIEW_ROLES)
        rpc = req.context.rpc
        case = links.case_for_admin(rpc.review.get_case(who, application_id))
        snap = case.get("snapshot") or {}
        files = snap.get("files") or {}
        photos = [(kind, FILE_NAMES[kind], files.get(kind)) for kind in ("id_card_photo", "personal_photo")]
        if snap.get("stamped_photo"):  # optional: shown only when the applicant made one
            photos.append((STAMPED_PHOTO, FILE_NAMES[STAMPED_PHOTO], snap["stamped_photo"]))
        documents = [(kind, FILE_NAMES[kind], files.get(kind)) for kind in ("education_proof", "grade_certificate")]
        try:
            trades = {t["code"]: t["name"] for t in req.context.reference.trades()}
        except (ServiceUnavailable, ServiceError):  # names only: the codes are shown instead
            log.warning("trades unavailable for the case page")
            trades = {}
        render_page(req, resp, "admin/review_case.html", who=who, case=case, snap=snap, photos=photos,
                    documents=documents, trades=trades, chain=_chain_view(case),
                    region=region_text(snap.get("city_code"), snap.get("county_code")),
                    labels={"levels": LEVEL_NAMES, "decisions": review_schemas.DECISION_NAMES,
                            "materials": review_schemas.MATERIAL_NAMES})
