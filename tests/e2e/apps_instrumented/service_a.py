"""Service A: takes an order, tags it with its business key, asks B over httpx."""

# ruff: noqa: I001
from __future__ import annotations

# The first import of the service, before FastAPI and the rest (keep it first).
import clew.instrumentation.auto  # noqa: F401

import os

import httpx
import structlog
from fastapi import FastAPI, Response

from clew.instrumentation import business_context

log = structlog.get_logger("service_a")
app = FastAPI()


@app.get("/health")
def health() -> dict[str, bool]:
    return {"ok": True}


@app.post("/orders/{order_id}")
async def place_order(order_id: str) -> Response:
    business_context(order_id=order_id)
    log.info("order received")
    async with httpx.AsyncClient() as client:
        answer = await client.post(f"{os.environ['SERVICE_B_URL']}/reserve/{order_id}")
    log.info("order forwarded", status=answer.status_code)
    return Response(status_code=answer.status_code)
