"""One Kafka message per accepted request: whole OTLP protobuf, or the validated rows as JSON."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from clew.collector.decode import Decoded, RawSpans

KIND = "clew-kind"
OTLP, ROWS = b"otlp", b"rows"
Headers = list[tuple[str, bytes]]


class KafkaSettings(BaseSettings):
    """Topic names and the writers' group; each field is also `CLEW_KAFKA_<FIELD>`."""

    model_config = SettingsConfigDict(env_prefix="CLEW_KAFKA_", extra="ignore")

    spans_topic: str = "clew.otlp.spans"
    logs_topic: str = "clew.otlp.logs"
    group: str = "clew-writers"
    send_timeout: float = Field(default=10.0, gt=0)

    def topics(self) -> dict[str, str]:
        """Signal → topic."""
        return {"spans": self.spans_topic, "logs": self.logs_topic}


def encode(decoded: Decoded) -> tuple[bytes, Headers]:
    """The message value and headers for one request's accepted part."""
    if len(decoded.rows) == 1 and isinstance(decoded.rows[0], RawSpans):
        # A whole valid trace request travels as it came, in OTLP protobuf.
        return decoded.rows[0].body, [(KIND, OTLP)]
    return orjson.dumps(decoded.rows), [(KIND, ROWS)]


def decode(value: bytes, headers: Headers) -> list[Any]:
    """The items a message stands for: one RawSpans, or rows."""
    if dict(headers).get(KIND) == OTLP:
        return [RawSpans(value, 0)]
    rows: list[Any] = orjson.loads(value)
    return rows
