"""inventory: reserves stock in its own database; a stock audit can hold the database lock."""

from __future__ import annotations

import clew.instrumentation.auto  # noqa: F401  (first, so it sees the libraries load)

# isort: split
import threading
import time
from typing import Any

import structlog
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from opentelemetry import trace
from pydantic import BaseModel

from clew.demo.shop.common import configure_logging, connect, health, migrate
from clew.demo.shop.common import run as sql
from clew.instrumentation import business_context

STOCK = {"mug": 1_000_000, "tee": 1_000_000, "poster": 1_000_000, "rare-vinyl": 0}

configure_logging()
log = structlog.get_logger("inventory")
tracer = trace.get_tracer("clew.demo.inventory")
migrate(
    "inventory",
    "CREATE TABLE IF NOT EXISTS stock (sku TEXT PRIMARY KEY, available INTEGER)",
    "CREATE TABLE IF NOT EXISTS reservations"
    " (order_id TEXT PRIMARY KEY, sku TEXT, quantity INTEGER)",
    *(f"INSERT OR IGNORE INTO stock VALUES ('{sku}', {n})" for sku, n in STOCK.items()),  # noqa: S608
)
app = FastAPI(title="inventory")
app.include_router(health)


class OutOfStock(Exception):
    """Fewer items are available than the order asks for."""


class Reservation(BaseModel):
    order_id: str
    sku: str
    quantity: int


@app.post("/reservations", response_model=None)
def reserve(body: Reservation) -> dict[str, Any] | JSONResponse:
    """Take the items out of stock for the order, or answer 409 when there are not enough."""
    business_context(order_id=body.order_id)
    db = connect("inventory")
    try:
        # Waits on the database lock (sqlite busy timeout) while a stock audit holds it.
        sql(db, "UPDATE stock SET available = available - ? WHERE sku = ? AND available >= ?",
            body.quantity, body.sku, body.quantity)  # fmt: skip
        if db.total_changes == 0:
            raise OutOfStock(f"{body.sku}: fewer than {body.quantity} available")
        sql(db, "INSERT OR REPLACE INTO reservations VALUES (?, ?, ?)",
            body.order_id, body.sku, body.quantity)  # fmt: skip
        db.commit()
    except OutOfStock as exc:
        log.error("out of stock", sku=body.sku, exc_info=exc)
        return JSONResponse({"error": "out_of_stock", "detail": str(exc)}, status_code=409)
    finally:
        db.close()
    log.info("stock reserved", sku=body.sku, quantity=body.quantity)
    return {"order_id": body.order_id, "reserved": body.quantity}


class Audit(BaseModel):
    seconds: float


@app.post("/admin/stock-audit")
def stock_audit(body: Audit) -> dict[str, float]:
    """Count the stock holding an exclusive lock for `seconds`; answer once the lock is held."""
    held = threading.Event()
    threading.Thread(target=_audit, args=(body.seconds, held), daemon=True).start()
    held.wait(10)
    return {"locked_for_s": body.seconds}


def _audit(seconds: float, held: threading.Event) -> None:
    # A job of its own (its own trace, as a cron job's would be): its span covers the whole
    # transaction, and its statements on the stock table are its children.
    with tracer.start_as_current_span("stock audit"):
        db = connect("inventory")
        try:
            sql(db, "BEGIN EXCLUSIVE")
            held.set()
            sql(db, "SELECT sum(available) FROM stock")
            time.sleep(seconds)  # a slow report, holding every writer and reader back
            db.commit()
        finally:
            db.close()
        log.info("stock audit done", seconds=seconds)
