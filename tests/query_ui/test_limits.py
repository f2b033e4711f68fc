"""Row and time limits on the real store: hit, reported to the user, nothing else lost."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from clew.query_ui.read import load, queries
from tests.query_ui.shop import FAILED_ORDER, Shop


def test_row_limit_is_reported_on_the_api_and_the_page(
    client: TestClient, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(load, "DEFAULT_LIMITS", load.Limits(max_spans=4, max_logs=1))
    body = client.get(f"/api/traces/{shop.failed_trace}").json()
    assert len(body["spans"]) == 4
    assert "only the first 4 spans were read (row limit reached)" in body["limits"]
    logs = client.get(f"/api/traces/{shop.failed_trace}/logs").json()
    assert len(logs["logs"]) == 1 and "only the first 1 logs" in logs["limits"][-1]
    page = client.get(f"/orders/{FAILED_ORDER}").text  # the explainer's loader, same limits
    assert "first 4 spans" in page


def test_time_limit_is_reported(
    client: TestClient, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A real ClickHouse time limit: a microsecond is too short for any query.
    settings = {"max_execution_time": 1e-6, "timeout_overflow_mode": "break"}
    monkeypatch.setattr(queries, "QUERY_SETTINGS", settings)
    # A search shows what it found so far, and says it stopped.
    response = client.get("/api/traces", params={"lookback": "30d"})
    assert response.status_code == 200
    assert "stopped at its time limit of 1e-06 s" in response.json()["limits"][0]
    page = client.get("/search", params={"lookback": "30d"})
    assert page.status_code == 200 and "narrow the time range" in page.text
    # Finding where a trace is cannot be partial: that is a 504 saying why.
    trace = client.get(f"/api/traces/{shop.failed_trace}")
    assert trace.status_code == 504 and "time limit" in trace.json()["detail"]
