"""Health and readiness probes, and the per-request JSON log line (with no personal data)."""

from __future__ import annotations

import json
import logging

import pytest

from assist.observability import access_log
from tests.factories import make_request


def test_healthz_and_readyz(app, client) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["status"] == "ready"


def test_readyz_says_when_the_database_is_behind(app, client, monkeypatch) -> None:
    monkeypatch.setattr("assist.observability.migration_head", lambda _: "some-newer-revision")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "run `flask db upgrade`" in response.get_json()["reason"]


@pytest.fixture
def captured():
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    access_log.addHandler(handler)
    yield records
    access_log.removeHandler(handler)


def test_one_json_line_per_request_without_personal_data(app, login_as, captured) -> None:
    req = make_request(title="Ahmed's secret title", context="Private context words")
    client = login_as(req.created_by)
    response = client.get(
        f"/requests/{req.id}?q=private+query", headers={"X-Request-ID": "abc12345-proxy"}
    )
    line = json.loads(access_log.handlers[0].format(captured[-1]))
    assert line["request_id"] == "abc12345-proxy" == response.headers["X-Request-ID"]
    assert line["route"] == "/requests/<int:request_id>" and line["status"] == 200
    assert line["user_id"] == req.created_by.id and line["duration_ms"] >= 0
    text = json.dumps(line)
    for secret in ("Ahmed", "Private", "private", "query", req.created_by.email):
        assert secret not in text


def test_a_forged_request_id_is_replaced(app, client, captured) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "bad id; with spaces"})
    assert response.headers["X-Request-ID"] != "bad id; with spaces"
    assert len(response.headers["X-Request-ID"]) == 32
