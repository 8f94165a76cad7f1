"""The review service on a worker over its own PostgreSQL database, no broker: a submission
opens one case; decisions with their reasons, the 409 carrying the current state, the review
window from the service's own copy of the calendar; the queue paged and counted in the
database, per level and per scope; the 一级 materials; what each decision announces."""
from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from builders import (
    NOW,
    PROVINCE,
    Person,
    admin,
    clear_outbox,
    count,
    envelope,
    outbox,
    viewers,
    window,
    year_updated,
)
from helpers import png_bytes
from nameko.testing.services import worker_factory

from kit.errors import Conflict, Forbidden, InvalidInput, NotFound, RuleNotMet, Unauthenticated
from services.application.schemas import Submitted
from services.review.models import Step
from services.review.schemas import FinallyApproved, QueuePage, Rejected, Reopened, Returned, StepPassed
from services.review.service import ReviewService

SERVICE = "review"

SUPERVISOR = admin("supervisor", "S410100-01", "zz_wsjw", id=11, name="孔德明", scope_city="410100")
OTHER_SUPERVISOR = admin("supervisor", "S410100-02", "zz_jyj", id=12, name="孙丽", scope_city="410100")
CITY = admin("city", "410100", "zz_city", id=13, name="王建国", scope_city="410100")
LUOYANG = admin("city", "410300", "ly_city", id=14, name="李红梅", scope_city="410300")
COUNTY = admin("county", "410102", "zz_zhongyuan", id=15, name="赵志强", scope_city="410100")
REASON = "学历证明材料不清晰，请重新上传"

PLACES = {  # unit → (city, county, 主管单位)
    "U410100-001": ("410100", "410102", "S410100-01"),
    "U410100-003": ("410100", "410103", "S410100-02"),
    "U410300-001": ("410300", "410311", "S410300-01"),
    "U410000-001": ("410000", None, "S410000-01"),
}


@pytest.fixture
def svc(db, clock):
    worker = worker_factory(ReviewService, db=db)
    assert worker.on_year_updated(year_updated()) == "applied"
    return worker


_seq = iter(range(1, 10**6))


def submission(app_id: str | None = None, unit: str = "U410100-001", round_: int = 1, grade: int = 4,
               minute: int = 0, **over) -> dict:
    """application.submitted.v1 as the producer's model makes it (the contract holds)."""
    n = next(_seq)
    app_id = app_id or f"{n:032x}"
    city, county, supervisor = PLACES[unit]
    example = Submitted.EXAMPLE
    form = {**example["form"], "application_id": app_id, "round": round_, "unit_id": unit, "city_code": city,
            "county_code": county, "supervisor_id": supervisor, "target_grade": grade,
            "unit": {**example["form"]["unit"], "unit_id": unit, "name": f"单位{unit}"}}
    data = {**example, "application_id": app_id, "round": round_, "unit_id": unit, "city_code": city,
            "county_code": county, "supervisor_id": supervisor, "target_grade": grade, "name": f"报考人{n}",
            "submitted_at": (NOW + timedelta(minutes=minute)).isoformat(), "form": form, **over}
    return envelope(Submitted.EVENT_TYPE, Submitted.model_validate(data).data())


def opened(svc, **kw) -> str:
    event = submission(**kw)
    assert svc.on_submitted(event) == "applied"
    return event["data"]["application_id"]


def decide(svc, who, app_id, decision, reason=None, **extra) -> dict:
    return svc.decide(who, app_id, {"decision": decision, "reason": reason, **extra})


def refused(error: type, code: str, call, *args, field=...):
    with pytest.raises(error) as exc:
        call(*args)
    assert exc.value.code == code, exc.value
    if field is not ...:
        assert exc.value.field == field, exc.value
    return exc.value


def steps(db, app_id) -> list[tuple[int, str, str]]:
    with db.tx() as s:
        return [(st.round, st.level, st.decision) for st in
                s.scalars(sa.select(Step).where(Step.application_id == app_id).order_by(Step.id))]


def queue(svc, who, **filters) -> dict:
    page = svc.queue(who, filters)
    # the page is written out by hand (no model per row): every page is exactly QueuePage's JSON,
    # plain JSON types only (a Decimal total compares equal to an int, but does not serialise)
    assert json.loads(json.dumps(page)) == QueuePage.model_validate(page).model_dump(mode="json") == page
    return page


def ids(page: dict) -> list[str]:
    return [i["application_id"] for i in page["items"]]


# --- a submission opens one case --------------------------------------------------------------
def test_a_submission_opens_one_case_at_the_first_level_and_a_repeat_changes_nothing(svc, db):
    event = submission()
    app_id = event["data"]["application_id"]
    assert svc.on_submitted(event) == "applied"
    case = svc.get_case(PROVINCE, app_id)
    assert (case["status"], case["level"], case["chain"], case["round"], case["version"]) == \
        ("in_review", "supervisor", ["supervisor", "city", "province"], 1, 1)
    assert case["snapshot"]["unit"]["name"] == "单位U410100-001"
    assert svc.on_submitted(event) == "duplicate"                               # redelivered
    assert svc.on_submitted({**event, "event_id": "another-id"}) == "applied"   # re-sent: the round guards
    assert svc.get_case(PROVINCE, app_id)["version"] == 1
    assert steps(db, app_id) == [(1, "applicant", "submitted")]
    assert count(db, "cases") == 1 and outbox(db) == []


def test_a_provincial_unit_gets_the_provincial_chain(svc):
    app_id = opened(svc, unit="U410000-001")
    assert svc.get_case(PROVINCE, app_id)["chain"] == ["supervisor", "province"]


# --- decisions --------------------------------------------------------------------------------
def test_three_levels_pass_and_each_step_is_announced(svc, db):
    app_id = opened(svc)
    assert decide(svc, SUPERVISOR, app_id, "pass")["level"] == "city"
    assert decide(svc, CITY, app_id, "pass")["level"] == "province"
    final = decide(svc, PROVINCE, app_id, "pass")
    assert (final["status"], final["outcome"], final["version"]) == ("approved", "finally_approved", 4)
    events = outbox(db)
    assert [e["event_type"] for e in events] == [StepPassed.EVENT_TYPE, StepPassed.EVENT_TYPE,
                                                FinallyApproved.EVENT_TYPE]
    passed = [StepPassed.model_validate(e["data"]) for e in events[:2]]
    assert [(p.level, p.next_level, p.round) for p in passed] == [("supervisor", "city", 1), ("city", "province", 1)]
    approved = FinallyApproved.model_validate(events[2]["data"])
    assert (approved.level, approved.next_level, approved.application_id) == ("province", None, app_id)
    assert steps(db, app_id) == [(1, "applicant", "submitted"), (1, "supervisor", "pass"), (1, "city", "pass"),
                                 (1, "province", "pass")]


def test_a_return_needs_a_reason_and_a_resubmission_restarts_the_chain(svc, db):
    app_id = opened(svc)
    refused(InvalidInput, "reason_required", decide, svc, SUPERVISOR, app_id, "return", None, field="reason")
    refused(InvalidInput, "reason_required", decide, svc, SUPERVISOR, app_id, "return", "   ", field="reason")
    assert outbox(db) == []
    assert decide(svc, SUPERVISOR, app_id, "return", REASON)["status"] == "returned"
    returned = Returned.model_validate(outbox(db, Returned.EVENT_TYPE)[0]["data"])
    assert (returned.reason, returned.round, returned.level) == (REASON, 1, "supervisor")
    assert svc.on_submitted(submission(app_id, round_=2)) == "applied"
    case = svc.get_case(SUPERVISOR, app_id)
    assert (case["status"], case["level"], case["round"]) == ("in_review", "supervisor", 2)
    assert svc.on_submitted(submission(app_id, round_=1)) == "applied"                  # a late round 1
    assert svc.get_case(SUPERVISOR, app_id)["round"] == 2
    assert steps(db, app_id) == [(1, "applicant", "submitted"), (1, "supervisor", "return"),
                                 (2, "applicant", "submitted")]


def test_reject_and_reopen_by_the_level_that_rejected_or_above(svc, db):
    app_id = opened(svc)
    decide(svc, SUPERVISOR, app_id, "pass")
    assert decide(svc, CITY, app_id, "reject", "工龄不符合申报条件")["status"] == "rejected"
    error = refused(Conflict, "state_conflict", decide, svc, SUPERVISOR, app_id, "reopen", "经沟通可以申报")
    assert error.details["status"] == "rejected"
    refused(InvalidInput, "reason_required", decide, svc, PROVINCE, app_id, "reopen")
    assert decide(svc, PROVINCE, app_id, "reopen", "经核实符合条件")["status"] == "returned"
    assert [e["event_type"] for e in outbox(db)] == [StepPassed.EVENT_TYPE, Rejected.EVENT_TYPE,
                                                    Reopened.EVENT_TYPE]
    reopened = Reopened.model_validate(outbox(db, Reopened.EVENT_TYPE)[0]["data"])
    assert (reopened.level, reopened.reason) == ("province", "经核实符合条件")


def test_a_stale_version_is_409_with_the_current_state_and_changes_nothing(svc, db):
    app_id = opened(svc)
    decide(svc, SUPERVISOR, app_id, "pass", version=1)
    error = refused(Conflict, "state_conflict", svc.decide, CITY, app_id,
                    {"decision": "return", "reason": REASON, "version": 1})
    assert error.status == 409
    assert error.details == {"status": "in_review", "level": "city", "version": 2, "status_name": "待省辖市审核"}
    assert len(outbox(db)) == 1 and len(steps(db, app_id)) == 2
    error = refused(Conflict, "not_at_your_level", decide, svc, SUPERVISOR, app_id, "pass")
    assert error.details["level"] == "city"
    assert decide(svc, CITY, app_id, "return", REASON, version=2)["version"] == 3


def test_who_may_decide(svc, db):
    app_id = opened(svc)
    refused(Forbidden, "out_of_scope", decide, svc, COUNTY, app_id, "pass")      # a county reads, never decides
    refused(NotFound, "not_found", decide, svc, OTHER_SUPERVISOR, app_id, "pass")  # out of scope: as if absent
    refused(NotFound, "not_found", decide, svc, LUOYANG, app_id, "pass")
    refused(NotFound, "not_found", svc.get_case, LUOYANG, app_id)
    assert svc.get_case(COUNTY, app_id)["can_decide"] is False
    refused(Forbidden, "wrong_kind", svc.get_case, Person().principal, app_id)
    unsealed = {k: v for k, v in SUPERVISOR.items() if k != "seal"}
    refused(Unauthenticated, "unauthenticated", decide, svc, unsealed, app_id, "pass")
    forged = {**OTHER_SUPERVISOR, "scope_code": "S410100-01"}              # plain fields are not trusted
    refused(NotFound, "not_found", decide, svc, forged, app_id, "pass")
    assert outbox(db) == [] and svc.get_case(PROVINCE, app_id)["version"] == 1


# --- the review window, from the service's own copy of the calendar ---------------------------
def test_decisions_are_refused_outside_the_review_window(svc, db, clock):
    app_id = opened(svc)
    clock.set(NOW + timedelta(days=60, seconds=1))
    error = refused(RuleNotMet, "outside_review_window", decide, svc, SUPERVISOR, app_id, "pass")
    assert "审核时间已结束" in error.message
    clock.set(NOW + timedelta(days=60))                                     # the last second: open
    assert decide(svc, SUPERVISOR, app_id, "pass")["level"] == "city"
    assert len(outbox(db)) == 1


def test_the_window_follows_year_updated_and_a_late_older_calendar_changes_nothing(svc, db):
    app_id = opened(svc)
    closed = window(NOW - timedelta(days=30), NOW - timedelta(days=1))
    assert svc.on_year_updated(year_updated(NOW + timedelta(hours=1), review=closed)) == "applied"
    refused(RuleNotMet, "outside_review_window", decide, svc, SUPERVISOR, app_id, "pass")
    assert svc.on_year_updated(year_updated(NOW - timedelta(hours=1))) == "applied"   # older: open again
    refused(RuleNotMet, "outside_review_window", decide, svc, SUPERVISOR, app_id, "pass")
    assert svc.on_year_updated(year_updated(NOW + timedelta(hours=2))) == "applied"   # newer: open
    assert decide(svc, SUPERVISOR, app_id, "pass")["level"] == "city"
    assert steps(db, app_id) == [(1, "applicant", "submitted"), (1, "supervisor", "pass")]


def test_without_a_calendar_nobody_decides(db, clock):
    worker = worker_factory(ReviewService, db=db)
    assert worker.on_submitted(submission()) == "applied"
    app_id = worker.queue(PROVINCE, {"status": "all"})["items"][0]["application_id"]
    error = refused(RuleNotMet, "outside_review_window", decide, worker, SUPERVISOR, app_id, "pass")
    assert "尚未公布" in error.message


# --- the queue: paged and counted in the database ---------------------------------------------
def test_twenty_five_cases_in_pages_of_ten(svc):
    opened_ids = [opened(svc, minute=m) for m in range(25)]
    pages = [queue(svc, SUPERVISOR, status="pending", page=n, page_size=10) for n in (1, 2, 3, 4)]
    assert [p["total"] for p in pages] == [25, 25, 25, 25]
    assert [len(p["items"]) for p in pages] == [10, 10, 5, 0]
    assert [i for p in pages for i in ids(p)] == opened_ids                 # oldest first, none twice
    assert all(i["can_decide"] and i["level"] == "supervisor" for p in pages for i in p["items"])
    assert pages[0]["items"][0]["id_number"] == "410102********0014"         # masked in lists


def test_pending_is_the_callers_own_level_only(svc):
    cases = [opened(svc, minute=m) for m in range(25)]
    for app_id in cases[:5]:
        decide(svc, SUPERVISOR, app_id, "pass")
    decide(svc, CITY, cases[0], "pass")
    assert queue(svc, SUPERVISOR, status="pending")["total"] == 20
    city = queue(svc, CITY, status="pending")
    assert (city["total"], ids(city)) == (4, cases[1:5])
    province = queue(svc, PROVINCE, status="pending")
    assert (province["total"], ids(province)) == (1, cases[:1])
    assert queue(svc, COUNTY, status="pending")["total"] == 0             # a county has no level of its own
    assert queue(svc, CITY, status="in_review")["total"] == 25
    assert queue(svc, PROVINCE, status="all")["total"] == 25


def test_a_city_never_sees_another_citys_cases(svc):
    zhengzhou = [opened(svc, minute=m) for m in range(3)]
    other_unit = opened(svc, unit="U410100-003", minute=3)
    luoyang = [opened(svc, unit="U410300-001", minute=m) for m in range(4, 6)]
    for who, expected in ((CITY, [*zhengzhou, other_unit]), (LUOYANG, luoyang), (SUPERVISOR, zhengzhou),
                          (OTHER_SUPERVISOR, [other_unit]), (COUNTY, zhengzhou),
                          (PROVINCE, [*zhengzhou, other_unit, *luoyang])):
        page = queue(svc, who, status="all")
        assert (page["total"], ids(page)) == (len(expected), expected), who["username"]
    for app_id in zhengzhou:
        refused(NotFound, "not_found", svc.get_case, LUOYANG, app_id)


def test_queue_filters(svc):
    four = opened(svc, minute=0)
    one = opened(svc, grade=1, minute=1)
    other_unit = opened(svc, unit="U410100-003", minute=2)
    assert ids(queue(svc, PROVINCE, status="all", grade=1)) == [one]
    assert ids(queue(svc, PROVINCE, status="all", unit_id="U410100-003")) == [other_unit]
    assert ids(queue(svc, PROVINCE, status="all", submitted_from="2026-03-10", submitted_to="2026-03-10")) == \
        [four, one, other_unit]
    assert queue(svc, PROVINCE, status="all", submitted_to="2026-03-09")["total"] == 0
    decide(svc, SUPERVISOR, four, "return", REASON)
    assert ids(queue(svc, PROVINCE, status="returned")) == [four]
    refused(InvalidInput, "invalid", svc.queue, PROVINCE, {"status": "bogus"}, field="status")
    refused(InvalidInput, "invalid", svc.queue, PROVINCE, {"page_size": 101}, field="page_size")


def queue_xlsx(svc, who, **filters) -> list[tuple]:
    """The queue's Excel (make_queue_xlsx: what the ticket's URL serves) as rows of values."""
    import openpyxl

    body, size = svc.make_queue_xlsx(who, filters)
    data = body.read()
    assert len(data) == size
    return list(openpyxl.load_workbook(io.BytesIO(data), read_only=True).active.iter_rows(values_only=True))


def test_the_queue_exports_to_excel_with_the_pages_filters_and_scope(svc):
    """Issue 14 (R-P4): reviews.xlsx has the queue's columns, one row per matching case in the
    queue's order, ID numbers masked, the trade's name; the same filters as the page; a city
    administrator never gets another city's rows, a 主管单位 only its units'."""
    zhengzhou = [opened(svc, minute=m, target_trade_name="护理员") for m in range(3)]
    other_unit = opened(svc, unit="U410100-003", minute=3, grade=5)
    luoyang = opened(svc, unit="U410300-001", minute=4)
    decide(svc, SUPERVISOR, zhengzhou[0], "return", REASON)
    rows = queue_xlsx(svc, PROVINCE, status="all")
    assert rows[0] == ("报名编号", "姓名", "身份证号", "省辖市", "县区", "单位", "申报等级", "申报工种", "当前审核环节",
                       "审核状态", "提交轮次", "提交时间", "终审通过时间")
    assert [r[0] for r in rows[1:]] == [*zhengzhou, other_unit, luoyang]
    first = rows[2]
    assert first[2] == "410102********0014" and first[3:9] == ("郑州市", "中原区", "单位U410100-001", "四级", "护理员",
                                                               "主管单位")
    assert first[9:12] == ("待主管单位审核", 1, "2026-03-10 10:01:00")
    assert rows[1][8:10] == (None, "已退回")
    assert [r[0] for r in queue_xlsx(svc, CITY, status="all")[1:]] == [*zhengzhou, other_unit]
    assert [r[0] for r in queue_xlsx(svc, LUOYANG, status="all")[1:]] == [luoyang]
    assert [r[0] for r in queue_xlsx(svc, OTHER_SUPERVISOR, status="all")[1:]] == [other_unit]
    assert [r[0] for r in queue_xlsx(svc, SUPERVISOR)[1:]] == zhengzhou[1:]           # pending: its level
    assert [r[0] for r in queue_xlsx(svc, PROVINCE, status="all", grade=5)[1:]] == [other_unit]
    assert queue_xlsx(svc, CITY, status="all", submitted_to="2026-03-09")[1:] == []
    svc.queue_export(CITY, {"status": "all", "grade": "5"})                    # the ticket carries the filters
    action, args, who = svc.files.generated_ticket.call_args.args
    assert (action, args["status"], args["grade"], who) == ("queue_xlsx", "all", 5, CITY)
    assert svc.files.generated_ticket.call_args.kwargs["filename"] == "报名审核_全部.xlsx"
    refused(InvalidInput, "invalid", svc.queue_export, CITY, {"page": 2}, field="page")   # no paging here
    refused(Unauthenticated, "unauthenticated", svc.queue_export, {"kind": "admin"}, {})


def test_a_deleted_application_leaves_the_queue(svc):
    app_id = opened(svc)
    assert svc.on_deleted(envelope("application.deleted.v1", {"application_id": app_id, "year": 2026,
                                                              "id_number": "x", "was_submitted": True})) == "applied"
    assert queue(svc, PROVINCE, status="all")["total"] == 0
    refused(NotFound, "not_found", svc.get_case, PROVINCE, app_id)


def test_queue_totals_come_from_the_triggers_buckets_and_equal_a_real_count(svc, db):
    """Issue 12: a page's total is the sum of queue_counts and the deltas the trigger wrote
    (no count over the table); after submissions, every kind of decision, a resubmission and
    a deletion — also decided from eight threads at once, with folding running meanwhile —
    it equals a real count (forced by a date filter) for every scope, status and grade;
    folding changes no total and leaves no delta."""
    import itertools
    from concurrent.futures import ThreadPoolExecutor

    cases = [opened(svc, unit=unit, grade=grade, minute=m)
             for m, (unit, grade) in enumerate(itertools.product(PLACES, (1, 4, 4)))]
    zhengzhou = ids(queue(svc, SUPERVISOR, status="all", page_size=100))
    decide(svc, SUPERVISOR, zhengzhou[0], "return", REASON)
    decide(svc, SUPERVISOR, zhengzhou[1], "reject", REASON)
    svc.fold_queue_counts()
    assert svc.on_submitted(submission(zhengzhou[0], round_=2, minute=50)) == "applied"
    assert svc.on_deleted(envelope("application.deleted.v1", {"application_id": cases[-1], "year": 2026,
                                                              "id_number": "x", "was_submitted": True})) == "applied"
    with ThreadPoolExecutor(8) as pool:
        folding = pool.submit(lambda: [svc.fold_queue_counts() for _ in range(20)])
        list(pool.map(lambda app_id: decide(svc, SUPERVISOR, app_id, "pass"), zhengzhou[2:]))
        folding.result()

    def totals() -> dict:
        out = {}
        for who, status, grade in itertools.product(
                (SUPERVISOR, OTHER_SUPERVISOR, CITY, LUOYANG, COUNTY, PROVINCE),
                ("pending", "in_review", "returned", "rejected", "approved", "all"), (None, 1, 4)):
            filters = {"status": status} | ({"grade": grade} if grade else {})
            kept = queue(svc, who, **filters)["total"]
            real = queue(svc, who, **filters, submitted_from="2000-01-01")["total"]
            assert kept == real, (who["username"], status, grade)
            out[(who["username"], status, grade)] = kept
        return out

    assert totals()[("zz_city", "pending", None)] == len(zhengzhou) - 2
    decide(svc, SUPERVISOR, zhengzhou[0], "pass")                  # the resubmission: a delta not yet folded
    before = totals()
    assert before[("zz_city", "pending", None)] == len(zhengzhou) - 1 and before[("admin", "all", None)] == 11
    with db.tx() as s:
        assert s.scalar(sa.text("SELECT count(*) FROM queue_count_deltas")) > 0
    svc.fold_queue_counts()
    with db.tx() as s:
        assert s.scalar(sa.text("SELECT count(*) FROM queue_count_deltas")) == 0
    assert totals() == before


def test_folding_gives_back_the_space_its_folded_deltas_leave(svc, db, monkeypatch):
    """Issue 12: every page's total reads queue_count_deltas whole, so after folding this many
    deltas the service vacuums it (whatever autovacuum's settings): a bulk of submissions
    leaves no empty pages behind for every later page to read. Below the threshold it does
    not vacuum; the totals stay what they were."""
    from services.review import service as review_service

    monkeypatch.setattr(review_service, "VACUUM_DELTAS_AFTER", 6000)
    monkeypatch.setattr(review_service.ReviewService, "_folded_since_vacuum", 0)
    total = queue(svc, PROVINCE, status="all")["total"]

    def add_deltas(n: int) -> None:      # zero deltas: a bucket's total is not changed
        with db.tx() as s:
            s.execute(sa.text("INSERT INTO queue_count_deltas (city_code, county_code, supervisor_id, status, "
                              "current_level, target_grade, delta) SELECT '410100', '', '', 'in_review', '', 4, 0 "
                              "FROM generate_series(1, :n)"), {"n": n})

    def pages() -> int:
        with db.tx() as s:
            return s.scalar(sa.text("SELECT pg_relation_size('queue_count_deltas') / 8192"))

    add_deltas(4000)
    svc.fold_queue_counts()
    left = pages()
    assert left >= 10                                   # folded, not yet vacuumed: the space stays
    add_deltas(2000)
    svc.fold_queue_counts()
    assert pages() <= 1 < left
    assert review_service.ReviewService._folded_since_vacuum == 0
    assert queue(svc, PROVINCE, status="all")["total"] == total


# --- 一级 materials (R-R4) ---------------------------------------------------------------------
def material(svc, who, app_id, kind):
    return svc.receive_material(who, {"application_id": app_id, "kind": kind}, png_bytes())


def test_grade_one_needs_the_citys_materials_before_the_final_pass(svc, db):
    app_id = opened(svc, grade=1)
    refused(Forbidden, "wrong_level", material, svc, SUPERVISOR, app_id, "wage_review_form")
    decide(svc, SUPERVISOR, app_id, "pass")
    assert material(svc, CITY, app_id, "wage_review_form")["version"] == 3
    refused(NotFound, "not_found", material, svc, CITY, app_id, "photo", field="kind")
    decide(svc, CITY, app_id, "pass")
    refused(Forbidden, "wrong_level", material, svc, PROVINCE, app_id, "excellence_material")
    error = refused(RuleNotMet, "materials_missing", decide, svc, PROVINCE, app_id, "pass")
    assert "考核优秀" in error.message and "工资审核表" not in error.message
    assert [e["event_type"] for e in outbox(db)] == [StepPassed.EVENT_TYPE, StepPassed.EVENT_TYPE]
    decide(svc, PROVINCE, app_id, "return", "请市级审核员补充一级材料")
    svc.on_submitted(submission(app_id, round_=2, grade=1))
    decide(svc, SUPERVISOR, app_id, "pass")
    case = material(svc, CITY, app_id, "excellence_material")
    assert set(case["materials"]) == {"wage_review_form", "excellence_material"}   # kept across rounds
    decide(svc, CITY, app_id, "pass")
    assert decide(svc, PROVINCE, app_id, "pass")["status"] == "approved"


def test_materials_only_for_grade_one(svc):
    app_id = opened(svc, grade=4)
    decide(svc, SUPERVISOR, app_id, "pass")
    refused(InvalidInput, "invalid", material, svc, CITY, app_id, "wage_review_form", field="kind")


# --- several at once --------------------------------------------------------------------------
def test_a_batch_checks_each_case_on_its_own(svc, db):
    mine = [opened(svc, minute=m) for m in range(2)]
    other = opened(svc, unit="U410100-003", minute=2)
    result = svc.decide_batch(SUPERVISOR, {"application_ids": [*mine, other, mine[0]], "decision": "pass"})
    assert (result["succeeded"], result["failed"]) == (2, 1)
    refusal = next(r for r in result["results"] if not r["ok"])
    assert (refusal["application_id"], refusal["status"], refusal["error"]["code"]) == (other, 404, "not_found")
    assert len(outbox(db, StepPassed.EVENT_TYPE)) == 2
    refused(InvalidInput, "reason_required", svc.decide_batch, SUPERVISOR, {"application_ids": mine,
                                                                           "decision": "return"})



def test_level_counts_are_the_cases_waiting_at_each_level_in_scope_grouped_like_the_statistics(svc):
    """Issue 14 "review status by level": the cases in review by the level they wait at, for
    application's statistics — the caller's scope, grouped by city, county, 主管单位, unit,
    grade or trade, filtered by grade; returned and withdrawn cases are not in review."""
    opened(svc, minute=0)                                          # both wait at their 主管单位
    opened(svc, unit="U410100-003", grade=5, minute=1)
    at_city = opened(svc, minute=2)
    decide(svc, SUPERVISOR, at_city, "pass")
    provincial = opened(svc, unit="U410000-001", minute=3)
    decide(svc, admin("supervisor", "S410000-01", "sz_rst", id=16), provincial, "pass")
    opened(svc, unit="U410300-001", minute=4)
    decide(svc, SUPERVISOR, opened(svc, minute=5), "return", REASON)
    gone = opened(svc, minute=6)
    svc.on_deleted(envelope("application.deleted.v1", {"application_id": gone, "year": 2026, "id_number": "x",
                                                       "was_submitted": True}))

    def counts(who, **query):
        rows = svc.level_counts(who, {"year": 2026, **query})["rows"]
        return {r["key"]: (r["supervisor"], r["city"], r["province"]) for r in rows}

    assert counts(PROVINCE) == {"410100": (2, 1, 0), "410000": (0, 0, 1), "410300": (1, 0, 0)}
    assert counts(CITY) == {"410100": (2, 1, 0)}
    assert counts(LUOYANG, group_by="unit") == {"U410300-001": (1, 0, 0)}
    assert counts(COUNTY, group_by="unit") == {"U410100-001": (1, 1, 0)}
    assert counts(OTHER_SUPERVISOR, group_by="supervisor") == {"S410100-02": (1, 0, 0)}
    assert counts(CITY, group_by="county") == {"410102": (1, 1, 0), "410103": (1, 0, 0)}
    assert counts(PROVINCE, group_by="grade") == {"4": (2, 1, 1), "5": (1, 0, 0)}
    assert counts(CITY, group_by="trade", grade=5) == {"T0101": (1, 0, 0)}
    assert counts(PROVINCE, group_by="county", city_code="410000") == {None: (0, 0, 1)}
    assert counts(CITY, year=2025) == {}
    refused(InvalidInput, "invalid", svc.level_counts, CITY, {"year": 2026, "group_by": "school"}, field="group_by")
    refused(Forbidden, "wrong_kind", svc.level_counts, Person().principal, {"year": 2026})


def test_each_change_of_a_case_is_announced_for_its_applicant_and_a_read_announces_nothing(svc, db):
    """review.viewers_changed.v1 (issue 12): the gateways drop the 审核结果 they kept of the
    applicant whose case a submission or a decision changed; a read or a refused decision
    changes nothing and says nothing."""
    person = Person()
    event = submission(id_number=person.id_number)
    assert svc.on_submitted(event) == "applied"
    app_id, me = event["data"]["application_id"], (person.year, person.id_number)
    assert viewers(db) == ({me}, set(), False)
    clear_outbox(db)
    who = person.principal
    svc.applicant_review(who)
    svc.queue(SUPERVISOR, {"status": "all"})
    refused(NotFound, "not_found", decide, svc, LUOYANG, app_id, "pass")    # another city's case
    assert viewers(db) == (set(), set(), False)
    decide(svc, SUPERVISOR, app_id, "return", "照片不清晰")
    assert viewers(db) == ({me}, set(), False)
