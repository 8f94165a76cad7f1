"""Request bodies at the gateway (gateway/body.py), with a fake RPC: what is not a JSON object,
too deep, too large or of the wrong types is a 400 (or 413/415) naming the field, and never
reaches a service."""
from __future__ import annotations

import json

import pytest
from fakes import ADMIN_TOKEN, APPLICANT_TOKEN
from falcon import testing
from helpers import assert_error

from gateway.app import create_app

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
APPLICANT = {"Authorization": f"Bearer {APPLICANT_TOKEN}"}
JSON = {"Content-Type": "application/json"}


def deep(depth: int) -> str:
    return '{"a": ' + "[" * depth + "]" * depth + "}"


@pytest.mark.parametrize(("body", "headers", "status", "code"), [
    (b"\xff\xfe", JSON, 400, "invalid"),                           # not UTF-8
    (b"{id_number: 1}", JSON, 400, "invalid"),                     # not JSON
    (b'["not", "an", "object"]', JSON, 400, "invalid"),
    (b'"a string"', JSON, 400, "invalid"),
    (b"null", JSON, 400, "invalid"),
    (b"42", JSON, 400, "invalid"),
    (deep(100_000).encode(), JSON, 400, "invalid"),                # deeper than any parser should go
    (b"id_number=1", {"Content-Type": "text/plain"}, 415, "unsupported_media_type"),
    (b"{}", {}, 415, "unsupported_media_type"),                    # no content type
    (b'{"a": "' + b"x" * (1024 * 1024) + b'"}', JSON, 413, "too_large"),
])
def test_a_body_that_is_not_a_json_object_is_refused_before_any_service(client, rpc, body, headers, status, code):
    r = client.simulate_post("/api/v1/sessions", body=body, headers=headers)
    assert_error(r, status, code, field=None)
    assert rpc.names == []


@pytest.mark.parametrize(("body", "field"), [
    ({"id_number": 410102198503120014, "password": "x"}, "id_number"),
    ({"id_number": "410102198503120014", "password": ["x"]}, "password"),
    ({"id_number": "410102198503120014", "password": "x", "remember": True}, "remember"),
    ({"id_number": {"$gt": ""}, "password": "x"}, "id_number"),
])
def test_wrong_types_name_the_field(client, rpc, body, field):
    assert_error(client.simulate_post("/api/v1/sessions", json=body), 400, "invalid", field=field)
    assert rpc.names == []


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/v1/admin/reviews/abc/decisions", {"decision": "maybe"}, "decision"),
    ("/api/v1/admin/reviews/abc/decisions", {"decision": "pass", "version": 0}, "version"),
    ("/api/v1/admin/reviews/abc/decisions", {"decision": "return", "reason": "x" * 501}, "reason"),
    ("/api/v1/admin/reviews/abc/decisions", {"decision": "pass", "note": "x"}, "note"),
    ("/api/v1/admin/reviews/decisions", {"application_ids": [], "decision": "pass"}, "application_ids"),
    ("/api/v1/admin/reviews/decisions", {"application_ids": "abc", "decision": "pass"}, "application_ids"),
])
def test_admin_bodies_are_checked_against_the_contract(client, rpc, path, body, field):
    assert_error(client.simulate_post(path, json=body, headers=ADMIN), 400, "invalid", field=field)
    assert rpc.names == ["identity.resolve_session_view"]


@pytest.mark.parametrize(("method", "path", "body", "field"), [
    ("PUT", "/api/v1/admin/review-chains/410100", {"levels": "supervisor"}, "levels"),
    ("PUT", "/api/v1/admin/review-chains/410100", {"levels": ["supervisor", "county"]}, "levels"),
    ("PUT", "/api/v1/admin/years/2026", {"windows": {"review": {"start": "tomorrow", "end": "x"}}},
     "windows.review.start"),
    ("PUT", "/api/v1/admin/years/2026", {"switches": {"ticket_printing": "maybe"}}, "switches.ticket_printing"),
    ("PUT", "/api/v1/admin/contacts", {"counties": [{"county_code": 410102, "phone": "1"}]},
     "counties.county_code"),
])
def test_nested_fields_are_named_with_their_path(client, rpc, method, path, body, field):
    r = client.simulate_request(method, path, json=body, headers=ADMIN)
    assert_error(r, 400, "invalid", field=field)
    assert rpc.names == ["identity.resolve_session_view"]


def test_an_operation_that_needs_a_body_refuses_none(client, rpc):
    r = client.simulate_post("/api/v1/admin/reviews/abc/decisions", headers=ADMIN)
    assert assert_error(r, 400, "invalid", field=None)["message"] == "请求内容不能为空，须为 JSON 对象"
    assert not [c for c in rpc.calls if c[0].startswith("review.")]


def test_an_empty_body_is_an_empty_object_where_one_may_send_none(client, rpc):
    rpc.answer("identity.me", {"year": 2026})
    rpc.answer("application.save_form", lambda who, account, changes: {"files": {}, "echo": changes})
    r = client.simulate_put("/api/v1/me/application", headers=APPLICANT)
    assert r.status_code == 200 and r.json["echo"] == {}


def test_the_form_body_goes_on_as_sent(client, rpc):
    """The 报名信息 form is checked by the service (it knows the units and trades): the gateway
    only insists on a JSON object and passes it on unchanged, nested or not."""
    rpc.answer("identity.me", {"year": 2026})
    rpc.answer("application.save_form", lambda who, account, changes: {"files": {}, "echo": changes})
    body = {"education": "bachelor", "nested": json.loads(deep(50))}
    r = client.simulate_put("/api/v1/me/application", json=body, headers=APPLICANT)
    assert r.status_code == 200 and r.json["echo"] == body
    r = client.simulate_put("/api/v1/me/application", json=["education"], headers=APPLICANT)
    assert_error(r, 400, "invalid", field=None)
    assert rpc.names.count("application.save_form") == 1


def test_multipart_forms_are_checked_too(client, rpc):
    r = client.simulate_post("/api/v1/registrations", json={"name": "张伟"})
    assert_error(r, 415, "unsupported_media_type")
    r = client.simulate_post("/api/v1/registrations", body=b"--x\r\nbroken",
                             headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert_error(r, 400, "invalid")
    assert rpc.names == []


def chunked(app):
    """The app behind a server that passes a chunked request body on as gunicorn does: no
    Content-Length, the body readable from wsgi.input."""
    def wsgi(environ, start_response):
        environ.pop("CONTENT_LENGTH", None)
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
        return app(environ, start_response)

    return wsgi


def test_a_chunked_body_is_read_or_refused_never_dropped(rpc):
    rpc.answer("identity.me", {"year": 2026})
    rpc.answer("application.save_form", lambda who, account, changes: {"files": {}, "saved": changes})
    client = testing.TestClient(chunked(create_app(rpc=rpc)))
    r = client.simulate_put("/api/v1/me/application", body=b'{"education": "bachelor"}',
                            headers={**APPLICANT, **JSON})
    assert r.status_code in (400, 411) or r.json["saved"] == {"education": "bachelor"}, (r.status_code, r.text)
