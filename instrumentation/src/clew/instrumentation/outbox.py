"""Outbox: a trace's context stored with an outbox row, restored when a relay publishes it.

The transactional outbox writes a message into a table in the same transaction as the
business change; a relay publishes it later, in another task or process, where the request's
context is long gone. ``capture()`` turns the current context (W3C ``traceparent``,
``tracestate`` and ``baggage``, so business keys too) into text for a column of the row;
``restored(text)`` makes it current again around the publish, so the producer span, and the
consumer behind it, join the story of the request that wrote the row::

    db.execute("INSERT INTO outbox (topic, payload, context) VALUES (?, ?, ?)",
               (topic, payload, outbox.capture()))
    ...
    with outbox.polling():                       # the relay's own reads are not traced
        rows = db.execute("SELECT ... FROM outbox WHERE sent = 0").fetchall()
    for topic, payload, stored in rows:
        with outbox.restored(stored):
            await producer.send_and_wait(topic, payload)

A message the relay cannot publish (the broker is unreachable, so no producer span exists to
fail) is reported with ``unsent(stored, topic, error)``: a failed producer span in the trace
that wrote the row, so the order's page and diagnosis show the message stuck in the outbox.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import context, propagate, trace
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.util.types import AttributeValue

STORED_EVENT = "outbox.stored"
"""Event added to the current span when a message's context is captured (the row is written)."""
UNSENT_ATTRIBUTE = "outbox.unsent"
"""True on the span that reports a message still waiting in the outbox."""
_tracer = trace.get_tracer(__name__)


def capture(topic: str | None = None) -> str:
    """The current trace context and baggage as JSON text for the outbox row.

    With ``topic``, the current span also gets an ``outbox.stored`` event, so a message that
    never leaves the outbox still shows in the trace of the request that wrote it.
    """
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    if topic is not None:
        trace.get_current_span().add_event(STORED_EVENT, {"messaging.destination.name": topic})
    return json.dumps(carrier, sort_keys=True)


def _carrier(stored: str | Mapping[str, str] | None) -> dict[str, str]:
    """The stored headers; empty (a new trace) for a row written without a context."""
    if stored is None or stored == "":
        return {}
    if isinstance(stored, Mapping):
        return {str(k): str(v) for k, v in stored.items()}
    loaded = json.loads(stored)
    if not isinstance(loaded, dict):
        raise ValueError(f"an outbox context is a JSON object of headers, not {stored!r}")
    return {str(k): str(v) for k, v in loaded.items()}


@contextmanager
def restored(stored: str | Mapping[str, str] | None) -> Iterator[context.Context]:
    """Make the context captured with the row current for the block (and only that context).

    It replaces the relay's own context entirely, so suppression from ``polling()`` or the
    baggage of a previous row cannot leak into this row's spans.
    """
    ctx = propagate.extract(_carrier(stored), context=context.Context())
    token = context.attach(ctx)
    try:
        yield ctx
    finally:
        context.detach(token)


@contextmanager
def polling() -> Iterator[None]:
    """Suppress tracing of the relay's polling queries, which belong to no request."""
    with suppress_instrumentation():
        yield


def unsent(stored: str | Mapping[str, str] | None, topic: str, error: BaseException) -> None:
    """Record in the row's own trace that its message could not be published (yet).

    A failed producer span, child of the span that wrote the row, carrying the exception: the
    message waiting in the outbox becomes a failure of the order, with its cause.
    """
    attributes: dict[str, AttributeValue] = {
        "messaging.destination.name": topic,
        "messaging.operation": "publish",
        UNSENT_ATTRIBUTE: True,
    }
    with restored(stored):
        span = _tracer.start_span(f"{topic} publish", kind=SpanKind.PRODUCER, attributes=attributes)
        span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, f"still in the outbox: {error!r}"))
        span.end()
