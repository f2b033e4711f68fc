"""gateway: the checkout API; calls orders, payments and inventory, and runs the saga."""

from __future__ import annotations

import clew.instrumentation.auto  # noqa: F401  (first, so it sees the libraries load)

# isort: split
import httpx
import structlog
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from clew.demo.shop.common import (
    INVENTORY_URL,
    ORDERS_URL,
    PAYMENTS_URL,
    configure_logging,
    env,
    health,
)
from clew.instrumentation import business_context

# Each call's deadline; payments needs room for its own retries of the provider.
ORDERS_TIMEOUT = 2.0
PAYMENTS_TIMEOUT = 5.0
INVENTORY_TIMEOUT = 2.0

configure_logging()
log = structlog.get_logger("gateway")


app = FastAPI(title="gateway")
app.include_router(health)


class Checkout(BaseModel):
    """The cart; the client picks the order id, so a resubmitted checkout is the same order."""

    order_id: str
    sku: str
    quantity: int = 1
    card: str
    delivery: str = "standard"
    address: str


def _answer(order_id: str, status: int, outcome: str) -> JSONResponse:
    return JSONResponse({"order_id": order_id, "outcome": outcome}, status_code=status)


@app.post("/checkout")
async def checkout(body: Checkout) -> JSONResponse:
    """Create the order, charge the card, reserve the stock, confirm; undo what a failure left."""
    business_context(order_id=body.order_id)
    # A client per checkout: a pooled connection that a crashing service closed would fail
    # the next order with a ReadError that has nothing to do with it.
    async with httpx.AsyncClient() as http:
        return await _checkout(http, body)


async def _checkout(http: httpx.AsyncClient, body: Checkout) -> JSONResponse:
    order = body.model_dump(exclude={"card"})
    created = await http.post(f"{env(ORDERS_URL)}/orders", json=order, timeout=ORDERS_TIMEOUT)
    if created.status_code >= 500:
        log.error("orders failed", status=created.status_code)
        return _answer(body.order_id, 500, "orders_failed")
    payment = {"order_id": body.order_id, "card": body.card,
               "amount_cents": created.json()["amount_cents"]}  # fmt: skip
    paid = await http.post(f"{env(PAYMENTS_URL)}/payments", json=payment, timeout=PAYMENTS_TIMEOUT)
    if paid.status_code != 200:
        log.warning("payment refused", status=paid.status_code)
        await _cancel(http, body.order_id)
        return _answer(body.order_id, 402 if paid.status_code == 402 else 502, "payment_failed")
    return await _reserve_and_confirm(http, body)


async def _reserve_and_confirm(http: httpx.AsyncClient, body: Checkout) -> JSONResponse:
    """The saga's last step; when it fails, refund the charge and cancel the order."""
    reservation = {"order_id": body.order_id, "sku": body.sku, "quantity": body.quantity}
    try:
        reserved = await http.post(f"{env(INVENTORY_URL)}/reservations", json=reservation,
                                   timeout=INVENTORY_TIMEOUT)  # fmt: skip
    except httpx.TimeoutException:
        log.error("inventory timed out", timeout_s=INVENTORY_TIMEOUT)
        await _compensate(http, body.order_id)
        return _answer(body.order_id, 504, "inventory_timeout")
    if reserved.status_code != 200:
        log.warning("stock not reserved", status=reserved.status_code)
        await _compensate(http, body.order_id)
        return _answer(body.order_id, 409, "out_of_stock")
    confirmed = await http.post(f"{env(ORDERS_URL)}/orders/{body.order_id}/confirm",
                                timeout=ORDERS_TIMEOUT)  # fmt: skip
    confirmed.raise_for_status()
    log.info("checkout complete")
    return _answer(body.order_id, 200, "placed")


async def _compensate(http: httpx.AsyncClient, order_id: str) -> None:
    """Undo the charge, then the order: the saga's compensating actions."""
    refunded = await http.delete(f"{env(PAYMENTS_URL)}/payments/{order_id}",
                                 timeout=PAYMENTS_TIMEOUT)  # fmt: skip
    refunded.raise_for_status()
    await _cancel(http, order_id)


async def _cancel(http: httpx.AsyncClient, order_id: str) -> None:
    cancelled = await http.delete(f"{env(ORDERS_URL)}/orders/{order_id}", timeout=ORDERS_TIMEOUT)
    cancelled.raise_for_status()
