"""Hostile strings in every field the diagnosis reads or shows: names, statements, tables,
Kafka places, peers, tracebacks. Diagnosed through the store (both backends), as text and as
the order page: nothing breaks, nothing runs, every value reaches ClickHouse as a parameter."""

from __future__ import annotations

from fastapi.testclient import TestClient

from clew.common.store import Store
from clew.query_ui import text
from clew.query_ui.app import create_app
from clew.query_ui.explain import diagnose
from clew.query_ui.settings import Settings as UISettings
from tests.query_ui.explain.scenarios import Builder
from tests.query_ui.explain.stories import db_call, http_client, http_server
from tests.query_ui.explain.test_store import write
from tests.security.hostile import CORPUS, SQL, XSS


def _hostile_story(value: str, payload: str) -> Builder:
    # The statements are span attributes a service reported, never run: hostile on purpose.
    b = Builder(value)
    other = b.trace()
    statement = f"UPDATE {payload} SET x = 1"  # noqa: S608
    db_call(b, other, payload, statement, at=-10, ms=3_000, keyed=False,
            attrs={"db.collection.name": payload})  # fmt: skip
    t = b.trace()
    srv = http_server(b, t, payload, "POST", payload, ms=2_100, status=504)
    cli = http_client(b, t, payload, "POST", payload[:200] or "x", payload, parent=srv, at=2,
                      ms=2_000, status=None, exception=("httpx.ReadTimeout", payload))  # fmt: skip
    inner = http_server(b, t, payload, "POST", payload, parent=cli, at=3, ms=2_900)
    db_call(b, t, payload, statement, parent=inner, at=4, ms=2_800,
            attrs={"db.collection.name": payload, "messaging.destination.name": payload,
                   "messaging.kafka.message.key": payload})  # fmt: skip
    trace_back = f'  File "{payload}", line 1'
    b.log(srv, 50, "ERROR", payload,
          **{"exception.message": payload, "exception.stacktrace": trace_back})  # fmt: skip
    return b


def test_hostile_values_are_diagnosed_and_shown_as_text(store: Store) -> None:
    payloads = [*[p for p in CORPUS if "\x00" not in p][:40], SQL[3], XSS[0], "stock"]
    for n, payload in enumerate(payloads):
        value = f"o-hostile-{n}"
        write(store, _hostile_story(value, payload))
        found = diagnose(store, "order.id", value).to_dict()
        assert found["status"] == "failed", found
        assert text.diagnosis(found)
    assert store.query("SELECT count() FROM otel_traces").rows[0][0] > 0  # nothing dropped


def test_the_order_page_escapes_what_the_diagnosis_shows(store: Store) -> None:
    write(store, _hostile_story("o-hostile-page", XSS[0]))
    settings = UISettings(business_keys=["order.id"])
    with TestClient(create_app(settings, store)) as client:
        page = client.get("/orders/o-hostile-page")
    assert page.status_code == 200
    assert XSS[0] not in page.text and "&lt;script&gt;" in page.text


def test_a_chain_deeper_than_pythons_recursion_limit_is_diagnosed(store: Store) -> None:
    # Each span calls the next, 2,500 levels down, and the last one fails: the explainer's
    # walks (clock skew, descendants, calls) were recursive and failed such a trace with
    # RecursionError. Through the store and as text; the waterfall has its own test.
    b = Builder("o-deep-chain")
    t = b.trace()
    step = b.span(t, "handle", "gateway", ms=3_000)
    for n in range(1, 2_500):
        last = n == 2_499
        step = b.span(t, f"step {n}", "worker" if n % 2 else "gateway", parent=step, at=n / 1_000,
                      ms=3_000 - n, kind="Internal", keyed=n < 2,
                      exception=("ValueError", "the deepest step failed") if last else None,
                      status="Error" if last else "Unset")  # fmt: skip
    write(store, b)
    found = diagnose(store, "order.id", "o-deep-chain").to_dict()
    assert found["status"] == "failed"
    assert [c["span_id"] for c in found["root_causes"]] == [step.span_id]
    assert "the deepest step failed" in text.diagnosis(found)
