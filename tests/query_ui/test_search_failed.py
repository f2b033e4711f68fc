"""Search's status filter uses the explainer's failed span: each of its four signals alone
marks the whole trace (status Error, an exception event, HTTP >= 500, an ERROR log in it),
read from the failed-span index (schema/016) that the views on otel_traces and otel_logs fill."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from clew.query_ui.app import create_app
from tests.query_ui.conftest import open_test_store
from tests.query_ui.traces import SpanRef, Story

SIGNALS = ("status", "exception", "http", "error_log", "old_http")


def _trace(story: Story, signal: str, at: float) -> SpanRef:
    """A root and a child; only the child fails, and only by `signal` (or not at all)."""
    root = story.span("gateway", "GET /signal", at=at, ms=50, attrs={"signal": signal})
    attrs = {"http.response.status_code": "503" if signal == "http" else "200"}
    if signal == "old_http":  # the older semantic conventions' attribute
        attrs = {"http.status_code": "500"}
    child = story.span(
        "backend",
        "GET /work",
        parent=root,
        at=at + 5,
        ms=20,
        kind="Client",
        status="Error" if signal == "status" else "Unset",
        exception=("ValueError", "bad") if signal == "exception" else None,
        attrs=attrs,
    )
    story.log(child, "backend", "ERROR" if signal == "error_log" else "WARN", "x", at=at + 10)
    return child


@pytest.fixture(scope="module")
def signals(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[TestClient, dict[str, SpanRef]]]:
    settings, store = open_test_store(tmp_path_factory.mktemp("signals"))
    story = Story(base_ns=time.time_ns() - 10 * 60 * 10**9)
    spans = {name: _trace(story, name, i * 1000.0) for i, name in enumerate((*SIGNALS, "none"))}
    story.write(store)
    with TestClient(create_app(settings, store)) as client:
        yield client, spans
    store.close()


def _search(client: TestClient, status: str) -> dict[str, int]:
    response = client.get("/api/traces", params={"lookback": "1h", "status": status})
    assert response.status_code == 200, response.text
    return {t["trace_id"]: t["error_count"] for t in response.json()["traces"]}


def test_each_signal_alone_marks_the_trace(
    signals: tuple[TestClient, dict[str, SpanRef]],
) -> None:
    client, spans = signals
    failed = _search(client, "error")
    assert failed == {spans[name].trace_id: 1 for name in SIGNALS}
    assert _search(client, "ok") == {spans["none"].trace_id: 0}
    assert len(_search(client, "any")) == len(SIGNALS) + 1


def test_whole_trace_semantics_with_a_service_that_did_not_fail(
    signals: tuple[TestClient, dict[str, SpanRef]],
) -> None:
    client, spans = signals
    response = client.get("/api/traces", params={"service": "gateway", "status": "error"})
    found = {t["trace_id"] for t in response.json()["traces"]}
    assert found == {spans[name].trace_id for name in SIGNALS}


@pytest.mark.parametrize("signal", [*SIGNALS, "none"])
def test_the_trace_api_marks_the_failed_span(
    signals: tuple[TestClient, dict[str, SpanRef]], signal: str
) -> None:
    client, spans = signals
    body = client.get(f"/api/traces/{spans[signal].trace_id}").json()
    failed = {s["span_id"] for s in body["spans"] if s["failed"]}
    assert failed == (set() if signal == "none" else {spans[signal].span_id})
    page = client.get(f"/traces/{spans[signal].trace_id}").text
    assert ("1 failed" in page) == (signal != "none")


def test_the_failed_span_index_is_filled_by_both_views(
    signals: tuple[TestClient, dict[str, SpanRef]],
) -> None:
    client, spans = signals
    store = client.app.state.store  # type: ignore[attr-defined]
    rows = store.query("SELECT TraceId, SpanId, Reason FROM clew_failed_spans").rows
    found = {(str(trace), str(span)): str(reason) for trace, span, reason in rows}
    expected = {"status": "status", "exception": "exception", "http": "http"}
    expected |= {"old_http": "http", "error_log": "error_log"}  # the last from otel_logs' view
    by_span = {(spans[n].trace_id, spans[n].span_id): reason for n, reason in expected.items()}
    assert found == by_span
