"""消息通知 (issue 14): the home and 审核结果 pages list the applicant's notices from the
progress answer — no RPC added — with their time (Beijing) and text; /api/v1/me carries them;
pages that do not show them do not ask for them."""
from __future__ import annotations

import pytest
from fakes import APPLICANT_ACCOUNT, APPLICANT_TOKEN

APPLICANT = {"Authorization": f"Bearer {APPLICANT_TOKEN}"}
ACCOUNT = {**APPLICANT_ACCOUNT, "gender": "M", "birth_month": "1985-03", "phone": "13900000000",
           "city_code": "410100", "city_name": "郑州市", "declared_grade": 4, "supplementary": False}
NOTICES = [
    {"kind": "rejected", "at": "2026-03-12T02:30:00+00:00",
     "text": "【河南工考】张伟您好，您的2026年度工勤技能岗位等级考核报名信息审核不通过，原因：工龄不符合。"},
    {"kind": "returned", "at": "2026-03-11T01:00:00+00:00",
     "text": "【河南工考】张伟您好，您的2026年度工勤技能岗位等级考核报名信息已被退回，退回原因：照片不清晰。"},
]


@pytest.fixture
def account(rpc, answers):
    rpc.accounts[APPLICANT_TOKEN] = ACCOUNT


@pytest.fixture
def asked(rpc, account):
    """The progress answer, with the notices when asked for; records whether they were."""
    seen = []

    def progress(who, notices=False):
        seen.append(notices)
        return {"status": "rejected", "steps": [], "application_window": None, "supervisor": None,
                "notices": NOTICES if notices else None}

    rpc.answer("application.progress", progress)
    return seen


@pytest.mark.parametrize("path", ["/home", "/review"])
def test_the_page_lists_the_notices_newest_first_with_their_time(client, rpc, asked, path):
    r = client.simulate_get(path, headers=APPLICANT)
    assert r.status_code == 200, r.text[:300]
    assert asked == [True] and rpc.names.count("application.progress") == 1
    section = r.text[r.text.index('id="messages"'):]
    section = section[:section.index("</section>")]
    assert "消息通知" in section
    assert section.index("2026-03-12 10:30:00") < section.index("工龄不符合") < section.index(
        "2026-03-11 09:00:00") < section.index("退回原因：照片不清晰")
    assert 'data-kind="rejected"' in section


def test_without_notices_the_page_says_so(client, rpc, account):
    r = client.simulate_get("/home", headers=APPLICANT)          # the default answer has none
    assert r.status_code == 200 and 'id="no-messages"' in r.text and "暂无消息" in r.text


def test_the_api_carries_them_and_other_pages_do_not_ask(client, asked):
    r = client.simulate_get("/api/v1/me", headers=APPLICANT)
    assert r.status_code == 200 and r.json["notices"] == NOTICES
    assert client.simulate_get("/password", headers=APPLICANT).status_code == 200
    assert asked == [True, False]
