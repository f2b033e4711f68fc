"""aiokafka against the real broker: spans, the handler's context, errors, failed sends."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

import aiokafka
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import MessageSizeTooLargeError
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

import clew.instrumentation as ci
from clew.instrumentation.kafka import AIOKafkaInstrumentor
from tests.instrumentation.conftest import Telemetry
from tests.support.kafka import KafkaBroker

tracer = trace.get_tracer(__name__)
log = logging.getLogger("consumer")


@pytest.fixture
async def producer(kafka_broker: KafkaBroker) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_broker.bootstrap)
    await producer.start()
    yield producer
    await producer.stop()


@pytest.fixture
async def consumer(kafka_broker: KafkaBroker, kafka_topic: str) -> AsyncIterator[AIOKafkaConsumer]:
    """A started consumer assigned to the topic's partition; tests may stop it themselves."""
    started = consumer_for(kafka_broker, kafka_topic)
    await started.start()
    yield started
    await started.stop()


def consumer_for(broker: KafkaBroker, topic: str, group: str | None = None) -> AIOKafkaConsumer:
    options = {"bootstrap_servers": broker.bootstrap, "auto_offset_reset": "earliest"}
    if group is not None:
        return AIOKafkaConsumer(topic, group_id=group, **options)
    consumer = AIOKafkaConsumer(**options)
    consumer.assign([TopicPartition(topic, 0)])
    return consumer


async def produce(producer: AIOKafkaProducer, topic: str, order_id: str, count: int = 1) -> None:
    with tracer.start_as_current_span("request"), ci.business_context(order_id=order_id):
        for n in range(count):
            await producer.send_and_wait(topic, f"v{n}".encode(), key=order_id.encode())


def only(telemetry: Telemetry, kind: SpanKind) -> list[ReadableSpan]:
    return [s for s in telemetry.spans() if s.kind == kind]


def assert_handled_inside(telemetry: Telemetry, consumer_span: ReadableSpan, child: str) -> None:
    [handler] = [s for s in telemetry.spans() if s.name == child]
    assert handler.parent is not None and handler.parent.span_id == consumer_span.context.span_id
    assert handler.attributes["order.id"] == consumer_span.attributes["order.id"]
    [record] = [r.log_record for r in telemetry.logs() if r.log_record.body == child]
    assert (record.trace_id, record.span_id) == (handler.context.trace_id, handler.context.span_id)
    assert record.attributes["order.id"] == consumer_span.attributes["order.id"]


def by_offset(span: ReadableSpan) -> int:
    return int(span.attributes["messaging.kafka.message.offset"])  # type: ignore[index,arg-type]


def handle(name: str) -> None:
    with tracer.start_as_current_span(name):
        log.warning(name)


async def test_async_for_runs_the_handler_in_the_consumer_span(
    telemetry: Telemetry, kafka_broker: KafkaBroker, kafka_topic: str, producer: AIOKafkaProducer
) -> None:
    await produce(producer, kafka_topic, "o-1")
    consumer = consumer_for(kafka_broker, kafka_topic, group="g-async-for")
    await consumer.start()
    try:
        async for message in consumer:  # noqa: B007 (the last message is checked below)
            handle("handle async for")  # no clew line at all
            break
    finally:
        await consumer.stop()
    [sent] = only(telemetry, SpanKind.PRODUCER)
    [received] = only(telemetry, SpanKind.CONSUMER)
    assert received.context.trace_id == sent.context.trace_id
    assert received.parent is not None and received.parent.span_id == sent.context.span_id
    assert received.name == f"{kafka_topic} process"
    attributes = dict(received.attributes or {})
    assert attributes["messaging.system"] == "kafka"
    assert attributes["messaging.destination.name"] == kafka_topic
    assert attributes["messaging.destination.partition.id"] == "0"
    assert attributes["messaging.kafka.message.offset"] == message.offset
    assert attributes["messaging.kafka.message.key"] == "o-1"
    assert attributes["messaging.consumer.group.name"] == "g-async-for"
    assert attributes["order.id"] == "o-1"
    assert sent.attributes["order.id"] == "o-1"
    assert sent.attributes["messaging.kafka.message.offset"] == message.offset
    assert_handled_inside(telemetry, received, "handle async for")


async def test_exception_escaping_async_for_is_recorded_at_stop(
    telemetry: Telemetry,
    kafka_topic: str,
    producer: AIOKafkaProducer,
    consumer: AIOKafkaConsumer,
) -> None:
    await produce(producer, kafka_topic, "o-4")
    with pytest.raises(KeyError):
        try:
            async for _ in consumer:
                handle("handle then fail")
                raise KeyError("unknown sku")
        finally:
            await consumer.stop()  # the aiokafka idiom; no clew line in the handler
    [received] = only(telemetry, SpanKind.CONSUMER)
    assert received.status.status_code == StatusCode.ERROR
    assert received.events[0].attributes["exception.type"] == "KeyError"
    assert_handled_inside(telemetry, received, "handle then fail")


async def test_clean_stop_records_no_error(
    telemetry: Telemetry,
    kafka_topic: str,
    producer: AIOKafkaProducer,
    consumer: AIOKafkaConsumer,
) -> None:
    await produce(producer, kafka_topic, "o-5")
    try:
        await consumer.getone()
    finally:
        await consumer.stop()
    [received] = only(telemetry, SpanKind.CONSUMER)
    assert received.status.status_code == StatusCode.UNSET
    assert received.end_time is not None


async def test_getone_runs_the_handler_in_the_consumer_span(
    telemetry: Telemetry,
    kafka_topic: str,
    producer: AIOKafkaProducer,
    consumer: AIOKafkaConsumer,
) -> None:
    await produce(producer, kafka_topic, "o-2", count=2)
    try:
        for n in range(2):
            await consumer.getone()
            handle(f"handle getone {n}")
        assert trace.get_current_span().is_recording()  # the last record's span is still current
    finally:
        await consumer.stop()
    assert not trace.get_current_span().is_recording()  # stop() ended it and restored the context
    received = sorted(only(telemetry, SpanKind.CONSUMER), key=by_offset)
    assert len(received) == 2
    for n, span in enumerate(received):
        assert_handled_inside(telemetry, span, f"handle getone {n}")


async def test_getmany_with_message_context_records_errors(
    telemetry: Telemetry,
    kafka_topic: str,
    producer: AIOKafkaProducer,
    consumer: AIOKafkaConsumer,
) -> None:
    await produce(producer, kafka_topic, "o-3", count=2)
    handled = 0
    while handled < 2:  # each batch handled before the next poll, which ends its spans
        batches = await consumer.getmany(timeout_ms=1000)
        for record in [record for batch in batches.values() for record in batch]:
            with contextlib.suppress(ValueError), ci.message_context(record) as span:
                assert span is trace.get_current_span()
                handle(f"handle getmany {record.offset}")
                if record.offset == 1:
                    raise ValueError("bad order")
            handled += 1
    await consumer.stop()
    received = sorted(only(telemetry, SpanKind.CONSUMER), key=by_offset)
    for n, span in enumerate(received):
        assert_handled_inside(telemetry, span, f"handle getmany {n}")
    assert received[0].status.status_code == StatusCode.UNSET
    assert received[1].status.status_code == StatusCode.ERROR
    [event] = received[1].events
    assert event.attributes["exception.type"] == "ValueError"
    assert "bad order" in str(event.attributes["exception.stacktrace"])


async def test_send_refused_by_the_client_is_recorded(
    telemetry: Telemetry, kafka_broker: KafkaBroker, kafka_topic: str
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_broker.bootstrap, max_request_size=1000)
    await producer.start()
    try:
        with pytest.raises(MessageSizeTooLargeError):
            await producer.send(kafka_topic, b"x" * 5000)
    finally:
        await producer.stop()
    [sent] = only(telemetry, SpanKind.PRODUCER)
    assert sent.status.status_code == StatusCode.ERROR
    assert str(sent.events[0].attributes["exception.type"]).endswith("MessageSizeTooLargeError")


async def limit_message_size(broker: KafkaBroker, topic: str, limit: int) -> None:
    """Make the broker refuse the topic's messages larger than limit bytes."""
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

    admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
    await admin.start()
    try:
        config = {"max.message.bytes": str(limit)}
        await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, config)])
    finally:
        await admin.close()


async def test_send_refused_by_the_broker_is_recorded(
    telemetry: Telemetry, kafka_broker: KafkaBroker, kafka_topic: str
) -> None:
    await limit_message_size(kafka_broker, kafka_topic, 1000)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_broker.bootstrap)
    await producer.start()
    try:
        with pytest.raises(MessageSizeTooLargeError):
            await producer.send_and_wait(kafka_topic, b"x" * 5000)  # the client lets it through
    finally:
        await producer.stop()
    [sent] = only(telemetry, SpanKind.PRODUCER)
    assert sent.status.status_code == StatusCode.ERROR
    assert str(sent.events[0].attributes["exception.type"]).endswith("MessageSizeTooLargeError")


def test_uninstrument_unwraps(module_telemetry: Telemetry) -> None:
    instrumentor = AIOKafkaInstrumentor()
    wrapped = aiokafka.AIOKafkaConsumer.getone
    instrumentor.uninstrument()
    try:
        for owner, name in [
            (AIOKafkaProducer, "send"),
            (AIOKafkaConsumer, "getone"),
            (AIOKafkaConsumer, "getmany"),
            (AIOKafkaConsumer, "stop"),
        ]:
            assert not hasattr(getattr(owner, name), "__wrapped__"), name
    finally:
        instrumentor.instrument()
    assert type(aiokafka.AIOKafkaConsumer.getone) is type(wrapped)


async def test_keys_set_by_the_handler_stamp_the_open_consumer_span(
    telemetry: Telemetry,
    kafka_topic: str,
    producer: AIOKafkaProducer,
    consumer: AIOKafkaConsumer,
) -> None:
    """A message sent without business keys: the handler names the order itself."""
    await producer.send_and_wait(kafka_topic, b"o-c1")
    await producer.send_and_wait(kafka_topic, b"o-c2")
    try:
        record = await consumer.getone()
        ci.business_context(order_id=record.value.decode())
        handle("keyed by getone handler")
        [batch] = (await consumer.getmany(timeout_ms=5000)).values()
        with ci.message_context(batch[0]):
            ci.business_context(order_id=batch[0].value.decode())
            handle("keyed by getmany handler")
    finally:
        await consumer.stop()
    first, second = sorted(only(telemetry, SpanKind.CONSUMER), key=by_offset)
    assert (first.attributes["order.id"], second.attributes["order.id"]) == ("o-c1", "o-c2")  # type: ignore[index]
    assert_handled_inside(telemetry, first, "keyed by getone handler")
    assert_handled_inside(telemetry, second, "keyed by getmany handler")
