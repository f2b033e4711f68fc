"""After `clew demo`: the home page shows the shop's services and one failure group per
injected fault, each with its count; the map and a service page draw; screenshots are kept.

The demo runs once for the module (tests/e2e/test_demo.py's fixture) with the overview job
told to group an order 5 s after its data stops, every 2 s, and to pair every closed minute.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser

from clew.demo.scenarios import CAUSES, Fault
from tests.e2e.test_demo import ORDERS, Demo, demo  # noqa: F401 - the module's demo fixture
from tests.support.browser import browser, guarded_page, screenshot  # noqa: F401

SHOP = {"gateway", "orders", "payments", "inventory", "fulfilment"}
FAULTS = [f for f in Fault if CAUSES[f] is not None]
BUSINESS = {Fault.CARD_DECLINED, Fault.OUT_OF_STOCK}
pytestmark = [pytest.mark.kafka, pytest.mark.timeout(900)]


@pytest.fixture(scope="module", autouse=True)
def _fast_overview_job() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:  # read by the demo's `clew serve`
        patch.setenv("CLEW_OVERVIEW_QUIET_SECONDS", "5")
        patch.setenv("CLEW_OVERVIEW_INTERVAL_SECONDS", "2")
        patch.setenv("CLEW_OVERVIEW_EDGE_LATENESS_SECONDS", "0")
        yield


def _until(running: Demo, path: str, done: Callable[[Any], bool], seconds: float = 180) -> Any:
    """The API's answer once `done(answer)` holds (the job works in the background)."""
    deadline = time.monotonic() + seconds
    while True:
        found = running.get(path)
        if done(found) or time.monotonic() > deadline:
            return found
        time.sleep(1)


def _short(error_type: str) -> str:
    return error_type.rsplit(".", 1)[-1]


def test_one_group_per_injected_fault_with_its_count(demo: Demo) -> None:  # noqa: F811
    body = _until(demo, "/api/failures?lookback=1h", lambda b: len(b["groups"]) >= len(FAULTS))
    found = {(g["service"], _short(g["error_type"])): g for g in body["groups"]}
    expected = {}
    for fault in FAULTS:
        cause = CAUSES[fault]
        assert cause is not None
        count = sum(1 for order in demo.orders if order.fault is fault)
        expected[(cause.service, cause.error_type)] = (count, fault in BUSINESS)
    assert {k: (g["count"], g["business"]) for k, g in found.items()} == expected, body
    for group in body["groups"]:
        assert group["new"] is True
        assert {e["value"] for e in group["examples"]} <= set(demo.failed)


def test_the_home_page_in_a_browser(demo: Demo, browser: Browser) -> None:  # noqa: F811
    _until(demo, "/api/failures?lookback=1h", lambda b: len(b["groups"]) >= len(FAULTS))
    services = demo.get("/api/services?lookback=1h")["services"]
    assert {s["name"] for s in services} >= SHOP
    with guarded_page(browser) as page:
        page.goto(f"{demo.ui}/?lookback=1h")
        shown = set(page.locator("#services tr[data-service]").evaluate_all(
            "rows => rows.map(r => r.dataset.service)"))  # fmt: skip
        assert shown >= SHOP
        assert page.locator("#failures tr.group").count() == len(FAULTS)
        assert page.locator("#failures tr.business").count() == len(BUSINESS)
        assert page.locator("#failures .badge.new").count() == len(FAULTS)
        screenshot(page, "overview-home")
        page.locator("#failures tr.group .examples a").first.click()
        page.wait_for_url("**/orders/**")
        assert page.locator("#diagnosis").count() == 1
        screenshot(page, "overview-home-example-order")


def test_the_map_and_a_service_page_in_a_browser(demo: Demo, browser: Browser) -> None:  # noqa: F811
    body = _until(demo, "/api/map?lookback=1h",
                  lambda b: any(e["source"] == "gateway" for e in b["edges"]))  # fmt: skip
    pairs = {(e["source"], e["target"], e["kind"]) for e in body["edges"]}
    assert ("gateway", "payments", "http") in pairs and ("gateway", "orders", "http") in pairs
    assert ("orders", "fulfilment", "kafka") in pairs
    with guarded_page(browser) as page:
        page.goto(f"{demo.ui}/map?lookback=1h")
        nodes = set(page.locator("#service-map a.node").evaluate_all(
            "links => links.map(a => a.dataset.node)"))  # fmt: skip
        assert nodes >= SHOP | {"orders.placed"}
        assert page.locator("#service-map a.edge").count() >= 4
        screenshot(page, "overview-map")
        page.locator('#service-map a.node[data-node="payments"]').click()
        page.wait_for_url("**/services/payments**")
        assert page.locator("#operations tr[data-service]").count() >= 1
        assert page.locator("#failures tr.group").count() >= 1
        assert page.locator("#logs tr").count() >= 1
        screenshot(page, "overview-service-payments")
    assert len(demo.orders) == ORDERS
