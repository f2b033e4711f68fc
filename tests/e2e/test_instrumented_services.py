"""End to end through real processes: A → httpx → B → Kafka → C, all exporting to `clew serve`.

Asserts from the data `clew serve` stored: one trace per order across the three services and
the topic, the parent/child structure, order.id on every span and log, each log's ids naming
the span it was written in, and C's exception on C's span with its stack trace.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.instrumentation.processes import Service, serve, service_env, uvicorn
from tests.support.clew_server import ClewServer
from tests.support.kafka import KafkaBroker

APPS = "tests.e2e.apps_instrumented"
ORDERS = ("o-42", "o-fail")


def wait_for_rows(db: Path, count: int, timeout: float = 60) -> None:
    """Wait until service C stored count reservations."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if db.exists():
            with sqlite3.connect(db) as connection:
                tables = connection.execute("SELECT name FROM sqlite_master").fetchall()
                if (
                    tables
                    and connection.execute("SELECT count() FROM reservations").fetchone()[0]
                    >= count
                ):
                    return
        time.sleep(0.1)
    raise AssertionError(f"service C stored fewer than {count} reservations")


@pytest.fixture
def stored(
    clew_server: ClewServer, kafka_broker: KafkaBroker, kafka_topic: str, tmp_path: Path
) -> Iterator[dict[str, list[dict[str, Any]]]]:
    """Run the three services, place the orders, stop everything, and read what clew stored."""
    db = tmp_path / "c.sqlite3"
    kafka = {"KAFKA_BOOTSTRAP": kafka_broker.bootstrap, "KAFKA_TOPIC": kafka_topic}
    with ExitStack() as services:
        c = services.enter_context(
            serve(
                uvicorn(f"{APPS}.service_c:app"),
                service_env(clew_server.http_url, "service-c", SERVICE_C_DB=str(db), **kafka),
            )
        )
        b = services.enter_context(
            serve(
                uvicorn(f"{APPS}.service_b:app"),
                service_env(clew_server.http_url, "service-b", **kafka),
            )
        )
        a = services.enter_context(
            serve(
                uvicorn(f"{APPS}.service_a:app"),
                service_env(clew_server.http_url, "service-a", SERVICE_B_URL=b.url),
            )
        )
        for order in ORDERS:
            assert httpx.post(f"{a.url}/orders/{order}", timeout=30).status_code == 202
        wait_for_rows(db, len(ORDERS))
        processes: list[Service] = [a, b, c]
    assert all(p.process.returncode is not None for p in processes)
    clew_server.stop()
    yield {
        "spans": clew_server.query(
            "SELECT TraceId, SpanId, ParentSpanId, SpanName, SpanKind, ServiceName, "
            "SpanAttributes, StatusCode, Events.Name AS EventNames, "
            "Events.Attributes AS EventAttributes FROM otel_traces"
        ),
        "logs": clew_server.query(
            "SELECT TraceId, SpanId, ServiceName, ScopeName, Body, LogAttributes, SeverityText "
            "FROM otel_logs"
        ),
    }


def by_order(rows: list[dict[str, Any]], order: str) -> list[dict[str, Any]]:
    return [r for r in rows if r["SpanAttributes"].get("order.id") == order]


def test_orders_are_traced_end_to_end(stored: dict[str, list[dict[str, Any]]]) -> None:
    spans, logs = stored["spans"], stored["logs"]
    for order in ORDERS:
        order_spans = by_order(spans, order)
        [trace_id] = {s["TraceId"] for s in order_spans}  # one trace per order, across everything
        in_trace = [s for s in spans if s["TraceId"] == trace_id]
        assert in_trace == order_spans  # order.id on every span of the trace
        assert_structure(in_trace)
        assert_logs(in_trace, [log for log in logs if log["TraceId"] == trace_id], order)
    # Every line the services wrote (structlog) carries its order; library warnings written
    # outside any order (aiokafka joining its group) are exported too, without one.
    service_lines = [log for log in logs if log["ScopeName"] == "structlog"]
    assert len(service_lines) == 5 * len(ORDERS) - 1
    for log in service_lines:
        assert log["LogAttributes"]["order.id"] in ORDERS, log


def one(
    spans: list[dict[str, Any]], service: str, kind: str, name: str | None = None
) -> dict[str, Any]:
    found = [
        s
        for s in spans
        if s["ServiceName"] == service
        and s["SpanKind"] == kind
        and (name is None or s["SpanName"] == name)
    ]
    assert len(found) == 1, (
        service,
        kind,
        name,
        [(s["ServiceName"], s["SpanKind"], s["SpanName"]) for s in spans],
    )
    return found[0]


def assert_structure(spans: list[dict[str, Any]]) -> None:
    a_server = one(spans, "service-a", "Server")
    a_client = one(spans, "service-a", "Client")
    b_server = one(spans, "service-b", "Server")
    b_producer = one(spans, "service-b", "Producer")
    c_consumer = one(spans, "service-c", "Consumer")
    c_db = [s for s in spans if s["ServiceName"] == "service-c" and s["SpanKind"] == "Client"]
    assert a_server["ParentSpanId"] == ""
    assert a_client["ParentSpanId"] == a_server["SpanId"]
    assert b_server["ParentSpanId"] == a_client["SpanId"]
    assert b_producer["ParentSpanId"] == b_server["SpanId"]
    assert c_consumer["ParentSpanId"] == b_producer["SpanId"]
    assert sorted(s["SpanName"] for s in c_db) == ["CREATE", "INSERT"]  # sqlite3 statements
    assert all(s["ParentSpanId"] == c_consumer["SpanId"] for s in c_db)
    assert (
        b_producer["SpanAttributes"]["messaging.destination.name"]
        == c_consumer["SpanAttributes"]["messaging.destination.name"]
    )
    assert c_consumer["SpanAttributes"]["messaging.consumer.group.name"] == "service-c"


# The span each service's line is written in: (service, span kind).
WRITTEN_IN = {
    "order received": ("service-a", "Server"),
    "order forwarded": ("service-a", "Server"),
    "reserving stock": ("service-b", "Server"),
    "reservation stored": ("service-c", "Consumer"),
    "reservation failed": ("service-c", "Consumer"),
}


def assert_logs(spans: list[dict[str, Any]], logs: list[dict[str, Any]], order: str) -> None:
    assert {log["ServiceName"] for log in logs} == {"service-a", "service-b", "service-c"}
    expected = [body for body in WRITTEN_IN if body != "reservation failed" or order == "o-fail"]
    assert sorted(log["Body"] for log in logs) == sorted(expected)
    for log in logs:
        span = one(spans, *WRITTEN_IN[log["Body"]])
        assert (log["TraceId"], log["SpanId"]) == (span["TraceId"], span["SpanId"]), log
        assert log["LogAttributes"]["order.id"] == order
    consumer = one(spans, "service-c", "Consumer")
    if order == "o-fail":
        assert consumer["StatusCode"] == "Error"
        [attributes] = [
            a
            for n, a in zip(consumer["EventNames"], consumer["EventAttributes"], strict=True)
            if n == "exception"
        ]
        assert attributes["exception.type"].endswith("PaymentDeclined")
        assert attributes["exception.message"] == "payment declined for o-fail"
        assert (
            'raise PaymentDeclined(f"payment declined for {order_id}")'
            in attributes["exception.stacktrace"]
        )
        [failed] = [log for log in logs if log["Body"] == "reservation failed"]
        assert failed["SeverityText"] == "ERROR"
        assert "PaymentDeclined" in failed["LogAttributes"]["exception.stacktrace"]
    else:
        assert consumer["StatusCode"] == "Unset"
