"""fulfilment: consumes orders.placed and ships, or fails on a message it cannot handle."""

from __future__ import annotations

import clew.instrumentation.auto  # noqa: F401  (first, so it sees the libraries load)

# isort: split
import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from fastapi import FastAPI
from opentelemetry import trace

from clew.demo.shop.common import (
    KAFKA_BOOTSTRAP,
    ORDERS_TOPIC,
    ORDERS_URL,
    configure_logging,
    env,
    health,
)
from clew.instrumentation import business_context

GROUP = "fulfilment"

configure_logging()
log = structlog.get_logger("fulfilment")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Consume beside /healthz; stop the consumer with the server."""
    await ensure_topic(env(KAFKA_BOOTSTRAP))
    consumer = AIOKafkaConsumer(ORDERS_TOPIC, bootstrap_servers=env(KAFKA_BOOTSTRAP),
                                group_id=GROUP, auto_offset_reset="earliest")  # fmt: skip
    await consumer.start()
    task = asyncio.create_task(_consume(consumer), name="fulfilment")
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await consumer.stop()


app = FastAPI(title="fulfilment", lifespan=lifespan)


async def ensure_topic(bootstrap: str) -> None:
    """Create orders.placed before subscribing (a consumer does not create its topic)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(ORDERS_TOPIC, 1, 1)])
    except TopicAlreadyExistsError:
        pass
    finally:
        await admin.close()


app.include_router(health)


async def _consume(consumer: AIOKafkaConsumer) -> None:
    async with httpx.AsyncClient(base_url=env(ORDERS_URL), timeout=5.0) as orders:
        async for record in consumer:  # the record's consumer span is current in the body
            await handle(record, orders)


async def handle(record: ConsumerRecord[bytes, bytes], orders: httpx.AsyncClient) -> None:
    """Ship one order; a message that breaks the handler is logged and the order marked failed."""
    message = json.loads(record.value or b"{}")
    business_context(order_id=message["order_id"])
    _record_place(record)
    try:
        label = print_label(message)
    except Exception:
        log.exception("cannot handle orders.placed message; order not shipped")
        status = "fulfilment_failed"
    else:
        log.info("order shipped", label_bytes=len(label))
        status = "shipped"
    changed = await orders.put(f"/orders/{message['order_id']}/status", json={"status": status})
    changed.raise_for_status()


def _record_place(record: ConsumerRecord[bytes, bytes]) -> None:
    """Where the message sits, so a poison message can be found, replayed or skipped: topic,
    partition, offset, group and key, under the current and the older semantic-convention
    names (readers of either find them)."""
    key = (record.key or b"").decode(errors="replace")
    place = {
        "messaging.destination.name": record.topic,
        "messaging.destination.partition.id": str(record.partition),
        "messaging.kafka.message.offset": record.offset,
        "messaging.consumer.group.name": GROUP,
        "messaging.kafka.message.key": key,
        "messaging.kafka.partition": record.partition,
        "messaging.kafka.consumer.group": GROUP,
    }
    trace.get_current_span().set_attributes(place)


def print_label(message: dict[str, object]) -> bytes:
    """The shipping label, for a label printer that speaks latin-1 (the poison-message bug)."""
    text = f"ORDER {message['order_id']}\n{message['quantity']} x {message['sku']}\n"
    return (text + str(message["address"])).encode("latin-1")
