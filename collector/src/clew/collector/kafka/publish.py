"""The receivers' sink on `clew collect --kafka`: publish each accepted request, then answer.

A Pipeline (pipeline.py: the seam both receivers hand accepted requests to) whose accept()
returns only after the broker acknowledged the message (idempotent producer, acks=all). When
the broker cannot be reached it raises BufferFull, which the receivers answer with OTLP's
retryable codes (HTTP 503 + Retry-After, gRPC UNAVAILABLE).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from aiokafka import AIOKafkaProducer

from clew.collector.decode import Decoded
from clew.collector.errors import BrokerUnavailable
from clew.collector.kafka.messages import KafkaSettings, encode
from clew.collector.metrics import Metrics

log = logging.getLogger(__name__)
T = TypeVar("T")
Message = tuple[bytes, list[tuple[str, bytes]]]  # a Kafka message's value and headers


class Publisher:
    """An aiokafka producer on its own event loop thread, usable from any thread."""

    def __init__(self, bootstrap: str, settings: KafkaSettings) -> None:
        self.bootstrap, self.settings = bootstrap, settings
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="clew-kafka-producer")
        self._thread.daemon = True
        self._producer: AIOKafkaProducer | None = None

    def start(self) -> None:
        """Start the loop; the producer connects on the first send (the broker may be down)."""
        self._thread.start()

    def publish(self, signal: str, value: bytes, headers: list[tuple[str, bytes]]) -> None:
        """Send one message and wait for the broker's acknowledgement; BufferFull if none."""
        topic = self.settings.topics()[signal]
        try:
            self._run(self._send(topic, value, headers), self.settings.send_timeout)
        except Exception as exc:  # any failure to get an ack: the client must retry
            raise _unacknowledged(topic, exc) from exc

    async def publish_async(
        self, signal: str, value: bytes, headers: list[tuple[str, bytes]]
    ) -> None:
        """publish() for a caller on another event loop: it waits without blocking that loop."""
        topic = self.settings.topics()[signal]
        future = asyncio.run_coroutine_threadsafe(self._send(topic, value, headers), self._loop)
        try:
            await asyncio.wait_for(asyncio.wrap_future(future), self.settings.send_timeout)
        except Exception as exc:
            future.cancel()
            raise _unacknowledged(topic, exc) from exc

    async def _send(self, topic: str, value: bytes, headers: list[tuple[str, bytes]]) -> None:
        producer = await self._connected()
        await producer.send_and_wait(topic, value, headers=headers)

    async def _connected(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = AIOKafkaProducer(
                bootstrap_servers=self.bootstrap,
                enable_idempotence=True,
                acks="all",
                max_request_size=self.settings.max_message_bytes,
            )
            try:
                await producer.start()
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer
        return self._producer

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def close(self) -> None:
        """Flush and stop the producer, then the loop."""
        if self._producer is not None:
            try:
                self._run(self._producer.stop(), 30.0)
            except Exception as exc:
                log.warning("stopping the Kafka producer failed: %r", exc)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5.0)


def _unacknowledged(topic: str, exc: Exception) -> BrokerUnavailable:
    log.warning("publish to %s failed: %r", topic, exc)
    return BrokerUnavailable(f"Kafka did not acknowledge the request: {exc!r}")


class KafkaPipeline:
    """Receivers' pipeline that publishes to Kafka instead of buffering for a local writer."""

    def __init__(self, publisher: Publisher, metrics: Metrics) -> None:
        self.publisher, self.metrics = publisher, metrics

    def accept(self, signal: str, decoded: Decoded) -> None:
        """Publish the request's accepted part; BufferFull when the broker did not take it."""
        message = self._message(signal, decoded)
        if message is not None:
            with self.metrics.admitting(signal, decoded.accepted):
                self.publisher.publish(signal, *message)

    async def accept_async(self, signal: str, decoded: Decoded) -> None:
        """accept() without blocking the HTTP receiver's event loop while the broker acks."""
        message = self._message(signal, decoded)
        if message is not None:
            with self.metrics.admitting(signal, decoded.accepted):
                await self.publisher.publish_async(signal, *message)

    def _message(self, signal: str, decoded: Decoded) -> Message | None:
        """Count the request; the Kafka message of its accepted part, None when nothing is."""
        self.metrics.count_decoded(signal, decoded)
        return encode(signal, decoded) if decoded.rows else None

    def update_gauges(self) -> None:
        """Nothing is buffered here: the broker holds it."""

    def start(self) -> None:
        """Start the producer's loop."""
        self.publisher.start()

    def drain(self) -> None:
        """Flush the producer (every accepted request was already acknowledged)."""
        self.publisher.close()
