"""The identity service's handlers on a worker over its own PostgreSQL database, no broker:
the one audit log fed by the other services' ``*.action_audited.v1`` events, and the copies
identity keeps of application's events (ever submitted, the chosen unit's county)."""
from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from builders import NOW, YEAR, Person, admin, envelope, outbox
from nameko.testing.services import worker_factory

from kit import clock as kit_clock
from kit.contracts import AUDIT_EXAMPLE
from kit.errors import Forbidden, InvalidInput
from services.identity.models import Account, Admin, ExamYear
from services.identity.service import IdentityService

SERVICE = "identity"

AUDITED = {
    "application.action_audited.v1": "on_application_audited",
    "review.action_audited.v1": "on_review_audited",
    "payment.action_audited.v1": "on_payment_audited",
}


@pytest.fixture
def svc(db, clock):
    worker = worker_factory(IdentityService, db=db)
    with db.tx() as s:
        s.add(ExamYear(year=YEAR, is_current=True, calendar={"windows": {}, "switches": {}}, updated_at=NOW))
        for id_, username, role, scope, city in ((1, "admin", "province", None, None),
                                                 (13, "zz_city", "city", "410100", "410100"),
                                                 (15, "zz_zhongyuan", "county", "410102", "410100")):
            s.add(Admin(id=id_, username=username, name="管理员", phone="0371-1", role=role, scope_code=scope,
                        scope_city=city, password_hash="x", created_at=NOW))
    return worker


PROVINCE = admin("province", username="admin", id=1)
CITY = admin("city", "410100", "zz_city", id=13, scope_city="410100")
COUNTY = admin("county", "410102", "zz_zhongyuan", id=15, scope_city="410100")


def audited(event_type: str, **over) -> dict:
    return envelope(event_type, {**AUDIT_EXAMPLE, **over})


def account(db, person: Person) -> None:
    with db.tx() as s:
        s.add(Account(year=YEAR, id_number=person.id_number, name=person.name, gender="M",
                      birth_month=person.birth_month, phone=person.phone, city_code=person.city_code,
                      declared_grade=4, password_hash="x", created_at=NOW, updated_at=NOW))


def stored(db, person: Person) -> Account:
    with db.tx() as s:
        return s.query(Account).filter_by(id_number=person.id_number).one()


# --- one audit log (R-I11) --------------------------------------------------------------------
@pytest.mark.parametrize("event_type", sorted(AUDITED))
def test_another_services_audited_action_is_recorded_once(svc, event_type):
    handler = getattr(svc, AUDITED[event_type])
    event = audited(event_type, action=f"{event_type.split('.')[0]}.something", target="410102198503120014",
                    actor="zz_city", actor_role="city", actor_scope="410100")
    assert handler(event) == "applied"
    assert handler(event) == "duplicate"
    page = svc.list_audit(PROVINCE)
    assert page["total"] == 1
    item = page["items"][0]
    assert (item["actor"], item["role"], item["scope"], item["action"]) == \
        ("zz_city", "city", "410100", f"{event_type.split('.')[0]}.something")
    assert item["target"] == "410102********0014"                           # an ID number, masked
    assert (item["before"], item["after"]) == (AUDIT_EXAMPLE["before"], AUDIT_EXAMPLE["after"])


def test_the_audit_log_is_newest_first_and_an_administrator_sees_their_own(svc, clock):
    for n, (event_type, actor) in enumerate((("application.action_audited.v1", "admin"),
                                             ("review.action_audited.v1", "zz_city"),
                                             ("payment.action_audited.v1", "admin"))):
        getattr(svc, AUDITED[event_type])(audited(event_type, actor=actor, action=f"a{n}",
                                                  at=(NOW + timedelta(minutes=n)).isoformat()))
    everything = svc.list_audit(PROVINCE)
    assert (everything["total"], [i["action"] for i in everything["items"]]) == (3, ["a2", "a1", "a0"])
    assert [i["action"] for i in svc.list_audit(PROVINCE, 2, 2)["items"]] == ["a0"]
    own = svc.list_audit(CITY)
    assert (own["total"], [i["action"] for i in own["items"]]) == (1, ["a1"])


def test_an_audited_action_without_a_role_is_recorded_not_parked(svc):
    event = audited("payment.action_audited.v1", actor="system", actor_role=None, actor_scope=None)
    assert svc.on_payment_audited(event) == "applied"


def test_the_audit_log_filters_by_who_what_when_and_city_in_the_database(svc, db):
    """Issue 14 (R-P4, R-I11): 操作日志 filtered by the actor, the action, Beijing dates (whole
    days) and the city the actor's scope lies in (or the province's own), counted and paged
    in SQL, newest first; an administrator but the province still sees only their own."""
    with db.tx() as s:
        s.add(Admin(id=14, username="ly_city", name="管理员", phone="0371-1", role="city", scope_code="410300",
                    scope_city="410300", password_hash="x", created_at=NOW))
    cst = kit_clock.CST
    for n, (actor, role, scope, action, at) in enumerate((
            ("admin", "province", None, "fees.update", "2026-03-09T23:59:00"),
            ("zz_city", "city", "410100", "payment.offline", "2026-03-10T00:00:00"),
            ("zz_zhongyuan", "county", "410102", "account.password_reset", "2026-03-10T23:59:59"),
            ("ly_city", "city", "410300", "payment.offline", "2026-03-11T00:00:00"),
            ("admin", "province", None, "seats.assign", "2026-03-11T09:00:00"))):
        event = audited("payment.action_audited.v1", actor=actor, actor_role=role, actor_scope=scope, action=action,
                        target=f"t{n}", at=datetime.fromisoformat(at).replace(tzinfo=cst).isoformat())
        assert svc.on_payment_audited(event) == "applied"

    def targets(**filters) -> list[str]:
        page = svc.list_audit(PROVINCE, 1, 50, filters)
        assert page["total"] == len(page["items"])
        return [i["target"] for i in page["items"]]

    assert targets() == ["t4", "t3", "t2", "t1", "t0"]                                   # newest first
    assert targets(actor="admin") == ["t4", "t0"]
    assert targets(action="payment.offline") == ["t3", "t1"]
    assert targets(date_from="2026-03-10", date_to="2026-03-10") == ["t2", "t1"]        # Beijing days
    assert targets(date_from="2026-03-11") == ["t4", "t3"] and targets(date_to="2026-03-09") == ["t0"]
    assert targets(scope="410100") == ["t2", "t1"]                  # the city and its county's administrators
    assert targets(scope="410300") == ["t3"] and targets(scope="province") == ["t4", "t0"]
    assert targets(scope="410100", action="payment.offline", date_from="2026-03-10") == ["t1"]
    paged = svc.list_audit(PROVINCE, 2, 1, {"action": "payment.offline"})
    assert (paged["total"], [i["target"] for i in paged["items"]]) == (2, ["t1"])
    own = svc.list_audit(CITY, 1, 50, {"actor": "admin"})                              # only ever their own
    assert own["total"] == 0 and svc.list_audit(CITY, 1, 50, {"action": "payment.offline"})["total"] == 1
    for bad, field in (({"scope": "999999"}, "scope"), ({"scope": "zz"}, "scope"), ({"date_from": "3月"}, "date_from"),
                       ({"who": "admin"}, "who")):
        with pytest.raises(InvalidInput) as e:
            svc.list_audit(PROVINCE, 1, 50, bad)
        assert (e.value.code, e.value.field) == ("invalid", field)


def test_the_province_exports_the_audit_log_with_the_pages_filters(svc, db):
    """Issue 14: audit.xlsx has the log's columns, Chinese names of the actions and roles, the
    scope and the actor's city, the page's filters; only the province may export it (a city
    administrator gets 403 role_not_allowed)."""
    svc.on_review_audited(audited("review.action_audited.v1", actor="zz_zhongyuan", actor_role="county",
                                  actor_scope="410102", action="account.supplementary", target="410102198503120014",
                                  before=None, after={"name": "张伟"}))
    svc.on_review_audited(audited("review.action_audited.v1", actor="admin", actor_role="province",
                                  actor_scope=None, action="fees.update"))
    body, size = svc.make_audit_xlsx(PROVINCE, {"scope": "410100"})
    import openpyxl

    rows = list(openpyxl.load_workbook(io.BytesIO(body.read())).active.iter_rows(values_only=True))
    assert rows[0] == ("时间", "操作人", "角色", "管理范围", "所属省辖市", "操作", "操作代码", "对象", "变更前", "变更后")
    assert rows[1:] == [("2026-03-01 09:30:00", "zz_zhongyuan", "县区管理员", "郑州市中原区", "郑州市", "补报",
                         "account.supplementary", "410102********0014", None, '{"name": "张伟"}')]
    everything = list(openpyxl.load_workbook(svc.make_audit_xlsx(PROVINCE, {})[0]).active.iter_rows(values_only=True))
    assert [(r[1], r[3], r[4], r[5]) for r in everything[1:]] == [                 # the same time: the later first
        ("admin", "全省", "全省", "设置考核费用及网上缴费地市"), ("zz_zhongyuan", "郑州市中原区", "郑州市", "补报")]
    svc.audit_export(PROVINCE, {"action": "fees.update", "date_to": "2026-03-31"})
    action, args, who = svc.files.generated_ticket.call_args.args
    assert (action, args["action"], args["date_to"], who) == ("audit_xlsx", "fees.update", "2026-03-31", PROVINCE)
    for call in (lambda: svc.audit_export(CITY, {}), lambda: svc.make_audit_xlsx(CITY, {})):
        with pytest.raises(Forbidden) as e:
            call()
        assert e.value.code == "role_not_allowed"


# --- copies of application's events ----------------------------------------------------------
def test_a_submission_closes_self_deletion_once(svc, db):
    person = Person()
    account(db, person)
    event = envelope("application.submitted.v1", {"year": YEAR, "id_number": person.id_number, "round": 1})
    assert svc.on_application_submitted(event) == "applied"
    assert stored(db, person).ever_submitted is True
    assert svc.on_application_submitted(event) == "duplicate"


def unit_chosen(person: Person, unit: str | None, county: str | None, minutes: int) -> dict:
    return envelope("application.unit_chosen.v1", {
        "year": YEAR, "id_number": person.id_number, "unit_id": unit, "county_code": county,
        "supervisor_id": None, "at": (NOW + timedelta(minutes=minutes)).astimezone(kit_clock.UTC).isoformat()})


def test_the_chosen_units_county_manages_the_account_and_an_older_choice_changes_nothing(svc, db):
    person = Person()
    account(db, person)
    with pytest.raises(Forbidden) as exc:
        svc.admin_find_account(COUNTY, person.id_number)              # no unit yet: the city's
    assert exc.value.code == "out_of_scope"
    assert svc.on_unit_chosen(unit_chosen(person, "U410100-001", "410102", minutes=5)) == "applied"
    assert svc.admin_find_account(COUNTY, person.id_number)["county_code"] == "410102"
    assert svc.on_unit_chosen(unit_chosen(person, "U410100-002", "410105", minutes=1)) == "applied"  # older
    assert (stored(db, person).unit_id, stored(db, person).county_code) == ("U410100-001", "410102")
    assert svc.on_unit_chosen(unit_chosen(person, "U410100-002", "410105", minutes=9)) == "applied"  # newer
    with pytest.raises(Forbidden):
        svc.admin_find_account(COUNTY, person.id_number)
    assert svc.admin_find_account(CITY, person.id_number)["unit_id"] == "U410100-002"


def test_a_session_view_carries_the_account_and_every_account_change_is_announced(svc, db):
    """Issue 12: the gateway keeps the principal and the account a session resolves to, and
    forgets them when identity says the account changed."""
    from services.identity.models import UserSession
    from services.identity.service import _sha

    person = Person()
    account(db, person)
    acc = stored(db, person)
    with db.tx() as s:
        s.add(UserSession(token_hash=_sha("tok"), kind="applicant", principal_id=acc.id, created_at=NOW,
                          last_seen_at=NOW))
    view = svc.resolve_session_view("tok")
    assert view["principal"]["id_number"] == person.id_number and view["principal"]["seal"]
    assert view["account"]["id_number"] == person.id_number and view["account"]["ever_submitted"] is False
    assert svc.resolve_session("tok") == {**view["principal"], "seal": svc.resolve_session("tok")["seal"]}
    assert svc.resolve_session_view("nope") is None and svc.resolve_session_view("x" * 300) is None
    before = len(outbox(db, "identity.principal_changed.v1"))
    svc.on_unit_chosen(unit_chosen(person, "U410100-001", "410102", minutes=5))
    changed = outbox(db, "identity.principal_changed.v1")[before:]
    assert [(e["data"]["kind"], e["data"]["principal_id"], e["data"]["reason"]) for e in changed] == [
        ("applicant", acc.id, "changed")]
    svc.on_unit_chosen(unit_chosen(person, "U410100-001", "410102", minutes=1))     # older: no change, no news
    assert len(outbox(db, "identity.principal_changed.v1")) == before + 1
    svc.logout("tok")
    last = outbox(db, "identity.principal_changed.v1")[-1]["data"]
    assert last["reason"] == "logout" and last["token_hash"] == _sha("tok")
    assert svc.resolve_session_view("tok") is None
