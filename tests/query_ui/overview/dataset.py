"""A hand-counted data set for the overview: every figure the tests expect is written here.

All of it lies in one minute, 30 minutes before the tests' `NOW`, so a 1 h range holds it all
and the job's edges are closed. One failure lies 3 h before NOW (for "new").
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from tests.query_ui.traces import Inserter, SpanRef, Story

S = 10**9
NOW = (time.time_ns() // (60 * S)) * 60 * S
BASE = NOW - 30 * 60 * S
API_MS = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
"""Durations of api's ten server spans; two of them fail (status Error, HTTP 503)."""
WORKER_MS = [5, 7, 9, 400]
"""Durations of worker's four consumer spans of topic orders.placed; one raises."""
TOPIC = "orders.placed"


@dataclass
class Expected:
    """What was written, counted by hand."""

    api_requests: int = 10
    api_errors: int = 2
    worker_requests: int = 4
    worker_errors: int = 1
    http_calls: int = 10
    kafka_messages: int = 4
    orders: dict[str, str] = field(default_factory=dict)
    trace_without_key: str = ""


def quantile_bounds(values: list[int], q: float) -> tuple[float, float]:
    """The exact q-quantile lies between these (ms), widened by the sketch's 1 % error."""
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    return ordered[math.floor(rank)] * 0.98, ordered[math.ceil(rank)] * 1.02


def write(store: Inserter) -> Expected:
    """Write the data set; return what the tests expect of it."""
    expected = Expected()
    story = Story(base_ns=BASE)
    _calls(story)
    _kafka(story)
    _failures(story, expected)
    story.write(store)
    old = Story(base_ns=NOW - 3 * 3600 * S)
    _order(old, "ord-old-1", "orders", "POST /orders", ("KeyError", "'same-day' (order 991)"), 500)
    old.write(store)
    return expected


def _calls(story: Story) -> None:
    """web calls api ten times over HTTP; api answers two with errors; one internal span."""
    for n, ms in enumerate(API_MS):
        client = story.span(
            "web",
            "GET",
            kind="Client",
            at=n * 100,
            ms=ms + 2,
            attrs={"http.method": "GET", "http.url": "http://api:8000/x"},
        )
        failed = n in (3, 7)
        story.span(
            "api",
            "GET /x",
            parent=client,
            at=n * 100 + 1,
            ms=ms,
            status="Error" if n == 3 else "Unset",
            attrs={"http.method": "GET", "http.status_code": "503" if failed else "200"},
        )
    story.span("api", "compute", kind="Internal", at=5, ms=1000)  # not a request: not counted


def _kafka(story: Story) -> None:
    """api publishes four messages to orders.placed; worker consumes them, one raises."""
    for n, ms in enumerate(WORKER_MS):
        producer = story.span(
            "api",
            f"{TOPIC} send",
            kind="Producer",
            at=2000 + n * 10,
            ms=2,
            attrs={"messaging.system": "kafka", "messaging.destination.name": TOPIC},
        )
        story.span(
            "worker",
            f"{TOPIC} process",
            kind="Consumer",
            at=2100 + n * 10,
            ms=ms,
            links=(producer,),
            exception=("ValueError", "bad") if n == 3 else None,
            attrs={"messaging.system": "kafka", "messaging.destination.name": TOPIC},
        )


def _order(
    story: Story,
    order_id: str,
    service: str,
    name: str,
    error: tuple[str, str],
    status: int,
    version: str = "",
    at: float = 0,
) -> SpanRef:
    """A failed order: a gateway call into `service`, whose server span raises `error`."""
    gateway = story.span(
        "gateway",
        "POST /checkout",
        at=at,
        ms=50,
        attrs={"order.id": order_id, "http.status_code": str(status)},
    )
    client = story.span(
        "gateway",
        "POST",
        parent=gateway,
        kind="Client",
        at=at + 1,
        ms=40,
        attrs={"order.id": order_id, "http.method": "POST"},
    )
    server = story.span(
        service,
        name,
        parent=client,
        at=at + 2,
        ms=30,
        status="Error",
        attrs={"order.id": order_id, "http.status_code": str(status)},
        exception=error,
    )
    if version:
        story.spans[-1]["ResourceAttributes"]["service.version"] = version
    return server


def _failures(story: Story, expected: Expected) -> None:
    """Two declined cards (ids differ only), a KeyError twice, a ValueError, a lone trace."""
    plan = [
        (
            "ord-1",
            "payments",
            "POST /payments",
            ("CardDeclined", "card 4000 0002 declined for ord-1"),
            402,
            "1.4.0",
        ),
        (
            "ord-2",
            "payments",
            "POST /payments",
            ("CardDeclined", "card 4000 0077 declined for ord-2"),
            402,
            "1.5.0",
        ),
        ("ord-3", "orders", "POST /orders", ("KeyError", "'same-day' (order 3)"), 500, "2.0.0"),
        ("ord-4", "orders", "POST /orders", ("ValueError", "'same-day' (order 4)"), 500, "2.0.0"),
    ]
    for n, (order, service, name, error, status, version) in enumerate(plan):
        _order(story, order, service, name, error, status, version, at=3000 + n * 100)
        expected.orders[order] = service
    lone = story.span("cron", "nightly", at=4000, ms=5, exception=("TimeoutError", "db 10.0.0.7"))
    expected.trace_without_key = lone.trace_id
