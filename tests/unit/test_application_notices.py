"""Notices to applicants (issue 14, R-P4's 通知): the SMS texts and the conditions that make a
notice due, as pure rules — one row per case."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.application import domain
from services.application.schemas import NOTICE_KINDS

T0 = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)                  # 10:00 Beijing time
PAYMENT = {"start": "2026-04-01T00:00:00+08:00", "end": "2026-05-31T17:00:00+08:00"}
RESULTS = {"start": "2026-04-30T00:00:00+08:00", "end": "2026-06-30T00:00:00+08:00"}


@pytest.mark.parametrize(("kind", "kw", "contains"), [
    ("returned", {"reason": "照片不清晰"}, ["报名信息已被退回", "退回原因：照片不清晰", "重新提交"]),
    ("returned", {"reason": None}, ["退回原因：请登录系统查看"]),
    ("rejected", {"reason": "工龄不符合"}, ["审核不通过，原因：工龄不符合", "电话咨询审核人员"]),
    ("rejected", {}, ["审核不通过。"]),
    ("approved", {}, ["已终审通过"]),
    ("payment_open", {"until": datetime.fromisoformat(PAYMENT["end"])},
     ["网上缴费已开放，缴费截止时间为2026年05月31日17时00分00秒"]),
    ("paid", {"amount_fen": 15050}, ["考核费用150.50元已缴纳成功"]),
    ("paid", {}, ["考核费用已缴纳成功"]),
    ("ticket_ready", {"ticket_no": "261001040101"}, ["准考证已可打印（准考证号261001040101）"]),
    ("results_published", {}, ["考核结果已公布"]),
])
def test_each_kind_has_its_chinese_text_signed_like_the_sms_codes(kind, kw, contains):
    text = domain.notice_text(kind, "张伟", 2026, **kw)
    assert text.startswith("【河南工考】张伟您好，您的2026年度工勤技能岗位等级考核")
    for part in contains:
        assert part in text


def test_every_kind_has_a_text_and_an_unknown_kind_is_an_error():
    assert all(domain.notice_text(kind, "李强", 2026) for kind in NOTICE_KINDS)
    with pytest.raises(ValueError):
        domain.notice_text("birthday", "李强", 2026)
    with pytest.raises(ValueError):
        domain.notice_key("birthday")


@pytest.mark.parametrize(("reason", "shown"), [
    ("请核对身份证号410102198503120014的照片", "请核对身份证号410102********0014的照片"),
    ("身份证41010219850312001X有误", "身份证410102********001X有误"),
    ("电话13800000001", "电话13800000001"),                               # not an ID number
    ("第一行\n第二行", "第一行 第二行"),
    ("长" * 200, "长" * 119 + "…"),
])
def test_the_reason_never_carries_a_full_id_number_and_stays_short(reason, shown):
    assert f"退回原因：{shown}。" in domain.notice_text("returned", "张伟", 2026, reason=reason)


@pytest.mark.parametrize(("kind", "kw", "key"), [
    ("returned", {"version": 3, "round_": 1}, "v3"),
    ("returned", {"version": None, "round_": 2}, "r2"),          # from before versions
    ("rejected", {"version": 5}, "v5"),
    ("approved", {"version": 7}, "v7"),
    ("ticket_ready", {"ticket_no": "261001040101"}, "261001040101"),
    ("payment_open", {}, ""),
    ("paid", {}, ""),
    ("results_published", {"version": 9}, ""),
])
def test_what_makes_a_notice_a_new_one(kind, kw, key):
    assert domain.notice_key(kind, **kw) == key


APPROVED = T0 - timedelta(hours=25)


@pytest.mark.parametrize(("case", "args", "due"), [
    ("approved 25 h ago, online, in the window", ("approved", True, False, APPROVED, 4, PAYMENT), True),
    ("一级 waits 48 h", ("approved", True, False, APPROVED, 1, PAYMENT), False),
    ("一级 after 48 h", ("approved", True, False, T0 - timedelta(hours=48), 1, PAYMENT), True),
    ("exactly 24 h", ("approved", True, False, T0 - timedelta(hours=24), 4, PAYMENT), True),
    ("23 h", ("approved", True, False, T0 - timedelta(hours=23), 4, PAYMENT), False),
    ("a city paying offline", ("approved", False, False, APPROVED, 4, PAYMENT), False),
    ("paid already", ("approved", True, True, APPROVED, 4, PAYMENT), False),
    ("not approved", ("in_review", True, False, APPROVED, 4, PAYMENT), False),
    ("no time of approval", ("approved", True, False, None, 4, PAYMENT), False),
    ("no payment window", ("approved", True, False, APPROVED, 4, None), False),
    ("window over", ("approved", True, False, APPROVED, 4,
                     {"start": "2026-03-01T00:00:00+08:00", "end": "2026-04-30T00:00:00+08:00"}), False),
])
def test_paying_opens_when_payment_would_say_unpaid(case, args, due):
    assert domain.payment_open(*args, T0) is due, case


@pytest.mark.parametrize(("switches", "ticket_no", "due"), [
    ({"ticket_printing": True}, "261001040101", True),
    ({"ticket_printing": True}, None, False),
    ({"ticket_printing": False}, "261001040101", False),
    (None, "261001040101", False),
])
def test_a_ticket_is_ready_with_printing_on_and_a_seat(switches, ticket_no, due):
    assert domain.ticket_ready(switches, ticket_no) is due


@pytest.mark.parametrize(("windows", "result", "due"), [
    ({"results": RESULTS}, "pass", True),
    ({"results": RESULTS}, "fail", True),
    ({"results": RESULTS}, None, False),
    ({"results": {"start": "2026-06-01T00:00:00+08:00", "end": "2026-06-30T00:00:00+08:00"}}, "pass", False),
    ({}, "pass", False),
])
def test_results_are_published_in_the_window_with_a_result(windows, result, due):
    assert domain.results_published(windows, result, T0) is due
