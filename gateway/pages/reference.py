"""基础数据维护 (province only; R-P4 units and trades, R-P1 咨询电话, R-A4 rules per year, R-R1
chains per city). Every change goes through the API (static/reference.js)."""
from __future__ import annotations

import logging

from nameko.exceptions import RemoteError

from kit import regions
from services.application.schemas import GRADE_NAMES

from .. import auth
from ..rpc import ServiceUnavailable
from .common import BUSY, LEVEL_NAMES, render_page

log = logging.getLogger(__name__)

CITY_CHAINS = (("supervisor", "city", "province"), ("supervisor", "province"))
PROVINCIAL_CHAINS = (("supervisor", "province"),)


def chain_text(levels) -> str:
    return " → ".join(LEVEL_NAMES.get(lv, lv) for lv in levels or ()) or "—"


class AdminReference:
    """Units with their 主管单位, the trade catalogue, the 县区 咨询电话, the current year's 申报条件
    and each city's 审核流程. A section whose service does not answer says so; the rest still
    shows. (The chains take one RPC per city: review has no call that lists them all.)"""

    def on_get(self, req, resp):
        who = auth.require_admin(req, "province")
        rpc = req.context.rpc
        errors: dict[str, str] = {}

        def read(section: str, call, default):
            try:
                return call()
            except (ServiceUnavailable, RemoteError):  # one section down must not take the page with it
                log.warning("reference page: %s unavailable", section)
                errors[section] = BUSY
                return default

        units = read("units", lambda: rpc.application.list_units(None), [])
        for u in units:
            county = regions.county(u.get("county_code") or "") if u.get("county_code") else None
            u["city_name"] = regions.city_name(u.get("city_code") or "") or u.get("city_code") or "—"
            u["county_name"] = county.name if county else "—"
        trades = read("trades", rpc.application.list_trades, [])
        names = {t["code"]: t["name"] for t in trades}
        for t in trades:
            t["new_names"] = [names.get(code, code) for code in t.get("new_trades") or []]
        contacts = read("contacts", rpc.application.contacts, {"counties": []})
        county_groups = [(c.name, [(k.code, k.name) for k in regions.counties(c.code)]) for c in regions.cities()]
        cal = read("rules", rpc.identity.current_year, None)
        year = (cal or {}).get("year")
        rules = read("rules", lambda: rpc.application.get_rules(year), None) if year else None
        # the grades with a 工龄 requirement, as the year's rules name them
        rule_grades = [(key, GRADE_NAMES.get(int(key), key))
                       for key in sorted((rules or {}).get("years_required") or {}, key=int, reverse=True)]
        chains = []
        every_chain = read("chains", rpc.review.chains, {})   # one call for every city
        for city in regions.cities():
            levels = every_chain.get(city.code)
            if levels is None:
                break
            choices = PROVINCIAL_CHAINS if city.code == regions.PROVINCE_CODE else CITY_CHAINS
            chains.append({"code": city.code, "name": city.name, "levels": list(levels),
                           "text": chain_text(levels),
                           "choices": [(",".join(c), chain_text(c)) for c in choices],
                           "current": ",".join(levels)})
        render_page(req, resp, "admin/reference.html", who=who, units=units, trades=trades,
                    contacts=contacts.get("counties") or [], county_groups=[g for g in county_groups if g[1]],
                    year=year, rules=rules, rule_grades=rule_grades, chains=chains, errors=errors,
                    labels={"levels": LEVEL_NAMES})
