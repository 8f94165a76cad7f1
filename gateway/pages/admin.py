"""The administrators' pages (R-P4): login, home, accounts, roster, 补报, administrators, the
exam year and the audit log. Every change goes through the JSON API (static/app.js)."""
from __future__ import annotations

import logging
from urllib.parse import urlencode

from kit import access, clock, regions
from kit.errors import ServiceError
from services.application.schemas import GENDER_NAMES, GRADE_NAMES

from .. import auth
from .common import AUDIT_ACTIONS, REVIEW_ROLES, cities, page_number, render_page, scope_label, soft_principal

log = logging.getLogger(__name__)


class AdminLogin:
    def on_get(self, req, resp):
        render_page(req, resp, "admin/login.html", who=soft_principal(req))


class AdminHome:
    def on_get(self, req, resp):
        who = auth.require_admin(req)
        rpc = req.context.rpc
        role = who.get("role")
        pending = None
        if access.decides_reviews(access.require(who, "admin", allow_must_change=True)) \
                and not who.get("must_change_password"):
            try:
                pending = int(rpc.review.queue(who, {"status": "pending", "page_size": 1})["total"])
            except Exception:  # noqa: BLE001 - a count on the dashboard only
                log.warning("review queue unavailable for the dashboard")
        supervisor_name = None
        if role == "supervisor" and who.get("scope_code"):
            try:
                supervisor_name = (rpc.application.get_supervisor(who["scope_code"]) or {}).get("name")
            except Exception:  # noqa: BLE001 - a label only: the code is shown instead
                log.warning("supervisor name unavailable for the dashboard")
        render_page(req, resp, "admin/index.html", who=who, pending=pending, can_review=role in REVIEW_ROLES,
                    scope=scope_label(role, who.get("scope_code"), supervisor_name))


class AdminAccounts:
    def on_get(self, req, resp):
        who = auth.require_admin(req, "province", "city", "county")
        render_page(req, resp, "admin/accounts.html", who=who,
                    labels={"grades": {str(k): v for k, v in GRADE_NAMES.items()}, "genders": GENDER_NAMES})


class AdminRoster:
    def on_get(self, req, resp):
        who = auth.require_admin(req, "province", "city")
        render_page(req, resp, "admin/roster.html", who=who)


class AdminSupplementary:
    def on_get(self, req, resp):
        who = auth.require_admin(req, "province", "city")
        principal = access.require(who, "admin")
        offered = [c for c in cities() if access.may_supplement(principal, c["code"])]
        render_page(req, resp, "admin/supplementary.html", who=who, cities=offered)


class AdminAdmins:
    def on_get(self, req, resp):
        who = auth.require_admin(req, "province", "city")
        rpc = req.context.rpc
        admins = rpc.identity.list_admins(who)
        principal = access.require(who, "admin")
        city_codes = [c.code for c in regions.cities() if c.code != regions.PROVINCE_CODE
                      and principal.in_scope(c.code)]
        # the roles the caller may create, somewhere in their scope (kit.access)
        roles = [r for r in access.ROLES if any(access.may_create_admin(principal, r, code)
                                                for code in [None, *city_codes])]
        scopes: list[tuple[str, str, str]] = []  # (role, code, label)
        if "city" in roles:
            scopes += [("city", c.code, c.name) for c in regions.cities() if c.code != regions.PROVINCE_CODE]
        for code in city_codes:
            city = regions.city_name(code) or ""
            scopes += [("county", k.code, f"{city}{k.name}") for k in regions.counties(code)]
        supervisors: dict[str, str] = {}
        for unit in req.context.reference.units(None):
            sup = unit.get("supervisor") or {}
            if sup.get("id") and principal.in_scope(unit.get("city_code")):
                supervisors.setdefault(sup["id"], sup.get("name") or sup["id"])
        scopes += [("supervisor", code, f"{name}（{code}）") for code, name in sorted(supervisors.items())]
        for a in admins:
            a["scope_label"] = scope_label(a.get("role"), a.get("scope_code"), supervisors.get(a.get("scope_code")))
        render_page(req, resp, "admin/admins.html", who=who, admins=admins, roles=roles, scopes=scopes,
                    created=req.get_param("created"))


class AdminYears:
    def on_get(self, req, resp):
        who = auth.require_admin(req, "province")
        cal = req.context.rpc.identity.current_year()
        render_page(req, resp, "admin/years.html", who=who, cal=cal,
                    default_year=(cal or {}).get("year") or clock.local_now().year,
                    saved=req.get_param("saved"))


class AdminAudit:
    """操作日志 (R-I11): the province filters every administrator's actions by who, what, when
    and city, and downloads them with the same filters; others see their own (by what and when)."""

    PAGE_SIZE = 50
    FILTERS = ("actor", "action", "date_from", "date_to", "scope")

    def on_get(self, req, resp):
        who = auth.require_admin(req)
        rpc = req.context.rpc
        province = who.get("role") == "province"
        filters = {k: (req.get_param(k) or "").strip() for k in self.FILTERS}
        if not province:
            filters["actor"] = filters["scope"] = ""
        query = {k: v for k, v in filters.items() if v}
        page = page_number(req)
        error = None
        try:
            data = rpc.identity.list_audit(who, page, self.PAGE_SIZE, query)
        except ServiceError as exc:
            if exc.status >= 500:
                raise
            error, data = exc.message, {"items": [], "total": 0}
        for item in data["items"]:
            item["action_name"] = AUDIT_ACTIONS.get(item.get("action"), item.get("action"))
            item["scope_label"] = scope_label(item.get("role"), item.get("scope"))
        actors = []
        if province:
            try:
                actors = sorted(a["username"] for a in rpc.identity.list_admins(who))
            except ServiceError:            # the names only help typing: the filter works without them
                log.warning("administrators unavailable for the audit filter")
        total = int(data.get("total") or 0)
        pages = max(1, -(-total // self.PAGE_SIZE))

        def page_url(n: int) -> str:
            return "/admin/audit?" + urlencode({**query, "page": n})

        render_page(req, resp, "admin/audit.html", who=who, items=data["items"], total=total, page=page,
                    pages=pages, page_url=page_url, filters=filters, error=error, province=province, actors=actors,
                    actions=sorted(AUDIT_ACTIONS.items(), key=lambda kv: kv[0]), cities=cities(),
                    export_url="/api/v1/admin/audit.xlsx" + (("?" + urlencode(query)) if query else ""))
