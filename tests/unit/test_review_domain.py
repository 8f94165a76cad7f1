"""services/review/domain.py: the case state machine (R-R1 … R-R4) as tables, one row per
rule case. ``decide`` is listed for every status × decision × acting level of the default
chain (主管单位 → 省辖市 → 省评价中心), then the 省直 chain, the 一级 materials rule, reasons,
``resubmit``, ``open_case``, ``check_chain``, ``chain_for`` and ``materials_level``."""
from __future__ import annotations

from dataclasses import replace

import pytest

from kit.errors import Conflict, Forbidden, InvalidInput, RuleNotMet
from services.review import domain
from services.review.domain import Case

FULL = ("supervisor", "city", "province")
PROVINCIAL = ("supervisor", "province")
BOTH = frozenset({"wage_review_form", "excellence_material"})


def case(status: str, index: int = 0, chain=FULL, grade: int = 4, rejected=None, materials=frozenset(),
         round_: int = 1) -> Case:
    return Case(status, chain, index, round_, grade, rejected, frozenset(materials))


# The states a case of the default chain can be in.
STATES = {
    "at supervisor": case("in_review", 0),
    "at city": case("in_review", 1),
    "at province": case("in_review", 2),
    "returned": case("returned", 1),
    "rejected by supervisor": case("rejected", 0, rejected=0),
    "rejected by city": case("rejected", 1, rejected=1),
    "rejected by province": case("rejected", 2, rejected=2),
    "approved": case("approved", 2),
    "withdrawn": case("withdrawn", 0),
}
REASON = "材料不全"


def ok(outcome: str, status: str, level: str | None = None, rejected: int | None = None):
    return ("ok", outcome, status, level, rejected)


def refused(error: type, code: str):
    return ("refused", error, code)


NOT_HERE = refused(Conflict, "not_at_your_level")
STATE = refused(Conflict, "state_conflict")

# (state, acting level, decision, expected)
DECIDE = [
    # waiting at the 主管单位
    ("at supervisor", "supervisor", "pass", ok("step_passed", "in_review", "city")),
    ("at supervisor", "supervisor", "return", ok("returned", "returned")),
    ("at supervisor", "supervisor", "reject", ok("rejected", "rejected", rejected=0)),
    ("at supervisor", "supervisor", "reopen", STATE),
    ("at supervisor", "city", "pass", NOT_HERE),
    ("at supervisor", "city", "return", NOT_HERE),
    ("at supervisor", "city", "reject", NOT_HERE),
    ("at supervisor", "city", "reopen", STATE),
    ("at supervisor", "province", "pass", NOT_HERE),
    ("at supervisor", "province", "return", NOT_HERE),
    ("at supervisor", "province", "reject", NOT_HERE),
    ("at supervisor", "province", "reopen", STATE),
    # waiting at the 省辖市
    ("at city", "supervisor", "pass", NOT_HERE),
    ("at city", "supervisor", "return", NOT_HERE),
    ("at city", "supervisor", "reject", NOT_HERE),
    ("at city", "supervisor", "reopen", STATE),
    ("at city", "city", "pass", ok("step_passed", "in_review", "province")),
    ("at city", "city", "return", ok("returned", "returned")),
    ("at city", "city", "reject", ok("rejected", "rejected", rejected=1)),
    ("at city", "city", "reopen", STATE),
    ("at city", "province", "pass", NOT_HERE),
    ("at city", "province", "return", NOT_HERE),
    ("at city", "province", "reject", NOT_HERE),
    ("at city", "province", "reopen", STATE),
    # waiting at the 省评价中心
    ("at province", "supervisor", "pass", NOT_HERE),
    ("at province", "supervisor", "return", NOT_HERE),
    ("at province", "supervisor", "reject", NOT_HERE),
    ("at province", "supervisor", "reopen", STATE),
    ("at province", "city", "pass", NOT_HERE),
    ("at province", "city", "return", NOT_HERE),
    ("at province", "city", "reject", NOT_HERE),
    ("at province", "city", "reopen", STATE),
    ("at province", "province", "pass", ok("finally_approved", "approved")),
    ("at province", "province", "return", ok("returned", "returned")),
    ("at province", "province", "reject", ok("rejected", "rejected", rejected=2)),
    ("at province", "province", "reopen", STATE),
    # returned: the applicant's turn; nobody decides
    ("returned", "supervisor", "pass", NOT_HERE),
    ("returned", "supervisor", "return", NOT_HERE),
    ("returned", "supervisor", "reject", NOT_HERE),
    ("returned", "supervisor", "reopen", STATE),
    ("returned", "city", "pass", NOT_HERE),
    ("returned", "city", "return", NOT_HERE),
    ("returned", "city", "reject", NOT_HERE),
    ("returned", "city", "reopen", STATE),
    ("returned", "province", "pass", NOT_HERE),
    ("returned", "province", "return", NOT_HERE),
    ("returned", "province", "reject", NOT_HERE),
    ("returned", "province", "reopen", STATE),
    # rejected: only the level that rejected, or one above it, reopens
    ("rejected by supervisor", "supervisor", "pass", NOT_HERE),
    ("rejected by supervisor", "supervisor", "return", NOT_HERE),
    ("rejected by supervisor", "supervisor", "reject", NOT_HERE),
    ("rejected by supervisor", "supervisor", "reopen", ok("reopened", "returned")),
    ("rejected by supervisor", "city", "pass", NOT_HERE),
    ("rejected by supervisor", "city", "return", NOT_HERE),
    ("rejected by supervisor", "city", "reject", NOT_HERE),
    ("rejected by supervisor", "city", "reopen", ok("reopened", "returned")),
    ("rejected by supervisor", "province", "pass", NOT_HERE),
    ("rejected by supervisor", "province", "return", NOT_HERE),
    ("rejected by supervisor", "province", "reject", NOT_HERE),
    ("rejected by supervisor", "province", "reopen", ok("reopened", "returned")),
    ("rejected by city", "supervisor", "pass", NOT_HERE),
    ("rejected by city", "supervisor", "return", NOT_HERE),
    ("rejected by city", "supervisor", "reject", NOT_HERE),
    ("rejected by city", "supervisor", "reopen", STATE),
    ("rejected by city", "city", "pass", NOT_HERE),
    ("rejected by city", "city", "return", NOT_HERE),
    ("rejected by city", "city", "reject", NOT_HERE),
    ("rejected by city", "city", "reopen", ok("reopened", "returned")),
    ("rejected by city", "province", "pass", NOT_HERE),
    ("rejected by city", "province", "return", NOT_HERE),
    ("rejected by city", "province", "reject", NOT_HERE),
    ("rejected by city", "province", "reopen", ok("reopened", "returned")),
    ("rejected by province", "supervisor", "pass", NOT_HERE),
    ("rejected by province", "supervisor", "return", NOT_HERE),
    ("rejected by province", "supervisor", "reject", NOT_HERE),
    ("rejected by province", "supervisor", "reopen", STATE),
    ("rejected by province", "city", "pass", NOT_HERE),
    ("rejected by province", "city", "return", NOT_HERE),
    ("rejected by province", "city", "reject", NOT_HERE),
    ("rejected by province", "city", "reopen", STATE),
    ("rejected by province", "province", "pass", NOT_HERE),
    ("rejected by province", "province", "return", NOT_HERE),
    ("rejected by province", "province", "reject", NOT_HERE),
    ("rejected by province", "province", "reopen", ok("reopened", "returned")),
    # approved and withdrawn: final
    ("approved", "supervisor", "pass", NOT_HERE),
    ("approved", "supervisor", "return", NOT_HERE),
    ("approved", "supervisor", "reject", NOT_HERE),
    ("approved", "supervisor", "reopen", STATE),
    ("approved", "city", "pass", NOT_HERE),
    ("approved", "city", "return", NOT_HERE),
    ("approved", "city", "reject", NOT_HERE),
    ("approved", "city", "reopen", STATE),
    ("approved", "province", "pass", NOT_HERE),
    ("approved", "province", "return", NOT_HERE),
    ("approved", "province", "reject", NOT_HERE),
    ("approved", "province", "reopen", STATE),
    ("withdrawn", "supervisor", "pass", NOT_HERE),
    ("withdrawn", "supervisor", "return", NOT_HERE),
    ("withdrawn", "supervisor", "reject", NOT_HERE),
    ("withdrawn", "supervisor", "reopen", STATE),
    ("withdrawn", "city", "pass", NOT_HERE),
    ("withdrawn", "city", "return", NOT_HERE),
    ("withdrawn", "city", "reject", NOT_HERE),
    ("withdrawn", "city", "reopen", STATE),
    ("withdrawn", "province", "pass", NOT_HERE),
    ("withdrawn", "province", "return", NOT_HERE),
    ("withdrawn", "province", "reject", NOT_HERE),
    ("withdrawn", "province", "reopen", STATE),
    # no level at all (out of scope, a county, a level not in the chain): refused before anything
    ("at supervisor", None, "pass", refused(Forbidden, "out_of_scope")),
    ("at province", None, "return", refused(Forbidden, "out_of_scope")),
    ("rejected by city", None, "reopen", refused(Forbidden, "out_of_scope")),
]


def check(before: Case, level, decision: str, expected) -> None:
    reason = None if decision == "pass" else REASON
    if expected[0] == "refused":
        _, error, code = expected
        with pytest.raises(error) as exc:
            domain.decide(before, level, decision, reason)
        assert exc.value.code == code
        return
    _, outcome, status, new_level, rejected = expected
    after, got = domain.decide(before, level, decision, reason)
    assert got == outcome
    assert (after.status, after.level, after.rejected_index) == (status, new_level, rejected)
    assert (after.chain, after.round, after.target_grade) == (before.chain, before.round, before.target_grade)


def test_every_status_decision_and_level_is_in_the_table():
    listed = {(state, level, decision) for state, level, decision, _ in DECIDE if level is not None}
    assert listed == {(s, lv, d) for s in STATES for lv in FULL for d in domain.DECISIONS}
    assert len(DECIDE) == len({(s, lv, d) for s, lv, d, _ in DECIDE})


@pytest.mark.parametrize(("state", "level", "decision", "expected"), DECIDE,
                         ids=[f"{s}|{lv}|{d}" for s, lv, d, _ in DECIDE])
def test_decide(state, level, decision, expected):
    check(STATES[state], level, decision, expected)


# 省直 units: 主管单位 → 省评价中心, no city level.
PROVINCIAL_DECIDE = [
    (case("in_review", 0, PROVINCIAL), "supervisor", "pass", ok("step_passed", "in_review", "province")),
    (case("in_review", 1, PROVINCIAL), "province", "pass", ok("finally_approved", "approved")),
    (case("in_review", 1, PROVINCIAL), "supervisor", "pass", NOT_HERE),
    (case("in_review", 1, PROVINCIAL), "province", "reject", ok("rejected", "rejected", rejected=1)),
    (case("rejected", 1, PROVINCIAL, rejected=1), "supervisor", "reopen", STATE),
    (case("rejected", 0, PROVINCIAL, rejected=0), "province", "reopen", ok("reopened", "returned")),
]


@pytest.mark.parametrize(("before", "level", "decision", "expected"), PROVINCIAL_DECIDE)
def test_decide_on_the_provincial_chain(before, level, decision, expected):
    check(before, level, decision, expected)


# 一级 (R-R4): the final pass needs both materials from the level above the 主管单位.
MATERIALS = [
    (case("in_review", 2, grade=1), "province", "pass", refused(RuleNotMet, "materials_missing")),
    (case("in_review", 2, grade=1, materials={"wage_review_form"}), "province", "pass",
     refused(RuleNotMet, "materials_missing")),
    (case("in_review", 2, grade=1, materials={"excellence_material"}), "province", "pass",
     refused(RuleNotMet, "materials_missing")),
    (case("in_review", 2, grade=1, materials=BOTH), "province", "pass", ok("finally_approved", "approved")),
    # the lower levels pass 一级 without them; return and reject need none
    (case("in_review", 0, grade=1), "supervisor", "pass", ok("step_passed", "in_review", "city")),
    (case("in_review", 1, grade=1), "city", "pass", ok("step_passed", "in_review", "province")),
    (case("in_review", 2, grade=1), "province", "return", ok("returned", "returned")),
    (case("in_review", 2, grade=1), "province", "reject", ok("rejected", "rejected", rejected=2)),
    # other grades need no materials
    (case("in_review", 2, grade=2), "province", "pass", ok("finally_approved", "approved")),
    (case("in_review", 2, grade=5), "province", "pass", ok("finally_approved", "approved")),
    # 省直 一级: the same rule, the materials from the 主管单位
    (case("in_review", 1, PROVINCIAL, grade=1), "province", "pass", refused(RuleNotMet, "materials_missing")),
    (case("in_review", 1, PROVINCIAL, grade=1, materials=BOTH), "province", "pass",
     ok("finally_approved", "approved")),
]


@pytest.mark.parametrize(("before", "level", "decision", "expected"), MATERIALS)
def test_grade_one_materials_rule(before, level, decision, expected):
    check(before, level, decision, expected)


@pytest.mark.parametrize(("chain", "uploader_name", "missing"), [
    (FULL, "省辖市", "工资审核表、考核优秀（优秀党员）材料"),
    (PROVINCIAL, "主管单位", "工资审核表、考核优秀（优秀党员）材料"),
])
def test_the_materials_refusal_names_who_uploads_and_what_is_missing(chain, uploader_name, missing):
    with pytest.raises(RuleNotMet) as exc:
        domain.decide(case("in_review", len(chain) - 1, chain, grade=1), "province", "pass", None)
    assert exc.value.message == f"申报一级须由{uploader_name}上传{missing}后方可终审通过"


# Reasons: checked before anything else, whatever the state.
REASONS = [
    ("pass", None, None),
    ("pass", "", None),
    ("pass", "  好  ", None),
    ("return", None, ("reason_required", "reason")),
    ("return", "   ", ("reason_required", "reason")),
    ("reject", "", ("reason_required", "reason")),
    ("reopen", None, ("reason_required", "reason")),
    ("return", "x" * 500, None),
    ("return", "x" * 501, ("invalid", "reason")),
    ("pass", "x" * 501, ("invalid", "reason")),
    ("approve", "x", ("invalid", "decision")),
    ("", None, ("invalid", "decision")),
]


@pytest.mark.parametrize(("decision", "reason", "refusal"), REASONS)
def test_check_reason(decision, reason, refusal):
    if refusal is None:
        assert domain.check_reason(decision, reason) == (reason or "").strip()
        return
    with pytest.raises(InvalidInput) as exc:
        domain.check_reason(decision, reason)
    assert (exc.value.code, exc.value.field) == refusal


def test_a_missing_reason_is_refused_before_the_state_is_looked_at():
    with pytest.raises(InvalidInput) as exc:
        domain.decide(STATES["approved"], None, "return", None)
    assert exc.value.code == "reason_required"


# resubmit: a new round after a 退回 restarts the chain; anything else changes nothing.
RESUBMIT = [
    # (status, case round, incoming round, expected: None or (status, level index, round))
    ("returned", 1, 2, ("in_review", 0, 2)),
    ("returned", 1, 5, ("in_review", 0, 5)),
    ("returned", 2, 2, None),            # the same round again: a repeated event
    ("returned", 2, 1, None),            # an older round arriving late
    ("in_review", 1, 2, None),           # not returned: nothing to restart
    ("rejected", 1, 2, None),
    ("approved", 1, 2, None),
    ("withdrawn", 1, 2, None),
]


@pytest.mark.parametrize(("status", "current", "incoming", "expected"), RESUBMIT)
def test_resubmit(status, current, incoming, expected):
    before = case(status, 2, round_=current, rejected=2 if status == "rejected" else None, materials=BOTH)
    after = domain.resubmit(before, incoming)
    if expected is None:
        assert after is None
        return
    assert (after.status, after.level_index, after.round) == expected
    assert after.level == "supervisor" and after.rejected_index is None
    assert after.materials == BOTH and after.chain == before.chain   # materials stay with the case


def test_resubmit_after_a_reopen_clears_the_rejection():
    reopened, _ = domain.decide(case("rejected", 1, rejected=1), "province", "reopen", REASON)
    after = domain.resubmit(reopened, 2)
    assert (after.status, after.level, after.rejected_index, after.round) == ("in_review", "supervisor", None, 2)


@pytest.mark.parametrize(("chain", "grade", "materials"), [
    (FULL, 4, frozenset()),
    (PROVINCIAL, 1, frozenset()),
    (FULL, 1, BOTH),
])
def test_open_case_waits_at_the_first_level(chain, grade, materials):
    opened = domain.open_case(chain, 3, grade, materials)
    assert opened == Case("in_review", chain, 0, 3, grade, None, materials)
    assert opened.level == "supervisor"


# check_chain: from the 主管单位 to the province, in order, no repeats, known levels only.
CHAINS = [
    (["supervisor", "city", "province"], ("supervisor", "city", "province")),
    (["supervisor", "province"], ("supervisor", "province")),
    (("supervisor", "province"), ("supervisor", "province")),
    ([], None),
    (None, None),
    (["supervisor"], None),
    (["province"], None),
    (["city", "province"], None),
    (["supervisor", "city"], None),
    (["supervisor", "province", "city"], None),
    (["city", "supervisor", "province"], None),
    (["supervisor", "supervisor", "province"], None),
    (["supervisor", "city", "city", "province"], None),
    (["supervisor", "county", "province"], None),
    (["supervisor", "applicant", "province"], None),
]


@pytest.mark.parametrize(("levels", "expected"), CHAINS)
def test_check_chain(levels, expected):
    if expected is not None:
        assert domain.check_chain(levels) == expected
        return
    with pytest.raises(InvalidInput) as exc:
        domain.check_chain(levels)
    assert exc.value.field == "levels"


CHAIN_FOR = [
    # (city, configured chains, expected)
    ("410100", None, FULL),
    ("410100", {}, FULL),
    ("410000", None, PROVINCIAL),                                    # 省直 by default
    ("410200", {"410200": ["supervisor", "province"]}, PROVINCIAL),   # configured
    ("410100", {"410200": ["supervisor", "province"]}, FULL),         # another city's configuration
    ("410000", {"410000": ["supervisor", "province"]}, PROVINCIAL),
    ("410300", {"410300": []}, FULL),                                 # an empty configuration: the default
]


@pytest.mark.parametrize(("city", "configured", "expected"), CHAIN_FOR)
def test_chain_for(city, configured, expected):
    assert domain.chain_for(city, configured) == expected


@pytest.mark.parametrize(("chain", "expected"), [
    (FULL, "city"),
    (PROVINCIAL, "supervisor"),
])
def test_materials_level(chain, expected):
    assert domain.materials_level(chain) == expected


@pytest.mark.parametrize(("before", "expected"), [
    (STATES["at supervisor"], "待主管单位审核"),
    (STATES["at city"], "待省辖市审核"),
    (STATES["at province"], "待省评价中心审核"),
    (STATES["returned"], "已退回"),
    (STATES["rejected by city"], "审核不通过"),
    (STATES["approved"], "审核通过"),
    (STATES["withdrawn"], "已撤销"),
])
def test_status_name(before, expected):
    assert domain.status_name(before) == expected


@pytest.mark.parametrize(("status", "expected"), [
    ("in_review", "in_review"), ("returned", "returned"), ("rejected", "rejected"), ("approved", "approved"),
    ("withdrawn", "not_submitted"), (None, "not_submitted"), ("bogus", "not_submitted"),
])
def test_applicant_status(status, expected):
    assert domain.applicant_status(status) == expected


def test_a_decision_keeps_everything_it_does_not_change():
    before = case("in_review", 1, grade=2, materials={"wage_review_form"}, round_=4)
    after, _ = domain.decide(before, "city", "pass", None)
    assert after == replace(before, level_index=2)
