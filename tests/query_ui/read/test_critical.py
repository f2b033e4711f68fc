"""The critical path: the chain of spans that determined when a trace ended."""

from __future__ import annotations

from clew.query_ui.read.critical import critical_path
from tests.query_ui.explain.scenarios import Builder


def test_parallel_calls_beside_the_slowest_are_not_on_the_path() -> None:
    b = Builder("o-critical")
    t = b.trace()
    root = b.span(t, "GET /search", "search", ms=100)
    slow = b.span(t, "shard 1", "search", parent=root, at=2, ms=88, kind="Client")
    b.span(t, "shard 2", "search", parent=root, at=2, ms=30, kind="Client")
    b.span(t, "shard 3", "search", parent=root, at=2, ms=50, kind="Client")
    below = b.span(t, "query", "index", parent=slow, at=3, ms=80)
    render = b.span(t, "render", "search", parent=root, at=91, ms=8, kind="Internal")
    path = critical_path(b.story())
    assert path == {root.ref, slow.ref, below.ref, render.ref}


def test_a_consumer_ending_after_its_trace_root_ends_the_trace() -> None:
    b = Builder("o-async")
    t = b.trace()
    root = b.span(t, "POST /checkout", "checkout", ms=30)
    db = b.span(t, "INSERT", "checkout", parent=root, at=1, ms=10, kind="Client")
    pub = b.span(t, "publish", "checkout", parent=root, at=20, ms=2, kind="Producer")
    consumer = b.span(t, "process", "shipping", parent=pub, at=200, ms=40, kind="Consumer")
    path = critical_path(b.story())
    # The trace ended when the consumer did: the chain to it decided the end; the INSERT
    # before the publish held it up too.
    assert path == {root.ref, pub.ref, consumer.ref, db.ref}


def test_a_chain_deeper_than_pythons_recursion_limit_is_walked() -> None:
    # A 10,000-span trace can be one long chain (a recursive job); the walk is iterative.
    b = Builder("o-deep")
    t = b.trace()
    parent = b.span(t, "step 0", "worker", ms=3000)
    chain = [parent]
    for n in range(1, 2500):
        parent = b.span(t, f"step {n}", "worker", parent=parent, at=n * 0.001, ms=1)
        chain.append(parent)
    assert critical_path(b.story()) == {s.ref for s in chain}
