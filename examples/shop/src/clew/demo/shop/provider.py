"""A fake card provider: the third party payments calls; clew cannot see inside it.

Deliberately not instrumented, as a real provider is not. Test cards, like real providers':
one is always approved, one always declined, one answers slowly to the first attempt of each
idempotency key (the caller times out and retries with the same key). The same key always
gets the same answer, so a retry never charges twice.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Annotated, Any

import structlog
from fastapi import FastAPI, Header
from pydantic import BaseModel

from clew.demo.shop.common import configure_logging, health

CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000000002"
CARD_SLOW_ONCE = "4000000000000259"
SLOW_SECONDS = 1.5

configure_logging()
log = structlog.get_logger("card-provider")
app = FastAPI(title="card provider (fake)")
app.include_router(health)
_answers: dict[str, dict[str, Any]] = {}
_seen: set[str] = set()
_ids = itertools.count(1)


class Charge(BaseModel):
    """A charge request; the idempotency key travels as a header."""

    card: str
    amount_cents: int


@app.post("/v1/charges")
async def charge(body: Charge, idempotency_key: Annotated[str, Header()] = "") -> dict[str, Any]:
    """Approve or decline; answer a repeated key with the first answer."""
    if idempotency_key in _answers:
        return _answers[idempotency_key]
    if body.card == CARD_SLOW_ONCE and idempotency_key not in _seen:
        _seen.add(idempotency_key)
        await asyncio.sleep(SLOW_SECONDS)  # the caller has given up by now
    approved = body.card != CARD_DECLINED
    answer: dict[str, Any] = {
        "id": f"ch_{next(_ids):06d}",
        "approved": approved,
        "decline_code": None if approved else "insufficient_funds",
    }
    if _answers.setdefault(idempotency_key, answer) is answer:
        log.info("charge answered", key=idempotency_key, approved=approved, charge=answer["id"])
    return _answers[idempotency_key]


@app.post("/v1/charges/{charge_id}/refunds")
async def refund(charge_id: str) -> dict[str, str]:
    """Refunds always succeed."""
    return {"id": f"re_{next(_ids):06d}", "charge": charge_id, "status": "succeeded"}
