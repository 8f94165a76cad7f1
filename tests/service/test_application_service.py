"""The application service on a worker over its own PostgreSQL database, no broker: the form
(save, partial save, read-only fields, choices), uploads, 提交 and what it announces, the
refusals that announce nothing, and the handlers that follow review's decisions — guarded
by round and status, applied once per event (inbox)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from builders import (
    NOW,
    PROVINCE,
    Person,
    clear_outbox,
    count,
    envelope,
    outbox,
    viewers,
    window,
    year_updated,
)
from helpers import jpeg_bytes, png_bytes
from nameko.testing.services import worker_factory

from deploy.seed import SUPERVISORS, UNITS, trades_csv
from kit.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    RuleNotMet,
    Unauthenticated,
    UnsupportedMedia,
)
from kit.sms import OutboxSmsGateway
from services.application import notices as notices_module
from services.application.models import Application, Notice
from services.application.schemas import Deleted, Submitted, UnitChosen
from services.application.service import ApplicationService

SERVICE = "application"

VALID = {"unit_id": "U410100-001", "education": "senior_high", "work_start": "2000-03", "current_grade": 5,
         "current_trade": "T013", "target_trade": "T013", "route": "years", "prohibited": False,
         "pledge": True, "exceptional": False, "frontline": True}
SUBMITTED = "application.submitted.v1"


@pytest.fixture
def svc(db, clock):
    """The worker, with the year's calendar, the units and the trade catalogue in place, and
    an empty outbox."""
    worker = worker_factory(ApplicationService, db=db)
    assert worker.on_year_updated(year_updated()) == "applied"
    worker.upsert_reference(
        PROVINCE, [dict(id=i, name=n, city_code=c, admin=a, phone=p) for i, n, c, a, p in SUPERVISORS],
        [dict(id=i, name=n, city_code=c, county_code=k, supervisor_id=s) for i, n, c, k, s in UNITS])
    assert worker.import_trades(PROVINCE, {}, trades_csv())["refused"] == []
    clear_outbox(db)
    return worker


def registered(svc, **kw) -> Person:
    """A person whose ID card photo was stored at registration (as the gateway does it)."""
    photo = svc.receive_registration_photo(None, {}, png_bytes())
    return Person(id_card_photo=photo["sha256"], **kw)


def upload(svc, person: Person, kind: str, data: bytes) -> dict:
    return svc.receive_application_file(person.principal, {"account": person.account, "kind": kind}, data)


def filled(svc, **kw) -> Person:
    """An eligible form, saved with its uploads; the outbox emptied again."""
    person = registered(svc, **kw)
    svc.save_form(person.principal, person.account, VALID)
    upload(svc, person, "personal_photo", jpeg_bytes(413, 579))
    upload(svc, person, "education_proof", png_bytes(800, 600))
    clear_outbox(svc.db)
    return person


def submitted(svc, db, **kw) -> tuple[Person, dict]:
    person = filled(svc, **kw)
    form = svc.submit(person.principal, person.account)
    clear_outbox(db)
    return person, form


def refused(error: type, code: str, call, *args, field=...):
    with pytest.raises(error) as exc:
        call(*args)
    assert exc.value.code == code, exc.value
    if field is not ...:
        assert exc.value.field == field, exc.value
    return exc.value


def form_row(db, person: Person) -> Application | None:
    with db.tx() as s:
        return s.scalars(sa.select(Application).where(Application.id_number == person.id_number)).first()


# --- the form --------------------------------------------------------------------------------
def test_the_form_starts_from_the_account_with_the_id_card_photo(svc):
    person = registered(svc)
    form = svc.get_form(person.principal, person.account)
    assert (form["name"], form["id_number"], form["target_grade"], form["status"], form["round"]) == \
        (person.name, person.id_number, 4, "not_submitted", 0)
    assert form["locked"] is False and list(form["files"]) == ["id_card_photo"]
    assert form["files"]["id_card_photo"]["sha256"] == person.id_card_photo
    assert svc.get_form(person.principal, person.account)["application_id"] == form["application_id"]  # once


def test_a_partial_save_keeps_what_was_left_out(svc):
    person = registered(svc)
    form = svc.save_form(person.principal, person.account, {"education": "bachelor", "work_start": "2001-07"})
    assert form["service_years"] == form["service_years_max"] == 2026 - 2001 + 1   # defaults to the maximum
    form = svc.save_form(person.principal, person.account, {"service_years": 12})
    assert (form["education"], form["work_start"], form["service_years"]) == ("bachelor", "2001-07", 12)
    form = svc.save_form(person.principal, person.account, {"name": person.name})   # sent unchanged: fine
    assert form["service_years"] == 12


@pytest.mark.parametrize(("changes", "code", "field"), [
    ({"name": "别人"}, "read_only", "name"),
    ({"id_number": "11010519491231002X"}, "read_only", "id_number"),
    ({"target_grade": 1}, "read_only", "target_grade"),
    ({"status": "approved"}, "read_only", "status"),
    ({"round": 7}, "read_only", "round"),
    ({"whatever": 1}, "invalid", "whatever"),
    ({"education": "phd"}, "invalid", "education"),
    ({"work_start": "2001-13"}, "invalid", "work_start"),
    ({"unit_id": "U410300-001"}, "invalid", "unit_id"),          # a unit of another city
    ({"current_trade": "NOPE"}, "invalid", "current_trade"),
    ({"pledge": "yes"}, "invalid", "pledge"),
    ({"service_years": "many"}, "invalid", "service_years"),
    ({"service_years": 81}, "invalid", "service_years"),
])
def test_a_refused_save_names_the_field_and_changes_nothing(svc, db, changes, code, field):
    person = registered(svc)
    before = svc.save_form(person.principal, person.account, {"education": "bachelor"})
    refused(InvalidInput, code, svc.save_form, person.principal, person.account, {"work_start": "2001-07", **changes},
            field=field)                                            # the good change before it is kept neither
    assert svc.get_form(person.principal, person.account) == before
    assert outbox(db) == []


def test_choosing_a_unit_fixes_county_and_supervisor_and_announces_it_once(svc, db):
    person = registered(svc)
    form = svc.save_form(person.principal, person.account, {"unit_id": "U410100-003"})
    assert (form["county_code"], form["supervisor_id"]) == ("410103", "S410100-02")
    svc.save_form(person.principal, person.account, {"unit_id": "U410100-003", "education": "bachelor"})  # same
    chosen = outbox(db, UnitChosen.EVENT_TYPE)
    assert len(chosen) == 1
    assert UnitChosen.model_validate(chosen[0]["data"]).model_dump(exclude={"at"}) == {
        "year": 2026, "id_number": person.id_number, "unit_id": "U410100-003", "county_code": "410103",
        "supervisor_id": "S410100-02"}


def test_another_applicants_account_or_an_unsealed_principal_is_refused(svc):
    me, other = registered(svc), registered(svc)
    refused(Forbidden, "not_owner", svc.get_form, me.principal, other.account)
    refused(Forbidden, "not_owner", svc.save_form, me.principal, other.account, {"education": "bachelor"})
    plain = {k: v for k, v in me.principal.items() if k != "seal"}
    refused(Unauthenticated, "unauthenticated", svc.get_form, plain, me.account)
    refused(Forbidden, "wrong_kind", svc.get_form, PROVINCE, me.account)
    assert form_row(svc.db, other) is None                          # nothing was created for them


def test_choices_follow_the_draft_not_only_the_saved_form(svc):
    person = registered(svc)
    svc.save_form(person.principal, person.account, VALID)
    saved = svc.choices(person.principal, person.account, None)
    assert saved["required_files"] == ["id_card_photo", "personal_photo", "education_proof"]
    assert saved["service_years_max"] == 27 and "years" in saved["routes"]
    draft = svc.choices(person.principal, person.account, {"route": "certificate", "work_start": "2010-01"})
    assert draft["required_files"] == ["id_card_photo", "personal_photo", "education_proof", "grade_certificate"]
    assert draft["service_years_max"] == 17
    assert svc.get_form(person.principal, person.account)["route"] == "years"   # a draft is not saved
    refused(InvalidInput, "invalid", svc.choices, person.principal, person.account, {"route": "x"}, field="route")
    refused(InvalidInput, "invalid", svc.choices, person.principal, person.account, ["route"])


def test_the_form_page_is_the_form_its_check_its_choices_and_the_steps_in_one_call(svc, db):
    """Issue 12: the 报名信息 page costs one RPC and reads the form and catalogue once; it
    answers what the four separate calls answer, creates a form that identity's event has not
    brought yet, and offers no choices once the form is locked."""
    person = registered(svc)
    assert form_row(db, person) is None
    page = svc.form_page(person.principal, person.account)             # creates it, like get_form
    assert form_row(db, person) is not None and page["form"]["locked"] is False
    svc.save_form(person.principal, person.account, VALID)
    page = svc.form_page(person.principal, person.account)
    assert page["form"] == svc.get_form(person.principal, person.account)
    assert page["eligibility"] == svc.eligibility(person.principal, person.account)
    assert page["choices"] == svc.choices(person.principal, person.account, {})
    progress = svc.progress(person.principal)
    assert page["fresh_until"] == progress.pop("fresh_until")          # how long a gateway may keep it
    assert page["progress"] == progress
    person, _ = submitted(svc, db)
    page = svc.form_page(person.principal, person.account)
    assert page["form"]["locked"] is True and page["choices"] is None


# --- uploads (kit.files: the handler gets the bytes) ------------------------------------------
def test_an_upload_is_checked_by_its_content_and_a_refused_one_stores_nothing(svc, db):
    person = registered(svc)
    blobs = count(db, "blobs")
    refused(UnsupportedMedia, "unsupported_media_type", upload, svc, person, "education_proof", b"%PDF-1.4 x")
    refused(NotFound, "not_found", upload, svc, person, "diploma", png_bytes(), field="kind")
    assert count(db, "blobs") == blobs
    form = upload(svc, person, "personal_photo", jpeg_bytes(500, 700))
    meta = form["files"]["personal_photo"]
    assert (meta["width"], meta["height"], meta["content_type"]) == (413, 579, "image/jpeg")  # normalised
    assert count(db, "blobs") == blobs + 1


# --- 提交 ---------------------------------------------------------------------------------------
def test_submit_locks_the_form_and_announces_exactly_one_submitted_event(svc, db):
    person = filled(svc)
    form = svc.submit(person.principal, person.account)
    assert (form["status"], form["round"], form["locked"]) == ("in_review", 1, True)
    events = outbox(db)
    assert [e["event_type"] for e in events] == [SUBMITTED]
    event = Submitted.model_validate(events[0]["data"])              # the producer's contract holds
    assert (event.application_id, event.id_number, event.round, event.target_grade) == \
        (form["application_id"], person.id_number, 1, 4)
    assert (event.unit_id, event.supervisor_id, event.county_code, event.city_code) == \
        ("U410100-001", "S410100-01", "410102", "410100")
    assert set(event.form.files) == {"id_card_photo", "personal_photo", "education_proof"}
    assert event.form.unit.supervisor.name == "郑州市卫生健康委员会"


def test_an_ineligible_form_is_refused_with_every_failed_rule_and_announces_nothing(svc, db):
    person = registered(svc)
    svc.save_form(person.principal, person.account, {**VALID, "work_start": "2019-01", "service_years": 8})
    clear_outbox(db)
    error = refused(RuleNotMet, "not_eligible", svc.submit, person.principal, person.account)
    failed = {d["rule"]: d["field"] for d in error.details}
    assert failed == {"R-A4.5": "service_years", "R-A4.13": "personal_photo"}, error.details
    assert outbox(db) == []
    assert svc.get_form(person.principal, person.account)["status"] == "not_submitted"


def test_submitting_outside_the_application_window_is_refused_and_announces_nothing(svc, db, clock):
    person = filled(svc)
    clock.set(NOW + timedelta(days=30, seconds=1))                   # the window ended a second ago
    refused(RuleNotMet, "outside_application_window", svc.submit, person.principal, person.account)
    refused(RuleNotMet, "outside_application_window", svc.save_form, person.principal, person.account,
            {"education": "bachelor"})
    assert outbox(db) == []
    clock.set(NOW + timedelta(days=30))                              # its last second: still open
    assert svc.submit(person.principal, person.account)["status"] == "in_review"
    assert len(outbox(db, SUBMITTED)) == 1


def test_a_submitted_form_is_read_only_and_a_second_submit_announces_nothing(svc, db):
    person, _ = submitted(svc, db)
    refused(Conflict, "locked", svc.submit, person.principal, person.account)
    refused(Conflict, "locked", svc.save_form, person.principal, person.account, {"education": "bachelor"})
    refused(Conflict, "locked", upload, svc, person, "personal_photo", jpeg_bytes(413, 579))
    refused(Conflict, "locked", svc.upload_ticket, person.principal, "application_file",
            {"account": person.account, "kind": "personal_photo"})      # refused before any byte is sent
    refused(Conflict, "locked", svc.stamp_photo, person.principal, person.account)
    assert outbox(db) == []


# --- review's decisions, guarded by round and status ------------------------------------------
def outcome(event_type: str, app_id: str, round_: int, reason: str = "", event_id: str | None = None,
            version: int | None = None) -> dict:
    data = {"application_id": app_id, "year": 2026, "round": round_, "reason": reason, "level": "supervisor",
            "decision": "return"}
    if version is not None:
        data["version"] = version
    return envelope(event_type, data, event_id)


RETURNED, FINAL = "review.returned.v1", "review.finally_approved.v1"
REJECTED, REOPENED = "review.rejected.v1", "review.reopened.v1"


def status(svc, person) -> tuple[str, int, str | None]:
    form = svc.get_form(person.principal, person.account)
    return form["status"], form["round"], form["review_note"]


def test_a_return_unlocks_the_form_once_and_stale_or_repeated_outcomes_change_nothing(svc, db):
    person, form = submitted(svc, db)
    app_id = form["application_id"]
    assert svc.on_returned(outcome(RETURNED, app_id, 0, "旧轮次")) == "applied"       # stale round
    assert status(svc, person) == ("in_review", 1, None)
    assert svc.on_returned(outcome(RETURNED, app_id, 1, "照片不清晰")) == "applied"
    assert status(svc, person) == ("returned", 1, "照片不清晰")
    assert svc.on_returned(outcome(RETURNED, app_id, 1, "再次退回")) == "applied"      # a repeat, new id
    assert svc.on_finally_approved(outcome(FINAL, app_id, 1)) == "applied"           # not in review now
    assert svc.on_rejected(outcome(REJECTED, app_id, 1, "不符合")) == "applied"
    assert status(svc, person) == ("returned", 1, "照片不清晰")
    assert svc.save_form(person.principal, person.account, {"education": "bachelor"})["education"] == "bachelor"


def test_after_a_resubmission_only_the_new_round_counts(svc, db):
    person, form = submitted(svc, db)
    app_id = form["application_id"]
    svc.on_returned(outcome(RETURNED, app_id, 1, "照片不清晰"))
    assert svc.submit(person.principal, person.account)["round"] == 2
    assert status(svc, person) == ("in_review", 2, None)
    assert svc.on_finally_approved(outcome(FINAL, app_id, 1)) == "applied"           # late, round 1
    assert svc.on_returned(outcome(RETURNED, app_id, 1, "照片不清晰")) == "applied"
    assert status(svc, person) == ("in_review", 2, None)
    assert svc.on_finally_approved(outcome(FINAL, app_id, 2)) == "applied"
    assert status(svc, person) == ("approved", 2, None)
    assert svc.on_returned(outcome(RETURNED, app_id, 2, "晚到的退回")) == "applied"     # approved stays
    assert status(svc, person) == ("approved", 2, None)


def test_reject_then_reopen(svc, db):
    person, form = submitted(svc, db)
    app_id = form["application_id"]
    svc.on_reopened(outcome(REOPENED, app_id, 1, "未拒绝时重新退回"))                  # not rejected: nothing
    assert status(svc, person) == ("in_review", 1, None)
    svc.on_rejected(outcome(REJECTED, app_id, 1, "工龄不符合"))
    assert status(svc, person) == ("rejected", 1, "工龄不符合")
    refused(Conflict, "locked", svc.save_form, person.principal, person.account, {"education": "bachelor"})
    svc.on_reopened(outcome(REOPENED, app_id, 1, "经核实可以申报"))
    assert status(svc, person) == ("returned", 1, "经核实可以申报")


def test_the_same_event_twice_is_applied_once(svc, db):
    person, form = submitted(svc, db)
    event = outcome(RETURNED, form["application_id"], 1, "照片不清晰")
    assert svc.on_returned(event) == "applied"
    assert svc.on_returned(event) == "duplicate"
    assert status(svc, person) == ("returned", 1, "照片不清晰")


def test_the_inbox_keeps_a_redelivered_registration_from_bringing_a_deleted_form_back(svc, db):
    """Only the inbox stops this one: after the deletion nothing in the state would."""
    person = registered(svc)
    registration = envelope("identity.account_registered.v1", person.account)
    deletion = envelope("identity.account_deleted.v1", {"year": 2026, "id_number": person.id_number})
    assert svc.on_account_registered(registration) == "applied"
    app_id = form_row(db, person).id
    assert svc.on_account_deleted(deletion) == "applied"
    assert form_row(db, person) is None
    assert svc.on_account_registered(registration) == "duplicate"
    assert svc.on_account_deleted(deletion) == "duplicate"
    assert form_row(db, person) is None
    deleted = outbox(db, Deleted.EVENT_TYPE)
    assert [Deleted.model_validate(e["data"]) for e in deleted] == [
        Deleted(application_id=app_id, year=2026, id_number=person.id_number, was_submitted=False)]


def test_an_event_that_does_not_parse_is_parked_not_half_applied(svc, db):
    person, form = submitted(svc, db)
    broken = envelope(RETURNED, {"application_id": form["application_id"]})     # no round
    assert svc.on_returned(broken) == "parked"
    assert status(svc, person) == ("in_review", 1, None)
    assert count(db, "parked_events") == 1
    assert svc.on_returned({**broken, "data": {**broken["data"], "round": 1}}) == "applied"   # replayed, fixed
    assert status(svc, person) == ("returned", 1, None)


def test_a_late_older_calendar_changes_nothing(svc, db, clock):
    person = filled(svc)
    closed = window(NOW - timedelta(days=30), NOW - timedelta(days=1))
    assert svc.on_year_updated(year_updated(NOW + timedelta(hours=1), application=closed)) == "applied"
    refused(RuleNotMet, "outside_application_window", svc.submit, person.principal, person.account)
    assert svc.on_year_updated(year_updated(NOW - timedelta(hours=1))) == "applied"   # older, open again
    refused(RuleNotMet, "outside_application_window", svc.submit, person.principal, person.account)


def test_a_reopen_handled_before_its_rejection_still_leaves_the_form_returned(svc, db):
    """review.rejected.v1 and review.reopened.v1 travel on different queues: the case's
    version orders them, whatever order they are handled in."""
    person, form = submitted(svc, db)
    app_id = form["application_id"]
    svc.on_reopened(outcome(REOPENED, app_id, 1, "经核实可以申报", version=3))
    svc.on_rejected(outcome(REJECTED, app_id, 1, "工龄不符合", version=2))
    assert status(svc, person) == ("returned", 1, "经核实可以申报")


def test_outcomes_in_order_each_apply_and_a_repeat_changes_nothing(svc, db):
    person, form = submitted(svc, db)
    app_id = form["application_id"]
    svc.on_rejected(outcome(REJECTED, app_id, 1, "工龄不符合", version=2))
    assert status(svc, person) == ("rejected", 1, "工龄不符合")
    svc.on_reopened(outcome(REOPENED, app_id, 1, "经核实可以申报", version=3))
    assert status(svc, person) == ("returned", 1, "经核实可以申报")
    svc.on_rejected(outcome(REJECTED, app_id, 1, "工龄不符合", event_id="again", version=2))   # a late copy
    assert status(svc, person) == ("returned", 1, "经核实可以申报")


def test_an_application_the_other_path_created_meanwhile_is_taken_not_refused(svc, db):
    """The applicant's first change and identity's account_registered event may both find
    no application and both create it: the one that loses the race takes the other's row.
    (Found by the fault suite: the loser answered 500, "Instance is not present in this
    Session", once the savepoint's rollback had already dropped its row.)"""
    from services.application.schemas import AccountRegisteredView

    person = registered(svc)
    created = svc.get_form(person.principal, person.account)          # the other path, committed
    with db.tx() as s:
        app = svc._create(s, AccountRegisteredView.model_validate(person.account))
        assert app.id == created["application_id"]
    saved = svc.save_form(person.principal, person.account, {"education": "senior_high"})
    assert saved["application_id"] == created["application_id"] and saved["education"] == "senior_high"


def test_the_form_with_its_unit_and_supervisor_is_one_round_trip(svc, db):
    """Issue 12: an applicant's form (and the 报名信息 page's view of it) reads the form, its
    unit and the 主管单位 in one statement; what it shows is the same. The eligibility check
    reads the form with its year's rules in one, the catalogue in another; a save locks the
    form with its year's calendar in one."""
    person = filled(svc)
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731 - (conn, cursor, statement, ...)
    sa.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        form = svc.get_form(person.principal, person.account)
        first = len(statements)
        page = svc.form_page(person.principal, person.account)
        reads = list(statements)
        statements.clear()
        check = svc.eligibility(person.principal, person.account)     # the form with its year's rules, the catalogue
        second = len(statements)
        statements.clear()
        svc.save_form(person.principal, person.account, {"service_years": 20})
        saved = list(statements)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listener)
    assert first == 1 and second == 2, statements
    # a save: the form locked with its calendar, its update, its unit for the answer, the outbox
    assert len(saved) == 4 and "FOR UPDATE OF applications" in saved[0] and "year_copies" in saved[0], saved
    assert check == page["eligibility"] and check["eligible"] is True
    assert form["unit"] == page["form"]["unit"] == {
        "unit_id": "U410100-001", "name": form["unit"]["name"], "city_code": "410100",
        "county_code": form["unit"]["county_code"],
        "supervisor": {"id": "S410100-01", "name": "郑州市卫生健康委员会", "admin": "孔老师", "phone": "0371-67180001"}}
    assert not any("FROM units" in q and "applications" not in q for q in reads), reads


# --- progress (R-P2), one round trip ---------------------------------------------------------
def test_progress_before_and_after_submission_with_the_supervisor_and_online_payment(svc, db):
    """R-P2, R-F1: 我的进度 from the service's copies in one query — no application yet
    (未提交, no 主管单位, online payment by the account's city), a saved form (its unit's
    主管单位 with the contact), submitted (审核中); 网上缴费 only where the year's fees say so."""
    def steps(progress: dict) -> dict:
        return {s["key"]: s for s in progress["steps"]}

    person = filled(svc)
    before = svc.progress(person.principal)
    zhengzhou_health = {"id": "S410100-01", "name": "郑州市卫生健康委员会", "admin": "孔老师", "phone": "0371-67180001"}
    assert before["status"] == "not_submitted" and before["supervisor"] == zhengzhou_health
    assert steps(before)["application"]["enabled"] and not steps(before)["review"]["enabled"]
    assert before["application_window"] == year_updated()["data"]["windows"]["application"]
    assert steps(before)["payment"]["visible"] is False                 # no fees set: nobody pays online
    assert svc.on_fees_set(envelope("payment.fees_set.v1", {"year": person.year, "online_payment_cities": ["410100"],
                                                             "updated_at": NOW.isoformat()})) == "applied"
    svc.submit(person.principal, person.account)
    after = svc.progress(person.principal)
    assert after["status"] == "in_review" and steps(after)["payment"]["visible"] is True
    assert after["supervisor"] == zhengzhou_health and steps(after)["review"]["enabled"]
    stranger = Person(city_code="410300")                               # 洛阳 pays offline; never applied
    other = svc.progress(stranger.principal)
    assert (other["status"], other["supervisor"], steps(other)["payment"]["visible"]) == ("not_submitted", None, False)
    newcomer = Person()                                                 # 郑州 pays online, before any form
    assert steps(svc.progress(newcomer.principal))["payment"]["visible"] is True


# --- notices to applicants (issue 14) ---------------------------------------------------------
@pytest.fixture
def sms_outbox(tmp_path, monkeypatch):
    """The development SMS gateway (kit.sms), writing to a file of this test."""
    path = tmp_path / "sms-outbox.jsonl"
    monkeypatch.setattr(notices_module.sms, "gateway_from", lambda _settings: OutboxSmsGateway(path))

    def lines(kind: str | None = None) -> list[dict]:
        if not path.exists():
            return []
        sent = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        return [m for m in sent if kind is None or m.get("kind") == kind]

    lines.path = path
    return lines


def notices(db, person: Person) -> list[tuple[str, str]]:
    with db.tx() as s:
        app_id = s.scalars(sa.select(Application.id).where(Application.id_number == person.id_number)).one()
        return [(n.kind, n.key) for n in s.scalars(sa.select(Notice).where(Notice.application_id == app_id)
                                                     .order_by(Notice.id))]


def approve(svc, app_id: str, at=NOW, version: int = 4, event_id: str | None = None, round_: int = 1):
    event = outcome(FINAL, app_id, round_, version=version, event_id=event_id)
    event["data"]["at"] = at.isoformat()
    return svc.on_finally_approved(event)


def calendar_change(updated_at, switches: dict | None = None, **windows) -> dict:
    event = year_updated(updated_at, **windows)
    event["data"]["switches"].update(switches or {})
    return event


def test_a_returned_applicant_gets_one_notice_and_one_sms_however_often_the_event_comes(svc, db, sms_outbox):
    """Issue 14's done-when, on the service: review.returned.v1 delivered twice under its id
    (the inbox) and once more under another id (the case's version): one notice, one SMS line
    in API.md's format with the reason, sent after commit by the timer, never twice."""
    person, form = submitted(svc, db)
    event = outcome(RETURNED, form["application_id"], 1, "学历证明材料不清晰", version=2)
    assert svc.on_returned(event) == "applied"
    assert svc.on_returned(event) == "duplicate"
    assert svc.on_returned({**event, "event_id": "another-id"}) == "applied"
    assert notices(db, person) == [("returned", "v2")]
    assert sms_outbox() == []                                  # made with the change, not sent inside it
    assert svc.send_notices() == 1
    assert svc.send_notices() == 0
    [line] = sms_outbox()
    assert set(line) == {"phone", "purpose", "kind", "text", "sent_at"}
    assert (line["phone"], line["purpose"], line["kind"]) == (person.phone, "notice", "returned")
    assert "退回原因：学历证明材料不清晰" in line["text"] and line["text"].startswith("【河南工考】")
    assert person.id_number not in line["text"]


def test_reject_reopen_and_final_approval_each_notify_once_per_decision(svc, db, sms_outbox):
    """审核不通过, then reopened (a 退回 to the applicant, with its reason), resubmitted and
    终审通过: one notice per decision; repeats and stale copies make none."""
    person, form = submitted(svc, db)
    app_id = form["application_id"]
    svc.on_rejected(outcome(REJECTED, app_id, 1, "工龄不符合", version=2))
    svc.on_rejected(outcome(REJECTED, app_id, 1, "工龄不符合", version=2))          # new id, same decision
    svc.on_reopened(outcome(REOPENED, app_id, 1, "经核实可以申报", version=3))
    svc.submit(person.principal, person.account)
    form = svc.get_form(person.principal, person.account)
    svc.on_returned(outcome(RETURNED, app_id, 1, "晚到的上一轮退回", version=9))      # another round: nothing
    assert approve(svc, app_id, version=5, round_=2) == "applied"
    assert approve(svc, app_id, version=5, event_id="again", round_=2) == "applied"
    assert notices(db, person) == [("rejected", "v2"), ("returned", "v3"), ("approved", "v5")]
    assert svc.send_notices() == 3
    assert [m["kind"] for m in sms_outbox()] == ["rejected", "returned", "approved"]
    assert "经核实可以申报" in sms_outbox("returned")[0]["text"]
    assert form["round"] == 2


def test_paying_opens_by_the_clock_24_hours_after_approval_in_an_online_city(svc, db, clock, sms_outbox):
    """payment_open: the payment status turns unpaid (R-F1, R-F2) — no event says so; the
    sweep finds it once the window is open and the 24 h have passed, once however often it
    runs. Then payment.fee_paid.v1, twice: one 'paid' notice with the amount."""
    person, form = submitted(svc, db)
    app_id = form["application_id"]
    svc.on_fees_set(envelope("payment.fees_set.v1", {"year": 2026, "online_payment_cities": ["410100"],
                                                       "updated_at": NOW.isoformat()}))
    payment = window(NOW + timedelta(days=1), NOW + timedelta(days=30))
    svc.on_year_updated(calendar_change(NOW + timedelta(minutes=1), payment=payment))
    clock.set(NOW + timedelta(days=2))
    approve(svc, app_id, at=NOW + timedelta(days=2))
    assert svc.sweep_notices() == 0
    clock.advance(hours=23, minutes=59)
    assert svc.sweep_notices() == 0
    clock.advance(minutes=1)
    assert svc.sweep_notices() == 1
    assert svc.sweep_notices() == 0
    assert notices(db, person) == [("approved", "v4"), ("payment_open", "")]
    paid = envelope("payment.fee_paid.v1", {"application_id": app_id, "paid_at": clock.at.isoformat(),
                                            "amount_fen": 15000})
    assert svc.on_fee_paid(paid) == "applied"
    assert svc.on_fee_paid({**paid, "event_id": "redelivered"}) == "applied"
    assert notices(db, person)[-1:] == [("paid", "")] and len(notices(db, person)) == 3
    svc.send_notices()
    assert [m["kind"] for m in sms_outbox()] == ["approved", "payment_open", "paid"]
    assert "缴费截止时间为" in sms_outbox("payment_open")[0]["text"]
    assert "150.00元" in sms_outbox("paid")[0]["text"]


def test_paying_never_opens_for_a_city_that_pays_offline(svc, db, clock):
    person, form = submitted(svc, db)
    svc.on_year_updated(calendar_change(NOW + timedelta(minutes=1), payment=window(NOW, NOW + timedelta(days=30))))
    approve(svc, form["application_id"], at=NOW - timedelta(days=2))
    assert svc.sweep_notices() == 0
    assert notices(db, person) == [("approved", "v4")]


def test_a_ticket_is_ready_when_printing_is_switched_on_or_the_seat_comes_later(svc, db, clock):
    """ticket_ready: a seat while printing is off makes nothing; the calendar switching it on
    (identity.year_updated.v1) makes the notice at once; the ticket event again makes none."""
    person, form = submitted(svc, db)
    other, other_form = submitted(svc, db)
    issued = envelope("documents.ticket_issued.v1", {"application_id": form["application_id"],
                                                     "ticket_no": "261001040101"})
    assert svc.on_ticket_issued(issued) == "applied"
    assert notices(db, person) == []
    assert svc.on_year_updated(calendar_change(NOW + timedelta(minutes=1), {"ticket_printing": True})) == "applied"
    assert notices(db, person) == [("ticket_ready", "261001040101")]
    assert svc.on_ticket_issued({**issued, "event_id": "again"}) == "applied"
    svc.on_ticket_issued(envelope("documents.ticket_issued.v1", {"application_id": other_form["application_id"],
                                                                 "ticket_no": "261001040102"}))
    assert notices(db, other) == [("ticket_ready", "261001040102")]      # printing on: at once
    assert svc.sweep_notices() == 0
    assert notices(db, person) == [("ticket_ready", "261001040101")]


def test_results_are_told_when_the_window_opens_by_the_clock_with_the_result_in(svc, db, clock):
    person, form = submitted(svc, db)
    results = window(NOW + timedelta(days=3), NOW + timedelta(days=30))
    svc.on_year_updated(calendar_change(NOW + timedelta(minutes=1), results=results))
    published = {"application_id": form["application_id"], "result": "fail", "revision": 1}
    svc.on_results_published(envelope("documents.results_published.v1", published))
    assert svc.sweep_notices() == 0 and notices(db, person) == []          # imported, window not open yet
    clock.advance(days=3)
    assert svc.sweep_notices() == 1
    svc.on_results_published(envelope("documents.results_published.v1", {**published, "result": "pass",
                                                                         "revision": 2}))
    assert notices(db, person) == [("results_published", "")]


def test_two_senders_never_take_the_same_notice_and_a_failing_gateway_tries_again(svc, db, sms_outbox,
                                                                                 monkeypatch):
    """The sender claims rows with SKIP LOCKED: a notice another instance holds is left to it.
    A gateway that fails leaves the notice unsent (attempts counted) for the next run."""
    person, form = submitted(svc, db)
    svc.on_returned(outcome(RETURNED, form["application_id"], 1, "照片不清晰", version=2))
    with db.engine.connect() as other:
        with other.begin():
            other.execute(sa.select(Notice.id).with_for_update())           # another instance sending it
            assert svc.send_notices() == 0
    assert sms_outbox() == []

    class Down:
        def send_notice(self, *args):
            raise ConnectionError("gateway away")

    monkeypatch.setattr(notices_module.sms, "gateway_from", lambda _settings: Down())
    assert svc.send_notices() == 0
    with db.tx() as s:
        assert s.scalars(sa.select(Notice.attempts)).one() == 1
    monkeypatch.setattr(notices_module.sms, "gateway_from", lambda _settings: OutboxSmsGateway(sms_outbox.path))
    assert svc.send_notices() == 1
    assert [m["kind"] for m in sms_outbox()] == ["returned"]


def test_progress_lists_the_notices_newest_first_when_asked(svc, db, clock):
    """The home and 审核结果 pages' 消息通知: the applicant's own notices, newest first, in
    the progress answer (no extra RPC); the other pages' progress carries none."""
    person, form = submitted(svc, db)
    app_id = form["application_id"]
    svc.on_returned(outcome(RETURNED, app_id, 1, "照片不清晰", version=2))
    clock.advance(hours=1)
    svc.submit(person.principal, person.account)
    svc.on_rejected(outcome(REJECTED, app_id, 2, "工龄不符合", version=4))
    listed = svc.progress(person.principal, notices=True)["notices"]
    assert [n["kind"] for n in listed] == ["rejected", "returned"]
    assert "工龄不符合" in listed[0]["text"] and listed[0]["at"] > listed[1]["at"]
    assert svc.progress(person.principal)["notices"] is None
    assert svc.progress(Person().principal, notices=True)["notices"] == []       # no application yet


def test_deleting_the_account_takes_its_notices_along(svc, db):
    person, form = submitted(svc, db)
    svc.on_returned(outcome(RETURNED, form["application_id"], 1, "照片不清晰", version=2))
    deletion = envelope("identity.account_deleted.v1", {"year": 2026, "id_number": person.id_number})
    assert svc.on_account_deleted(deletion) == "applied"
    assert count(db, "notices") == 0 and form_row(db, person) is None


# --- what the gateways keep (issue 12): every change of an applicant's views is announced ----
def test_each_change_of_an_applicants_views_is_announced_with_it_and_a_read_or_refusal_announces_none(svc, db):
    """application.viewers_changed.v1 in the transaction of the change (kit.db.track_viewers):
    a save, a submission, a review outcome naming the applicant; reads and refused changes
    none; a change of the calendar, the online cities, the rules or the units everyone."""
    person = registered(svc)
    svc.get_form(person.principal, person.account)         # creates the form: a change
    clear_outbox(db)
    svc.get_form(person.principal, person.account)
    svc.progress(person.principal, notices=True)
    svc.eligibility(person.principal, person.account)
    svc.form_page(person.principal, person.account)
    refused(InvalidInput, "invalid", svc.save_form, person.principal, person.account, {"education": "phd?"})
    assert viewers(db) == (set(), set(), False)
    me = (person.year, person.id_number)
    svc.save_form(person.principal, person.account, {"education": "bachelor"})
    assert viewers(db) == (set(), {me}, False)             # the form alone: the steps stay kept
    clear_outbox(db)
    svc.save_form(person.principal, person.account, {"unit_id": "U410100-003"})
    assert viewers(db) == ({me}, set(), False)             # a unit: another 主管单位 on the steps
    person, form = submitted(svc, db)
    assert viewers(db) == (set(), set(), False)            # (submitted cleared the outbox)
    svc.on_returned(outcome(RETURNED, form["application_id"], 1, "照片不清晰", version=2))
    assert viewers(db) == ({(person.year, person.id_number)}, set(), False)
    clear_outbox(db)
    assert svc.on_fees_set(envelope("payment.fees_set.v1", {"year": person.year, "online_payment_cities": ["410100"],
                                                             "updated_at": NOW.isoformat()})) == "applied"
    assert viewers(db)[2] is True
    clear_outbox(db)
    svc.put_rules(PROVINCE, person.year, svc.get_rules(person.year))
    assert viewers(db)[2] is True


def test_what_the_form_alone_shows_is_not_read_by_the_steps():
    """A save that changed only FORM_COLUMNS leaves the kept steps alone: the steps' query reads
    none of them (if it ever does, that column must leave FORM_COLUMNS)."""
    from sqlalchemy.sql import visitors

    from services.application.service import _PROGRESS, FORM_COLUMNS
    read = {c.name for c in visitors.iterate(_PROGRESS) if isinstance(c, sa.Column) and c.table.name == "applications"}
    assert {"status", "city_code", "paid_at", "ticket_no", "result", "supervisor_id"} <= read
    assert not read & FORM_COLUMNS


def test_a_notice_made_by_the_sweep_is_announced_for_its_applicant(svc, db, clock):
    """The 消息通知 list is part of the steps a gateway keeps: the sweep's notices are
    inserted by statement and named by hand."""
    person, form = submitted(svc, db)
    svc.on_finally_approved(outcome(FINAL, form["application_id"], 1, version=4))
    assert svc.on_fees_set(envelope("payment.fees_set.v1", {"year": person.year, "online_payment_cities": ["410100"],
                                                             "updated_at": NOW.isoformat()})) == "applied"
    clear_outbox(db)
    clock.set(NOW + timedelta(days=62))                    # the payment window open, 24 h passed
    assert svc.sweep_notices() >= 1
    assert viewers(db) == ({(person.year, person.id_number)}, set(), False)
    clear_outbox(db)
    assert svc.sweep_notices() == 0 and viewers(db) == (set(), set(), False)     # nothing new: nothing said


def test_the_steps_say_until_when_the_clock_leaves_them_as_they_are(svc, db, clock):
    """fresh_until: the next moment a window of the calendar opens or closes (a window is open
    to its end's last second)."""
    person = filled(svc)
    calendar = year_updated()["data"]["windows"]
    assert svc.progress(person.principal)["fresh_until"] == \
        (datetime.fromisoformat(calendar["registration"]["end"]) + timedelta(seconds=1)).isoformat()
    clock.set(datetime.fromisoformat(calendar["application"]["end"]))
    assert svc.progress(person.principal)["fresh_until"] == \
        (datetime.fromisoformat(calendar["application"]["end"]) + timedelta(seconds=1)).isoformat()
