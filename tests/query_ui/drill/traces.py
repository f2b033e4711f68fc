"""Hand-built traces for the drill-down tests: known self times, known differences, orders."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from tests.query_ui.traces import Inserter, SpanRef, Story

MS = 1_000_000


@dataclass
class Drill:
    """Ids of what was written."""

    nested: str = ""
    a: str = ""
    b: str = ""
    orders: dict[str, str] = field(default_factory=dict)  # name -> order id
    order_traces: dict[str, str] = field(default_factory=dict)  # order id -> entry trace id
    hostile: Any = None  # a trace made of XSS payloads, when a test wrote one


def write_nested(story: Story) -> str:
    """root 0-100 ms; a 10-40 with a grandchild 15-25; b 30-60 (overlaps a); async c 90-150.

    Self times: root 100 - 60 (children cover 10-60 and 90-100) = 40; a 30 - 10 = 20; b 30;
    grandchild 10; c 60 (the part of c after the root ended is not the root's).
    """
    root = story.span("api", "GET /report", ms=100)
    a = story.span("api", "load", parent=root, at=10, ms=30, kind="Internal")
    story.span("db", "SELECT", parent=a, at=15, ms=10, kind="Client")
    story.span("db", "SELECT", parent=root, at=30, ms=30, kind="Client")
    story.span("mailer", "send", parent=root, at=90, ms=60, kind="Consumer")
    return root.trace_id


def write_pair(story: Story) -> tuple[str, str]:
    """Two checkouts: B's payment failed after two db retries, B sends no stock reservation
    but an alert email; both have frontend → checkout → payments."""
    a = story.span("frontend", "POST /checkout", at=1000, ms=100)
    pay_a = story.span("payments", "charge", parent=a, at=1005, ms=40, kind="Client")
    story.span("postgres", "UPDATE accounts", parent=pay_a, at=1010, ms=20, kind="Client")
    story.span("inventory", "reserve", parent=a, at=1050, ms=30, kind="Client")
    b = story.span("frontend", "POST /checkout", at=2000, ms=300, status="Error")
    pay_b = story.span("payments", "charge", parent=b, at=2005, ms=250, kind="Client",
                       status="Error", exception=("DeadlockDetected", "deadlock"))  # fmt: skip
    story.span("postgres", "UPDATE accounts", parent=pay_b, at=2010, ms=100, kind="Client")
    story.span("postgres", "UPDATE accounts", parent=pay_b, at=2120, ms=120, kind="Client")
    story.span("mailer", "alert", parent=b, at=2260, ms=20, kind="Producer")
    return a.trace_id, b.trace_id


ORDERS = (  # name, seconds after the failed one, entry operation, fails
    ("failed", 0, "POST /orders", True),
    ("near_failed", 2, "POST /orders", True),
    ("other_entry", 1, "GET /orders", False),
    ("near_ok", -5, "POST /orders", False),
    ("far_ok", 60, "POST /orders", False),
)


def write_orders(story: Story, tag: str) -> tuple[dict[str, str], dict[str, str]]:
    """Five orders around one failed order; the nearest similar succeeded one is near_ok."""
    names: dict[str, str] = {}
    traces: dict[str, str] = {}
    for name, seconds, operation, fails in ORDERS:
        order = f"{tag}-{name}"
        key = {"order.id": order}
        at = 10_000 + seconds * 1000
        root = story.span("shop", operation, at=at, ms=50, attrs=key)
        story.span("stock", "reserve", parent=root, at=at + 5, ms=20, attrs=key,
                   status="Error" if fails else "Unset")  # fmt: skip
        if not fails:
            story.span("mailer", "confirm", parent=root, at=at + 30, ms=10, attrs=key)
        names[name], traces[order] = order, root.trace_id
    return names, traces


def write_drill(store: Inserter, tag: str = "drill") -> Drill:
    """Everything above, a few minutes ago."""
    story = Story(base_ns=time.time_ns() - 10 * 60 * 10**9)
    drill = Drill(nested=write_nested(story))
    drill.a, drill.b = write_pair(story)
    drill.orders, drill.order_traces = write_orders(story, tag)
    story.write(store)
    return drill


def deep_trace(store: Inserter, spans: int, fanout: int = 8) -> str:
    """A trace of `spans` spans, a tree `fanout` wide, each child inside its parent."""
    story = Story(base_ns=time.time_ns() - 20 * 60 * 10**9)
    refs: list[tuple[SpanRef, float, float]] = []
    root = story.span("gateway", "GET /big", ms=10_000, attrs={"n": "0"})
    refs.append((root, 0.0, 10_000.0))
    for n in range(1, spans):
        parent, at, length = refs[(n - 1) // fanout]
        slot = length / fanout
        start = at + slot * ((n - 1) % fanout)
        service = f"svc-{n % 7}"
        ref = story.span(service, f"op-{n % 13}", parent=parent, at=start, ms=slot * 0.9,
                         status="Error" if n % 997 == 0 else "Unset")  # fmt: skip
        refs.append((ref, start, slot * 0.9))
    story.write(store)
    return root.trace_id
