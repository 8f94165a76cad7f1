"""Review's contract: its labels (the one source for pages, scripts and PDFs), RPC payloads
and the events it announces. The bottom layer of the service: ``domain`` imports from here."""
from __future__ import annotations

# --- labels ------------------------------------------------------------------------------
LEVELS = ("supervisor", "city", "province")
LEVEL_NAMES = {"supervisor": "主管单位", "city": "省辖市", "province": "省评价中心", "applicant": "报考人员"}
DECISIONS = ("pass", "return", "reject", "reopen")
DECISION_NAMES = {"submitted": "已提交", "pass": "审核通过", "return": "退回", "reject": "审核不通过",
                  "reopen": "重新退回修改", "final": "终审通过"}
CASE_STATUSES = ("in_review", "returned", "rejected", "approved", "withdrawn")
CASE_STATUS_NAMES = {"returned": "已退回", "rejected": "审核不通过", "approved": "审核通过", "withdrawn": "已撤销"}
QUEUE_STATUSES = {"pending": "待我审核", "in_review": "审核中", "returned": "已退回", "rejected": "审核不通过",
                  "approved": "审核通过", "all": "全部"}
MATERIAL_KINDS = ("wage_review_form", "excellence_material")
MATERIAL_NAMES = {"wage_review_form": "工资审核表", "excellence_material": "考核优秀（优秀党员）材料"}
AUDIT_ACTIONS = {"review_chain.set": "设置审核流程"}


def waiting_name(level: str) -> str:
    """待主管单位审核: the status of a case waiting at a level."""
    return f"待{LEVEL_NAMES[level]}审核"


def labels() -> dict:
    return {"levels": LEVEL_NAMES, "decisions": DECISION_NAMES, "case_statuses": CASE_STATUS_NAMES,
            "queue_statuses": QUEUE_STATUSES, "materials": MATERIAL_NAMES}


# --- events ------------------------------------------------------------------------------
STEP_PASSED = "review.step_passed.v1"
RETURNED = "review.returned.v1"
REJECTED = "review.rejected.v1"
REOPENED = "review.reopened.v1"
FINALLY_APPROVED = "review.finally_approved.v1"  # payment's 24 h / 48 h clock starts at `at`

EVENT_OF = {"step_passed": STEP_PASSED, "returned": RETURNED, "rejected": REJECTED, "reopened": REOPENED,
            "finally_approved": FINALLY_APPROVED}
