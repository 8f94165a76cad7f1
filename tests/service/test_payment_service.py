"""Payment's worker over its own PostgreSQL database (issue 12): every change of what an
applicant's 网上缴费 is read from is announced with it (payment.viewers_changed.v1, in the
transaction of the change), a read or a refused change announces nothing, and the answer says
until when it holds by the clock alone (``fresh_until``): paying opens, the window turns, an
open order expires."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from builders import NOW, PROVINCE, YEAR, Person, clear_outbox, envelope, viewers, window, year_updated
from nameko.testing.services import worker_factory

from kit.errors import Conflict
from services.payment import service as payment_service
from services.payment.service import PaymentService
from services.review.schemas import FinallyApproved

SERVICE = "payment"
PAY_START, PAY_END = NOW + timedelta(days=1), NOW + timedelta(days=30)


@pytest.fixture
def svc(db, clock):
    worker = worker_factory(PaymentService, db=db)
    payment = window(PAY_START, PAY_END)
    assert worker.on_year_updated(year_updated(payment=payment)) == "applied"
    worker.put_fees(PROVINCE, YEAR, {"fees_fen": {"4": 15000, "5": 12000}, "online_payment_cities": ["410100"]})
    return worker


def approved(svc, person: Person, at: datetime = NOW) -> str:
    app_id = f"{person.id:032x}"
    data = {**FinallyApproved.EXAMPLE, "application_id": app_id, "year": person.year, "id_number": person.id_number,
            "name": person.name, "city_code": person.city_code, "target_grade": person.grade, "at": at.isoformat()}
    assert svc.on_finally_approved(envelope("review.finally_approved.v1", data)) == "applied"
    return app_id


class FakePlatform:
    def register(self, request, now) -> str:
        return f"http://127.0.0.1:9/pay/{request.payment_notice_no}"


def test_each_change_of_an_applicants_payment_is_announced_and_a_read_or_refusal_none(svc, db, clock,
                                                                                       monkeypatch):
    person = Person()
    me = (person.year, person.id_number)
    clear_outbox(db)
    approved(svc, person)                                   # 终审通过: the fee is due
    assert viewers(db) == ({me}, set(), False)
    clear_outbox(db)
    mine = svc.my_payment(person.principal)
    assert mine["status"] == "not_due"
    with pytest.raises(Conflict) as e:                      # refused: paying has not opened
        svc.create_order(person.principal, {"receipt_title": "郑州市第一人民医院"})
    assert e.value.code == "not_open"
    assert viewers(db) == (set(), set(), False)
    clock.set(PAY_START + timedelta(hours=1))
    monkeypatch.setattr(payment_service, "platform", FakePlatform)
    order = svc.create_order(person.principal, {"receipt_title": "郑州市第一人民医院"})
    assert viewers(db) == ({me}, set(), False)              # the order (found through its payable)
    clear_outbox(db)
    svc.cancel_order(person.principal, order["order_no"])
    assert viewers(db) == ({me}, set(), False)              # the order alone changed
    clear_outbox(db)
    svc.put_fees(PROVINCE, YEAR, {"fees_fen": {"4": 16000}})
    assert viewers(db)[2] is True                           # the fees: everyone


def fresh(svc, person: Person) -> datetime | None:
    value = svc.my_payment(person.principal)["fresh_until"]
    return None if value is None else datetime.fromisoformat(value)


def test_the_answer_holds_by_the_clock_until_paying_opens_the_window_turns_or_an_order_expires(svc, clock,
                                                                                                monkeypatch):
    person, other = Person(), Person()
    assert fresh(svc, other) == PAY_START                   # not approved: until the window opens
    approved(svc, person)
    assert datetime.fromisoformat(svc.my_payment(person.principal)["opens_at"]) == PAY_START
    assert fresh(svc, person) == PAY_START                  # 24 h after approval is before the window
    clock.set(PAY_START)
    late = Person()
    approved(svc, late, at=PAY_START)                        # approved in the window: opens 24 h later
    assert fresh(svc, late) == PAY_START + timedelta(hours=24)
    monkeypatch.setattr(payment_service, "platform", FakePlatform)
    order = svc.create_order(person.principal, {"receipt_title": "郑州市第一人民医院"})
    assert fresh(svc, person) == datetime.fromisoformat(order["expires_at"])            # the open order expires
    clock.set(datetime.fromisoformat(order["expires_at"]))
    assert svc.my_payment(person.principal)["orders"][0]["status"] == "expired"
    assert fresh(svc, person) == PAY_END + timedelta(seconds=1)                        # then the window closes
    clock.set(PAY_END + timedelta(seconds=1))
    assert fresh(svc, person) is None                                                  # nothing ahead
