"""The orders outbox as a user relies on it: orders are taken while Kafka is down, and their
messages wait in the outbox until a broker is there, then leave in order."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from clew.demo import services
from clew.demo.shop import common, relay
from clew.demo.stack import Stack, free_port, wait_http
from tests.support.clew_server import ClewServer
from tests.support.kafka import KafkaBroker


@pytest.fixture
def orders(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """The orders service alone, its Kafka bootstrap a port where no broker runs yet."""
    yield from _orders(tmp_path, "http://127.0.0.1:9", {"OTEL_SDK_DISABLED": "true"})


@pytest.fixture
def traced_orders(tmp_path: Path, clew_server: ClewServer) -> Iterator[tuple[str, int]]:
    """The orders service sending its telemetry to a real `clew serve`, and no broker."""
    yield from _orders(tmp_path, clew_server.http_url, {})


def _orders(tmp_path: Path, endpoint: str, extra: dict[str, str]) -> Iterator[tuple[str, int]]:
    kafka_port, port = free_port(), free_port()
    stack = Stack(tmp_path / "logs")
    telemetry = services.Telemetry(endpoint, f"127.0.0.1:{kafka_port}", tmp_path)
    env = {**services.telemetry_env("orders", telemetry), **extra}
    argv = [sys.executable, "-m", "uvicorn", "clew.demo.shop.orders:app", "--port", str(port)]
    child = stack.start("orders", argv, env)
    try:
        wait_http(child, f"http://127.0.0.1:{port}/healthz")
        yield f"http://127.0.0.1:{port}", kafka_port
    finally:
        stack.stop()


def _place(url: str, order_id: str) -> None:
    body = {"order_id": order_id, "sku": "mug", "quantity": 1, "delivery": "standard",
            "address": "1 High St"}  # fmt: skip
    assert httpx.post(f"{url}/orders", json=body, timeout=10).status_code == 200
    assert httpx.post(f"{url}/orders/{order_id}/confirm", timeout=10).status_code == 200


def _pending(url: str, order_id: str) -> int:
    pending: int = httpx.get(f"{url}/orders/{order_id}", timeout=10).json()["outbox_pending"]
    return pending


def test_messages_wait_in_the_outbox_until_kafka_is_there(
    orders: tuple[str, int], tmp_path: Path
) -> None:
    url, kafka_port = orders
    _place(url, "relay-1")
    _place(url, "relay-2")
    time.sleep(2 * relay.POLL_SECONDS)  # two of the relay's polls, each failing to reach Kafka
    assert (_pending(url, "relay-1"), _pending(url, "relay-2")) == (1, 1)
    broker = KafkaBroker(tmp_path / "kafka", port=kafka_port)
    broker.start()
    try:
        for _ in range(100):
            if _pending(url, "relay-1") + _pending(url, "relay-2") == 0:
                break
            time.sleep(0.2)
        assert (_pending(url, "relay-1"), _pending(url, "relay-2")) == (0, 0)
        assert asyncio.run(_published(broker.bootstrap)) == ["relay-1", "relay-2"]
    finally:
        broker.stop()


async def _published(bootstrap: str) -> list[str]:
    """The order ids on orders.placed, in the topic's order."""
    consumer = AIOKafkaConsumer(common.ORDERS_TOPIC, bootstrap_servers=bootstrap,
                                auto_offset_reset="earliest")  # fmt: skip
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=10_000, max_records=10)
    finally:
        await consumer.stop()
    return [json.loads(r.value)["order_id"] for records in batches.values() for r in records]


def test_a_message_stuck_in_the_outbox_shows_on_the_order_in_clew(
    traced_orders: tuple[str, int], clew_server: ClewServer
) -> None:
    url, _ = traced_orders
    _place(url, "stuck-1")
    ui = clew_server.ui_url
    for _ in range(int(4 * relay.STUCK_SECONDS)):
        response = httpx.get(f"{ui}/api/orders/stuck-1/diagnosis", timeout=10)
        found = response.json()  # 404 until the order's first spans are stored
        if response.status_code == 200 and found["root_causes"]:
            break
        time.sleep(0.5)
    assert found["status"] == "failed", found
    ((service, span, error),) = [(r["service"], r["span_name"], r["error_type"])
                                 for r in found["root_causes"]]  # fmt: skip
    assert (service, span) == ("orders", "orders.placed publish")
    assert error.rsplit(".", 1)[-1] == "KafkaConnectionError"
    page = httpx.get(f"{ui}/orders/stuck-1", timeout=10)
    assert page.status_code == 200 and "orders.placed publish" in page.text
    assert "outbox message not published" in page.text  # the relay's log line, in the order's logs
    assert _pending(url, "stuck-1") == 1
