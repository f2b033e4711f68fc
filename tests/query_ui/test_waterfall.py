"""The waterfall's tree, critical path, missing parents and hops, on hand-made spans."""

from __future__ import annotations

from typing import Any

from clew.query_ui.read.model import Link, LogRecord, Span
from clew.query_ui.read.story import Story
from clew.query_ui.waterfall import Waterfall
from clew.query_ui.waterfall import build as build_view


def span(
    span_id: str,
    parent: str,
    start: int,
    end: int,
    kind: str = "Server",
    service: str = "a",
    **fields: Any,
) -> Span:
    return Span("t", span_id, parent, span_id, service, start, end - start, kind=kind, **fields)


def log(span_id: str, at: int) -> LogRecord:
    return LogRecord(at, "t", span_id, "a", "INFO", 9, f"in {span_id}", {})


def build(spans: list[Span], logs: list[LogRecord], **story: Any) -> Waterfall:
    return build_view(Story(spans, logs, **story))


def test_rows_are_depth_first_in_start_order() -> None:
    view = build([span("c", "a", 20, 30), span("a", "", 0, 100), span("b", "a", 10, 15)], [])
    assert [(r.span.span_id, r.depth) for r in view.rows] == [("a", 0), ("b", 1), ("c", 1)]
    assert view.rows[0].offset_pct == 0 and view.rows[1].offset_pct == 10.0


def test_critical_path_skips_a_call_hidden_behind_a_longer_one() -> None:
    spans = [
        span("root", "", 0, 100),
        span("slow", "root", 10, 90),
        span("fast", "root", 20, 50),
        span("slow-db", "slow", 15, 85),
    ]
    critical = {r.span.span_id for r in build(spans, []).rows if r.critical}
    assert critical == {"root", "slow", "slow-db"}


def test_sequential_calls_are_all_on_the_critical_path() -> None:
    spans = [span("root", "", 0, 100), span("first", "root", 5, 40), span("second", "root", 45, 95)]
    assert all(r.critical for r in build(spans, []).rows)


def test_missing_parent_makes_a_root_and_a_warning() -> None:
    view = build([span("a", "", 0, 10), span("orphan", "gone", 2, 4)], [])
    assert view.missing_parents == ["gone"]
    assert [r.missing_parent for r in view.rows] == [False, True]


def test_logs_of_span_and_of_subtree() -> None:
    spans = [span("a", "", 0, 100), span("b", "a", 10, 50)]
    view = build(spans, [log("b", 20), log("a", 5), log("x", 7)])
    a, b = view.rows
    assert [x.span_id for x in a.logs] == ["a"]
    assert [x.span_id for x in a.subtree_logs] == ["a", "b"]
    assert [x.span_id for x in b.subtree_logs] == ["b"]
    assert [x.span_id for x in view.orphan_logs] == ["x"]


def test_kafka_hops_in_the_trace_and_across_links() -> None:
    topic = {"messaging.destination.name": "orders"}
    producer = span("p", "", 0, 5, kind="Producer", attributes=topic)
    back = Link("t2", "c2", {}, service="billing", name="orders process", time_ns=300)
    child = span("c1", "p", 100, 150, kind="Consumer", service="inventory")
    hops = build([producer, child], [], back_links=[(producer.ref, back)]).rows[0].hops
    assert [(h.topic, h.consumer.service, h.queue_ns) for h in hops] == [
        ("orders", "inventory", 100),
        ("orders", "billing", 300),
    ]


def test_one_colour_per_service() -> None:
    view = build(
        [
            span("a", "", 0, 10, service="x"),
            span("b", "a", 1, 2, service="y"),
            span("c", "a", 3, 4, service="x"),
        ],
        [],
    )
    assert view.services == {"x": 0, "y": 1}
    assert [r.color for r in view.rows] == [0, 1, 0]


def test_consumer_hop_from_a_linked_producer() -> None:
    topic = {"messaging.destination.name": "orders"}
    consumer = span("c", "", 500, 600, kind="Consumer", service="billing", attributes=topic,
                    links=(Link("t0", "p0"),))  # fmt: skip
    end = Link("t0", "p0", service="checkout", name="orders publish", time_ns=120)
    (hop,) = build([consumer], [], ends={("t0", "p0"): end}).rows[0].hops
    assert (hop.producer.service, hop.topic, hop.consumer.service, hop.queue_ns) == (
        "checkout",
        "orders",
        "billing",
        380,
    )


def test_a_chain_deeper_than_pythons_recursion_limit_is_drawn() -> None:
    # Each span calls the next: 2,500 levels (the tree was walked recursively, and a trace like
    # this failed its page with RecursionError). Every row's subtree holds the logs below it.
    spans = [span("s0", "", 0, 10_000)]
    spans += [span(f"s{n}", f"s{n - 1}", n, 10_000 - n) for n in range(1, 2_500)]
    logs = [log("s0", 1), log("s2499", 2_600), log("s1200", 1_300)]
    view = build(spans, logs)
    assert [r.span.span_id for r in view.rows] == [f"s{n}" for n in range(2_500)]
    assert [r.depth for r in view.rows] == list(range(2_500))
    assert [entry.body for entry in view.rows[0].subtree_logs] == ["in s0", "in s1200", "in s2499"]
    assert [entry.body for entry in view.rows[1201].subtree_logs] == ["in s2499"]
    assert not any(r.missing_parent for r in view.rows)
