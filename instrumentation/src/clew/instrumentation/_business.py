"""Business keys: W3C baggage entries stamped on spans and log records."""

from __future__ import annotations

from contextvars import Token
from types import TracebackType
from typing import TYPE_CHECKING

from opentelemetry import baggage, context, trace
from opentelemetry.sdk.trace import SpanProcessor

from clew.instrumentation import _settings
from clew.instrumentation.errors import ConfigurationError

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan, Span


class BusinessSpans(SpanProcessor):
    """Stamps the business keys in baggage on each new span; remembers the open ones.

    One processor, a plain dict: it runs for every span, so it is kept cheaper than the
    contrib BaggageSpanProcessor plus a weak registry (bench/instrumentation.py).
    """

    def __init__(self) -> None:
        self._open: dict[int, Span] = {}

    def on_start(self, span: Span, parent_context: context.Context | None = None) -> None:
        entries = baggage.get_all(parent_context)
        if entries:
            for key in _settings.KEYS.keys:
                value = entries.get(key)
                if value is not None:
                    span.set_attribute(key, str(value))
        spans = self._open
        spans[span.context.span_id] = span
        if len(spans) > _MAX_OPEN:  # spans never ended must not pile up forever
            spans.pop(next(iter(spans)), None)

    def on_end(self, span: ReadableSpan) -> None:
        if span.context is not None:
            self._open.pop(span.context.span_id, None)

    def stamp(self, attributes: dict[str, str]) -> None:
        """Set attributes on the current span and every open local span above it."""
        current = trace.get_current_span()
        span = self._open.get(current.get_span_context().span_id)
        while span is not None:
            span.set_attributes(attributes)
            parent = span.parent
            span = self._open.get(parent.span_id) if parent is not None else None


_MAX_OPEN = 100_000


OPEN_SPANS = BusinessSpans()


class BusinessContext:
    """Business keys of the work in progress: active from the call to the ``with`` block end."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        ctx = context.get_current()
        for key, value in values.items():
            ctx = baggage.set_baggage(key, value, ctx)
        self._token: Token[context.Context] | None = context.attach(ctx)
        OPEN_SPANS.stamp(values)

    def __enter__(self) -> BusinessContext:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._token is not None:
            context.detach(self._token)
            self._token = None


def business_context(**keys: object) -> BusinessContext:
    """Tag the current work with business keys: ``business_context(order_id="o-42")``.

    Each keyword names a configured key (``order_id`` or ``**{"order.id": ...}`` for
    ``order.id``). The keys go into W3C baggage, so they cross HTTP and Kafka; they are
    stamped on the current span and the open spans around it, and on every later span and
    log record. Use it as a plain call, or as a context manager to end it at the block's end.
    """
    if not keys:
        raise ConfigurationError("business_context() needs at least one key, e.g. order_id=...")
    values = {_settings.KEYS.resolve(name): str(value) for name, value in keys.items()}
    return BusinessContext(values)


def business_keys_in_context(ctx: context.Context | None = None) -> dict[str, str]:
    """The configured business keys present in the baggage of ctx (default: current)."""
    entries = baggage.get_all(ctx)
    return {k: str(v) for k, v in entries.items() if k in _settings.KEYS}
