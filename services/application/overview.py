"""Application's overview for administrators (issue 14, R-P4): 统计 — registrations,
submissions, review status (by level too), approvals, payments, seats and results, grouped
by city, county, 主管单位, unit, grade or trade, with the same counts year by year for the
trend — and its Excel; and 报名信息导出, every application of the caller's scope with its
fields, streamed. Mixed into ``ApplicationService`` (service.py), whose ``db``, ``files``
and ``review`` it uses.

Every count comes from this service's own table: an application row exists from
registration on (one per account and year), ``round`` > 0 once submitted, ``status`` follows
review's outcomes, ``paid_at``, ``ticket_no`` and ``result`` follow payment's and documents'
events. Counted in the database (COUNT … FILTER), never by loading rows. Only the level a
case waits at is review's: it is asked for those counts (one RPC, the caller's own sealed
principal, so review applies the same scope)."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from kit import access, clock, regions
from kit.access import Principal
from kit.entrypoints import rpc
from kit.files import generates
from kit.masks import mask_id, mask_phone
from kit.tables import xlsx_book, xlsx_file
from kit.validation import parse

from .models import Application, Supervisor, Trade, Unit, YearCopy
from .schemas import (
    EDUCATION_NAMES,
    GENDER_NAMES,
    GRADE_NAMES,
    RESULT_NAMES,
    ROUTE_NAMES,
    STAT_COUNT_NAMES,
    STAT_COUNTS,
    STAT_GROUP_NAMES,
    STAT_LEVELS,
    STAT_NO_KEY,
    STATUS_NAMES,
    TREND_YEARS,
    ApplicationsQuery,
    StatCounts,
    Statistics,
    StatisticsQuery,
    StatRow,
    StatYear,
    stat_cells,
    stat_columns,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KEY_COLUMNS = {"city": Application.city_code, "county": Application.county_code,
               "supervisor": Application.supervisor_id, "unit": Application.unit_id,
               "grade": Application.target_grade, "trade": Application.target_trade}


def _counts() -> list:
    """The counts of one group, as SQL aggregates (STAT_COUNTS' order)."""
    count = sa.func.count
    return [count().label("registered"),
            count().filter(Application.round > 0).label("submitted"),
            *(count().filter(Application.status == status).label(status)
              for status in ("in_review", "returned", "rejected", "approved")),
            count().filter(Application.paid_at.is_not(None)).label("paid"),
            count().filter(Application.ticket_no.is_not(None)).label("seated"),
            count().filter(Application.result == "pass").label("passed")]


def _scoped(who: Principal) -> sa.ColumnElement:
    return access.scope_clause(who, city=Application.city_code, county=Application.county_code,
                               supervisor=Application.supervisor_id)


def _filtered(q) -> list:
    """The filters the statistics and the applications export share: grade, trade, city."""
    where = []
    if q.grade is not None:
        where.append(Application.target_grade == q.grade)
    if q.trade:
        where.append(Application.target_trade == q.trade)
    if q.city_code:
        where.append(Application.city_code == q.city_code)
    return where


def _cst(value) -> str:
    return value.astimezone(clock.CST).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("是" if value else "否")


class OverviewEntrypoints:
    # --- 统计 ------------------------------------------------------------------------------
    @staticmethod
    def _current_year(s: Session) -> int:
        year = s.scalars(sa.select(YearCopy.year).where(YearCopy.is_current).order_by(YearCopy.year.desc())).first()
        return year or clock.local_now().year

    @staticmethod
    def _scope_name(s: Session, who: Principal) -> str:
        code = who.scope_code or ""
        if who.role == "city":
            return regions.city_name(code) or code
        if who.role == "county":
            county = regions.county(code)
            return (regions.city_name(county.parent_code or "") or "") + county.name if county else code
        if who.role == "supervisor":
            sup = s.get(Supervisor, code)
            return sup.name if sup else code
        return "全省"

    def _key_names(self, s: Session, group_by: str, keys: list[str]) -> dict[str, str]:
        """The name of each group's key, from its owner: GB/T 2260 for cities and counties,
        this service's units, 主管单位 and trade catalogue, the grades' labels."""
        if group_by == "city":
            return {k: regions.city_name(k) or k for k in keys}
        if group_by == "county":
            out = {}
            for k in keys:
                county = regions.county(k)
                out[k] = (regions.city_name(county.parent_code or "") or "") + county.name if county else k
            return out
        if group_by == "grade":
            return {k: GRADE_NAMES.get(int(k), k) for k in keys}
        table = {"supervisor": (Supervisor.id, Supervisor.name), "unit": (Unit.id, Unit.name),
                 "trade": (Trade.code, Trade.name)}[group_by]
        names = dict(s.execute(sa.select(*table).where(table[0].in_(keys))).all()) if keys else {}
        return {k: names.get(k, k) for k in keys}

    def _level_counts(self, principal: dict, year: int, q: StatisticsQuery) -> dict[str | None, dict[str, int]]:
        """审核中 by the level each case waits at, grouped the same way: review's count."""
        answer = self.review.level_counts(principal, {
            "year": year, "group_by": q.group_by, "grade": q.grade, "trade": q.trade, "city_code": q.city_code})
        return {row["key"]: {level: int(row.get(level) or 0) for level in STAT_LEVELS}
                for row in (answer or {}).get("rows") or []}

    def _statistics(self, principal: dict, who: Principal, q: StatisticsQuery) -> Statistics:
        """The counts in one transaction, then review's levels (asked outside it: no
        connection is held while another service answers)."""
        where = [_scoped(who), *_filtered(q)]
        key = KEY_COLUMNS[q.group_by]
        with self.db.tx() as s:
            year = q.year or self._current_year(s)
            found = s.execute(sa.select(key.label("key"), *_counts())
                              .where(Application.year == year, *where).group_by(key)).all()
            trend = s.execute(sa.select(Application.year, *_counts())
                              .where(Application.year.between(year - TREND_YEARS + 1, year), *where)
                              .group_by(Application.year).order_by(Application.year)).all()
            names = self._key_names(s, q.group_by, [str(r.key) for r in found if r.key is not None])
        levels = self._level_counts(principal, year, q)
        rows = []
        for r in found:
            k = None if r.key is None else str(r.key)
            rows.append(StatRow(key=k, name=names.get(k, k) if k is not None else STAT_NO_KEY.get(q.group_by, "—"),
                                **{c: getattr(r, c) for c in STAT_COUNTS},
                                in_review_levels=levels.get(k, dict.fromkeys(STAT_LEVELS, 0))))
        # 五级 first as the manual lists the grades; otherwise by code, the rows without a key last
        if q.group_by == "grade":
            rows.sort(key=lambda r: -int(r.key))
        else:
            rows.sort(key=lambda r: (r.key is None, r.key or ""))
        totals = StatCounts(**{c: sum(getattr(r, c) for r in rows) for c in STAT_COUNTS},
                            in_review_levels={lv: sum(r.in_review_levels[lv] for r in rows) for lv in STAT_LEVELS})
        return Statistics(year=year, group_by=q.group_by,
                          filters=q.model_dump(exclude={"year", "group_by"}, exclude_none=True), rows=rows,
                          totals=totals,
                          trend=[StatYear(year=t.year, **{c: getattr(t, c) for c in STAT_COUNTS}) for t in trend])

    @rpc
    def statistics(self, principal: dict, query: dict | None = None) -> dict:
        """统计 of the caller's scope (the province all, a city its city, a county its county,
        a 主管单位 its units' applicants) for one year, grouped and filtered as asked, with
        the trend over the years for the same scope and filters."""
        who = access.require(principal, "admin")
        return self._statistics(principal, who, parse(StatisticsQuery, query or {})).model_dump(mode="json")

    @rpc
    def statistics_export(self, principal: dict, query: dict | None = None) -> dict:
        """The same table as an Excel file: a ticket to the file, made when it is fetched."""
        access.require(principal, "admin")
        q = parse(StatisticsQuery, query or {})
        if q.year is None:
            with self.db.tx() as s:
                q.year = self._current_year(s)
        return self.files.generated_ticket(
            "statistics_xlsx", q.model_dump(mode="json"), principal,
            filename=f"报名统计_{q.year}年_按{STAT_GROUP_NAMES[q.group_by]}.xlsx", content_type=XLSX)

    @generates("statistics_xlsx")
    def make_statistics_xlsx(self, principal: dict, args: dict):
        """The page's numbers for the same query (the same ``_statistics``): the table with
        its 合计, the trend year by year, and what was asked."""
        who = access.require(principal, "admin")
        q = parse(StatisticsQuery, args)
        stats = self._statistics(principal, who, q)
        with self.db.tx() as s:
            trade = s.get(Trade, q.trade) if q.trade else None
            scope = self._scope_name(s, who)
        header = [STAT_GROUP_NAMES[stats.group_by], *(name for _, name in stat_columns())]
        table = [[r.name, *stat_cells(r.model_dump())] for r in stats.rows]
        table.append(["合计", *stat_cells(stats.totals.model_dump())])
        trend = [[t.year, *(getattr(t, c) for c in STAT_COUNTS)] for t in stats.trend]
        asked = [["考核年度", stats.year], ["统计方式", f"按{STAT_GROUP_NAMES[stats.group_by]}"],
                 ["管理范围", scope],
                 ["申报等级", GRADE_NAMES.get(q.grade, "全部") if q.grade else "全部"],
                 ["申报工种", (trade.name if trade else q.trade) if q.trade else "全部"],
                 ["省辖市", (regions.city_name(q.city_code) or q.city_code) if q.city_code else "全部"],
                 ["导出时间", _cst(clock.now())]]
        return xlsx_book([(f"{stats.year}年报名统计", [header], table),
                          ("历年趋势", [["考核年度", *(STAT_COUNT_NAMES[c] for c in STAT_COUNTS)]], trend),
                          ("统计条件", [["项目", "内容"]], asked)])

    # --- 报名信息导出 -------------------------------------------------------------------------
    def _applications(self, s: Session, who: Principal, q: ApplicationsQuery):
        current, target = aliased(Trade), aliased(Trade)
        where = [Application.year == (q.year or self._current_year(s)), _scoped(who)]
        if q.status != "all":
            where.append(Application.status == q.status)
        where += _filtered(q)
        if q.unit_id:
            where.append(Application.unit_id == q.unit_id)
        return (sa.select(Application, Unit.name, Supervisor.name, current.name, target.name)
                .outerjoin(Unit, Unit.id == Application.unit_id)
                .outerjoin(Supervisor, Supervisor.id == Application.supervisor_id)
                .outerjoin(current, current.code == Application.current_trade)
                .outerjoin(target, target.code == Application.target_trade)
                .where(*where).order_by(Application.city_code, Application.unit_id, Application.id))

    @rpc
    def applications_export(self, principal: dict, query: dict | None = None) -> dict:
        """报名信息导出: a ticket to the Excel file of every application in the caller's scope
        that the filters keep, made (and streamed) when it is fetched."""
        access.require(principal, "admin")
        q = parse(ApplicationsQuery, query or {})
        if q.year is None:
            with self.db.tx() as s:
                q.year = self._current_year(s)
        return self.files.generated_ticket("applications_xlsx", q.model_dump(mode="json"), principal,
                                           filename=f"报名信息_{q.year}年.xlsx", content_type=XLSX)

    @generates("applications_xlsx")
    def make_applications_xlsx(self, principal: dict, args: dict):
        """One row per application with its fields, written row by row (write-only workbook,
        rows fetched 500 at a time): tens of thousands of rows never sit in memory at once.
        ID numbers and phones are masked as in every list (API.md): the 报名编号 finds the
        application, whose case shows the rest to an administrator in scope."""
        who = access.require(principal, "admin")
        q = parse(ApplicationsQuery, args)
        with self.db.tx() as s:
            rows = s.execute(self._applications(s, who, q).execution_options(yield_per=500))
            return xlsx_file("报名信息", APPLICATION_COLUMNS, (_application_cells(*row) for row in rows))


APPLICATION_COLUMNS = ["报名编号", "考核年度", "姓名", "身份证号", "性别", "出生年月", "手机号", "省辖市", "县区", "主管单位",
                       "单位", "文化程度", "参加工作时间", "工作年限", "现岗位等级", "现岗位工种", "现等级取得时间",
                       "申报岗位等级", "申报岗位工种", "申报途径", "破格", "一线", "是否存在禁止申报的情形", "状态", "提交次数",
                       "最近提交时间", "审核意见", "缴费时间", "准考证号", "考核结果"]


def _application_cells(a: Application, unit: str | None, supervisor: str | None, current: str | None,
                       target: str | None) -> list[Any]:
    county = regions.county(a.county_code) if a.county_code else None
    return [a.id, a.year, a.name, mask_id(a.id_number), GENDER_NAMES.get(a.gender, a.gender), a.birth_month,
            mask_phone(a.phone), regions.city_name(a.city_code) or a.city_code, county.name if county else "",
            supervisor or "", unit or "", EDUCATION_NAMES.get(a.education or "", a.education or ""),
            a.work_start or "", a.service_years, GRADE_NAMES.get(a.current_grade, "") if a.current_grade is not None
            else "", current or a.current_trade or "", a.grade_obtained_year,
            GRADE_NAMES.get(a.target_grade, str(a.target_grade)), target or a.target_trade or "",
            ROUTE_NAMES.get(a.route or "", a.route or ""), _yes_no(a.exceptional), _yes_no(a.frontline),
            _yes_no(a.prohibited), STATUS_NAMES.get(a.status, a.status), a.round, _cst(a.submitted_at),
            a.review_note or "", _cst(a.paid_at), a.ticket_no or "", RESULT_NAMES.get(a.result or "", "")]
