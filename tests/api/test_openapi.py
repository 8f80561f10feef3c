"""The OpenAPI document and the URL map describe the same API, both ways."""

from __future__ import annotations

import re

from assist.api.openapi import OPENAPI

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def routed(app) -> set[tuple[str, str]]:
    return {
        (re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods - IGNORED_METHODS
    }


def documented() -> set[tuple[str, str]]:
    return {(path, method) for path, ops in OPENAPI["paths"].items() for method in ops}


def test_every_route_is_documented_and_every_documented_operation_exists(app) -> None:
    assert routed(app) - documented() == set(), "routes missing from assist/api/openapi.py"
    assert documented() - routed(app) == set(), "documented operations without a route"


def test_document_is_served_without_a_token(client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["openapi"].startswith("3.1")
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert doc == OPENAPI


def test_every_operation_is_secured_described_and_has_error_responses() -> None:
    for path, ops in OPENAPI["paths"].items():
        for method, op in ops.items():
            assert op["operationId"] and op["summary"], (path, method)
            if path.endswith("openapi.json"):
                assert op["security"] == []
                continue
            assert "security" not in op  # the global bearer requirement applies
            assert {"401", "405", "429"} <= set(op["responses"]), (path, method)
            if "requestBody" in op:
                assert {"400", "413", "415", "422"} <= set(op["responses"]), (path, method)
            for arg in re.findall(r"{(\w+)}", path):
                params = {(p["name"], p["in"]) for p in op["parameters"]}
                assert (arg, "path") in params, (path, method, arg)


def test_all_references_resolve() -> None:
    text = repr(OPENAPI)
    for kind, name in re.findall(r"#/components/(\w+)/(\w+)", text):
        assert name in OPENAPI["components"][kind], f"{kind}/{name}"
