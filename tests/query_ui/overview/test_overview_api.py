"""The overview's JSON API through a real server, against the hand-counted data set."""

from __future__ import annotations

from typing import Any

from tests.query_ui.overview import dataset
from tests.query_ui.overview.conftest import Overview


def _by(items: list[dict[str, Any]], **match: Any) -> dict[str, Any]:
    (found,) = [i for i in items if all(i[k] == v for k, v in match.items())]
    return found


def test_services_count_server_and_consumer_spans(overview: Overview) -> None:
    services = overview.get("/api/services", lookback="1h")["services"]
    api = _by(services, name="api")
    assert (api["requests"], api["errors"]) == (10, 2)
    assert api["error_rate"] == 0.2
    worker = _by(services, name="worker")
    assert (worker["requests"], worker["errors"], worker["error_rate"]) == (4, 1, 0.25)
    assert {s["name"] for s in services} >= {"api", "worker", "payments", "orders", "gateway"}
    assert "web" not in {s["name"] for s in services}  # only client spans: no requests


def test_quantiles_are_within_the_sketch_error(overview: Overview) -> None:
    services = overview.get("/api/services", lookback="1h")["services"]
    for name, values in (("api", dataset.API_MS), ("worker", dataset.WORKER_MS)):
        found = _by(services, name=name)
        for q, field in ((0.5, "p50_ms"), (0.95, "p95_ms"), (0.99, "p99_ms")):
            low, high = dataset.quantile_bounds(values, q)
            assert low <= found[field] <= high, (name, field, found[field], low, high)


def test_services_are_sorted_worst_first_with_a_series(overview: Overview) -> None:
    services = overview.get("/api/services", lookback="1h")["services"]
    rates = [s["error_rate"] for s in services]
    assert rates == sorted(rates, reverse=True)
    api = _by(services, name="api")
    assert sum(p["requests"] for p in api["series"]) == 10
    assert sum(p["errors"] for p in api["series"]) == 2
    assert api["rate_per_s"] > 0


def test_a_range_without_the_data_is_empty(overview: Overview) -> None:
    end = "2020-01-01T00:00:00Z"
    assert overview.get("/api/services", lookback="1h", end=end)["services"] == []
    assert overview.get("/api/failures", lookback="1h", end=end)["groups"] == []


def test_the_http_edge_is_client_to_server(overview: Overview) -> None:
    edges = overview.get("/api/map", lookback="1h")["edges"]
    edge = _by(edges, source="web", target="api")
    assert (edge["kind"], edge["topic"], edge["calls"]) == ("http", "", 10)
    low, high = dataset.quantile_bounds([ms + 2 for ms in dataset.API_MS], 0.5)
    assert low <= edge["p50_ms"] <= high


def test_the_kafka_edge_goes_through_its_topic(overview: Overview) -> None:
    the_map = overview.get("/api/map", lookback="1h")
    edge = _by(the_map["edges"], kind="kafka", topic=dataset.TOPIC)
    assert (edge["source"], edge["target"]) == ("api", "worker")
    assert (edge["calls"], edge["errors"]) == (4, 1)
    names = {n["name"] for n in the_map["nodes"]}
    assert {"api", "worker", "web", "gateway"} <= names


def _groups(overview: Overview, **params: Any) -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = overview.get("/api/failures", **params)["groups"]
    return groups


def test_the_same_cause_on_different_orders_is_one_group(overview: Overview) -> None:
    declined = _by(_groups(overview, lookback="1h"), error_type="CardDeclined")
    assert declined["count"] == 2
    assert {e["value"] for e in declined["examples"]} == {"ord-1", "ord-2"}
    assert declined["message"] == "card <n> <n> declined for <id>"  # ids masked
    assert (declined["service"], declined["operation"]) == ("payments", "POST /payments")


def test_different_error_types_are_different_groups(overview: Overview) -> None:
    groups = _groups(overview, lookback="1h")
    orders = [g for g in groups if g["service"] == "orders"]
    assert sorted(g["error_type"] for g in orders) == ["KeyError", "ValueError"]
    assert all(g["count"] == 1 for g in orders)


def test_a_trace_without_a_business_key_is_grouped(overview: Overview) -> None:
    lone = _by(_groups(overview, lookback="1h"), service="cron")
    assert lone["error_type"] == "TimeoutError"
    assert lone["examples"] == [
        {"key": "", "value": overview.expected.trace_without_key,
         "trace_id": overview.expected.trace_without_key}
    ]  # fmt: skip


def test_business_failures_are_told_apart_from_faults(overview: Overview) -> None:
    groups = _groups(overview, lookback="1h")
    assert _by(groups, error_type="CardDeclined")["business"] is True  # HTTP 402
    assert _by(groups, error_type="KeyError")["business"] is False  # HTTP 500


def test_new_and_versions(overview: Overview) -> None:
    groups = _groups(overview, lookback="1h")
    declined = _by(groups, error_type="CardDeclined")
    assert declined["new"] is True
    assert declined["versions"] == ["1.4.0", "1.5.0"]
    key_error = _by(groups, error_type="KeyError")
    assert key_error["new"] is False  # ord-old-1 had it 3 h ago
    assert key_error["versions"] == ["2.0.0"]
    wide = _by(_groups(overview, lookback="6h"), error_type="KeyError")
    assert (wide["count"], wide["new"]) == (2, True)


def test_failures_have_a_series_and_a_service_filter(overview: Overview) -> None:
    declined = _by(_groups(overview, lookback="1h"), error_type="CardDeclined")
    assert sum(p["count"] for p in declined["series"]) == 2
    only = _groups(overview, lookback="1h", service="payments")
    assert [g["error_type"] for g in only] == ["CardDeclined"]


def test_the_service_api(overview: Overview) -> None:
    found = overview.get("/api/services/api", lookback="1h")
    assert found["service"]["requests"] == 10
    assert [o["name"] for o in found["operations"]] == ["GET /x"]
    assert [(e["source"], e["kind"]) for e in found["callers"]] == [("web", "http")]
    assert [(e["target"], e["kind"]) for e in found["callees"]] == [("worker", "kafka")]
    payments = overview.get("/api/services/payments", lookback="1h")
    assert [g["error_type"] for g in payments["failures"]] == ["CardDeclined"]


def test_the_job_groups_each_failure_once(overview: Overview) -> None:
    from clew.query_ui.overview.job import OverviewJob
    from clew.query_ui.overview.settings import OverviewSettings

    job = OverviewJob(overview.store, ["order.id"], OverviewSettings(job=False))
    assert job.run_once(dataset.NOW) == 0  # nothing new arrived
    declined = _by(_groups(overview, lookback="1h"), error_type="CardDeclined")
    assert declined["count"] == 2
    assert _by(overview.get("/api/map", lookback="1h")["edges"], source="web")["calls"] == 10
