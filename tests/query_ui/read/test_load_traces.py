"""Several traces read together (the comparison) are what each read alone would be."""

from __future__ import annotations

from dataclasses import replace

import pytest

from clew.collector.store.embedded import ChdbStore
from clew.query_ui.errors import NotFoundError
from clew.query_ui.read import load
from clew.query_ui.read.story import Story
from clew.query_ui.settings import Settings as UISettings
from tests.query_ui import traces
from tests.query_ui.shop import FAILED_ORDER, Shop

Stored = tuple[UISettings, ChdbStore, Shop]


def _same(together: Story, alone: Story) -> None:
    assert together.spans == alone.spans
    assert [s.span_id for s in together.failed_spans()] == [s.span_id for s in alone.failed_spans()]
    assert together.logs == alone.logs
    assert together.limits == alone.limits
    assert [together.back_links(s) for s in together.spans] == [
        alone.back_links(s) for s in alone.spans
    ]


@pytest.mark.parametrize(("logs", "links"), [(True, False), (False, False), (True, True)])
def test_two_traces_read_together_equal_each_read_alone(
    shop_store: Stored, logs: bool, links: bool
) -> None:
    _, store, shop = shop_store
    ids = [shop.failed_trace, shop.good_trace]
    together = load.load_traces(store, ids, logs=logs, links=links)
    assert [story.trace_ids for story in together] == [(shop.failed_trace,), (shop.good_trace,)]
    for story, trace_id in zip(together, ids, strict=True):
        _same(story, load.load_trace(store, trace_id, logs=logs, links=links))
    assert together[0].failed_spans() and not together[1].failed_spans()


def test_traces_read_together_each_get_the_links_to_their_own_spans(shop_store: Stored) -> None:
    # The back-links of several traces come from one query; each story keeps its own.
    _, store, shop = shop_store
    producer, other = load.load_traces(store, [shop.producer_span.trace_id, shop.good_trace])
    alone = load.load_trace(store, shop.producer_span.trace_id)
    linked = [link for s in producer.spans for link in producer.back_links(s)]
    assert linked and linked == [link for s in alone.spans for link in alone.back_links(s)]
    assert not [link for s in other.spans for link in other.back_links(s)]


def test_the_span_limit_holds_for_each_trace(
    shop_store: Stored, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, store, shop = shop_store
    sizes = {t: len(load.load_trace(store, t).spans) for t in (shop.failed_trace, shop.good_trace)}
    cap = min(sizes.values())  # the smaller trace fits, the larger one does not
    assert max(sizes.values()) > cap
    monkeypatch.setattr(load, "DEFAULT_LIMITS", load.Limits(max_spans=cap))
    stories = load.load_traces(store, list(sizes), logs=False, links=False)
    for story, (trace_id, size) in zip(stories, sizes.items(), strict=True):
        assert len(story.spans) == min(size, cap), trace_id
        cut = any("spans were read" in note for note in story.limits)
        assert cut == (size > cap), (trace_id, story.limits)


def test_an_unknown_id_among_them_is_named(shop_store: Stored) -> None:
    _, store, shop = shop_store
    missing = "deadbeef" * 4
    with pytest.raises(NotFoundError, match=missing):
        load.load_traces(store, [shop.good_trace, missing])


def test_a_read_without_the_resource_differs_only_in_resource_and_scope(
    shop_store: Stored,
) -> None:
    # Statistics, comparison and flame graph read without the resource (never shown there).
    _, store, shop = shop_store
    full = load.load_trace(store, shop.failed_trace, logs=False, links=False)
    bare = load.load_trace(store, shop.failed_trace, logs=False, links=False, resource=False)
    assert all(s.resource.get("service.name") == s.service for s in full.spans)
    assert any(s.scope for s in full.spans)
    assert all(not s.resource and not s.scope for s in bare.spans)
    assert [replace(s, resource={}, scope="") for s in full.spans] == list(bare.spans)
    assert [s.span_id for s in bare.failed_spans()] == [s.span_id for s in full.failed_spans()]


def test_a_story_has_the_logs_of_the_traces_its_links_bring_in(shop_store: Stored) -> None:
    # The keyed traces' logs are read beside their spans; a trace that a link brings in (here
    # a relay without the key, linking to the order's producer) has its logs read too. Last in
    # the module: it adds a trace to the module's store.
    _, store, shop = shop_store
    extra = traces.Story(base_ns=shop.producer_span.start_ns)
    relay = extra.span(
        "relay", "outbox relay", at=2_000, ms=5, kind="Producer", links=(shop.producer_span,)
    )
    extra.log(relay, "relay", "ERROR", "relay gave up on the outbox row", at=2_002)
    extra.write(store)
    story = load.load_story(store, "order.id", FAILED_ORDER)
    assert relay.trace_id in story.trace_ids
    assert shop.consumer_trace in story.trace_ids
    bodies = [record.body for record in story.logs]
    assert "relay gave up on the outbox row" in bodies
    assert f"payment failed for order {FAILED_ORDER}" in bodies  # the keyed traces' own
    assert len(bodies) == len(set(bodies))  # each record once


def test_a_story_has_the_logs_of_a_span_that_ran_long_after_the_key_was_last_seen(
    shop_store: Stored,
) -> None:
    # The keyed traces' logs are first read in the window of the key's sightings (plus a
    # margin); a span without the key that ends minutes later makes the loader read them again
    # in the spans' own window, so its log is not lost. A new order: the shop's are untouched.
    _, store, shop = shop_store
    late = traces.Story(base_ns=shop.producer_span.start_ns + 3_600 * 10**9)
    root = late.span("batch", "POST /settle", ms=50, attrs={"order.id": "ord-late"})
    job = late.span("batch", "settle ledger", parent=root, at=10, ms=300_000)  # five minutes
    late.log(job, "batch", "ERROR", "ledger settlement gave up", at=290_000)
    late.log(root, "batch", "INFO", "settlement queued", at=5)
    late.write(store)
    story = load.load_story(store, "order.id", "ord-late")
    assert [record.body for record in story.logs] == [
        "settlement queued",
        "ledger settlement gave up",
    ]
    assert [s.span_id for s in story.failed_spans()] == [job.span_id]


def test_a_story_has_the_logs_without_a_trace_that_carry_its_key(shop_store: Stored) -> None:
    # A log written outside any trace (a nightly job's line about an order) is found by the
    # key in its attributes, in the window of the order's traces. Last in the module: it adds
    # an order to the module's store.
    _, store, shop = shop_store
    order = "ord-traceless"
    story = traces.Story(base_ns=shop.producer_span.start_ns + 7_200 * 10**9)
    root = story.span("billing", "POST /invoices", ms=20, attrs={"order.id": order})
    story.log(root, "billing", "INFO", f"invoice drafted for {order}", at=2)
    story.log(None, "billing", "WARN", f"nightly export skipped {order}", at=30,
              attrs={"order.id": order})  # fmt: skip
    story.log(None, "billing", "WARN", "nightly export skipped ord-other", at=31,
              attrs={"order.id": "ord-other"})  # fmt: skip
    story.write(store)
    found = load.load_story(store, "order.id", order)
    assert [record.body for record in found.logs] == [
        f"invoice drafted for {order}",
        f"nightly export skipped {order}",
    ]
