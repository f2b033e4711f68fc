"""`clew demo` end to end: a real process starting clew, a Kafka broker and the shop.

One demo run for the module (about a minute): the failures it prints are the seeded faults,
clew's JSON API diagnoses each with its known root cause, the outbox carries the checkout's
trace to the Kafka consumer, the retried payment is a success, and SIGINT stops everything.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from clew.demo.scenarios import CAUSES, Fault, PlannedOrder, plan
from tests.demo import procs
from tests.support.ports import free_port

ORDERS = 12  # one block of the plan: every fault once, six good orders
SEED = 11
START_SECONDS = 300.0  # the broker's first start may fetch its jars
PAGE = re.compile(r"^(ord-([0-9a-f]+)-\d{4})  (http://127\.0\.0\.1:\d+/orders/ord-\S+)$")
WHY = re.compile(r"^    (\S.* why (ord-[0-9a-f]+-\d{4}) --url http://127\.0\.0\.1:\d+)$")
# The module's demo starts in the first test's setup: allow for a broker's first start.
pytestmark = [pytest.mark.kafka, pytest.mark.timeout(600)]


@dataclass
class Demo:
    """The running `clew demo` and what it printed."""

    process: subprocess.Popen[str]
    ui: str
    stderr: Path
    output: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    orders: list[PlannedOrder] = field(default_factory=list)
    why: dict[str, str] = field(default_factory=dict)
    """The printed `clew why` command of each failed order, as typed in a shell."""
    pages: dict[str, str] = field(default_factory=dict)
    """The printed page address of each failed order."""

    def of(self, fault: Fault) -> PlannedOrder:
        return next(order for order in self.orders if order.fault is fault)

    def get(self, path: str) -> Any:
        response = httpx.get(f"{self.ui}{path}", timeout=30)
        assert response.status_code == 200, (path, response.status_code, response.text)
        return response.json()


def _read_until_ready(demo: Demo) -> None:
    """Collect stdout up to the line saying the stack keeps running."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:  # a thread: a buffered text pipe defeats select()
        assert demo.process.stdout is not None
        for line in demo.process.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + START_SECONDS
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if line is None:
            break
        demo.output.append(line)
        if "press Ctrl-C" in line:
            return
    raise AssertionError("clew demo did not finish its traffic:\n" + "\n".join(demo.output))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    ports = {"--http-port": free_port(), "--grpc-port": free_port(), "--ui-port": free_port()}
    argv = [str(Path(sys.executable).with_name("clew")), "demo", "--orders", str(ORDERS),
            "--seed", str(SEED), "--data-dir", str(data_dir), "--host", "127.0.0.1",
            *(str(part) for pair in ports.items() for part in pair)]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}
    stderr = data_dir.parent / "demo-stderr.log"
    with open(stderr, "w") as errors:
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=errors, text=True, env=env)
    running = Demo(process, f"http://127.0.0.1:{ports['--ui-port']}", stderr)
    try:
        _read_until_ready(running)
        printed = [m for line in running.output if (m := PAGE.match(line))]
        assert printed, running.output
        running.failed = [m.group(1) for m in printed]
        running.pages = {m.group(1): m.group(3) for m in printed}
        running.why = {m.group(2): m.group(1) for line in running.output if (m := WHY.match(line))}
        running.orders = plan(SEED, ORDERS, printed[0].group(2))
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.wait(120)


def _diagnosis(demo: Demo, order_id: str, done: Any) -> dict[str, Any]:
    """The order's diagnosis once `done(diagnosis)` holds; the last seen one otherwise.

    Spans are exported in batches, so the story may still be completing for a moment.
    """
    for _ in range(40):
        found: dict[str, Any] = demo.get(f"/api/orders/{order_id}/diagnosis")
        if done(found):
            break
        time.sleep(0.5)
    return found


def test_the_printed_failures_are_the_seeded_faults(demo: Demo) -> None:
    expected = [o.order_id for o in demo.orders if CAUSES[o.fault] is not None]
    assert demo.failed == expected
    assert sorted(demo.why) == sorted(expected)
    assert any(line.startswith("clew UI: http://127.0.0.1:") for line in demo.output)


def test_the_progress_line_counts_orders_placed_and_failed(demo: Demo) -> None:
    progress = [line for line in demo.stderr.read_text().splitlines()
                if line.startswith("orders placed: ")]  # fmt: skip
    placed = [int(line.split()[2].rstrip(",")) for line in progress]
    assert placed == [*range(1, ORDERS + 1), ORDERS]  # one line an order, then the settled one
    assert progress[-1] == f"orders placed: {ORDERS}, failed: {len(demo.failed)}"


@pytest.mark.parametrize("number", range(ORDERS))
def test_every_order_is_diagnosed_with_its_injected_cause(demo: Demo, number: int) -> None:
    order = demo.orders[number]
    cause = CAUSES[order.fault]
    if cause is None:
        found = _diagnosis(demo, order.order_id, lambda d: d["status"] == "succeeded")
        assert (found["status"], found["root_causes"]) == ("succeeded", []), found
        return
    found = _diagnosis(demo, order.order_id, lambda d: d["root_causes"] and (
        not cause.recovery or d["recoveries"]))  # fmt: skip
    assert found["status"] == "failed", found
    text = json.dumps(found, indent=1)
    (root,) = found["root_causes"]
    got = (root["service"], root["name"], root["error_type"].rsplit(".", 1)[-1])
    assert got == (cause.service, cause.operation, cause.error_type), text
    assert cause.message in root["message"], text
    compensations = [r for r in found["recoveries"] if r["kind"] == "compensation"]
    assert [c["service"] for c in compensations] == (["payments"] if cause.recovery else [])
    (contention,) = [e for e in root["evidence"] if e["kind"] == "contention"] or [None]
    suspects = [s["span_name"] for s in contention["suspects"]] if contention else []
    assert suspects == ([cause.suspect] if cause.suspect else []), text


def test_the_poison_message_is_located_for_replay(demo: Demo) -> None:
    order = demo.of(Fault.POISON_MESSAGE)
    found = _diagnosis(demo, order.order_id, lambda d: d["root_causes"])
    (place,) = [e for e in found["root_causes"][0]["evidence"] if e["kind"] == "messaging"]
    assert place["destination"] == "orders.placed"
    assert place["partition"] == "0" and place["offset"].isdigit()
    assert (place["group"], place["key"]) == ("fulfilment", order.order_id)


def test_the_printed_command_works_as_typed_and_the_page_opens(demo: Demo) -> None:
    order = demo.of(Fault.ORDERS_BUG)
    _diagnosis(demo, order.order_id, lambda d: d["root_causes"])
    done = subprocess.run(["bash", "-c", demo.why[order.order_id]], capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "orders" in done.stdout and "KeyError" in done.stdout, done.stdout
    page = httpx.get(demo.pages[order.order_id], timeout=30)
    assert page.status_code == 200 and "KeyError" in page.text


def test_the_slow_query_is_the_cause_of_the_timeout(demo: Demo) -> None:
    order = demo.of(Fault.INVENTORY_LOCK)
    found = _diagnosis(demo, order.order_id, lambda d: d["root_causes"] and d["cascade"])
    (root,) = found["root_causes"]
    statements = [e["statement"] for e in root["evidence"] if e["kind"] == "db.statement"]
    assert statements and statements[0].startswith("UPDATE stock"), root
    cascade = {(c["service"], c["span_name"]) for c in found["cascade"]}
    assert ("gateway", "POST /checkout") in cascade


def test_the_retried_payment_is_reported_as_succeeded(demo: Demo) -> None:
    order = demo.of(Fault.PROVIDER_TIMEOUT_ONCE)
    found = _diagnosis(demo, order.order_id, lambda d: d["recoveries"])
    assert found["status"] == "succeeded", json.dumps(found, indent=1)
    assert found["root_causes"] == []
    retries = [r for r in found["recoveries"] if r["kind"] == "retry"]
    assert [r["service"] for r in retries] == ["payments"]


def test_three_databases_and_structlog_in_every_service(demo: Demo) -> None:
    order = next(o for o in demo.orders if o.fault is Fault.NONE)
    (entry,) = demo.get(f"/api/keys/order.id/{order.order_id}/traces")["traces"]
    spans = demo.get(f"/api/traces/{entry['trace_id']}")["spans"]
    db = [s for s in spans if _first(s, "db.system", "db.system.name") == "sqlite"]
    statements = {s["service"]: _first(s, "db.statement", "db.query.text") for s in db}
    assert set(statements) == {"orders", "payments", "inventory"}, spans
    assert all(statements.values()), statements
    logs = demo.get(f"/api/traces/{entry['trace_id']}/logs")["logs"]
    services = {"gateway", "orders", "payments", "inventory", "fulfilment"}
    assert {log["service"] for log in logs} >= services, logs
    assert {log["attributes"].get("order.id") for log in logs} == {order.order_id}


def _first(span: dict[str, Any], *names: str) -> str | None:
    """The first of these attributes the span has (old and new semantic conventions)."""
    return next((span["attributes"][n] for n in names if n in span["attributes"]), None)


def test_the_outbox_carries_the_checkout_trace_to_the_consumer(demo: Demo) -> None:
    order = next(o for o in demo.orders if o.fault is Fault.NONE)
    (entry,) = demo.get(f"/api/keys/order.id/{order.order_id}/traces")["traces"]
    spans = demo.get(f"/api/traces/{entry['trace_id']}")["spans"]
    by_id = {s["span_id"]: s for s in spans}
    (consumer,) = [s for s in spans if s["service"] == "fulfilment" and s["kind"] == "Consumer"]
    producer = by_id[consumer["parent_span_id"]]
    assert (producer["service"], producer["kind"]) == ("orders", "Producer")
    # The relay published after the request ended; its producer hangs under the confirm call.
    confirm = by_id[producer["parent_span_id"]]
    assert confirm["name"] == "POST /orders/{order_id}/confirm"
    # The outbox row's writing is on the trace: a message stuck there shows as this event alone.
    assert "outbox.stored" in [event["name"] for event in confirm["events"]]
    assert consumer["attributes"]["order.id"] == order.order_id
    roots = [s for s in spans if not s["parent_span_id"]]
    assert [(r["service"], r["name"]) for r in roots] == [("gateway", "POST /checkout")]


def test_sigint_stops_every_process_it_started(demo: Demo) -> None:
    started = [p for p in procs.tree(demo.process.pid) if p.pid != demo.process.pid]
    services = {"gateway", "orders", "payments", "inventory", "fulfilment", "card-provider"}
    assert len(started) >= len(services) + 3, started  # clew serve, the broker and its JVM
    demo.process.send_signal(signal.SIGINT)
    assert demo.process.wait(120) == 0
    pids = {p.pid for p in started}
    groups = {p.group for p in started if p.group != os.getpgid(0)}
    assert procs.gone(pids, groups) == []
