"""orders: the order records and, in the same transactions, the outbox that relay.py publishes."""

from __future__ import annotations

import clew.instrumentation.auto  # noqa: F401  (first, so it sees the libraries load)

# isort: split
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from clew.demo.shop import relay
from clew.demo.shop.common import ORDERS_TOPIC, configure_logging, connect, health, migrate
from clew.demo.shop.common import run as sql
from clew.instrumentation import business_context, outbox

PRICES = {"mug": 1200, "tee": 2500, "poster": 900, "rare-vinyl": 4900}
# The bug: the gateway offers "same-day" since its last release; this table was not updated.
DELIVERY_CENTS = {"standard": 0, "express": 700}

configure_logging()
log = structlog.get_logger("orders")
migrate(
    "orders",
    "CREATE TABLE IF NOT EXISTS orders (order_id TEXT PRIMARY KEY, sku TEXT, quantity INTEGER,"
    " amount_cents INTEGER, address TEXT, status TEXT)",
    relay.OUTBOX_TABLE,
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Run the outbox relay beside the API."""
    async with relay.Relay() as running:
        app.state.relay = running
        yield


app = FastAPI(title="orders", lifespan=lifespan)
app.include_router(health)


class NewOrder(BaseModel):
    order_id: str
    sku: str
    quantity: int
    delivery: str
    address: str


class StatusChange(BaseModel):
    status: str


@app.post("/orders")
def create(body: NewOrder) -> dict[str, Any]:
    """Price the order and store it as pending."""
    business_context(order_id=body.order_id)
    amount = PRICES[body.sku] * body.quantity + DELIVERY_CENTS[body.delivery]
    db = connect("orders")
    try:
        sql(db, "INSERT OR REPLACE INTO orders VALUES (?, ?, ?, ?, ?, 'pending')",
            body.order_id, body.sku, body.quantity, amount, body.address)  # fmt: skip
        db.commit()
    finally:
        db.close()
    log.info("order created", amount_cents=amount)
    return {"order_id": body.order_id, "amount_cents": amount}


@app.post("/orders/{order_id}/confirm")
async def confirm(order_id: str) -> dict[str, str]:
    """Mark the order placed and write its orders.placed message, in one transaction."""
    business_context(order_id=order_id)
    db = connect("orders")
    try:
        rows = sql(db, "SELECT sku, quantity, address FROM orders WHERE order_id = ?", order_id)
        if not rows:
            raise HTTPException(404, f"no order {order_id}")
        sku, quantity, address = rows[0]
        message = {"order_id": order_id, "sku": sku, "quantity": quantity, "address": address}
        sql(db, "UPDATE orders SET status = 'placed' WHERE order_id = ?", order_id)
        sql(db, "INSERT INTO outbox (topic, key, payload, context) VALUES (?, ?, ?, ?)",
            ORDERS_TOPIC, order_id, json.dumps(message), outbox.capture(ORDERS_TOPIC))  # fmt: skip
        db.commit()
    finally:
        db.close()
    app.state.relay.wake()
    log.info("order placed")
    return {"order_id": order_id, "status": "placed"}


@app.delete("/orders/{order_id}")
def cancel(order_id: str) -> dict[str, str]:
    """Cancel an order a later checkout step refused."""
    return _set_status(order_id, "cancelled")


@app.put("/orders/{order_id}/status")
def change_status(order_id: str, body: StatusChange) -> dict[str, str]:
    """Fulfilment reports shipped or fulfilment_failed."""
    return _set_status(order_id, body.status)


def _set_status(order_id: str, status: str) -> dict[str, str]:
    business_context(order_id=order_id)
    db = connect("orders")
    try:
        sql(db, "UPDATE orders SET status = ? WHERE order_id = ?", status, order_id)
        db.commit()
    finally:
        db.close()
    log.info("order status changed", status=status)
    return {"order_id": order_id, "status": status}


@app.get("/orders/{order_id}")
def get(order_id: str) -> dict[str, Any]:
    """An order's status, as the shop's order page would show it."""
    db = connect("orders")
    try:
        rows = sql(db, "SELECT status, amount_cents FROM orders WHERE order_id = ?", order_id)
        pending = sql(db, "SELECT count(*) FROM outbox WHERE key = ? AND sent = 0", order_id)
    finally:
        db.close()
    if not rows:
        raise HTTPException(404, f"no order {order_id}")
    return {"order_id": order_id, "status": rows[0][0], "amount_cents": rows[0][1],
            "outbox_pending": pending[0][0]}  # fmt: skip
