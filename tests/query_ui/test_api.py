"""The JSON API over a real chDB store holding the shop's traces."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.query_ui.shop import FAILED_ORDER, GOOD_ORDER, Shop


def test_trace_by_id_has_spans_links_and_back_links(client: TestClient, shop: Shop) -> None:
    body = client.get(f"/api/traces/{shop.failed_trace}").json()
    spans = {s["span_id"]: s for s in body["spans"]}
    assert len(spans) == 6
    db = spans[shop.db_span.span_id]
    assert db["exception"]["type"] == "psycopg.errors.DeadlockDetected"
    assert db["failed"] is True
    producer = spans[shop.producer_span.span_id]
    assert producer["back_links"][0]["trace_id"] == shop.consumer_trace
    assert body["hops"][0]["topic"] == "orders"
    assert body["hops"][0]["consumer_trace_id"] == shop.consumer_trace
    assert body["hops"][0]["queue_ns"] > 800_000_000
    consumer_trace = client.get(f"/api/traces/{shop.consumer_trace}").json()
    (link,) = consumer_trace["spans"][0]["links"]
    assert (link["trace_id"], link["span_id"]) == (shop.failed_trace, shop.producer_span.span_id)
    assert (link["service"], link["name"]) == ("checkout", "orders publish")
    (hop,) = consumer_trace["hops"]
    assert (hop["producer_service"], hop["topic"], hop["consumer_service"]) == (
        "checkout",
        "orders",
        "inventory",
    )
    assert hop["queue_ns"] == 890_000_000


def test_critical_path_follows_the_slow_call(client: TestClient, shop: Shop) -> None:
    body = client.get(f"/api/traces/{shop.failed_trace}").json()
    assert shop.db_span.span_id in body["critical_path"]
    assert len(body["critical_path"]) == 6  # each call waits for the one below it


def test_trace_logs(client: TestClient, shop: Shop) -> None:
    logs = client.get(f"/api/traces/{shop.failed_trace}/logs").json()["logs"]
    assert [log["severity"] for log in logs] == ["WARN", "ERROR", "ERROR"]
    assert logs[1]["span_id"] == shop.db_span.span_id
    assert logs[1]["time"].endswith("Z")


def test_unknown_trace_is_404(client: TestClient) -> None:
    response = client.get("/api/traces/0123456789abcdef0123456789abcdef")
    assert response.status_code == 404
    assert "no trace" in response.json()["detail"]


def test_old_trace_opens_whatever_the_search_range(client: TestClient, shop: Shop) -> None:
    found = client.get("/api/traces", params={"lookback": "1h", "limit": 100}).json()["traces"]
    assert shop.old_trace not in {t["trace_id"] for t in found}
    body = client.get(f"/api/traces/{shop.old_trace}").json()
    assert body["spans"][0]["name"] == "GET /old-report"


def test_missing_parent_is_reported(client: TestClient, shop: Shop) -> None:
    body = client.get(f"/api/traces/{shop.broken_trace}").json()
    assert body["missing_parents"] == ["00000000deadbeef"]


def test_key_traces(client: TestClient, shop: Shop) -> None:
    body = client.get(f"/api/keys/order.id/{FAILED_ORDER}/traces").json()
    found = {t["trace_id"]: t for t in body["traces"]}
    assert set(found) == {shop.failed_trace, shop.consumer_trace}
    assert found[shop.failed_trace]["has_error"] is True
    assert "payments" in found[shop.failed_trace]["services"]
    assert client.get("/api/keys/order.id/nope/traces").status_code == 404
    assert client.get(f"/api/keys/customer.id/{GOOD_ORDER}/traces").status_code == 404


def test_openapi_documents_the_api(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/traces",
        "/api/traces/{trace_id}",
        "/api/traces/{trace_id}/logs",
        "/api/keys/{key}/{value}/traces",
        "/api/orders/{order_id}/diagnosis",
        "/api/keys/{key}/{value}/diagnosis",
    ):
        assert path in paths
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert {"SearchResponse", "TraceResponse", "LogsResponse", "DiagnosisResponse"} <= set(schemas)
    assert {"root_causes", "cascade", "recoveries", "summary"} <= set(
        schemas["DiagnosisResponse"]["properties"]
    )
    assert "504" in paths["/api/traces"]["get"]["responses"]
    names = {p["name"] for p in paths["/api/traces"]["get"]["parameters"]}
    assert {"service", "operation", "tag", "status", "min_duration", "key_value"} <= names


def test_the_openapi_schema_lists_every_error_a_route_can_answer(client: TestClient) -> None:
    # errors.responses() reads them from the error hierarchy: a new error shows up here.
    schema = client.get("/openapi.json").json()
    answers = schema["paths"]["/api/traces/{trace_id}"]["get"]["responses"]
    assert {"200", "400", "401", "403", "404", "422", "503", "504"} <= set(answers)
    assert "time limit" in answers["504"]["description"]


def test_every_api_route_lists_the_errors_it_can_answer(client: TestClient) -> None:
    """Scripts read the errors from the schema: every /api route lists them, not only traces'."""
    schema = client.get("/openapi.json").json()
    for path, methods in schema["paths"].items():
        if path.startswith("/api/") and "get" in methods:
            answers = set(methods["get"]["responses"])
            assert {"401", "404", "422", "503", "504"} <= answers, (path, sorted(answers))
