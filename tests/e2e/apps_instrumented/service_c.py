"""Service C: consumes reservations, writes them to sqlite3, logs with structlog; o-fail fails."""

# ruff: noqa: I001
from __future__ import annotations

# The first import of the service, before FastAPI and the rest (keep it first).
import clew.instrumentation.auto  # noqa: F401

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from fastapi import FastAPI

from clew.instrumentation import message_context

log = structlog.get_logger("service_c")


class PaymentDeclined(Exception):
    """The order the test makes fail."""


def handle(record: ConsumerRecord[bytes, bytes]) -> None:
    order_id = (record.value or b"").decode()
    status = "declined" if order_id == "o-fail" else "reserved"
    with sqlite3.connect(os.environ["SERVICE_C_DB"]) as db:
        db.execute("CREATE TABLE IF NOT EXISTS reservations (order_id TEXT, status TEXT)")
        db.execute("INSERT INTO reservations VALUES (?, ?)", (order_id, status))
    log.info("reservation stored", status=status)
    if order_id == "o-fail":
        raise PaymentDeclined(f"payment declined for {order_id}")


async def consume(consumer: AIOKafkaConsumer) -> None:
    async for record in consumer:
        try:
            with message_context(record):
                handle(record)
        except PaymentDeclined:
            log.exception("reservation failed")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    consumer = AIOKafkaConsumer(
        os.environ["KAFKA_TOPIC"],
        bootstrap_servers=os.environ["KAFKA_BOOTSTRAP"],
        group_id="service-c",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    task = asyncio.create_task(consume(consumer))
    yield
    task.cancel()
    await consumer.stop()


app = FastAPI(lifespan=lifespan)


@app.get("/health")
def health() -> dict[str, bool]:
    return {"ok": True}
