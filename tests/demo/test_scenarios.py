"""The demo's plan of orders: seeded, reproducible, every fault in every block of twelve."""

from __future__ import annotations

from collections import Counter

import click

from clew.demo.scenarios import CAUSES, FAULTS, Fault, plan
from clew.demo.shop.provider import CARD_DECLINED, CARD_SLOW_ONCE


def test_the_same_seed_plans_the_same_orders() -> None:
    assert plan(5, 30, "r") == plan(5, 30, "r")
    assert [o.fault for o in plan(5, 30, "r")] != [o.fault for o in plan(6, 30, "r")]


def test_each_block_of_twelve_holds_every_fault_once() -> None:
    orders = plan(1, 36, "r")
    for start in range(0, 36, 12):
        counts = Counter(o.fault for o in orders[start : start + 12])
        expected: Counter[Fault] = Counter(FAULTS)
        expected[Fault.NONE] = 6
        assert counts == expected


def test_order_ids_are_unique_and_carry_the_run() -> None:
    ids = [o.order_id for o in plan(1, 24, "abc123")]
    assert len(set(ids)) == 24
    assert all(i.startswith("ord-abc123-") for i in ids)


def test_each_fault_is_triggered_by_the_order_itself() -> None:
    by_fault = {o.fault: o.body for o in plan(2, 12, "r")}
    assert by_fault[Fault.CARD_DECLINED]["card"] == CARD_DECLINED
    assert by_fault[Fault.PROVIDER_TIMEOUT_ONCE]["card"] == CARD_SLOW_ONCE
    assert by_fault[Fault.ORDERS_BUG]["delivery"] == "same-day"
    assert by_fault[Fault.OUT_OF_STOCK]["sku"] == "rare-vinyl"
    try:
        by_fault[Fault.POISON_MESSAGE]["address"].encode("latin-1")
    except UnicodeEncodeError:
        pass
    else:
        raise AssertionError("the poison address must not fit the latin-1 label printer")


def test_every_fault_has_a_known_outcome() -> None:
    assert set(CAUSES) == set(Fault)
    assert CAUSES[Fault.NONE] is None and CAUSES[Fault.PROVIDER_TIMEOUT_ONCE] is None


def test_demo_takes_the_options_of_clew_serve() -> None:
    from clew.collector.cli import serve
    from clew.demo.cli import demo

    def options(command: click.Command) -> dict[str, tuple[str, ...]]:
        return {p.name or "": (*p.opts, p.type.name) for p in command.params}

    served = options(serve)
    assert set(served) == {"host", "http_port", "grpc_port", "ui_port", "data_dir"}
    assert {name: options(demo)[name] for name in served} == served
    assert {"order_count", "seed"} <= set(options(demo))
