"""Review service: the multi-level review chain (R-R1 … R-R4).

It opens a case when an application is submitted, lets each level decide on the cases in
its scope, keeps every step as history and audit, and announces each outcome through the
outbox. It reads no other service's tables: the submitted event carries what it needs.
"""
from __future__ import annotations

import base64
import binascii
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kit import clock, regions
from kit.config import settings
from kit.db import Database
from kit.entrypoints import handles, rpc
from kit.errors import Conflict, Forbidden, InvalidInput, NotFound, ServiceError
from kit.images import BlobStore, check_image

from . import domain
from .models import Base, Blob, Case, ChainConfig, Step
from .schemas import EVENT_OF

PAGE_SIZE_MAX = 100


def _admin(principal: dict) -> dict:
    if not principal or principal.get("kind") != "admin":
        raise Forbidden("仅限管理员操作")
    if principal.get("must_change_password"):
        raise Forbidden("请先修改初始密码", code="must_change_password")
    return principal


def _state(case: Case) -> domain.Case:
    return domain.Case(case.status, tuple(case.chain), case.level_index, case.round, case.target_grade,
                       case.rejected_index, frozenset((case.materials or {}).keys()))


def _level_of(principal: dict, case: Case) -> str | None:
    return domain.actor_level(principal["role"], principal.get("scope_code"), tuple(case.chain), case.city_code,
                              case.supervisor_id)


def _viewable(principal: dict, case: Case) -> bool:
    return domain.can_view(principal["role"], principal.get("scope_code"), case.city_code, case.county_code,
                           case.supervisor_id)


def _scope_filter(principal: dict):
    role, scope = principal["role"], principal.get("scope_code")
    if role == "province":
        return sa.true()
    column = {"city": Case.city_code, "county": Case.county_code, "supervisor": Case.supervisor_id}.get(role)
    return column == scope if column is not None else sa.false()


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


class ReviewService:
    name = "review"

    db = Database(Base.metadata)

    @property
    def store(self) -> BlobStore:
        return BlobStore(settings().data_dir / "files" / "review")

    @rpc
    def ping(self) -> str:
        with self.db.tx() as s:
            s.execute(sa.text("SELECT 1"))
        return "pong"

    # --- chains (R-R1: configuration per city) --------------------------------------------
    def _chains(self, s: Session) -> dict[str, list[str]]:
        return {c.city_code: list(c.levels) for c in s.scalars(sa.select(ChainConfig))}

    @rpc
    def set_chain(self, principal: dict, city_code: str, levels: list[str]) -> dict:
        if _admin(principal)["role"] != "province":
            raise Forbidden("只有省级管理员可以设置审核流程")
        if city_code not in regions.city_codes():
            raise InvalidInput("省辖市代码不正确", field="city_code")
        chain = domain.check_chain(levels)
        if city_code == domain.PROVINCIAL and "city" in chain:
            raise InvalidInput("省直单位没有省辖市审核级别", field="levels")
        with self.db.tx() as s:
            s.merge(ChainConfig(city_code=city_code, levels=list(chain)))
        return {"city_code": city_code, "levels": list(chain)}

    @rpc
    def chain_of(self, city_code: str) -> list[str]:
        with self.db.tx() as s:
            return list(domain.chain_for(city_code, self._chains(s)))

    # --- the queue ----------------------------------------------------------------------
    @rpc
    def queue(self, principal: dict, filters: dict | None = None) -> dict:
        """The cases in the caller's scope. ``status``: pending (waiting for the caller's
        level), returned, rejected, approved, all; plus grade, trade, unit_id, submitted
        date range, paging."""
        who = _admin(principal)
        f = filters or {}
        status = f.get("status") or "pending"
        if status not in ("pending", "in_review", "returned", "rejected", "approved", "all"):
            raise InvalidInput("状态筛选应为 pending、in_review、returned、rejected、approved 或 all", field="status")
        try:
            page = max(1, int(f.get("page") or 1))
            size = min(PAGE_SIZE_MAX, max(1, int(f.get("page_size") or 20)))
            grade = int(f["grade"]) if f.get("grade") not in (None, "") else None
            start = datetime.fromisoformat(f["submitted_from"]) if f.get("submitted_from") else None
            end = datetime.fromisoformat(f["submitted_to"]) if f.get("submitted_to") else None
        except (TypeError, ValueError):
            raise InvalidInput("筛选条件格式不正确（日期为 YYYY-MM-DD）") from None
        q = sa.select(Case).where(_scope_filter(who), Case.status != "withdrawn")
        if status == "pending":
            q = q.where(Case.status == "in_review")
        elif status != "all":
            q = q.where(Case.status == status)
        if grade is not None:
            q = q.where(Case.target_grade == grade)
        if f.get("trade"):
            q = q.where(Case.target_trade == f["trade"])
        if f.get("unit_id"):
            q = q.where(Case.unit_id == f["unit_id"])
        if start is not None:
            q = q.where(Case.submitted_at >= start.replace(tzinfo=start.tzinfo or clock.CST))
        if end is not None:
            end = end.replace(tzinfo=end.tzinfo or clock.CST)
            if len(str(f["submitted_to"])) == 10:  # a date: the whole day
                end = end.replace(hour=23, minute=59, second=59)
            q = q.where(Case.submitted_at <= end)
        with self.db.tx() as s:
            rows = list(s.scalars(q.order_by(Case.submitted_at, Case.application_id)))
            if status == "pending":  # waiting for the caller's own level
                rows = [c for c in rows if _level_of(who, c) == _state(c).level]
            total = len(rows)
            items = [{"application_id": c.application_id, "name": c.name, "id_number": c.id_number,
                      "unit_id": c.unit_id, "unit_name": c.unit_name, "target_grade": c.target_grade,
                      "target_trade": c.target_trade, "level": _state(c).level, "status": c.status,
                      "status_name": domain.status_name(_state(c)), "round": c.round,
                      "submitted_at": c.submitted_at.isoformat(), "version": c.version,
                      "can_decide": _level_of(who, c) == _state(c).level}
                     for c in rows[(page - 1) * size: page * size]]
        return {"items": items, "total": total, "page": page, "page_size": size}

    def _case(self, s: Session, principal: dict, application_id: str, lock: bool = False) -> Case:
        q = sa.select(Case).where(Case.application_id == application_id)
        case = s.scalars(q.with_for_update() if lock else q).first()
        if case is None or case.status == "withdrawn" or not _viewable(principal, case):
            # the same answer whether it does not exist or is out of scope: no probing
            raise NotFound("没有找到该报名信息，或不在您的管理范围内")
        return case

    def _case_out(self, s: Session, who: dict, case: Case) -> dict:
        state = _state(case)
        snapshot = dict(case.snapshot or {})
        steps = s.scalars(sa.select(Step).where(Step.application_id == case.application_id).order_by(Step.id))
        level = _level_of(who, case)
        materials = {kind: {**meta, "url": f"/api/v1/admin/reviews/{case.application_id}/files/{kind}"}
                     for kind, meta in (case.materials or {}).items()}
        return {
            "application_id": case.application_id, "status": case.status, "status_name": domain.status_name(state),
            "level": state.level, "chain": list(case.chain), "round": case.round, "version": case.version,
            "target_grade": case.target_grade, "submitted_at": case.submitted_at.isoformat(),
            "finally_approved_at": case.finally_approved_at.isoformat() if case.finally_approved_at else None,
            "snapshot": snapshot, "history": [_step_out(st, False) for st in steps],
            "materials": materials, "materials_level": domain.materials_level(state.chain),
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
    def _decide(self, s: Session, who: dict, case: Case, decision: str, reason: str | None,
                version: int | None) -> str:
        if version is not None and int(version) != case.version:
            raise _conflict(case)
        level = _level_of(who, case)
        try:
            new, outcome = domain.decide(_state(case), level, decision, reason)
        except Conflict as exc:
            raise _conflict(case, exc.message, exc.code) from None
        now = clock.now()
        case.status, case.level_index, case.rejected_index = new.status, new.level_index, new.rejected_index
        case.updated_at, case.version = now, case.version + 1
        if outcome == "finally_approved":
            case.finally_approved_at = now
        text = domain.check_reason(decision, reason)
        s.add(Step(application_id=case.application_id, round=case.round, level=level, decision=decision,
                   actor=who.get("username") or "", actor_name=who.get("name") or "", actor_role=who["role"],
                   actor_scope=who.get("scope_code"), reason=text, at=now))
        self.db.emit(s, EVENT_OF[outcome], {
            "application_id": case.application_id, "year": case.year, "id_number": case.id_number,
            "round": case.round, "level": level, "decision": decision, "reason": text,
            "target_grade": case.target_grade, "city_code": case.city_code, "at": now.isoformat(),
            "next_level": new.level})
        return outcome

    @rpc
    def decide(self, principal: dict, application_id: str, decision: str, reason: str | None = None,
               version: int | None = None) -> dict:
        """通过 / 退回 / 审核不通过 / reopen. Two reviewers at once: the row lock makes one
        wait; it then finds the case moved on and gets 409 with the current state."""
        who = _admin(principal)
        domain.check_reason(decision, reason)
        with self.db.tx() as s:
            case = self._case(s, who, application_id, lock=True)
            outcome = self._decide(s, who, case, decision, reason, version)
            out = self._case_out(s, who, case)
        out["outcome"] = outcome
        return out

    @rpc
    def decide_batch(self, principal: dict, application_ids: list[str], decision: str,
                     reason: str | None = None) -> dict:
        """Several cases at once, each with the same checks and its own transaction."""
        who = _admin(principal)
        domain.check_reason(decision, reason)
        if not application_ids or len(application_ids) > 200:
            raise InvalidInput("请选择1至200条报名信息", field="application_ids")
        results = []
        for app_id in dict.fromkeys(application_ids):
            try:
                with self.db.tx() as s:
                    case = self._case(s, who, str(app_id), lock=True)
                    outcome = self._decide(s, who, case, decision, reason, None)
                results.append({"application_id": app_id, "ok": True, "outcome": outcome})
            except ServiceError as exc:
                results.append({"application_id": app_id, "ok": False, "status": exc.status,
                                "error": exc.as_dict()})
        return {"results": results, "succeeded": sum(r["ok"] for r in results),
                "failed": sum(not r["ok"] for r in results)}

    # --- 一级 materials (R-R4) -------------------------------------------------------------
    @rpc
    def upload_material(self, principal: dict, application_id: str, kind: str, data_b64: str) -> dict:
        who = _admin(principal)
        if kind not in domain.MATERIAL_KINDS:
            raise NotFound("没有这种审核材料", field="kind")
        try:
            data = base64.b64decode(data_b64 or "", validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput("文件内容无法读取", field="file") from None
        image = check_image(data, settings().upload_max_bytes)
        with self.db.tx() as s:
            case = self._case(s, who, application_id, lock=True)
            state = _state(case)
            if case.target_grade != 1:
                raise InvalidInput("只有申报一级的报名信息需要上传工资审核表和考核优秀材料", field="kind")
            uploader = domain.materials_level(state.chain)
            if _level_of(who, case) != uploader:
                raise Forbidden(f"一级材料由{domain.LEVEL_NAMES[uploader]}审核员上传", code="wrong_level")
            if case.status != "in_review":
                raise _conflict(case)
            self.store.put(image.sha256, image.data)
            if s.get(Blob, image.sha256) is None:
                s.add(Blob(sha256=image.sha256, content_type=image.content_type, size=len(image.data),
                           width=image.width, height=image.height, created_at=clock.now()))
            materials = dict(case.materials or {})
            materials[kind] = {"sha256": image.sha256, "content_type": image.content_type, "size": len(image.data),
                               "uploaded_at": clock.now().isoformat(), "uploaded_by": who.get("username")}
            case.materials, case.updated_at, case.version = materials, clock.now(), case.version + 1
            s.flush()
            return self._case_out(s, who, case)

    @rpc
    def read_material(self, principal: dict, application_id: str, kind: str) -> dict:
        who = _admin(principal)
        with self.db.tx() as s:
            case = self._case(s, who, application_id)
            meta = (case.materials or {}).get(kind)
            if not meta:
                raise NotFound("没有找到该材料")
        return {"content_type": meta["content_type"], "sha256": meta["sha256"],
                "data_b64": base64.b64encode(self.store.get(meta["sha256"])).decode()}

    # --- the applicant's 审核结果 (R-R3) -----------------------------------------------------
    @rpc
    def applicant_review(self, principal: dict) -> dict:
        if not principal or principal.get("kind") != "applicant":
            raise Forbidden("仅限报考人员操作")
        with self.db.tx() as s:
            case = s.scalars(sa.select(Case).where(Case.year == principal["year"],
                                                   Case.id_number == principal["id_number"],
                                                   Case.status != "withdrawn")).first()
            if case is None:
                return {"status": "not_submitted", "steps": [], "chain": [], "reason": None,
                        "city_code": principal.get("city_code"), "supervisor_id": None}
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

    # --- events from the application service ---------------------------------------------
    @handles("application.submitted.v1")
    def on_submitted(self, s: Session, data: dict) -> None:
        """Opens a case on the chain of the applicant's city, or restarts it after a 退回.
        A repeated or stale submission changes nothing (guarded by the round too)."""
        now = clock.now()
        at = datetime.fromisoformat(data["submitted_at"]) if data.get("submitted_at") else now
        case = s.get(Case, data["application_id"], with_for_update=True)
        form = data.get("form") or {}
        fields = dict(year=data["year"], id_number=data["id_number"], name=data["name"], gender=data["gender"],
                      target_grade=int(data["target_grade"]), target_trade=data.get("target_trade"),
                      route=data.get("route"), unit_id=data.get("unit_id"),
                      unit_name=(form.get("unit") or {}).get("name"), supervisor_id=data.get("supervisor_id"),
                      county_code=data.get("county_code"), city_code=data["city_code"], snapshot=form,
                      submitted_at=at, updated_at=now)
        if case is None:
            chain = domain.chain_for(data["city_code"], self._chains(s))
            state = domain.open_case(chain, int(data["round"]), int(data["target_grade"]))
            case = Case(application_id=data["application_id"], chain=list(chain), level_index=0, status=state.status,
                        rejected_index=None, round=state.round, materials={}, version=1, **fields)
            s.add(case)
        else:
            state = domain.resubmit(_state(case), int(data["round"]))
            if state is None:
                return
            for key, value in fields.items():
                setattr(case, key, value)
            case.status, case.level_index, case.round = state.status, state.level_index, state.round
            case.rejected_index, case.version = None, case.version + 1
        s.flush()
        s.add(Step(application_id=case.application_id, round=case.round, level="applicant", decision="submitted",
                   actor=data["id_number"][:6] + "********" + data["id_number"][-4:], actor_name=data["name"],
                   actor_role=None, actor_scope=None, reason="", at=at))

    @handles("application.deleted.v1")
    def on_deleted(self, s: Session, data: dict) -> None:
        case = s.get(Case, data["application_id"], with_for_update=True)
        if case is not None:
            case.status, case.updated_at = "withdrawn", clock.now()
