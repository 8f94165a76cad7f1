"""The administrators' exports and 操作日志 on the fake RPC (issue 14, R-P4, R-I11): the audit page's
filter form reaches identity as the filters, its pager and its Excel link keep them, a city
administrator filters only their own entries and gets no download (audit.xlsx: 403
role_not_allowed); the review queue's Excel link carries the queue's filters."""
from __future__ import annotations

import re

import pytest
from fakes import ADMIN_TOKEN, sealed_admin

import gateway.files
from kit.errors import InvalidInput

ADMIN = {"Cookie": f"gk_session={ADMIN_TOKEN}"}
CITY = {"Authorization": "Bearer city"}
ENTRY = {"at": "2026-03-10T02:00:00+00:00", "actor": "zz_city", "role": "city", "scope": "410100",
         "action": "payment.offline", "target": "410102********0014", "before": None, "after": {"note": "现场缴费"}}
TICKET = {"url": "http://127.0.0.1:1/files/g", "sha256": None, "content_type": "application/vnd.openxmlformats-"
          "officedocument.spreadsheetml.sheet", "size": None, "filename": "操作日志.xlsx", "disposition": "attachment"}


@pytest.fixture
def audit(rpc, monkeypatch):
    rpc.sessions["city"] = sealed_admin("city", "410100")
    rpc.answer("identity.list_audit", lambda who, page, size, filters: {"items": [ENTRY] * 2, "total": 120})
    rpc.answer("identity.list_admins", [{"username": "zz_city"}, {"username": "admin"}])
    rpc.answer("identity.audit_export", TICKET)
    monkeypatch.setattr(gateway.files, "pass_on", lambda resp, t: setattr(resp, "text", t["filename"]))
    return rpc


def test_the_province_filters_the_audit_log_and_downloads_it_with_the_same_filters(client, audit):
    query = {"actor": "zz_city", "action": "payment.offline", "date_from": "2026-03-01", "date_to": "2026-03-31",
             "scope": "410100", "page": "2"}
    r = client.simulate_get("/admin/audit", params=query, headers=ADMIN)
    assert r.status_code == 200
    name, args, _ = next(c for c in audit.calls if c[0] == "identity.list_audit")
    assert args[1:] == (2, 50, {k: v for k, v in query.items() if k != "page"})
    assert "登记线下缴费" in r.text and "郑州市" in r.text and 'id="audit-total">120<' in r.text
    assert '<option value="payment.offline" selected>登记线下缴费</option>' in r.text
    assert '<option value="410100" selected>郑州市</option>' in r.text and '<option value="zz_city">' in r.text
    export = re.search(r'id="audit-export" href="([^"]+)"', r.text).group(1).replace("&amp;", "&")
    assert export == ("/api/v1/admin/audit.xlsx?actor=zz_city&action=payment.offline&date_from=2026-03-01"
                      "&date_to=2026-03-31&scope=410100")
    assert 'href="/admin/audit?actor=zz_city&amp;action=payment.offline&amp;date_from=2026-03-01&amp;date_to=2026-03-31' \
           '&amp;scope=410100&amp;page=3">下一页' in r.text
    r = client.simulate_get("/api/v1/admin/audit.xlsx", params={"action": "fees.update", "page": "3"}, headers=ADMIN)
    assert r.status_code == 200 and r.text == "操作日志.xlsx"
    assert audit.calls[-1][1][1] == {"action": "fees.update"}


def test_a_city_administrator_filters_their_own_entries_and_cannot_export(client, audit):
    r = client.simulate_get("/admin/audit", params={"actor": "admin", "scope": "410300", "action": "fees.update"},
                            headers=CITY)
    assert r.status_code == 200 and 'id="audit-export"' not in r.text and 'name="actor"' not in r.text
    assert next(c for c in audit.calls if c[0] == "identity.list_audit")[1][3] == {"action": "fees.update"}
    r = client.simulate_get("/api/v1/admin/audit.xlsx", headers=CITY)
    assert r.status_code == 403 and r.json["error"]["code"] == "role_not_allowed"
    assert "identity.audit_export" not in audit.names


def test_a_refused_filter_is_said_on_the_page(client, audit):
    audit.answer("identity.list_audit", InvalidInput("管理范围：格式不正确", field="scope"))
    r = client.simulate_get("/admin/audit", params={"scope": "nowhere"}, headers=ADMIN)
    assert r.status_code == 200 and "管理范围：格式不正确" in r.text and "暂无记录" in r.text


def test_the_review_queue_offers_its_excel_with_the_queues_filters(client, rpc, monkeypatch):
    rpc.answer("review.queue", {"items": [], "total": 3})
    rpc.answer("review.queue_export", {**TICKET, "filename": "报名审核.xlsx"})
    rpc.answer("application.list_trades", [])
    rpc.answer("application.list_units", [])
    monkeypatch.setattr(gateway.files, "pass_on", lambda resp, t: setattr(resp, "text", t["filename"]))
    r = client.simulate_get("/admin/reviews", params={"status": "all", "grade": "4"}, headers=ADMIN)
    assert 'id="queue-export" href="/api/v1/admin/reviews.xlsx?status=all&amp;grade=4"' in r.text
    r = client.simulate_get("/api/v1/admin/reviews.xlsx", params={"status": "all", "grade": "4", "page": "2"},
                            headers=ADMIN)
    assert r.status_code == 200 and r.text == "报名审核.xlsx"
    assert rpc.calls[-1][1][1] == {"status": "all", "grade": "4"}             # no paging in an export
