"""The shop's services as real uvicorn processes on a real Kafka broker, without clew.

What the shop itself answers for each seeded fault: the HTTP status of the checkout and the
order's final status, the payment's retry and idempotency, the saga's refund.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from clew.demo import services
from clew.demo.scenarios import Fault, plan
from clew.demo.shop.provider import CARD_SLOW_ONCE
from clew.demo.stack import Stack
from clew.demo.traffic import Outcome, Shop, place_all
from tests.support.kafka import KafkaBroker
from tests.support.ports import free_port

# fault → (checkout HTTP status, final order status in the orders service)
EXPECTED = {
    Fault.NONE: (200, "shipped"),
    Fault.CARD_DECLINED: (402, "cancelled"),
    Fault.INVENTORY_LOCK: (504, "cancelled"),
    Fault.POISON_MESSAGE: (200, "fulfilment_failed"),
    Fault.PROVIDER_TIMEOUT_ONCE: (200, "shipped"),
    Fault.ORDERS_BUG: (500, "missing"),
    Fault.OUT_OF_STOCK: (409, "cancelled"),
}


@pytest.fixture(scope="module")
def shop(
    kafka_broker: KafkaBroker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[dict[str, str], Path]]:
    data_dir = tmp_path_factory.mktemp("shop")
    stack = Stack(data_dir / "logs")
    # Nothing listens there: these tests look at the shop's behaviour, not its telemetry.
    telemetry = services.Telemetry(f"http://127.0.0.1:{free_port()}", kafka_broker.bootstrap,
                                   data_dir)  # fmt: skip
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OTEL_SDK_DISABLED", "true")
        try:
            yield services.start_shop(stack, telemetry), stack.log_dir
        finally:
            stack.stop()


@pytest.fixture(scope="module")
def outcomes(shop: tuple[dict[str, str], Path]) -> list[Outcome]:
    urls, _ = shop
    shop_urls = Shop(urls["gateway"], urls["orders"], urls["inventory"])
    placed: list[Outcome] = place_all(shop_urls, plan(4, 12, "unit"), lambda _: None)
    return placed


@pytest.mark.parametrize("fault", list(Fault))
def test_each_fault_ends_the_order_as_the_shop_says(outcomes: list[Outcome], fault: Fault) -> None:
    ended = {(o.http_status, o.status) for o in outcomes if o.order.fault is fault}
    assert ended == {EXPECTED[fault]}


def test_failed_is_every_order_not_shipped(outcomes: list[Outcome]) -> None:
    failed = {o.order.fault for o in outcomes if o.failed}
    assert failed == {f for f, (_, status) in EXPECTED.items() if status != "shipped"}


def test_the_payment_retries_a_timeout_with_the_same_key(shop: tuple[dict[str, str], Path]) -> None:
    urls, logs = shop
    body = {"order_id": "unit-retry", "card": CARD_SLOW_ONCE, "amount_cents": 500}
    first = httpx.post(f"{urls['payments']}/payments", json=body, timeout=10)
    assert first.status_code == 200, first.text
    again = httpx.post(f"{urls['payments']}/payments", json=body, timeout=10)
    assert again.json()["charge_id"] == first.json()["charge_id"]
    events = [json.loads(line) for line in (logs / "payments.log").read_text().splitlines()
              if line.startswith("{")]  # fmt: skip
    retries = [e for e in events if e["event"] == "provider timed out, retrying"]
    assert [e["attempt"] for e in retries if e["order_id"] == "unit-retry"] == [1]


def test_a_refund_happens_once(shop: tuple[dict[str, str], Path]) -> None:
    urls, _ = shop
    body = {"order_id": "unit-refund", "card": "4242424242424242", "amount_cents": 500}
    assert httpx.post(f"{urls['payments']}/payments", json=body, timeout=10).status_code == 200
    refund = f"{urls['payments']}/payments/unit-refund"
    assert httpx.delete(refund, timeout=10).json()["refunded"] is True
    assert httpx.delete(refund, timeout=10).json()["refunded"] is False


def test_bad_checkout_input_is_a_422(shop: tuple[dict[str, str], Path]) -> None:
    urls, _ = shop
    response = httpx.post(f"{urls['gateway']}/checkout", json={"order_id": "x"}, timeout=10)
    assert response.status_code == 422


def test_clew_traffic_places_orders_against_a_running_shop(
    shop: tuple[dict[str, str], Path],
) -> None:
    urls, _ = shop
    clew = str(Path(sys.executable).with_name("clew"))
    argv = [clew, "traffic", "--gateway", urls["gateway"], "--orders-service", urls["orders"],
            "--inventory", urls["inventory"], "--orders", "3", "--seed", "2"]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    expected = [EXPECTED[o.fault] for o in plan(2, 3, "x")]
    failed = [status for status in expected if status[1] != "shipped"]
    lines = done.stdout.splitlines()
    assert f"3 orders, {len(failed)} failed; open one, or ask clew why:" in lines
    pages = [line for line in lines if line.startswith("ord-") and "/orders/ord-" in line]
    commands = [line for line in lines if " why ord-" in line and line.startswith("    ")]
    assert len(pages) == len(commands) == len(failed), lines
