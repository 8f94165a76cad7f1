"""R-P5: the OpenAPI description covers exactly the JSON routes the gateway serves (issue 7:
"a generated OpenAPI/route comparison test"). Built from the app itself, no broker needed."""
from __future__ import annotations

import re

import pytest
from falcon import inspect

from gateway.app import create_app
from gateway.openapi import build


@pytest.fixture(scope="module")
def served() -> set[tuple[str, str]]:
    app = create_app("amqp://guest:guest@127.0.0.1:9/unused")   # the RPC pool connects lazily
    routes = set()
    for route in inspect.inspect_app(app).routes:
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)   # {year:int} -> {year}
        if path.startswith("/api/") or path in ("/healthz", "/readyz"):
            routes |= {(m.method.lower(), path) for m in route.methods if not m.internal}
    return routes


def described() -> set[tuple[str, str]]:
    return {(method, path) for path, ops in build()["paths"].items() for method in ops}


def test_every_served_json_route_is_described_and_nothing_else(served):
    assert served - described() == set(), "served but not in the OpenAPI description"
    assert described() - served == set(), "described but not served"


def test_the_fixed_points_of_api_md_are_there(served):
    for route in [("get", "/api/v1/me/review"), ("get", "/api/v1/admin/reviews"),
                  ("post", "/api/v1/admin/reviews/{application_id}/decisions"),
                  ("post", "/api/v1/admin/reviews/decisions"), ("put", "/api/v1/admin/years/{year}/fees"),
                  ("get", "/api/v1/admin/applications/{application_id}/files/{kind}")]:
        assert route in served and route in described(), route


def test_each_operation_names_its_path_parameters_bodies_and_errors():
    spec = build()
    schemas = spec["components"]["schemas"]
    for path, ops in spec["paths"].items():
        names = set(re.findall(r"\{(\w+)\}", path))
        for method, op in ops.items():
            given = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert given == names, (method, path)
            assert op["responses"]["default"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/Error"}
            bodiless = path.endswith(("/stamp", "/submit", "/cancel", "/reconcile", "/password-reset"))
            if method in ("put", "post") and "{kind}" not in path and not bodiless:
                assert "requestBody" in op, (method, path)
    refs = set(re.findall(r"#/components/schemas/(\w+)", str(spec["paths"]) + str(schemas)))
    assert refs <= set(schemas), refs - set(schemas)
    decision = schemas["Decision"]
    assert decision["properties"]["decision"]["enum"] == ["pass", "return", "reject", "reopen"]
