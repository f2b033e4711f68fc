"""aiokafka instrumentation: producer spans see a failed send, consumer spans wrap the handler.

Replaces the contrib aiokafka instrumentor, whose consumer span ends before the handler runs
(opentelemetry-python-contrib #3465, #3026) and whose producer span ends before the send.
It reuses that package's span attributes and header getter/setter.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import aiokafka
from opentelemetry import trace
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]
from opentelemetry.instrumentation.utils import unwrap
from wrapt import wrap_function_wrapper

from clew.instrumentation.kafka import _wrappers
from clew.instrumentation.kafka.package import _instruments

__all__ = ["AIOKafkaInstrumentor"]

_WRAPPED = (
    (aiokafka.AIOKafkaProducer, "send", _wrappers.send),
    (aiokafka.AIOKafkaConsumer, "getone", _wrappers.getone),
    (aiokafka.AIOKafkaConsumer, "getmany", _wrappers.getmany),
    (aiokafka.AIOKafkaConsumer, "stop", _wrappers.stop),
)


class AIOKafkaInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Instrument aiokafka producers and consumers."""

    def instrumentation_dependencies(self) -> Collection[str]:
        return _instruments

    def _instrument(self, **kwargs: Any) -> None:
        from opentelemetry.instrumentation.aiokafka import AIOKafkaInstrumentor as Contrib

        if Contrib().is_instrumented_by_opentelemetry:
            Contrib().uninstrument()  # its spans would double clew's
        _wrappers.TRACER = trace.get_tracer(__name__, tracer_provider=kwargs.get("tracer_provider"))
        for owner, name, wrapper in _WRAPPED:
            wrap_function_wrapper(owner, name, wrapper)

    def _uninstrument(self, **kwargs: Any) -> None:
        for owner, name, _ in _WRAPPED:
            unwrap(owner, name)
