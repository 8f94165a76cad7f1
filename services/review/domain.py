"""Review rules (R-R1 … R-R4): pure functions and the case state machine. No nameko, no
SQLAlchemy, no I/O."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from kit.errors import Conflict, Forbidden, InvalidInput, RuleNotMet
from kit.masks import mask_id, mask_name  # noqa: F401 - the one masking rule
from kit.validation import check_text
from kit.windows import require_window

from .schemas import (  # noqa: F401 - labels live in the contract; the rules use them
    CASE_STATUS_NAMES,
    DECISION_NAMES,
    DECISIONS,
    LEVEL_NAMES,
    LEVELS,
    MATERIAL_KINDS,
    MATERIAL_NAMES,
    waiting_name,
)

PROVINCIAL = "410000"  # 省直 units: 主管单位 → 省评价中心 (the manual's example)
REASON_MAX = 500


def chain_for(city_code: str, configured: dict[str, list[str]] | None = None) -> tuple[str, ...]:
    """The review chain of a city: configuration first, else the default (R-R1)."""
    chain = (configured or {}).get(city_code)
    if chain:
        return tuple(chain)
    return ("supervisor", "province") if city_code == PROVINCIAL else LEVELS


def check_chain(levels) -> tuple[str, ...]:
    """A chain starts at the 主管单位, ends at the province, keeps the order, no repeats."""
    chain = tuple(levels or ())
    if not chain or chain[0] != "supervisor" or chain[-1] != "province" or len(set(chain)) != len(chain) \
            or any(lv not in LEVELS for lv in chain) or list(chain) != sorted(chain, key=LEVELS.index):
        raise InvalidInput("审核流程须从主管单位开始、到省评价中心结束，按 主管单位→省辖市→省评价中心 的顺序",
                           field="levels")
    return chain


def materials_level(chain: tuple[str, ...]) -> str:
    """一级 materials come from the level above the 主管单位: the 省辖市, or for 省直 units
    (no city level) the 主管单位 itself (R-R4)."""
    return "city" if "city" in chain else "supervisor"


@dataclass(frozen=True)
class Case:
    status: str               # in_review | returned | rejected | approved | withdrawn
    chain: tuple[str, ...]
    level_index: int          # where an in_review case waits
    round: int
    target_grade: int
    rejected_index: int | None = None
    materials: frozenset[str] = frozenset()

    @property
    def level(self) -> str | None:
        return self.chain[self.level_index] if self.status == "in_review" else None


def open_case(chain: tuple[str, ...], round_: int, target_grade: int, materials=frozenset()) -> Case:
    return Case("in_review", chain, 0, round_, target_grade, None, frozenset(materials))


def resubmit(case: Case, round_: int) -> Case | None:
    """A resubmission after a 退回 starts the chain again (None: nothing to do — a stale or
    repeated submission)."""
    if round_ <= case.round or case.status != "returned":
        return None
    return replace(case, status="in_review", level_index=0, round=round_, rejected_index=None)


def require_review_window(calendar: dict | None, now: datetime) -> None:
    """Reviewers decide while the year's review window is open (R-Y1, R-Y2)."""
    require_window(calendar, "review", now)


def check_reason(decision: str, reason: str | None) -> str:
    text = (reason or "").strip()
    if decision not in DECISIONS:
        raise InvalidInput("审核意见应为 通过、退回、审核不通过 或 重新退回修改", field="decision")
    if decision != "pass" and not text:
        raise InvalidInput(f"{DECISION_NAMES[decision]}须填写原因", code="reason_required", field="reason")
    if len(text) > REASON_MAX:
        raise InvalidInput(f"原因不能超过{REASON_MAX}字", field="reason")
    return check_text(text, "reason", "原因", multiline=True)


def decide(case: Case, level: str | None, decision: str, reason: str | None) -> tuple[Case, str]:
    """Apply a decision of an administrator acting at ``level``. Returns the new case and
    what happened: step_passed | finally_approved | returned | rejected | reopened."""
    check_reason(decision, reason)
    if level is None:
        raise Forbidden("该报名信息不在您的审核范围内", code="out_of_scope")
    if decision == "reopen":
        if case.status != "rejected":
            raise Conflict(f"只有审核不通过的报名信息可以重新退回（当前：{status_name(case)}）", code="state_conflict")
        if case.chain.index(level) < (case.rejected_index or 0):
            raise Conflict("只有作出不通过决定的审核级别或其上级可以重新退回", code="state_conflict")
        return replace(case, status="returned", rejected_index=None), "reopened"
    if case.status != "in_review" or case.level != level:
        raise Conflict(f"该报名信息当前不在您这一级审核（当前：{status_name(case)}）", code="not_at_your_level")
    if decision == "return":
        return replace(case, status="returned"), "returned"
    if decision == "reject":
        return replace(case, status="rejected", rejected_index=case.level_index), "rejected"
    if case.target_grade == 1 and level == "province":
        missing = [MATERIAL_NAMES[k] for k in MATERIAL_KINDS if k not in case.materials]
        if missing:
            raise RuleNotMet(f"申报一级须由{LEVEL_NAMES[materials_level(case.chain)]}上传{'、'.join(missing)}后方可终审通过",
                             code="materials_missing")
    if case.level_index + 1 == len(case.chain):
        return replace(case, status="approved"), "finally_approved"
    return replace(case, level_index=case.level_index + 1), "step_passed"


def status_name(case: Case) -> str:
    return status_name_at(case.status, case.level)


def status_name_at(status: str, level: str | None) -> str:
    """A case's status as lists show it, from the status and the level it waits at alone (the
    indexed ``current_level``): a list need not read the rest of the case."""
    if status == "in_review":
        return waiting_name(level)
    return CASE_STATUS_NAMES[status]


def applicant_status(status: str | None) -> str:
    """The status the applicant reads (API: not_submitted, in_review, returned, rejected, approved)."""
    return status if status in ("in_review", "returned", "rejected", "approved") else "not_submitted"
