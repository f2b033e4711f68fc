"""Kafka messages whose consumer span is open: the handler's context, without aiokafka."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import Token
from dataclasses import dataclass
from typing import Any

from opentelemetry import context
from opentelemetry.trace import Span, Status, StatusCode


@dataclass
class Delivery:
    """One consumed record and its open consumer span."""

    record: Any
    span: Span
    ctx: context.Context
    token: Token[context.Context] | None = None
    task: asyncio.Task[Any] | None = None
    ended: bool = False

    def attach(self) -> None:
        """Make this record's context current in the calling task until finish()."""
        self.token = context.attach(self.ctx)
        self.task = _current_task()

    def end(self) -> None:
        """End the span (once); its context stays current until finish()."""
        if not self.ended:
            self.ended = True
            self.span.end()
        _OPEN.pop(id(self.record), None)

    def finish(self) -> None:
        """End the span; restore the caller's context if this task attached it."""
        if self.token is not None and self.task is _current_task():
            context.detach(self.token)
        self.token = None
        self.end()


_OPEN: dict[int, Delivery] = {}


def _current_task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None


def opened(delivery: Delivery) -> Delivery:
    """Register a delivery so message_context(record) finds its span."""
    _OPEN[id(delivery.record)] = delivery
    return delivery


def _delivery_of(record: Any) -> Delivery:
    delivery = _OPEN.get(id(record))
    if delivery is not None and delivery.record is record:
        return delivery
    # A record exists, so aiokafka is installed.
    from clew.instrumentation.kafka._wrappers import deliver

    return opened(deliver(record, consumer=None))


def record_error(span: Span, exc: BaseException) -> None:
    """Status Error and an exception event (type, message, stack trace)."""
    span.record_exception(exc)
    span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))


@contextmanager
def message_context(record: Any) -> Iterator[Span]:
    """Handle one consumed Kafka record inside its consumer span: ``with message_context(msg):``.

    Spans and logs in the block are children of the consumer span and carry the producer's
    baggage (business keys); an exception escaping the block marks the span as an error. The
    span ends with the block. Needed for records of ``getmany()``; for ``async for`` and
    ``getone()`` the context is already current, and this adds error recording for handlers
    whose exception is caught inside the loop.
    """
    delivery = _delivery_of(record)
    token = context.attach(delivery.ctx)
    try:
        yield delivery.span
    except BaseException as exc:
        record_error(delivery.span, exc)
        raise
    finally:
        context.detach(token)
        # The span ends here; after getone()/async for its context stays current until the
        # next poll, so an ``except`` around this block still logs inside the trace.
        delivery.end()
