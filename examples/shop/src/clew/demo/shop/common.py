"""What every shop service shares: where the others are, its database, structlog, /healthz."""

from __future__ import annotations

import os
import random
import sqlite3
import sys
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import structlog
from fastapi import APIRouter

# Where each service finds the others and its data; `clew demo` sets them (stack.py).
GATEWAY_URL = "SHOP_GATEWAY_URL"
ORDERS_URL = "SHOP_ORDERS_URL"
PAYMENTS_URL = "SHOP_PAYMENTS_URL"
INVENTORY_URL = "SHOP_INVENTORY_URL"
PROVIDER_URL = "SHOP_PROVIDER_URL"
DATA_DIR = "SHOP_DATA_DIR"
KAFKA_BOOTSTRAP = "KAFKA_BOOTSTRAP_SERVERS"
ORDERS_TOPIC = "orders.placed"

health = APIRouter()


@health.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness for `clew demo` and docker-compose."""
    return {"status": "ok"}


def env(name: str, default: str | None = None) -> str:
    """A required setting from the environment, with a clear error when it is missing."""
    value = os.environ.get(name, default)
    if value is None:
        raise RuntimeError(f"the shop needs {name} in the environment (clew demo sets it)")
    return value


def _render(logger: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> str:
    """One JSON line per event, tracebacks included (clew's processor runs just before this)."""
    event_dict = structlog.processors.format_exc_info(logger, method_name, event_dict)
    return str(structlog.processors.JSONRenderer(sort_keys=True)(logger, method_name, event_dict))


def configure_logging() -> None:
    """structlog to stderr as JSON lines; clew.instrumentation adds trace ids and exports."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _render,
        ],
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )


def connect(name: str) -> sqlite3.Connection:
    """This service's own sqlite database (traced by the sqlite3 instrumentation)."""
    folder = Path(env(DATA_DIR, "./shop-data"))
    folder.mkdir(parents=True, exist_ok=True)
    # check_same_thread=False: FastAPI runs sync handlers on a thread pool; each call opens
    # its own connection anyway, so a connection never crosses threads concurrently.
    return sqlite3.connect(folder / f"{name}.db", timeout=10, check_same_thread=False)


def run(db: sqlite3.Connection, sql: str, *parameters: object) -> list[tuple[Any, ...]]:
    """Execute through a cursor (the traced path) and fetch what it returns."""
    cursor = db.cursor()
    cursor.execute(sql, parameters)
    return cursor.fetchall()


def migrate(name: str, *statements: str) -> None:
    """Create the service's tables if they are missing."""
    db = connect(name)
    try:
        for statement in statements:
            run(db, statement)
        db.commit()
    finally:
        db.close()


def backoff(base: float, attempt: int) -> float:
    """Seconds to wait after failed attempt `attempt`: exponential backoff plus jitter."""
    delay = base * 2.0 ** (attempt - 1)
    return delay + random.uniform(0, delay)  # jitter: the retries of many calls spread out
