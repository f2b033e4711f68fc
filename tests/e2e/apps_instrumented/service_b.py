"""Service B: reserves stock by publishing the order to a Kafka topic."""

# ruff: noqa: I001
from __future__ import annotations

# The first import of the service, before FastAPI and the rest (keep it first).
import clew.instrumentation.auto  # noqa: F401

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI


log = structlog.get_logger("service_b")
producer: AIOKafkaProducer | None = None


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    global producer
    producer = AIOKafkaProducer(bootstrap_servers=os.environ["KAFKA_BOOTSTRAP"])
    await producer.start()
    yield
    await producer.stop()


app = FastAPI(lifespan=lifespan)


@app.get("/health")
def health() -> dict[str, bool]:
    return {"ok": True}


@app.post("/reserve/{order_id}", status_code=202)
async def reserve(order_id: str) -> dict[str, str]:
    assert producer is not None
    log.info("reserving stock")
    await producer.send_and_wait(
        os.environ["KAFKA_TOPIC"], order_id.encode(), key=order_id.encode()
    )
    return {"order": order_id}
