"""A service exporting over OTLP/gRPC to `clew serve`, with a second configured business key."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.instrumentation.processes import serve, service_env, uvicorn
from tests.support.clew_server import ClewServer

KEYS = "order.id,customer.id"


def test_grpc_export_and_configured_business_keys(
    clew_server_factory: Callable[..., ClewServer],
) -> None:
    server = clew_server_factory(env={"CLEW_BUSINESS_KEYS": KEYS})
    server.start()
    env = service_env(
        f"http://{server.grpc_target}",
        "keys",
        OTEL_EXPORTER_OTLP_PROTOCOL="grpc",
        CLEW_BUSINESS_KEYS=KEYS,
    )
    with serve(uvicorn("tests.e2e.apps_instrumented.keys:app"), env) as service:
        answer = httpx.post(f"{service.url}/customers/c-9/orders/o-9", timeout=30)
        assert answer.status_code == 200
    server.stop()
    [span] = server.query(
        "SELECT TraceId, SpanAttributes FROM otel_traces WHERE ServiceName = 'keys' "
        "AND SpanKind = 'Server' AND SpanName LIKE 'POST %'"
    )
    assert span["SpanAttributes"]["order.id"] == "o-9"
    assert span["SpanAttributes"]["customer.id"] == "c-9"
    [log] = server.query("SELECT TraceId, LogAttributes FROM otel_logs WHERE Body = 'order placed'")
    assert log["TraceId"] == span["TraceId"]
    assert log["LogAttributes"]["customer.id"] == "c-9"
    found = server.query(
        "SELECT TraceId FROM clew_business_keys WHERE Key = 'customer.id' AND Value = 'c-9' "
        "GROUP BY TraceId"
    )
    assert found == [{"TraceId": span["TraceId"]}]
