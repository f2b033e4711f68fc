"""diagnose() through the real store: each scenario written into chDB's exporter tables."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from clew.common.store import Store
from clew.query_ui.errors import QueryLimitError
from clew.query_ui.errors import StoreError as UIStoreError
from clew.query_ui.explain import Limits, NotFound, diagnose
from clew.query_ui.read import queries as ui_queries
from clew.query_ui.read.load import load_story
from clew.query_ui.read.model import LogRecord, Span
from tests.query_ui.explain import scenarios
from tests.query_ui.explain.scenarios import Builder


def _time(ns: int) -> str:
    seconds, nanos = divmod(ns, 1_000_000_000)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S") + f".{nanos:09d}"


def _span_row(span: Span, old_spellings: bool) -> dict[str, Any]:
    kind, status = span.kind, span.status
    if old_spellings:
        kind, status = f"SPAN_KIND_{kind.upper()}", f"STATUS_CODE_{status.upper()}"
    return {
        "Timestamp": _time(span.start_ns),
        "TraceId": span.trace_id,
        "SpanId": span.span_id,
        "ParentSpanId": span.parent_span_id,
        "SpanName": span.name,
        "SpanKind": kind,
        "ServiceName": span.service,
        "ResourceAttributes": dict(span.resource),
        "ScopeName": span.scope,
        "SpanAttributes": dict(span.attributes),
        "Duration": span.duration_ns,
        "StatusCode": status,
        "StatusMessage": span.status_message,
        "Events.Timestamp": [_time(e.time_ns) for e in span.events],
        "Events.Name": [e.name for e in span.events],
        "Events.Attributes": [dict(e.attributes) for e in span.events],
        "Links.TraceId": [link.trace_id for link in span.links],
        "Links.SpanId": [link.span_id for link in span.links],
        "Links.TraceState": ["" for _ in span.links],
        "Links.Attributes": [dict(link.attributes) for link in span.links],
    }


def _log_row(record: LogRecord) -> dict[str, Any]:
    return {
        "Timestamp": _time(record.time_ns),
        "TraceId": record.trace_id,
        "SpanId": record.span_id,
        "SeverityText": record.severity_text,
        "SeverityNumber": record.severity_number,
        "ServiceName": record.service,
        "Body": record.body,
        "LogAttributes": dict(record.attributes),
    }


def write(store: Store, built: Builder, *, old_spellings: bool = False) -> Builder:
    """Insert a scenario's spans and logs the way the exporter stores them."""
    spans = [_span_row(span, old_spellings) for span in built.spans]
    if spans:
        store.insert("otel_traces", "\n".join(json.dumps(row) for row in spans))
    if built.logs:
        logs = [_log_row(r) for r in built.logs]
        store.insert("otel_logs", "\n".join(json.dumps(row) for row in logs))
    return built


def _causes(data: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["service"], c["span_name"]) for c in data["root_causes"]]


def test_the_loaded_story_is_what_was_written(store: Store) -> None:
    built = write(store, scenarios.cascade("s-roundtrip"))
    story = load_story(store, "order.id", "s-roundtrip", with_resource=True)
    assert story.spans == built.story().spans
    assert story.logs == built.story().logs
    assert story.limits == ()
    # The diagnosis reads spans without their resource, which it does not use.
    lean = load_story(store, "order.id", "s-roundtrip").spans
    assert lean == tuple(replace(s, resource={}, scope="") for s in built.story().spans)


def test_old_exporter_spellings_are_read(store: Store) -> None:
    built = write(store, scenarios.cascade("s-old"), old_spellings=True)
    assert load_story(store, "order.id", "s-old", with_resource=True).spans == built.story().spans
    assert _causes(diagnose(store, "order.id", "s-old").to_dict()) == [("payments", "POST /charge")]


def test_cascade_up_a_call_chain(store: Store) -> None:
    built = write(store, scenarios.cascade("s-cascade"))
    data = diagnose(store, "order.id", "s-cascade").to_dict()
    assert data["status"] == "failed"
    assert _causes(data) == [("payments", "POST /charge")]
    assert [c["service"] for c in data["cascade"]] == ["orders", "orders", "frontend", "frontend"]
    assert data["traces"] == [built.spans[0].trace_id]
    evidence = data["root_causes"][0]["evidence"]
    assert "card 4242 declined" in json.dumps(evidence)
    assert [e["severity"] for e in evidence if e["kind"] == "log"] == ["WARN", "ERROR"]
    assert len(data["logs"]) == 3
    assert json.loads(json.dumps(data)) == data


def test_timeout_masking_a_slow_database_call(store: Store) -> None:
    write(store, scenarios.timeout_masks_slow_db("s-timeout"))
    data = diagnose(store, "order.id", "s-timeout").to_dict()
    assert _causes(data) == [("inventory", "SELECT stock")]
    cause = data["root_causes"][0]
    assert cause["error_type"] == "SlowCall"
    assert any(e.get("statement", "").startswith("SELECT qty") for e in cause["evidence"])


def test_consumer_failure_after_a_successful_checkout_found_through_the_link(
    store: Store,
) -> None:
    # The consumer's trace does not carry the order id: only the span link leads to it.
    built = write(store, scenarios.consumer_after_checkout("s-consumer", keyed_consumer=False))
    data = diagnose(store, "order.id", "s-consumer").to_dict()
    assert data["status"] == "failed"
    assert _causes(data) == [("shipping", "INSERT shipments")]
    assert data["traces"] == list(dict.fromkeys(s.trace_id for s in built.spans))
    assert "could not create shipment" in json.dumps(data["root_causes"][0]["evidence"])


def test_consumer_failure_found_through_the_business_key(store: Store) -> None:
    write(store, scenarios.consumer_after_checkout("s-consumer-keyed", keyed_consumer=True))
    data = diagnose(store, "order.id", "s-consumer-keyed").to_dict()
    assert _causes(data) == [("shipping", "INSERT shipments")]
    assert len(data["traces"]) == 2


def test_retry_then_success(store: Store) -> None:
    write(store, scenarios.retry_then_success("s-retry"))
    data = diagnose(store, "order.id", "s-retry").to_dict()
    assert (data["status"], data["root_causes"], data["cascade"]) == ("succeeded", [], [])
    assert [r["kind"] for r in data["recoveries"]] == ["retry"]


def test_an_error_swallowed_and_logged_at_error(store: Store) -> None:
    write(store, scenarios.swallowed_error("s-swallowed"))
    data = diagnose(store, "order.id", "s-swallowed").to_dict()
    assert _causes(data) == [("checkout", "send confirmation")]
    assert data["root_causes"][0]["error_type"] == "smtplib.SMTPConnectError"


def test_two_independent_failures_earliest_first(store: Store) -> None:
    write(store, scenarios.two_independent("s-two"))
    data = diagnose(store, "order.id", "s-two").to_dict()
    assert _causes(data) == [("loyalty", "add points"), ("billing", "invoices process")]


def test_a_saga_refund_is_listed_as_recovery(store: Store) -> None:
    write(store, scenarios.saga_refund("s-saga"))
    data = diagnose(store, "order.id", "s-saga").to_dict()
    assert _causes(data) == [("inventory", "POST /reserve")]
    assert [(r["kind"], r["span_name"]) for r in data["recoveries"]] == [
        ("compensation", "refund payment")
    ]
    assert "refund payment" not in json.dumps(data["cascade"] + data["root_causes"])


def test_unknown_key_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound, match=r"nothing was found for order\.id='nope'"):
        diagnose(store, "order.id", "nope")


def test_values_reach_clickhouse_as_parameters(store: Store) -> None:
    value = "o'1\\\" OR 1=1 --"
    write(store, scenarios.swallowed_error(value))
    assert diagnose(store, "order.id", value).value == value
    with pytest.raises(NotFound):
        diagnose(store, "order.id", "o' OR '1'='1")


def test_hitting_a_row_limit_is_said_and_makes_the_outcome_unknown(store: Store) -> None:
    write(store, scenarios.retry_then_success("s-limited"))
    diagnosis = diagnose(store, "order.id", "s-limited", limits=Limits(max_spans=2))
    assert "only the first 2 spans were read" in diagnosis.summary
    assert diagnosis.status == "unknown"
    assert diagnosis.to_dict()["limits"] == ["only the first 2 spans were read (row limit reached)"]


def test_a_trace_known_only_from_its_logs_is_an_unknown_outcome(store: Store) -> None:
    built = scenarios.swallowed_error("s-logs-only")
    built.spans.clear()
    write(store, built)
    diagnosis = diagnose(store, "order.id", "s-logs-only")
    assert diagnosis.status == "unknown"
    assert [r.body for r in diagnosis.logs] == [r.body for r in built.logs]


def test_forward_links_are_followed_but_not_out_of_a_batch(store: Store) -> None:
    b = Builder("s-forward")
    producer = b.span(b.trace(), "orders publish", "checkout", kind="Producer", keyed=False)
    others = [
        b.span(b.trace(), "orders publish", "checkout", kind="Producer", keyed=False)
        for _ in range(5)
    ]
    b.span(b.trace(), "orders process", "shipping", at=50, kind="Consumer", links=[producer])
    b.span(b.trace(), "orders process batch", "billing", at=60, kind="Consumer",
           links=[producer, *others])  # fmt: skip
    write(store, b)
    traces = diagnose(store, "order.id", "s-forward").traces
    assert producer.trace_id in traces
    assert not {o.trace_id for o in others} & set(traces)


def test_a_query_stopped_at_the_time_limit_is_a_query_limit_error(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(store, scenarios.cascade("s-slow"))
    # Every query now takes longer than the limit: ClickHouse stops each one (overflow "break").
    monkeypatch.setitem(ui_queries.QUERY_SETTINGS, "max_execution_time", 1e-9)
    with pytest.raises(QueryLimitError, match="time limit"):
        diagnose(store, "order.id", "s-slow")


def test_a_store_failure_is_the_uis_store_error(store: Store) -> None:
    with pytest.raises(UIStoreError):
        load_story(ReadOnlyBroken(store), "order.id", "s-cascade")


class ReadOnlyBroken:
    """A store whose tables are gone: every query names a table that does not exist."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def command(self, sql: str, parameters: Any = None) -> None:
        raise AssertionError("the explainer only reads")

    def insert(self, table: str, data: str, fmt: str = "JSONEachRow") -> None:
        raise AssertionError("the explainer only reads")

    def close(self) -> None:
        raise AssertionError("the store belongs to the fixture")

    def query(self, sql: str, parameters: Any = None, *, settings: Any = None) -> Any:
        return self.store.query(
            sql.replace("FROM ", "FROM missing_"), parameters, settings=settings
        )
