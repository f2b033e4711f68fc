"""The writer's batches: one partition's consecutive records, stored by one insert.

A partition's records gather until they hold `max_items` spans or log records, or the oldest
waited `max_age` seconds: one insert has a large fixed cost, so it should carry thousands of
items, not one request's. The deduplication token names the batch's topic, partition, offset
range and first record's timestamp, so a batch retried after a failed (or lost) answer is
stored once where the table deduplicates. Before its insert a batch's range is committed as
the partition's metadata (PLAN); a writer that takes the partition over after a crash cuts
its first batch at the same offset, so the redelivered batch carries the same token.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import orjson
from aiokafka import ConsumerRecord, TopicPartition

from clew.collector import decode
from clew.collector.decode import RawSpans
from clew.collector.kafka import messages
from clew.collector.store import Store
from clew.collector.write import TABLES
from clew.common.store import ProtobufTraces

Record: TypeAlias = ConsumerRecord[bytes, bytes]
PLAN = "clew-batch-last:"  # commit metadata: the last offset of the batch being inserted


def plan(batch: Batch) -> tuple[int, str]:
    """The commit recording a batch's range before its insert: its start, its last offset."""
    return batch.records[0].offset, f"{PLAN}{batch.records[-1].offset}"


def planned_last(metadata: str) -> int | None:
    """The last offset a committed plan names, None when the metadata is not a plan."""
    text = metadata.removeprefix(PLAN)
    return int(text) if text != metadata and text.isdigit() else None


@dataclass
class Batch:
    """Consecutive records of one partition."""

    tp: TopicPartition
    generation: int  # Pending.generation when it began: a rebalance makes it stale
    records: list[Record] = field(default_factory=list)
    items: int = 0
    started: float = field(default_factory=time.monotonic)
    last: int | None = None  # the planned last offset of a batch cut before a crash

    def full(self, max_items: int) -> bool:
        """Whether the batch takes no more records: its planned range, else max_items."""
        if self.last is not None:
            return bool(self.records) and self.records[-1].offset >= self.last
        return self.items >= max_items

    @property
    def token(self) -> str:
        """The deduplication token: topic, partition, offset range, first record's timestamp.

        The timestamp is the record's own (kept in the log, so a redelivery repeats it): a
        topic deleted and created again starts its offsets over, and without it new batches
        would repeat old tokens and be skipped as duplicates.
        """
        first, last = self.records[0], self.records[-1]
        where = f"{self.tp.topic}:{self.tp.partition}"
        return f"clew:{where}:{first.offset}-{last.offset}:{first.timestamp}"

    @property
    def next_offset(self) -> int:
        """The offset to commit once the batch is stored."""
        return int(self.records[-1].offset) + 1


class Pending:
    """Records fetched but not stored yet: by partition, batches of at most max_items items."""

    def __init__(self, max_items: int, max_age: float) -> None:
        self.max_items, self.max_age = max_items, max_age
        self.batches: dict[TopicPartition, list[Batch]] = {}
        self.generation = 0
        self.planned: dict[TopicPartition, int] = {}  # a partition's next batch ends there

    def add(self, fetched: dict[TopicPartition, list[Record]]) -> None:
        """Append what one poll returned."""
        for tp, records in fetched.items():
            queue = self.batches.setdefault(tp, [])
            for record in records:
                if not queue or queue[-1].full(self.max_items):
                    last = self.planned.pop(tp, None)
                    queue.append(Batch(tp, self.generation, last=last))
                queue[-1].records.append(record)
                queue[-1].items += messages.items(list(record.headers))

    def ready(self, *, everything: bool = False) -> list[Batch]:
        """Take out the batches that are full or old enough (or all of them), in order."""
        now, out = time.monotonic(), []
        for queue in self.batches.values():
            while queue and (
                everything
                or queue[0].full(self.max_items)
                or (queue[0].last is None and now - queue[0].started >= self.max_age)
            ):
                out.append(queue.pop(0))
        self.batches = {tp: queue for tp, queue in self.batches.items() if queue}
        return out

    def drop(self, partitions: Iterable[TopicPartition]) -> None:
        """Forget the records of partitions this writer no longer owns (Kafka redelivers them)."""
        self.generation += 1
        for tp in partitions:
            self.batches.pop(tp, None)


def store_batch(store: Store, signal: str, batch: Batch) -> int:
    """Insert one batch; the rows it sent through the row path. Raises if the store fails."""
    values = [(r.value or b"", list(r.headers)) for r in batch.records]
    if signal == "logs":
        rows = [row for value, headers in values for row in messages.decode_logs(value, headers)]
        return _insert_rows(store, signal, rows, batch.token)
    items = [item for value, headers in values for item in messages.decode_spans(value, headers)]
    raw = [item.body for item in items if isinstance(item, RawSpans)]
    rows = [item for item in items if not isinstance(item, RawSpans)]
    skipped = list(range(len(raw)))
    if raw and isinstance(store, ProtobufTraces):
        skipped = store.insert_otlp_traces(raw)
    rows.extend(row for n in skipped for row in decode.spans_as_rows(raw[n]))
    return _insert_rows(store, signal, rows, batch.token)


def _insert_rows(store: Store, signal: str, rows: list[Any], token: str) -> int:
    if rows:
        store.insert(TABLES[signal], orjson.dumps(rows).decode("utf-8"), token=token)
    return len(rows)
