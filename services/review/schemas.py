"""Review's contract: events it announces (the RPC payloads are plain dicts documented in
the service)."""
from __future__ import annotations

STEP_PASSED = "review.step_passed.v1"
RETURNED = "review.returned.v1"
REJECTED = "review.rejected.v1"
REOPENED = "review.reopened.v1"
FINALLY_APPROVED = "review.finally_approved.v1"  # payment's 24 h / 48 h clock starts at `at`

EVENT_OF = {"step_passed": STEP_PASSED, "returned": RETURNED, "rejected": REJECTED, "reopened": REOPENED,
            "finally_approved": FINALLY_APPROVED}
MATERIAL_KINDS = ("wage_review_form", "excellence_material")
