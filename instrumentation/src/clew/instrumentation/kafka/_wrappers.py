"""wrapt wrappers for AIOKafkaProducer.send and AIOKafkaConsumer.getone/getmany/stop."""

from __future__ import annotations

import asyncio
import sys
import weakref
from collections.abc import Callable, Coroutine, MutableSequence
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.instrumentation.aiokafka import utils as contrib
from opentelemetry.semconv._incubating.attributes import messaging_attributes as messaging

from clew.instrumentation._consumer import Delivery, opened, record_error

TRACER: trace.Tracer = trace.get_tracer(__name__)
Wrapped = Callable[..., Coroutine[Any, Any, Any]]
Args = tuple[Any, ...]
Kwargs = dict[str, Any]

# Deliveries a consumer handed out, ended when it polls again or stops.
_BY_CONSUMER: weakref.WeakKeyDictionary[Any, list[Delivery]] = weakref.WeakKeyDictionary()


async def send(wrapped: Wrapped, producer: Any, args: Args, kwargs: Kwargs) -> Any:
    """A PRODUCER span from send() until the broker acknowledges or refuses the record."""
    args, kwargs = contrib._move_headers_to_kwargs(args, kwargs)
    headers = contrib._extract_send_headers(args, kwargs)
    if not isinstance(headers, MutableSequence):
        headers = kwargs["headers"] = list(headers or [])
    topic = contrib._extract_send_topic(args, kwargs)
    span = TRACER.start_span(contrib._get_span_name("send", topic), kind=trace.SpanKind.PRODUCER)
    contrib._enrich_send_span(
        span,
        bootstrap_servers=contrib._extract_bootstrap_servers(producer.client),
        client_id=contrib._extract_client_id(producer.client),
        topic=topic,
        partition=contrib._extract_argument("partition", 3, None, args, kwargs),
        key=contrib._deserialize_key(contrib._extract_send_key(args, kwargs)),
    )
    carrier = trace.set_span_in_context(span)
    propagate.inject(headers, context=carrier, setter=contrib._aiokafka_setter)
    try:
        with trace.use_span(span, record_exception=False, set_status_on_exception=False):
            future: asyncio.Future[Any] = await wrapped(*args, **kwargs)
    except BaseException as exc:
        record_error(span, exc)
        span.end()
        raise
    future.add_done_callback(lambda done: _sent(span, done))
    return future


def _sent(span: trace.Span, done: asyncio.Future[Any]) -> None:
    if done.cancelled():
        span.set_status(trace.Status(trace.StatusCode.ERROR, "send cancelled"))
    elif (exc := done.exception()) is not None:
        record_error(span, exc)
    else:
        metadata = done.result()
        span.set_attribute(messaging.MESSAGING_DESTINATION_PARTITION_ID, str(metadata.partition))
        span.set_attribute(messaging.MESSAGING_KAFKA_MESSAGE_OFFSET, metadata.offset)
    span.end()


def deliver(record: Any, consumer: Any | None) -> Delivery:
    """Start the CONSUMER span of one record, child of the producer span in its headers."""
    extracted = propagate.extract(record.headers or (), getter=contrib._aiokafka_getter)
    name = contrib._get_span_name("process", record.topic)
    span = TRACER.start_span(name, context=extracted, kind=trace.SpanKind.CONSUMER)
    client = consumer._client if consumer is not None else None
    contrib._enrich_getone_span(
        span,
        bootstrap_servers=contrib._extract_bootstrap_servers(client) if client else [],
        client_id=contrib._extract_client_id(client) if client else "",
        consumer_group=contrib._extract_consumer_group(consumer) if consumer is not None else None,
        topic=record.topic,
        partition=record.partition,
        key=contrib._deserialize_key(record.key),
        offset=record.offset,
    )
    span.set_attribute(messaging.MESSAGING_OPERATION_NAME, "process")
    span.set_attribute(messaging.MESSAGING_OPERATION_TYPE, "process")
    return Delivery(record, span, trace.set_span_in_context(span, extracted))


def _finish(consumer: Any) -> None:
    for delivery in _BY_CONSUMER.pop(consumer, []):
        delivery.finish()


def _open(consumer: Any, records: list[Any]) -> list[Delivery]:
    deliveries = [opened(deliver(record, consumer)) for record in records]
    _BY_CONSUMER[consumer] = deliveries
    return deliveries


async def getone(wrapped: Wrapped, consumer: Any, args: Args, kwargs: Kwargs) -> Any:
    """The record's consumer span stays current in the caller until the next poll.

    ``async for`` goes through here too.
    """
    _finish(consumer)
    record = await wrapped(*args, **kwargs)
    _open(consumer, [record])[0].attach()
    return record


async def getmany(wrapped: Wrapped, consumer: Any, args: Args, kwargs: Kwargs) -> Any:
    """One open consumer span per record; ``message_context(record)`` enters one."""
    _finish(consumer)
    batches = await wrapped(*args, **kwargs)
    deliveries = _open(consumer, [record for records in batches.values() for record in records])
    if len(deliveries) == 1:
        deliveries[0].attach()
    return batches


async def stop(wrapped: Wrapped, consumer: Any, args: Args, kwargs: Kwargs) -> Any:
    """End the spans of records still open when the consumer stops.

    Called from ``finally:`` while a handler's exception escapes ``async for`` (the aiokafka
    idiom), it records that exception on the record's span: no clew line needed for it.
    """
    failure = sys.exc_info()[1]
    if isinstance(failure, Exception):
        for delivery in _BY_CONSUMER.get(consumer, []):
            if not delivery.ended:
                record_error(delivery.span, failure)
    _finish(consumer)
    return await wrapped(*args, **kwargs)
