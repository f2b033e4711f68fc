"""payments: charges cards at the provider (timeouts, retries, idempotency keys) and refunds."""

from __future__ import annotations

import clew.instrumentation.auto  # noqa: F401  (first, so it sees the libraries load)

# isort: split
import asyncio
from typing import Any

import httpx
import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from opentelemetry import trace
from pydantic import BaseModel

from clew.demo.shop.common import (
    PROVIDER_URL,
    backoff,
    configure_logging,
    connect,
    env,
    health,
    migrate,
)
from clew.demo.shop.common import run as sql
from clew.instrumentation import business_context

ATTEMPTS = 3
ATTEMPT_TIMEOUT = 0.5
BACKOFF = 0.1
"""Seconds before the second attempt; doubled each time, plus up to as much again of jitter."""

configure_logging()
log = structlog.get_logger("payments")
migrate(
    "payments",
    "CREATE TABLE IF NOT EXISTS payments (order_id TEXT PRIMARY KEY, amount_cents INTEGER,"
    " charge_id TEXT, status TEXT)",
)
app = FastAPI(title="payments")
app.include_router(health)


class CardDeclined(Exception):
    """The provider refused the card; retrying cannot help."""


class ChargeRequest(BaseModel):
    order_id: str
    card: str
    amount_cents: int


@app.exception_handler(CardDeclined)
async def declined(request: Request, exc: CardDeclined) -> JSONResponse:
    """402, and the refusal logged with its exception so the trace says why."""
    log.error("card declined", exc_info=exc)
    return JSONResponse({"error": "card_declined", "detail": str(exc)}, status_code=402)


@app.post("/payments")
async def charge(body: ChargeRequest) -> dict[str, Any]:
    """Charge once per order: a repeated call returns the first charge."""
    business_context(order_id=body.order_id)
    db = connect("payments")
    try:
        done = sql(db, "SELECT charge_id FROM payments WHERE order_id = ? AND status = 'charged'",
                   body.order_id)  # fmt: skip
        if done:
            log.info("already charged", charge_id=done[0][0])
            return {"order_id": body.order_id, "charge_id": done[0][0]}
        answer = await _charge_with_retries(body)
        if not answer["approved"]:
            raise CardDeclined(f"card declined by the provider: {answer['decline_code']}")
        sql(db, "INSERT OR REPLACE INTO payments VALUES (?, ?, ?, 'charged')",
            body.order_id, body.amount_cents, answer["id"])  # fmt: skip
        db.commit()
    finally:
        db.close()
    log.info("card charged", charge_id=answer["id"], amount_cents=body.amount_cents)
    return {"order_id": body.order_id, "charge_id": answer["id"]}


async def _charge_with_retries(body: ChargeRequest) -> dict[str, Any]:
    """Call the provider with a timeout; retry timeouts with backoff and jitter, same key."""
    # One key per order: the provider charges a retried request only once.
    headers = {"Idempotency-Key": f"pay-{body.order_id}"}
    payload = {"card": body.card, "amount_cents": body.amount_cents}
    async with httpx.AsyncClient(base_url=env(PROVIDER_URL), timeout=ATTEMPT_TIMEOUT) as client:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                response = await client.post("/v1/charges", json=payload, headers=headers)
                response.raise_for_status()
                answer: dict[str, Any] = response.json()
                return answer
            except httpx.TimeoutException:
                if attempt == ATTEMPTS:
                    raise
                delay = backoff(BACKOFF, attempt)
                log.warning("provider timed out, retrying", order_id=body.order_id, attempt=attempt,
                            delay_s=delay)  # fmt: skip
                await asyncio.sleep(delay)
    raise AssertionError("unreachable")


@app.delete("/payments/{order_id}")
async def refund(order_id: str) -> dict[str, Any]:
    """Refund an order's charge: the saga's compensating step when a later step failed."""
    business_context(order_id=order_id)
    # The explainer lists a compensation as recovery, not as one more failure.
    trace.get_current_span().set_attribute("clew.compensation", True)
    db = connect("payments")
    try:
        rows = sql(db, "SELECT charge_id FROM payments WHERE order_id = ? AND status = 'charged'",
                   order_id)  # fmt: skip
        if not rows:
            return {"order_id": order_id, "refunded": False}
        async with httpx.AsyncClient(base_url=env(PROVIDER_URL), timeout=2.0) as client:
            response = await client.post(f"/v1/charges/{rows[0][0]}/refunds")
            response.raise_for_status()
        sql(db, "UPDATE payments SET status = 'refunded' WHERE order_id = ?", order_id)
        db.commit()
    finally:
        db.close()
    log.info("payment refunded", charge_id=rows[0][0])
    return {"order_id": order_id, "refunded": True}
