"""A small shop's traces: one failed order, one good one, an old trace, a broken trace."""

from __future__ import annotations

import time
from dataclasses import dataclass

from tests.query_ui.traces import Inserter, SpanRef, Story

FAILED_ORDER = "ord-1001"
GOOD_ORDER = "ord-1002"
HOSTILE = "<script>alert('x')</script>' OR 1=1 --"


@dataclass
class Shop:
    """Ids of what was written, for the tests to look up."""

    failed_trace: str
    good_trace: str
    consumer_trace: str
    old_trace: str
    broken_trace: str
    payment_span: SpanRef
    db_span: SpanRef
    producer_span: SpanRef


def write_shop(store: Inserter, now_ns: int | None = None) -> Shop:
    """Write the shop's story ending a few minutes before `now_ns`."""
    now_ns = now_ns or time.time_ns()
    story = Story(base_ns=now_ns - 5 * 60 * 10**9)
    failed = _failed_order(story)
    good = story.span(
        "frontend",
        "POST /checkout",
        at=30_000,
        ms=120,
        attrs={"order.id": GOOD_ORDER, "http.response.status_code": "200"},
    )
    paid = story.span(
        "payments", "POST /payments", parent=good, at=30_010, ms=60, attrs={"order.id": GOOD_ORDER}
    )
    # Stored strings are attacker-controlled: the pages must show them as text.
    story.span(
        "payments", HOSTILE, parent=paid, at=30_020, ms=5, kind="Internal", attrs={"x": HOSTILE}
    )
    story.log(paid, "payments", "INFO", HOSTILE, at=30_030)
    old = Story(base_ns=now_ns - 3 * 86400 * 10**9)
    old_root = old.span("frontend", "GET /old-report", ms=40)
    broken = story.span("inventory", "reserve", parent_span_id="00000000deadbeef", at=60_000, ms=15)
    story.write(store)
    old.write(store)
    return Shop(
        failed["root"].trace_id,
        good.trace_id,
        failed["consumer"].trace_id,
        old_root.trace_id,
        broken.trace_id,
        failed["payment"],
        failed["db"],
        failed["producer"],
    )


def _failed_order(story: Story) -> dict[str, SpanRef]:
    """frontend → checkout → payments → postgres deadlock; a Kafka consumer fails later too."""
    key = {"order.id": FAILED_ORDER}
    root = story.span(
        "frontend",
        "POST /checkout",
        ms=400,
        status="Error",
        attrs=key | {"http.response.status_code": "500", "http.route": "/checkout"},
    )
    checkout = story.span(
        "checkout",
        "POST /orders",
        parent=root,
        at=5,
        ms=380,
        status="Error",
        attrs=key | {"http.response.status_code": "500"},
    )
    producer = story.span(
        "checkout",
        "orders publish",
        parent=checkout,
        at=10,
        ms=3,
        kind="Producer",
        attrs=key | {"messaging.destination.name": "orders", "messaging.system": "kafka"},
    )
    call = story.span(
        "checkout",
        "POST",
        parent=checkout,
        at=20,
        ms=350,
        kind="Client",
        status="Error",
        attrs={"http.response.status_code": "500", "server.address": "payments"},
    )
    payment = story.span(
        "payments",
        "POST /payments",
        parent=call,
        at=25,
        ms=340,
        status="Error",
        attrs=key | {"http.response.status_code": "500"},
        exception=("PaymentError", "card authorisation failed: database deadlock"),
    )
    db = story.span(
        "payments",
        "UPDATE accounts",
        parent=payment,
        at=30,
        ms=300,
        kind="Client",
        status="Error",
        message="deadlock detected",
        attrs={
            "db.system": "postgresql",
            "db.statement": "UPDATE accounts SET balance = balance - $1 WHERE id = $2",
        },
        exception=("psycopg.errors.DeadlockDetected", "deadlock detected"),
    )
    story.log(payment, "payments", "WARN", "retrying authorisation", at=100, attrs=key)
    story.log(db, "payments", "ERROR", "deadlock detected on accounts", at=329, attrs=key)
    story.log(
        checkout, "checkout", "ERROR", f"payment failed for order {FAILED_ORDER}", at=380, attrs=key
    )
    consumer = story.span(
        "inventory",
        "orders process",
        trace_id=None,
        at=900,
        ms=50,
        kind="Consumer",
        links=(producer,),
        attrs=key | {"messaging.destination.name": "orders"},
    )
    story.log(consumer, "inventory", "INFO", "reserving stock", at=910, attrs=key)
    return {"root": root, "payment": payment, "db": db, "producer": producer, "consumer": consumer}
