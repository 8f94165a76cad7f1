"""The administrators' overview API (issue 14, R-P4): 统计 as JSON or Excel, and 报名信息导出.
Every administrator role may ask; the application service answers for the caller's scope
and checks it again when the file is made."""
from __future__ import annotations

from services.application.schemas import ApplicationsQuery, StatisticsQuery

from .. import auth, files

STATISTICS_QUERY = tuple(StatisticsQuery.model_fields)
APPLICATIONS_QUERY = tuple(ApplicationsQuery.model_fields)


def query(req, names: tuple[str, ...]) -> dict:
    """The given query parameters that are not empty, as text (the service validates them)."""
    return {k: req.get_param(k) for k in names if req.get_param(k) not in (None, "")}


class Statistics:
    def on_get(self, req, resp):
        who = auth.require_admin(req)
        resp.media = req.context.rpc.application.statistics(who, query(req, STATISTICS_QUERY))


class StatisticsExport:
    def on_get(self, req, resp):
        who = auth.require_admin(req)
        files.pass_on(resp, req.context.rpc.application.statistics_export(who, query(req, STATISTICS_QUERY)))


class ApplicationsExport:
    def on_get(self, req, resp):
        who = auth.require_admin(req)
        files.pass_on(resp, req.context.rpc.application.applications_export(who, query(req, APPLICATIONS_QUERY)))
