"""Payment's rules as tables (R-F2 … R-F4): when paying opens, the order state machine, what a
payment the platform reports does, the receipt title, the notice numbers, the signature."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kit.errors import Conflict, InvalidInput
from services.payment import domain
from services.payment.platforms import PlatformRefused
from services.payment.platforms.hmac_sha256 import signature, signed, verify

T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)          # 终审通过
WINDOW = {"start": "2026-02-01T00:00:00+08:00", "end": "2026-04-30T23:59:59+08:00"}


@pytest.mark.parametrize(("grade", "hours"), [(5, 24), (4, 24), (3, 24), (2, 24), (1, 48)])
def test_paying_opens_after_the_delay_of_the_grade(grade, hours):
    opens = domain.opens_at(T0, grade, WINDOW)
    assert opens == T0 + timedelta(hours=hours)
    assert not domain.can_pay(T0, grade, WINDOW, opens - timedelta(seconds=1))
    assert domain.can_pay(T0, grade, WINDOW, opens)
    with pytest.raises(Conflict) as exc:
        domain.require_can_pay(T0, grade, WINDOW, opens - timedelta(seconds=1))
    assert exc.value.code == "not_open" and exc.value.details["opens_at"] == opens.isoformat()
    assert f"终审通过{hours}小时后" in exc.value.message


def test_paying_opens_no_earlier_than_the_window_and_closes_with_it():
    early = datetime(2026, 1, 10, tzinfo=UTC)
    assert domain.opens_at(early, 4, WINDOW) == datetime.fromisoformat(WINDOW["start"])
    end = datetime.fromisoformat(WINDOW["end"])
    assert domain.can_pay(T0, 4, WINDOW, end) and not domain.can_pay(T0, 4, WINDOW, end + timedelta(seconds=1))
    with pytest.raises(Conflict) as exc:
        domain.require_can_pay(T0, 4, WINDOW, end + timedelta(seconds=1))
    assert exc.value.code == "not_open" and "已结束" in exc.value.message
    assert domain.opens_at(T0, 4, None) is None
    with pytest.raises(Conflict):
        domain.require_can_pay(T0, 4, None, T0 + timedelta(days=3))


NOW = T0 + timedelta(days=2)
OPEN = domain.Order("open", NOW + timedelta(minutes=10))
OPEN_BUT_EXPIRED = domain.Order("open", NOW - timedelta(seconds=1))


@pytest.mark.parametrize(("order", "other_paid", "outcome", "counts", "mismatch"), [
    (OPEN, False, "paid", True, None),
    (domain.Order("paid", NOW), False, "repeat", False, None),
    (domain.Order("paid", NOW), True, "repeat", False, None),
    (domain.Order("cancelled", NOW + timedelta(minutes=10)), False, "late_paid", True, "late_payment"),
    (domain.Order("expired", NOW - timedelta(minutes=1)), False, "late_paid", True, "late_payment"),
    (OPEN_BUT_EXPIRED, False, "late_paid", True, "late_payment"),
    (OPEN, True, "second_payment", False, "second_payment"),
    (domain.Order("cancelled", NOW), True, "second_payment", False, "second_payment"),
])
def test_what_a_payment_the_platform_reports_does(order, other_paid, outcome, counts, mismatch):
    result = domain.settle(order, other_paid, NOW)
    assert (result.outcome, result.counts, result.mismatch) == (outcome, counts, mismatch)
    assert result.order_status == "paid"


@pytest.mark.parametrize(("order", "after"), [
    (OPEN, "cancelled"), (domain.Order("cancelled", NOW), "cancelled"), (OPEN_BUT_EXPIRED, "expired"),
    (domain.Order("expired", NOW), "expired"),
])
def test_cancelling(order, after):
    assert domain.cancel(order, NOW) == after


def test_a_paid_order_cannot_be_cancelled():
    with pytest.raises(Conflict) as exc:
        domain.cancel(domain.Order("paid", NOW), NOW)
    assert exc.value.code == "already_paid"


@pytest.mark.parametrize(("paid", "offline", "online", "approved", "now", "open_order", "status"), [
    (False, True, False, T0, NOW, False, "offline"),
    (True, False, True, T0, NOW, False, "paid"),
    (False, False, True, None, NOW, False, "not_due"),
    (False, False, False, T0, NOW, False, "not_due"),                    # no online payment in the city
    (False, False, True, T0, T0 + timedelta(hours=23), False, "not_due"),
    (False, False, True, T0, NOW, False, "unpaid"),
    (False, False, True, T0, NOW, True, "pending"),
])
def test_the_applicants_status(paid, offline, online, approved, now, open_order, status):
    assert domain.payable_status(paid, offline, online, approved, 4, WINDOW, now, open_order) == status


@pytest.mark.parametrize(("title", "ok"), [("河南省人才交流中心", "河南省人才交流中心"), ("  郑州  市 一院 ", "郑州 市 一院"),
                                          ("", None), ("   ", None), ("x" * 61, None), ("单位\u202e名", None),
                                          (None, None), (123, None)])
def test_the_receipt_title(title, ok):
    if ok is None:
        with pytest.raises(InvalidInput) as exc:
            domain.check_receipt_title(title)
        assert exc.value.field == "receipt_title"
    else:
        assert domain.check_receipt_title(title) == ok


def test_notice_numbers_have_20_digits_and_differ():
    # 2,000 in one second share the first 12 digits; of their eight random ones a pair collides
    # once in 10⁸, so about 2% of such runs see one pair equal (CI saw it): a few, never many
    numbers = [domain.new_payment_notice_no(2026, NOW) for _ in range(2000)]
    assert len(set(numbers)) >= 1990
    assert all(len(n) == 20 and n.isdigit() and n.startswith("2026") for n in numbers)
    assert domain.new_payment_notice_no(2026, NOW + timedelta(seconds=1))[:12] != numbers[0][:12]


# --- the platform's signature (API.md) ------------------------------------------------------------
SECRET = "s3cret"


def test_the_signature_is_hmac_sha256_over_the_sorted_fields():
    import hashlib
    import hmac

    fields = {"order_no": "GK1", "amount_fen": "15000", "status": "PAID", "sign_type": "HMAC-SHA256", "sign": "x"}
    text = "amount_fen=15000&order_no=GK1&status=PAID"
    assert signature(fields, SECRET) == hmac.new(b"s3cret", text.encode(), hashlib.sha256).hexdigest()


def test_verify_refuses_a_forged_a_stale_and_an_unsigned_message():
    fields = signed({"order_no": "GK1", "amount_fen": 15000}, SECRET, NOW)
    verify(fields, SECRET, NOW + timedelta(minutes=5))                      # within 5 minutes: fine
    for broken, code in [({**fields, "amount_fen": "1"}, "bad_signature"), ({**fields, "sign_type": "MD5"}, "bad_sign_type"),
                         ({k: v for k, v in fields.items() if k != "sign"}, "bad_signature")]:
        with pytest.raises(PlatformRefused) as exc:
            verify(broken, SECRET, NOW)
        assert exc.value.code == code
    with pytest.raises(PlatformRefused) as exc:
        verify(fields, SECRET, NOW + timedelta(minutes=5, seconds=1))
    assert exc.value.code == "stale_timestamp"
    with pytest.raises(PlatformRefused):
        verify(fields, "another-secret", NOW)
    again = signed({"order_no": "GK1", "amount_fen": 15000}, SECRET, NOW)
    assert again["nonce"] != fields["nonce"] and again["sign"] != fields["sign"]      # signed anew every time
