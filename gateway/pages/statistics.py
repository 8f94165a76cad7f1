"""报名统计 (issue 14, R-P4): every administrator's statistics of their own scope — the
filters as a plain GET form, the table with its 合计, a bar chart of the groups and a trend
chart over the years (static/statistics.js draws them with the vendored Chart.js; the
tables are the page without script), and the Excel files for the same filters. Two RPCs:
the session and the statistics (trades and units come from the kept reference data); the
application service decides the scope."""
from __future__ import annotations

from urllib.parse import urlencode

from kit import clock, regions
from kit.errors import InvalidInput
from services.application.schemas import (
    GRADE_TITLES,
    STAT_COUNT_NAMES,
    STAT_COUNTS,
    STAT_GROUP_NAMES,
    STAT_GROUPS,
    ApplicationsQuery,
    StatisticsQuery,
    stat_cells,
    stat_columns,
)

from .. import auth
from .common import current_year, render_page, scope_label

# what each role sees first: the province its cities, a city its counties, the others their units
DEFAULT_GROUP = {"province": "city", "city": "county", "county": "unit", "supervisor": "unit"}
CHART_SERIES = ("registered", "submitted", "approved", "paid", "passed")


def _supervisor_name(req, who: dict) -> str | None:
    if who.get("role") != "supervisor":
        return None
    return next((u["supervisor"]["name"] for u in req.context.reference.units(None)
                 if (u.get("supervisor") or {}).get("id") == who.get("scope_code")), None)


class AdminStatistics:
    def on_get(self, req, resp):
        who = auth.require_admin(req)
        role = who.get("role") or ""
        filters = {k: (req.get_param(k) or "").strip() for k in StatisticsQuery.model_fields}
        if filters["group_by"] not in STAT_GROUPS:
            filters["group_by"] = DEFAULT_GROUP.get(role, "city")
        if role != "province":
            filters["city_code"] = ""               # one city (or part of one) in scope anyway
        query = {k: v for k, v in filters.items() if v}
        error = None
        try:
            stats = req.context.rpc.application.statistics(who, query)
        except InvalidInput as exc:                 # a filter typed into the URL that the service refuses
            error, stats = exc.message, {}
        year = stats.get("year") or (current_year(req) or {}).get("year") or clock.local_now().year
        filters["year"] = str(year)
        exported = {"year": year, **{k: v for k, v in query.items() if k != "year"}}
        chart = {"group": STAT_GROUP_NAMES[filters["group_by"]],
                 "series": [[c, STAT_COUNT_NAMES[c]] for c in CHART_SERIES],      # in order (tojson sorts keys)
                 "rows": [{"name": r["name"], **{c: r[c] for c in CHART_SERIES}} for r in stats.get("rows", [])],
                 "trend": [{"year": t["year"], **{c: t[c] for c in CHART_SERIES}} for t in stats.get("trend", [])]}
        render_page(
            req, resp, "admin/statistics.html", who=who, error=error, filters=filters, year=year,
            scope=scope_label(role, who.get("scope_code"), _supervisor_name(req, who)), columns=stat_columns(),
            rows=[{"key": r["key"], "name": r["name"], "cells": stat_cells(r)} for r in stats.get("rows", [])],
            totals=stat_cells(stats.get("totals") or {}),
            trend_columns=[(c, STAT_COUNT_NAMES[c]) for c in STAT_COUNTS],
            trend=[{"year": t["year"], "cells": [t[c] for c in STAT_COUNTS]} for t in stats.get("trend", [])],
            chart=chart, group_name=STAT_GROUP_NAMES[filters["group_by"]],
            groups=[(g, STAT_GROUP_NAMES[g]) for g in STAT_GROUPS], grades=GRADE_TITLES,
            trades=[(t["code"], t["name"]) for t in req.context.reference.trades()],
            cities=[(c.code, c.name) for c in regions.cities()] if role == "province" else [],
            export_url="/api/v1/admin/statistics.xlsx?" + urlencode(exported),
            applications_url="/api/v1/admin/applications.xlsx?" + urlencode(
                {k: v for k, v in exported.items() if k in ApplicationsQuery.model_fields}))
