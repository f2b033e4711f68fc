"""A traced service tagging its work with two business keys (CLEW_BUSINESS_KEYS)."""

# ruff: noqa: I001
from __future__ import annotations

# The first import of the service, before FastAPI and the rest (keep it first).
import clew.instrumentation.auto  # noqa: F401


import logging

from fastapi import FastAPI

from clew.instrumentation import business_context

log = logging.getLogger("keys")
log.setLevel(logging.INFO)
app = FastAPI()


@app.get("/health")
def health() -> dict[str, bool]:
    return {"ok": True}


@app.post("/customers/{customer_id}/orders/{order_id}")
def place(customer_id: str, order_id: str) -> dict[str, str]:
    business_context(order_id=order_id, customer_id=customer_id)
    log.info("order placed")
    return {"order": order_id}
