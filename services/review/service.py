"""Review service: the multi-level review chain (R-R1 … R-R4).

It opens a case when an application is submitted, lets each level decide on the cases in
its scope while the review window is open, keeps every step as history and audit, and
announces each outcome through the outbox. It reads no other service's tables: the
submitted event carries what it needs; the calendar is its own copy of identity's.
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm
from nameko.timer import timer
from sqlalchemy.orm import Session

from kit import access, clock, regions
from kit import files as kit_files
from kit.access import Principal
from kit.config import settings
from kit.db import Database, keep_calendar, track_viewers
from kit.entrypoints import handles, rpc
from kit.errors import Conflict, Forbidden, InvalidInput, NotFound, ServiceError
from kit.files import generates, uploads
from kit.images import check_image_off_hub
from kit.metrics import Metrics
from kit.tables import xlsx_file
from kit.validation import parse
from kit.vocabulary import GRADE_NAMES
from kit.windows import window_open

from . import domain, queue_sql
from .models import FOLD_QUEUE_COUNTS, Base, Case, ChainConfig, Step, YearCopy
from .schemas import (
    EVENT_OF,
    MATERIAL_NAMES,
    QUEUE_COLUMNS,
    QUEUE_STATUSES,
    ActionAudited,
    BatchDecision,
    ChainSet,
    Decision,
    DeletedView,
    LevelCounts,
    LevelCountsPage,
    LevelCountsQuery,
    QueueFilters,
    QueueQuery,
    SubmittedView,
    ViewersChanged,
    YearUpdatedView,
)

# the deltas folded (by one process) before it vacuums their table
VACUUM_DELTAS_AFTER = 2000

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# What an applicant's 审核结果 is read from (issue 12): each write of a case marks its
# applicant (its steps are written with it); the gateways drop what they kept of it.
track_viewers(Case, lambda case: (case.year, case.id_number))


def _admin(principal: dict) -> Principal:
    return access.require(principal, "admin")


def _state(case: Case) -> domain.Case:
    return domain.Case(case.status, tuple(case.chain), case.level_index, case.round, case.target_grade,
                       case.rejected_index, frozenset((case.materials or {}).keys()))


def _level_of(who: Principal, case: Case) -> str | None:
    return access.acting_level(who, tuple(case.chain), case.city_code, case.supervisor_id)


def _apply(case: Case, state: domain.Case) -> None:
    """Writes a state of the machine onto the row, with the level it waits at (indexed)."""
    case.status, case.level_index, case.rejected_index, case.round = (
        state.status, state.level_index, state.rejected_index, state.round)
    case.current_level = state.level


def _current(case: Case) -> dict:
    state = _state(case)
    return {"status": case.status, "level": state.level, "version": case.version,
            "status_name": domain.status_name(state)}


def _conflict(case: Case, message: str | None = None, code: str = "state_conflict") -> Conflict:
    """409 with the current state of the case."""
    return Conflict(message or f"该报名信息已被处理（当前：{domain.status_name(_state(case))}），请刷新后重试",
                    code=code, details=_current(case))


def _step_out(step: Step, for_applicant: bool) -> dict:
    out = {"level": step.level, "level_name": domain.LEVEL_NAMES.get(step.level, step.level),
           "decision": step.decision, "decision_name": domain.DECISION_NAMES.get(step.decision, step.decision),
           "reason": step.reason or "", "at": step.at.isoformat(), "round": step.round,
           "reviewer": domain.mask_name(step.actor_name)}
    if not for_applicant:
        out.update(reviewer_name=step.actor_name, reviewer_username=step.actor, reviewer_role=step.actor_role,
                   reviewer_scope=step.actor_scope)
    return out


class ReviewService(kit_files.FileEndpoints):
    name = "review"

    db = Database(Base.metadata, viewers_event=ViewersChanged)
    metrics = Metrics()

    @rpc
    def ping(self) -> str:
        with self.db.tx() as s:
            s.execute(sa.text("SELECT 1"))
        return "pong"

    _folded_since_vacuum = 0     # by this process

    @timer(interval=2)
    def fold_queue_counts(self) -> None:
        """The queue totals' deltas folded into the totals (models.FOLD_QUEUE_COUNTS); any
        number of instances may run it at once."""
        if self.db.engine.dialect.name != "postgresql":
            return
        with self.db.engine.begin() as conn:
            folded = conn.execute(sa.text(FOLD_QUEUE_COUNTS)).scalar()
        # Every page's total reads the deltas table whole (it is meant to hold two seconds of
        # changes), so the space its folded rows leave must not stay: a day of submissions left
        # hundreds of empty pages that each queue page then read (issue 12). Vacuumed here after
        # so many folded rows, not left to autovacuum's settings, which a deployment may change.
        ReviewService._folded_since_vacuum += folded
        if ReviewService._folded_since_vacuum >= VACUUM_DELTAS_AFTER:
            ReviewService._folded_since_vacuum = 0
            with self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("VACUUM queue_count_deltas"))

    # --- chains (R-R1: configuration per city) --------------------------------------------
    def _chains(self, s: Session) -> dict[str, list[str]]:
        return {c.city_code: list(c.levels) for c in s.scalars(sa.select(ChainConfig))}

    @rpc
    def set_chain(self, principal: dict, city_code: str, body: dict) -> dict:
        who = access.require(principal, "admin", roles=("province",))
        levels = parse(ChainSet, body).levels
        if city_code not in regions.city_codes():
            raise InvalidInput("省辖市代码不正确", field="city_code")
        chain = domain.check_chain(levels)
        if city_code == domain.PROVINCIAL and "city" in chain:
            raise InvalidInput("省直单位没有省辖市审核级别", field="levels")
        with self.db.tx() as s:
            before = list(domain.chain_for(city_code, self._chains(s)))
            s.merge(ChainConfig(city_code=city_code, levels=list(chain)))
            self.db.audit(s, ActionAudited, who, "review_chain.set", city_code, {"levels": before},
                          {"levels": list(chain)})
        return {"city_code": city_code, "levels": list(chain)}

    @rpc
    def chain_of(self, city_code: str) -> list[str]:
        with self.db.tx() as s:
            return list(domain.chain_for(str(city_code), self._chains(s)))

    @rpc
    def chains(self) -> dict[str, list[str]]:
        """Every city's chain (the configured ones and the defaults)."""
        with self.db.tx() as s:
            configured = self._chains(s)
        return {c.code: list(domain.chain_for(c.code, configured)) for c in regions.cities()}

    # --- the queue ----------------------------------------------------------------------
    @rpc
    def queue(self, principal: dict, filters: dict | None = None) -> dict:
        """The cases in the caller's scope, paged and counted in the database. ``status``:
        pending (waiting for the caller's level), in_review, returned, rejected, approved,
        all; plus grade, trade, unit, submitted date range."""
        who = _admin(principal)
        f = parse(QueueFilters, filters or {})
        sh, params = queue_sql.shape(who, f)
        # a read (no transaction), in one round trip: the page's rows carry the total
        with self.db.read() as s:
            conn = s.connection()
            # plain rows of the columns a list shows (not ORM objects; the form is not read)
            sql = queue_sql.page_sql(sh, sh.bucketed and conn.dialect.name == "postgresql")
            rows = conn.execute(sql.rows, params).all()
            # an empty page (past the last, or nothing matches) has no row to carry the total
            total = rows[0].total if rows else conn.execute(sql.count, params).scalar()
            # QueuePage's fields as JSON, written out (the page of the rush: no model per row;
            # tests hold it to the model)
            items = [{
                "application_id": c.application_id, "name": c.name, "id_number": domain.mask_id(c.id_number),
                "unit_id": c.unit_id, "unit_name": c.unit_name, "target_grade": c.target_grade,
                "target_trade": c.target_trade, "level": c.current_level, "status": c.status,
                "status_name": domain.status_name_at(c.status, c.current_level), "round": c.round,
                "submitted_at": c.submitted_at.isoformat().replace("+00:00", "Z"), "version": c.version,
                "can_decide": c.current_level == who.role and _level_of(who, c) == who.role} for c in rows]
        return {"items": items, "total": int(total or 0), "page": f.page, "page_size": f.page_size}

    @rpc
    def level_counts(self, principal: dict, query: dict | None = None) -> dict:
        """审核中 by the level each case waits at (issue 14, "review status by level"), for
        application's statistics: the caller's scope, counted in the database, grouped like
        the statistics table (city, county, 主管单位, unit, grade or trade)."""
        who = _admin(principal)
        q = parse(LevelCountsQuery, query or {})
        key = {"city": Case.city_code, "county": Case.county_code, "supervisor": Case.supervisor_id,
               "unit": Case.unit_id, "grade": Case.target_grade, "trade": Case.target_trade}[q.group_by]
        where = [Case.year == q.year, Case.status == "in_review",
                 access.scope_clause(who, city=Case.city_code, county=Case.county_code, supervisor=Case.supervisor_id)]
        if q.grade is not None:
            where.append(Case.target_grade == q.grade)
        if q.trade:
            where.append(Case.target_trade == q.trade)
        if q.city_code:
            where.append(Case.city_code == q.city_code)
        rows: dict[str | None, LevelCounts] = {}
        with self.db.tx() as s:
            for value, level, n in s.execute(sa.select(key, Case.current_level, sa.func.count())
                                             .where(*where).group_by(key, Case.current_level)):
                k = None if value is None else str(value)
                row = rows.setdefault(k, LevelCounts(key=k))
                if level in domain.LEVELS:
                    setattr(row, level, getattr(row, level) + n)
        return LevelCountsPage(rows=list(rows.values())).model_dump()

    @rpc
    def queue_export(self, principal: dict, filters: dict | None = None) -> dict:
        """The queue with the same filters as an Excel file (every matching case, no paging):
        a ticket to the file, made when it is fetched."""
        _admin(principal)
        f = parse(QueueQuery, filters or {})
        return self.files.generated_ticket("queue_xlsx", f.model_dump(mode="json"), principal,
                                           filename=f"报名审核_{QUEUE_STATUSES[f.status]}.xlsx", content_type=XLSX)

    @generates("queue_xlsx")
    def make_queue_xlsx(self, principal: dict, args: dict):
        """Every case of the query in the queue's order, read 500 at a time (yield_per, the
        form left out) and written row by row (kit.tables): no list of all cases in memory."""
        who = _admin(principal)
        f = parse(QueueQuery, args)
        cities = {c.code: c.name for c in regions.cities()}

        def county(code: str | None) -> str:
            region = regions.county(code) if code else None
            return region.name if region else (code or "")

        def at(value) -> str:
            return value.astimezone(clock.CST).strftime("%Y-%m-%d %H:%M:%S") if value else ""

        with self.db.tx() as s:
            sh, params = queue_sql.shape(who, f)
            cases = s.scalars(sa.select(Case).where(*queue_sql.cases_where(sh))
                              .options(sa.orm.defer(Case.snapshot))
                              .order_by(Case.submitted_at, Case.application_id)
                              .execution_options(yield_per=500), params)
            return xlsx_file("报名审核", QUEUE_COLUMNS, (
                [c.application_id, c.name, domain.mask_id(c.id_number), cities.get(c.city_code, c.city_code),
                 county(c.county_code), c.unit_name or "", GRADE_NAMES.get(c.target_grade, str(c.target_grade)),
                 c.target_trade_name or c.target_trade or "",
                 domain.LEVEL_NAMES.get(c.current_level, "") if c.current_level else "",
                 domain.status_name(_state(c)), c.round, at(c.submitted_at), at(c.finally_approved_at)]
                for c in cases))

    def _case(self, s: Session, who: Principal, application_id: str, lock: bool = False) -> Case:
        q = sa.select(Case).where(Case.application_id == str(application_id))
        case = s.scalars(q.with_for_update() if lock else q).first()
        if case is None or case.status == "withdrawn" or not who.in_scope(case.city_code, case.county_code,
                                                                          case.supervisor_id):
            # the same answer whether it does not exist or is out of scope: no probing
            raise NotFound("没有找到该报名信息，或不在您的管理范围内")
        return case

    def _case_out(self, s: Session, who: Principal, case: Case) -> dict:
        state = _state(case)
        steps = s.scalars(sa.select(Step).where(Step.application_id == case.application_id).order_by(Step.id))
        level = _level_of(who, case)
        window = ((self._calendar(s, case.year) or {}).get("windows") or {}).get("review")
        return {
            "review_window": window, "review_open": window_open(window, clock.now()),
            "application_id": case.application_id, "status": case.status, "status_name": domain.status_name(state),
            "level": state.level, "chain": list(case.chain), "round": case.round, "version": case.version,
            "target_grade": case.target_grade, "submitted_at": case.submitted_at.isoformat(),
            "finally_approved_at": case.finally_approved_at.isoformat() if case.finally_approved_at else None,
            "snapshot": dict(case.snapshot or {}), "history": [_step_out(st, False) for st in steps],
            "materials": dict(case.materials or {}), "materials_level": domain.materials_level(state.chain),
            "needs_materials": case.target_grade == 1,
            "your_level": level, "can_decide": level is not None and level == state.level,
            "can_reopen": case.status == "rejected" and level is not None
            and state.chain.index(level) >= (case.rejected_index or 0),
            "can_upload_materials": case.target_grade == 1 and level == domain.materials_level(state.chain)
            and case.status == "in_review",
        }

    @rpc
    def get_case(self, principal: dict, application_id: str) -> dict:
        who = _admin(principal)
        with self.db.tx() as s:
            return self._case_out(s, who, self._case(s, who, application_id))

    # --- decisions (R-R2) ---------------------------------------------------------------
    def _calendar(self, s: Session, year: int) -> dict | None:
        row = s.get(YearCopy, year)
        return row.calendar if row else None

    def _decide(self, s: Session, who: Principal, case: Case, decision: str, reason: str | None,
                version: int | None) -> str:
        if version is not None and version != case.version:
            raise _conflict(case)
        level = _level_of(who, case)
        try:
            new, outcome = domain.decide(_state(case), level, decision, reason)
        except Conflict as exc:
            raise _conflict(case, exc.message, exc.code) from None
        domain.require_review_window(self._calendar(s, case.year), clock.now())
        now = clock.now()
        _apply(case, new)
        case.updated_at, case.version = now, case.version + 1
        if outcome == "finally_approved":
            case.finally_approved_at = now
        text = domain.check_reason(decision, reason)
        s.add(Step(application_id=case.application_id, round=case.round, level=level, decision=decision,
                   actor=who.username or "", actor_name=who.name, actor_role=who.role,
                   actor_scope=who.scope_code, reason=text, at=now))
        self.db.emit(s, EVENT_OF[outcome](
            application_id=case.application_id, year=case.year, id_number=case.id_number, name=case.name,
            round=case.round,
            level=level, decision=decision, reason=text, target_grade=case.target_grade, city_code=case.city_code,
            at=now, next_level=new.level, version=case.version))
        return outcome

    @rpc
    def decide(self, principal: dict, application_id: str, body: dict) -> dict:
        """通过 / 退回 / 审核不通过 / reopen. Two reviewers at once: the row lock makes one
        wait; it then finds the case moved on and gets 409 with the current state."""
        who = _admin(principal)
        d = parse(Decision, body)
        domain.check_reason(d.decision, d.reason)
        with self.db.tx() as s:
            case = self._case(s, who, application_id, lock=True)
            outcome = self._decide(s, who, case, d.decision, d.reason, d.version)
            out = self._case_out(s, who, case)
        out["outcome"] = outcome
        return out

    @rpc
    def decide_batch(self, principal: dict, body: dict) -> dict:
        """Several cases at once, each with the same checks and its own transaction."""
        who = _admin(principal)
        batch = parse(BatchDecision, body)
        domain.check_reason(batch.decision, batch.reason)
        results = []
        for app_id in dict.fromkeys(batch.application_ids):
            try:
                with self.db.tx() as s:
                    case = self._case(s, who, app_id, lock=True)
                    outcome = self._decide(s, who, case, batch.decision, batch.reason, None)
                results.append({"application_id": app_id, "ok": True, "outcome": outcome})
            except ServiceError as exc:
                results.append({"application_id": app_id, "ok": False, "status": exc.status,
                                "error": exc.as_dict()})
        return {"results": results, "succeeded": sum(r["ok"] for r in results),
                "failed": sum(not r["ok"] for r in results)}

    # --- 一级 materials (R-R4): bytes over kit.files ------------------------------------------
    def _material_case(self, s: Session, principal: dict, args: dict, lock: bool) -> tuple[Principal, Case, str]:
        who = _admin(principal)
        kind = str(args.get("kind") or "")
        if kind not in domain.MATERIAL_KINDS:
            raise NotFound("没有这种审核材料", field="kind")
        case = self._case(s, who, str(args.get("application_id") or ""), lock=lock)
        if case.target_grade != 1:
            raise InvalidInput("只有申报一级的报名信息需要上传工资审核表和考核优秀材料", field="kind")
        uploader = domain.materials_level(_state(case).chain)
        if _level_of(who, case) != uploader:
            raise Forbidden(f"一级材料由{domain.LEVEL_NAMES[uploader]}审核员上传", code="wrong_level")
        if case.status != "in_review":
            raise _conflict(case)
        return who, case, kind

    def _precheck_material(self, principal: dict, args: dict) -> None:
        with self.db.tx() as s:
            self._material_case(s, principal, args, lock=False)

    @uploads("material", precheck="_precheck_material")
    def receive_material(self, principal: dict, args: dict, data: bytes) -> dict:
        image = check_image_off_hub(data, settings().upload_max_bytes, field="file")
        with self.db.tx() as s:
            who, case, kind = self._material_case(s, principal, args, lock=True)
            ref = self.db.files.put(s, image.data, image.content_type, image.width, image.height, now=clock.now(),
                                    owner=who.username)
            materials = dict(case.materials or {})
            materials[kind] = {**ref.model_dump(), "uploaded_at": clock.now().isoformat(),
                               "uploaded_by": who.username}
            case.materials, case.updated_at, case.version = materials, clock.now(), case.version + 1
            s.flush()
            return self._case_out(s, who, case)

    @rpc
    def material_ticket(self, principal: dict, application_id: str, kind: str) -> dict:
        who = _admin(principal)
        with self.db.tx() as s:
            case = self._case(s, who, application_id)
            meta = (case.materials or {}).get(str(kind))
            if not meta:
                raise NotFound("没有找到该材料")
        ext = {"image/jpeg": "jpg", "image/png": "png"}.get(meta["content_type"], "bin")
        return self.files.download_ticket(
            {k: meta.get(k) for k in ("sha256", "content_type", "size", "width", "height")},
            filename=f"{MATERIAL_NAMES.get(kind, kind)}.{ext}")

    # --- the applicant's 审核结果 (R-R3) -----------------------------------------------------
    @rpc
    def applicant_review(self, principal: dict) -> dict:
        who = access.require(principal, "applicant")
        with self.db.read() as s:
            case = s.scalars(sa.select(Case).where(Case.year == who.year, Case.id_number == who.id_number,
                                                   Case.status != "withdrawn")).first()
            if case is None:
                return {"status": "not_submitted", "steps": [], "chain": [], "reason": None,
                        "city_code": who.city_code, "supervisor_id": None}
            steps = list(s.scalars(sa.select(Step).where(Step.application_id == case.application_id)
                                   .order_by(Step.id)))
            last = next((st for st in reversed(steps) if st.decision in ("return", "reject", "reopen")), None)
            return {"status": domain.applicant_status(case.status), "status_name": domain.status_name(_state(case)),
                    "level": _state(case).level, "chain": list(case.chain), "round": case.round,
                    "city_code": case.city_code, "supervisor_id": case.supervisor_id,
                    "steps": [_step_out(st, True) for st in steps],
                    "reason": last.reason if last and case.status in ("returned", "rejected") else None,
                    "finally_approved_at": case.finally_approved_at.isoformat() if case.finally_approved_at
                    else None}

    # --- events from others ----------------------------------------------------------------
    @handles(SubmittedView)
    def on_submitted(self, s: Session, event: SubmittedView) -> None:
        """Opens a case on the chain of the applicant's city, or restarts it after a 退回.
        A repeated or stale submission changes nothing (guarded by the round too)."""
        now = clock.now()
        case = s.get(Case, event.application_id, with_for_update=True)
        fields = dict(year=event.year, id_number=event.id_number, name=event.name, gender=event.gender,
                      target_grade=event.target_grade, target_trade=event.target_trade, route=event.route,
                      target_trade_name=(event.target_trade_name or "")[:60] or None,
                      unit_id=event.unit_id, unit_name=(event.form.get("unit") or {}).get("name"),
                      supervisor_id=event.supervisor_id, county_code=event.county_code, city_code=event.city_code,
                      snapshot=event.form, submitted_at=event.submitted_at, updated_at=now)
        if case is None:
            chain = domain.chain_for(event.city_code, self._chains(s))
            state = domain.open_case(chain, event.round, event.target_grade)
            case = Case(application_id=event.application_id, chain=list(chain), materials={}, version=1, **fields)
            _apply(case, state)
            s.add(case)
        else:
            state = domain.resubmit(_state(case), event.round)
            if state is None:
                return
            for key, value in fields.items():
                setattr(case, key, value)
            _apply(case, state)
            case.version = case.version + 1
        s.flush()
        s.add(Step(application_id=case.application_id, round=case.round, level="applicant", decision="submitted",
                   actor=domain.mask_id(event.id_number), actor_name=event.name,
                   actor_role=None, actor_scope=None, reason="", at=event.submitted_at))

    @handles(DeletedView)
    def on_deleted(self, s: Session, event: DeletedView) -> None:
        case = s.get(Case, event.application_id, with_for_update=True)
        if case is not None:
            case.status, case.current_level, case.updated_at = "withdrawn", None, clock.now()

    @handles(YearUpdatedView)
    def on_year_updated(self, s: Session, event: YearUpdatedView) -> None:
        keep_calendar(s, YearCopy, event)
