"""One Kafka message per accepted request: the OTLP protobuf of its accepted part."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from clew.collector.decode import Decoded, RawSpans
from clew.collector.kafka import otlp
from clew.collector.write import RawLogs

KIND, ITEMS = "clew-kind", "clew-items"
OTLP = b"otlp"
Headers = list[tuple[str, bytes]]
MIB = 1024 * 1024


class KafkaSettings(BaseSettings):
    """Topics, the writers' group and client sizes; each field is also `CLEW_KAFKA_<FIELD>`."""

    model_config = SettingsConfigDict(env_prefix="CLEW_KAFKA_", extra="ignore")

    spans_topic: str = "clew.otlp.spans"
    logs_topic: str = "clew.otlp.logs"
    group: str = "clew-writers"
    send_timeout: float = Field(default=10.0, gt=0)
    # The largest message the producer sends; the broker's message.max.bytes must allow it.
    max_message_bytes: int = Field(default=21 * MIB, gt=0)
    # Bytes a writer fetches per partition and request: several requests fill one insert.
    fetch_partition_bytes: int = Field(default=32 * MIB, gt=0)
    # A writer that does not poll for this long leaves the group; it polls while it retries.
    max_poll_interval: float = Field(default=300.0, gt=0)

    def topics(self) -> dict[str, str]:
        """Signal → topic."""
        return {"spans": self.spans_topic, "logs": self.logs_topic}


def encode(signal: str, decoded: Decoded) -> tuple[bytes, Headers]:
    """The message value and headers for one request's accepted part."""
    headers = [(KIND, OTLP), (ITEMS, str(decoded.accepted).encode())]
    if len(decoded.rows) == 1 and isinstance(decoded.rows[0], RawSpans):
        # A trace request accepted whole travels as it came (JSON: as protobuf).
        return decoded.rows[0].body, headers
    rebuild = otlp.trace_request if signal == "spans" else otlp.logs_request
    return rebuild(decoded.rows).SerializeToString(), headers


def items(headers: Headers) -> int:
    """How many spans or log records a message holds (1 when it does not say)."""
    return int(dict(headers).get(ITEMS, b"1"))


def item(signal: str, value: bytes, headers: Headers) -> RawSpans | RawLogs:
    """A message as the writer's item: the whole request, decoded (logs) or not (spans) there."""
    if signal == "spans":
        return RawSpans(value, items(headers))
    return RawLogs(value, items(headers))
