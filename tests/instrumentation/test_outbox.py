"""clew.instrumentation.outbox: the context stored with an outbox row comes back at publish time."""

from __future__ import annotations

import json
import sqlite3

import pytest
from opentelemetry import baggage, trace

from clew.instrumentation import business_context, outbox
from tests.instrumentation.conftest import Telemetry
from tests.support.kafka import KafkaBroker

TRACER = trace.get_tracer(__name__)


def _store_row(db: sqlite3.Connection) -> None:
    """A request handler: writes an outbox row in its span, with an order id in baggage."""
    with TRACER.start_as_current_span("POST /orders/confirm"):
        business_context(order_id="o-7")
        db.cursor().execute(
            "INSERT INTO outbox (payload, context) VALUES (?, ?)",
            ("{}", outbox.capture("orders.placed")),
        )


def test_publish_joins_the_trace_that_wrote_the_row(telemetry: Telemetry) -> None:
    db = sqlite3.connect(":memory:")
    db.cursor().execute("CREATE TABLE outbox (payload TEXT, context TEXT)")
    _store_row(db)
    with outbox.polling():  # a relay's own reads are not traced
        rows = db.cursor().execute("SELECT payload, context FROM outbox").fetchall()
    ((_, stored),) = rows
    with outbox.restored(stored):
        assert baggage.get_baggage("order.id") == "o-7"
        with TRACER.start_as_current_span("orders.placed send", kind=trace.SpanKind.PRODUCER):
            pass
    writer = telemetry.span("POST /orders/confirm")
    send = telemetry.span("orders.placed send")
    assert send.context.trace_id == writer.context.trace_id
    assert send.parent is not None and send.parent.span_id == writer.context.span_id
    assert dict(send.attributes or {})["order.id"] == "o-7"  # from the baggage
    assert [e.name for e in writer.events] == [outbox.STORED_EVENT]
    statements = [dict(s.attributes or {}).get("db.statement", "") for s in telemetry.spans()]
    assert not any(str(s).startswith("SELECT") for s in statements)
    assert any(str(s).startswith("INSERT") for s in statements)


def test_restored_replaces_the_relays_context(telemetry: Telemetry) -> None:
    with TRACER.start_as_current_span("relay loop"), outbox.restored(None):
        assert not trace.get_current_span().get_span_context().is_valid
        assert baggage.get_all() == {}
    with outbox.restored({}), TRACER.start_as_current_span("new trace") as span:
        assert getattr(span, "parent", "missing") is None


def test_captured_context_is_plain_json_headers(telemetry: Telemetry) -> None:
    with TRACER.start_as_current_span("handler") as span, business_context(order_id="o-8"):
        stored = json.loads(outbox.capture())
    trace_id = format(span.get_span_context().trace_id, "032x")
    assert stored["traceparent"].split("-")[1] == trace_id
    assert "order.id=o-8" in stored["baggage"]


@pytest.mark.parametrize("bad", ["[1, 2]", "not json"])
def test_a_corrupt_stored_context_is_a_clear_error(bad: str) -> None:
    with pytest.raises(ValueError), outbox.restored(bad):
        pass


def test_an_unsent_message_fails_in_the_trace_that_wrote_it(telemetry: Telemetry) -> None:
    db = sqlite3.connect(":memory:")
    db.cursor().execute("CREATE TABLE outbox (payload TEXT, context TEXT)")
    _store_row(db)
    ((stored,),) = db.cursor().execute("SELECT context FROM outbox").fetchall()
    outbox.unsent(stored, "orders.placed", ConnectionError("no broker at 127.0.0.1:9"))
    writer = telemetry.span("POST /orders/confirm")
    report = telemetry.span("orders.placed publish")
    assert report.parent is not None and report.parent.span_id == writer.context.span_id
    assert report.context.trace_id == writer.context.trace_id
    assert report.kind is trace.SpanKind.PRODUCER
    assert report.status.status_code is trace.StatusCode.ERROR
    attributes = dict(report.attributes or {})
    assert (attributes["order.id"], attributes[outbox.UNSENT_ATTRIBUTE]) == ("o-7", True)
    (event,) = report.events
    assert dict(event.attributes or {})["exception.type"] == "ConnectionError"
    assert not trace.get_current_span().get_span_context().is_valid  # the context is back


async def test_relay_publishes_through_the_broker_in_the_writers_trace(
    telemetry: Telemetry, kafka_broker: KafkaBroker, kafka_topic: str
) -> None:
    """A relay publishes the row with a real producer; the consumer is in the writer's trace."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

    db = sqlite3.connect(":memory:")
    db.cursor().execute("CREATE TABLE outbox (payload TEXT, context TEXT)")
    _store_row(db)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_broker.bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_broker.bootstrap)
    consumer.assign([TopicPartition(kafka_topic, 0)])
    await producer.start()
    await consumer.start()
    try:
        with outbox.polling():
            rows = db.cursor().execute("SELECT payload, context FROM outbox").fetchall()
        for payload, stored in rows:
            with outbox.restored(stored):
                await producer.send_and_wait(kafka_topic, payload.encode())
        await consumer.seek_to_beginning()
        message = await consumer.getone()
    finally:
        await consumer.stop()
        await producer.stop()
    assert message.value == b"{}"
    writer = telemetry.span("POST /orders/confirm")
    [sent] = [s for s in telemetry.spans() if s.kind is trace.SpanKind.PRODUCER]
    [received] = [s for s in telemetry.spans() if s.kind is trace.SpanKind.CONSUMER]
    assert sent.parent is not None and sent.parent.span_id == writer.context.span_id
    assert received.parent is not None and received.parent.span_id == sent.context.span_id
    assert {s.context.trace_id for s in (writer, sent, received)} == {writer.context.trace_id}
    assert [dict(s.attributes or {})["order.id"] for s in (sent, received)] == ["o-7", "o-7"]
