"""The traffic generator: places the planned orders one by one and learns how each ended."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from clew.demo.scenarios import LOCK_SECONDS, Fault, PlannedOrder

SETTLE_SECONDS = 60.0
"""How long to wait for fulfilment to ship or fail the orders the checkout accepted."""
UNSETTLED = frozenset({"pending", "placed"})


@dataclass
class Outcome:
    """How one order ended, as the shop itself saw it."""

    order: PlannedOrder
    http_status: int
    status: str = "unknown"
    """The order's final status in the orders service (shipped, fulfilment_failed, ...)."""

    @property
    def failed(self) -> bool:
        """Refused at checkout, or (once its status is known) not shipped."""
        return self.http_status != 200 or self.status not in ("unknown", "shipped")


@dataclass(frozen=True)
class Shop:
    """Where the generator reaches the shop."""

    gateway: str
    orders: str
    inventory: str


Progress = Callable[[list[Outcome]], None]


def place_all(shop: Shop, orders: list[PlannedOrder], progress: Progress) -> list[Outcome]:
    """Place each order in turn (one at a time, so each fault hits only its own order)."""
    outcomes: list[Outcome] = []
    with httpx.Client(timeout=30.0) as client:
        for order in orders:
            outcomes.append(place(client, shop, order))
            progress(outcomes)
        settle(client, shop, outcomes)
    progress(outcomes)
    return outcomes


def place(client: httpx.Client, shop: Shop, order: PlannedOrder) -> Outcome:
    """One checkout; for the lock fault, start a stock audit first and outwait it after."""
    started = time.monotonic()
    if order.fault is Fault.INVENTORY_LOCK:
        client.post(f"{shop.inventory}/admin/stock-audit", json={"seconds": LOCK_SECONDS})
    response = client.post(f"{shop.gateway}/checkout", json=order.body)
    if order.fault is Fault.INVENTORY_LOCK:
        # Later orders must not queue behind the same lock and time out as well.
        time.sleep(max(0.0, started + LOCK_SECONDS + 0.3 - time.monotonic()))
    return Outcome(order, response.status_code)


def settle(client: httpx.Client, shop: Shop, outcomes: list[Outcome]) -> None:
    """Read every order's final status, waiting while fulfilment still works on some."""
    deadline = time.monotonic() + SETTLE_SECONDS
    for outcome in outcomes:
        while True:
            response = client.get(f"{shop.orders}/orders/{outcome.order.order_id}")
            outcome.status = (
                response.json().get("status", "missing") if response.is_success else "missing"
            )
            if outcome.status not in UNSETTLED or time.monotonic() > deadline:
                break
            time.sleep(0.2)
