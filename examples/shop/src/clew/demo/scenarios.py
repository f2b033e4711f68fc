"""The demo's orders: which fail how, drawn from a seed, each fault with its known root cause."""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from clew.demo.shop.provider import CARD_DECLINED, CARD_OK, CARD_SLOW_ONCE

SKUS = ("mug", "tee", "poster")
ADDRESSES = ("12 Rue des Lilas, 75011 Paris", "Hauptstrasse 5, 10115 Berlin", "1 High St, Leeds")
LOCK_SECONDS = 4.0
"""How long the stock audit holds the inventory database (the gateway waits 2 s for it)."""


class Fault(StrEnum):
    """What goes wrong with an order."""

    NONE = "none"
    CARD_DECLINED = "card_declined"
    INVENTORY_LOCK = "inventory_lock"
    POISON_MESSAGE = "poison_message"
    PROVIDER_TIMEOUT_ONCE = "provider_timeout_once"
    ORDERS_BUG = "orders_bug"
    OUT_OF_STOCK = "out_of_stock"


FAULTS = tuple(fault for fault in Fault if fault is not Fault.NONE)


@dataclass(frozen=True)
class Cause:
    """The known root cause of a fault: where it started and what was raised there."""

    service: str
    operation: str
    """What the span did (its display name)."""
    error_type: str
    message: str
    """A part of the message the diagnosis gives."""
    recovery: bool = False
    """Whether the diagnosis lists a compensation (the saga's refund) as recovery."""
    suspect: str = ""
    """The contention suspect the diagnosis names (the span that held the lock)."""


CAUSES: dict[Fault, Cause | None] = {
    Fault.NONE: None,
    Fault.CARD_DECLINED: Cause(
        "payments", "POST /payments", "CardDeclined", "card declined by the provider"
    ),
    # The slow UPDATE waiting for the lock; it did not fail itself, so it is a slow call.
    Fault.INVENTORY_LOCK: Cause(
        "inventory",
        "sqlite UPDATE stock",
        "SlowCall",
        "gave up after 2",
        recovery=True,
        suspect="stock audit",
    ),
    Fault.POISON_MESSAGE: Cause(
        "fulfilment", "process orders.placed", "UnicodeEncodeError", "'latin-1' codec"
    ),
    Fault.PROVIDER_TIMEOUT_ONCE: None,  # the retry succeeds: not a failure
    Fault.ORDERS_BUG: Cause("orders", "POST /orders", "KeyError", "same-day"),
    Fault.OUT_OF_STOCK: Cause(
        "inventory", "POST /reservations", "OutOfStock", "rare-vinyl", recovery=True
    ),
}


@dataclass(frozen=True)
class PlannedOrder:
    """One checkout the traffic generator will place."""

    order_id: str
    fault: Fault
    body: dict[str, Any]


def plan(seed: int, count: int, run_id: str) -> list[PlannedOrder]:
    """`count` orders; every block of 12 holds each fault once and six good orders, shuffled."""
    rng = random.Random(seed)
    faults: list[Fault] = []
    while len(faults) < count:
        block = [*FAULTS, *[Fault.NONE] * len(FAULTS)]
        rng.shuffle(block)
        faults.extend(block)
    return [_order(rng, f"ord-{run_id}-{n:04d}", fault) for n, fault in enumerate(faults[:count])]


def _order(rng: random.Random, order_id: str, fault: Fault) -> PlannedOrder:
    body: dict[str, Any] = {
        "order_id": order_id,
        "sku": rng.choice(SKUS),
        "quantity": rng.randint(1, 3),
        "card": CARD_OK,
        "delivery": rng.choice(("standard", "express")),
        "address": rng.choice(ADDRESSES),
    }
    body.update(_trigger(fault))
    return PlannedOrder(order_id, fault, body)


def _trigger(fault: Fault) -> dict[str, Any]:
    """What in the order makes the fault happen (the lock is taken by the generator itself)."""
    triggers: dict[Fault, dict[str, Any]] = {
        Fault.CARD_DECLINED: {"card": CARD_DECLINED},
        Fault.PROVIDER_TIMEOUT_ONCE: {"card": CARD_SLOW_ONCE},
        Fault.ORDERS_BUG: {"delivery": "same-day"},
        Fault.OUT_OF_STOCK: {"sku": "rare-vinyl", "quantity": 1},
        # The label printer speaks latin-1; this address does not fit it.
        Fault.POISON_MESSAGE: {"address": "\U0001f3e0 Flat 2, 7 Canal St, Manchester"},
    }
    return triggers.get(fault, {})
